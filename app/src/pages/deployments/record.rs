//! Recording a deployment by hand: start it now and finish it later, or record one that is
//! over with both its times.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{choices, list_environments};
use crate::{
    components::form::{action_error, Field, FormError, SelectField, Submit},
    domain::{
        catalog::{SlotColor, Strategy},
        deployments::{DeploymentInput, DeploymentStatus},
        Action,
    },
    error::AppError,
    model::Deployment,
    pages::accounts::session::Protected,
};

/// Records a deployment from the form, then opens it.
#[server(prefix = "/rpc", endpoint = "record_deployment")]
pub async fn record_deployment(input: DeploymentInput) -> Result<Deployment, AppError> {
    use crate::{backend::deployments, domain::deployments::Source};
    crate::backend::rpc::serve(|state, caller| async move {
        let made = deployments::record(&state, &caller, &input, Source::Ui, None).await?;
        leptos_axum::redirect(&format!("/deployments/{}", made.value.id));
        Ok(made.value)
    })
    .await
}

/// The form's `<select>` options for a closed set of words, led by `none`.
fn word_options<T: Copy>(
    none: &str,
    all: &[T],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<(String, String)> {
    std::iter::once((String::new(), none.to_owned()))
        .chain(
            all.iter()
                .map(|&w| (value(w).to_owned(), label(w).to_owned())),
        )
        .collect()
}

/// The outcomes a recorded deployment may have, led by the API's default: the times decide
/// (in progress without a finish time, succeeded with one).
fn status_options() -> Vec<(String, String)> {
    let from_times = (String::new(), "From the times".to_owned());
    std::iter::once(from_times)
        .chain(
            [
                (
                    DeploymentStatus::Running,
                    "In progress: I will finish it later",
                ),
                (DeploymentStatus::Succeeded, "Succeeded"),
                (DeploymentStatus::Failed, "Failed"),
                (DeploymentStatus::Cancelled, "Cancelled"),
            ]
            .into_iter()
            .map(|(status, label)| (status.as_str().to_owned(), label.to_owned())),
        )
        .collect()
}

/// The page with the form.
#[component]
pub fn RecordDeploymentPage() -> impl IntoView {
    let record = ServerAction::<RecordDeployment>::new();
    let error = action_error(record);
    let environments = Resource::new(|| (), |_| list_environments());
    view! {
        <Title text="Record a deployment" />
        <Protected action=Action::RecordDeployment>
            <h1>"Record a deployment"</h1>
            <p class="lead">"Times are UTC. Leave the start empty for now; give a finish time only for a deployment that is over."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading services…"</p> }>
                {move || Suspend::new(async move {
                    let environments = environments.await.unwrap_or_default();
                    if environments.is_empty() {
                        return view! {
                            <p class="empty-state">"There are no services yet. An administrator adds them under Admin → Services."</p>
                        }.into_any();
                    }
                    let (services, names) = choices(&environments, "Choose…");
                    let statuses = status_options();
                    view! {
                        <ActionForm action=record attr:class="card stack" attr:novalidate=true>
                            <FormError error />
                            <div class="row">
                                <SelectField label="Service" name="input[service]" error_for="service" error options=services />
                                <SelectField label="Environment" name="input[environment]" error_for="environment" error options=names />
                            </div>
                            <div class="row">
                                <Field label="Version" name="input[version]" error_for="version" error required=true placeholder="2.4.1" />
                                <Field label="Commit SHA" name="input[commit_sha]" error_for="commit_sha" error hint="7 to 40 hex characters" />
                                <Field label="Commit time (UTC)" name="input[commit_at]" error_for="commit_at" error placeholder="2026-11-27 10:30" hint="YYYY-MM-DD HH:MM; for lead time" />
                            </div>
                            <div class="row">
                                <SelectField label="Status" name="input[status]" error_for="status" error options=statuses />
                                <Field label="Started (UTC)" name="input[started_at]" error_for="started_at" error placeholder="2026-11-27 10:45" hint="YYYY-MM-DD HH:MM; empty: now" />
                                <Field label="Finished (UTC)" name="input[finished_at]" error_for="finished_at" error placeholder="2026-11-27 10:52" hint="YYYY-MM-DD HH:MM; empty: running, or now if final" />
                            </div>
                            <div class="row">
                                <SelectField label="Strategy" name="input[strategy]" error_for="strategy" error options=word_options("The environment's", Strategy::ALL, Strategy::as_str, Strategy::label) />
                                <SelectField label="Slot" name="input[slot]" error_for="slot" error options=word_options("None", SlotColor::ALL, SlotColor::as_str, SlotColor::as_str) hint="blue-green only" />
                            </div>
                            <Field label="CI run or release link" name="input[url]" error_for="url" error kind="url" placeholder="https://ci.example/runs/42" />
                            <div class="field">
                                <label for="field-notes">"Notes"</label>
                                <textarea id="field-notes" name="input[notes]" rows="3"></textarea>
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("notes"))}</p>
                            </div>
                            <div class="field checkbox">
                                <input type="checkbox" id="field-is_rollback" name="input[is_rollback]" value="true" />
                                <label for="field-is_rollback">"This is a rollback to an earlier version"</label>
                            </div>
                            <Submit label="Record deployment" busy_label="Recording…" pending=record.pending() class="primary" />
                        </ActionForm>
                    }.into_any()
                })}
            </Transition>
        </Protected>
    }
}
