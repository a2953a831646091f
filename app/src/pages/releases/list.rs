//! The Releases list, open releases first with their progress ("11 / 15 signed, 2 required
//! left"), and the form that opens a release.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{release_path, ReleaseBadge};
use crate::{
    components::{
        form::{action_error, Field, FormError, SelectField, Submit},
        links::EnvironmentLink,
    },
    domain::Action,
    error::AppError,
    model::{Environment, Release, ReleaseSummary},
    pages::{
        accounts::session::{me, Protected},
        deployments::choices,
    },
};

/// The releases, open first, and the environments a new one may head for.
#[server(prefix = "/rpc", endpoint = "release_list")]
pub async fn release_list() -> Result<(Vec<ReleaseSummary>, Vec<Environment>), AppError> {
    use crate::{
        backend::{catalog, releases, rpc},
        model::ReleaseFilter,
    };
    rpc::serve(|state, caller| async move {
        let list = releases::list(&state.db, &caller, &ReleaseFilter::default()).await?;
        Ok((list, catalog::environments(&state.db, &caller).await?))
    })
    .await
}

/// Opens a release, then shows it. Loose optional fields, as the form sends them: a form left
/// empty sends nothing under a common name.
#[server(prefix = "/rpc", endpoint = "open_release")]
pub async fn open_release(
    service: Option<String>,
    environment: Option<String>,
    version: Option<String>,
    commit_sha: Option<String>,
    summary: Option<String>,
    url: Option<String>,
) -> Result<Release, AppError> {
    use crate::{
        backend::{releases, rpc},
        domain::releases::ReleaseInput,
    };
    let input = ReleaseInput {
        service: service.unwrap_or_default(),
        environment: environment.unwrap_or_default(),
        version: version.unwrap_or_default(),
        commit_sha,
        summary,
        url,
    };
    rpc::serve(|state, caller| async move {
        let release = releases::open(&state, &caller, &input).await?;
        leptos_axum::redirect(&release_path(release.id));
        Ok(release)
    })
    .await
}

/// The Releases page.
#[component]
pub fn ReleasesPage() -> impl IntoView {
    let open = ServerAction::<OpenRelease>::new();
    let data = Resource::new(move || open.version().get(), |_| release_list());
    view! {
        <Title text="Releases" />
        <Protected action=Action::Read>
            <h1>"Releases"</h1>
            <p class="lead">"Each release is one version headed for one environment, with its own copy of the checklist. Production switches wait until every required item is signed."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading releases…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok((releases, environments)) => view! {
                            <NewRelease environments open />
                            <ReleaseTable releases />
                        }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn NewRelease(environments: Vec<Environment>, open: ServerAction<OpenRelease>) -> impl IntoView {
    if !me().is_some_and(|user| user.may(Action::ManageReleases)) || environments.is_empty() {
        return ().into_any();
    }
    let error = action_error(open);
    let (services, names) = choices(&environments, "Choose…");
    view! {
        <details class="card new-release" open=move || error.get().is_some()>
            <summary><h2>"New release"</h2></summary>
            <ActionForm action=open attr:class="stack" attr:novalidate=true>
                <FormError error />
                <div class="row">
                    <SelectField label="Service" name="service" error_for="service" error options=services />
                    <SelectField label="Environment" name="environment" error_for="environment" error options=names />
                </div>
                <div class="row">
                    <Field label="Version" name="version" error required=true placeholder="2.4.1" />
                    <Field label="Commit SHA" name="commit_sha" error hint="7 to 40 hex characters" />
                </div>
                <Field label="Link" name="url" error kind="url" placeholder="https://git.example/acme/parts/pull/42" hint="the pull request or changelog" />
                <div class="field">
                    <label for="field-summary">"What changes"</label>
                    <textarea id="field-summary" name="summary" rows="3"></textarea>
                    <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("summary"))}</p>
                </div>
                <Submit label="Open release" busy_label="Opening…" pending=open.pending() class="primary" />
            </ActionForm>
        </details>
    }
    .into_any()
}

#[component]
fn ReleaseTable(releases: Vec<ReleaseSummary>) -> impl IntoView {
    if releases.is_empty() {
        return view! {
            <div class="empty-state">
                <p><strong>"No releases yet."</strong></p>
                <p>"Open one with New release above, or let Switchyard open it: a version deployed to a production environment's idle slot gets its release and checklist automatically."</p>
            </div>
        }
        .into_any();
    }
    let rows = releases
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <td data-label="Version"><a href=release_path(r.id)>{format!("{} {}", r.service, r.version)}</a></td>
                    <td data-label="Environment"><EnvironmentLink service=r.service.clone() environment=r.environment.clone() /></td>
                    <td data-label="Status"><ReleaseBadge status=r.status /></td>
                    <td data-label="Checklist">{r.progress.clone()}</td>
                    <td data-label="Opened">{format!("{} by {}", r.opened_at, r.opened_by)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="stacked">
                <thead><tr><th>"Release"</th><th>"Environment"</th><th>"Status"</th><th>"Checklist"</th><th>"Opened"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
