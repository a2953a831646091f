//! One deployment: everything known about it, its timeline, links, and (while it runs) the
//! form that finishes it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{get_deployment, StatusBadge};
use crate::{
    components::failure::LoadFailed,
    components::form::{action_error, reset_on_success, Field, FormError, SelectField, Submit},
    components::links::{EnvironmentLink, ServiceLink},
    components::url,
    domain::{
        deployments::{DeploymentStatus, FinishInput},
        time::describe_duration,
        Action, Timestamp,
    },
    error::AppError,
    model::Deployment,
    pages::accounts::session::{me, Protected},
};

/// Ends a running deployment.
#[server(prefix = "/rpc", endpoint = "finish_deployment")]
pub async fn finish_deployment(id: i64, finish: FinishInput) -> Result<Deployment, AppError> {
    use crate::backend::{deployments, rpc};
    rpc::serve(
        |state, caller| async move { deployments::finish(&state.db, &caller, id, &finish).await },
    )
    .await
}

/// Adds a signed, dated note.
#[server(prefix = "/rpc", endpoint = "add_deployment_note")]
pub async fn add_deployment_note(id: i64, note: String) -> Result<Deployment, AppError> {
    use crate::backend::{deployments, rpc};
    rpc::serve(
        |state, caller| async move { deployments::add_note(&state.db, &caller, id, &note).await },
    )
    .await
}

/// The deployment page.
#[component]
pub fn DeploymentPage() -> impl IntoView {
    let params = use_params_map();
    let finish = ServerAction::<FinishDeployment>::new();
    let note = ServerAction::<AddDeploymentNote>::new();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    });
    let deployment = Resource::new(
        move || (id.get(), finish.version().get(), note.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_deployment(id).await,
                None => Err(AppError::NotFound(
                    "There is no such deployment; ids are numbers.".into(),
                )),
            }
        },
    );
    view! {
        <Protected action=Action::Read>
            <Transition fallback=|| view! { <p class="loading">"Loading the deployment…"</p> }>
                {move || Suspend::new(async move {
                    match deployment.await {
                        Ok((deployment, now)) => view! { <Detail deployment now finish note /> }.into_any(),
                        Err(error) => view! {
                            <LoadFailed title="Deployment" error back=("/deployments", "← All deployments") />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Detail(
    deployment: Deployment,
    now: Timestamp,
    finish: ServerAction<FinishDeployment>,
    note: ServerAction<AddDeploymentNote>,
) -> impl IntoView {
    let d = deployment;
    let may_record = me().is_some_and(|user| user.may(Action::RecordDeployment));
    let title = format!("{} {} to {}", d.service, d.version, d.environment);
    let same_place = format!(
        "/deployments?service={}&environment={}",
        url::encode(&d.service),
        url::encode(&d.environment)
    );
    let duration = d.finished_at.unwrap_or(now).since(d.started_at);
    let running = d.status == DeploymentStatus::Running;
    view! {
        <Title text=title.clone() />
        <p class="breadcrumb"><a href="/deployments">"Deployments"</a> " / " {d.id}</p>
        <div class="page-head">
            <h1>{title}</h1>
            <StatusBadge status=d.status superseded=d.superseded_by.is_some() />
            {d.is_rollback.then(|| view! { <span class="tag">"rollback"</span> })}
        </div>
        {d.superseded_by.map(|newer| view! {
            <p class="card notice">
                "Still recorded as running, but " <a href=format!("/deployments/{newer}")>{format!("deployment {newer}")}</a>
                " to the same place has ended since, so this one most likely never will report. It is not counted as running; the metrics count only deployments that ended."
            </p>
        })}
        <section class="card" aria-labelledby="facts">
            <h2 id="facts">"Facts"</h2>
            <dl class="facts">
                <dt>"Service"</dt><dd><ServiceLink service=d.service.clone() /></dd>
                <dt>"Environment"</dt><dd><EnvironmentLink service=d.service.clone() environment=d.environment.clone() /></dd>
                <dt>"Version"</dt><dd>{d.version.clone()}</dd>
                <dt>"Commit"</dt><dd><code>{d.commit_sha.clone().unwrap_or_else(|| "not given".into())}</code></dd>
                <dt>"Strategy"</dt><dd>{d.strategy.label()}{d.slot.map(|slot| format!(", to the {slot} slot"))}</dd>
                <dt>{if running { "Running for" } else { "Took" }}</dt><dd>{describe_duration(duration)}</dd>
                <dt>"Recorded by"</dt><dd>{format!("{} ({}), through the {}", d.recorded_by.name, d.recorded_by.kind, source_words(d.source.as_str()))}</dd>
                <dt>"Links"</dt>
                <dd>
                    {d.url.clone().map(|url| view! { <a href=url.clone() rel="noopener noreferrer">"CI run"</a> " · " })}
                    <a href=same_place>{format!("All deployments of {} to {}", d.service, d.environment)}</a>
                </dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="timeline">
            <h2 id="timeline">"Timeline (UTC)"</h2>
            <ol class="timeline">{timeline(&d)}</ol>
        </section>
        {running.then(|| view! { <FinishForm id=d.id finish /> }).filter(|_| may_record)}
        <section class="card" aria-labelledby="notes">
            <h2 id="notes">"Notes"</h2>
            {if d.notes.is_empty() {
                view! { <p class="hint">"No notes."</p> }.into_any()
            } else {
                view! { <p class="notes">{d.notes.clone()}</p> }.into_any()
            }}
            {may_record.then(|| view! { <NoteForm id=d.id note /> })}
        </section>
    }
}

fn source_words(source: &str) -> &'static str {
    match source {
        "ui" => "browser",
        "api" => "REST API",
        "webhook" => "CI webhook",
        _ => "Switchyard operation",
    }
}

/// The deployment's moments, in order.
fn timeline(d: &Deployment) -> impl IntoView {
    let ending = match d.status {
        DeploymentStatus::Running => "Still running",
        DeploymentStatus::Succeeded => "Succeeded",
        DeploymentStatus::Failed => "Failed",
        DeploymentStatus::Cancelled => "Cancelled",
    };
    let mut moments: Vec<(Timestamp, String)> = Vec::new();
    if let Some(at) = d.commit_at {
        moments.push((at, "Commit made".into()));
    }
    moments.push((d.started_at, "Deployment started".into()));
    if let Some(at) = d.finished_at {
        moments.push((at, ending.into()));
    }
    if let Some(at) = d.rolled_back_at {
        moments.push((at, "Rolled back by a later deployment".into()));
    }
    moments.sort_by_key(|(at, _)| *at);
    moments
        .into_iter()
        .map(|(at, what)| view! { <li><time datetime=at.to_rfc3339()>{at.to_string()}</time> " " {what}</li> })
        .collect_view()
}

#[component]
fn FinishForm(id: i64, finish: ServerAction<FinishDeployment>) -> impl IntoView {
    let error = action_error(finish);
    let outcomes = vec![
        ("succeeded".to_owned(), "Succeeded".to_owned()),
        ("failed".to_owned(), "Failed".to_owned()),
        ("cancelled".to_owned(), "Cancelled".to_owned()),
    ];
    view! {
        <section class="card" aria-labelledby="finish">
            <h2 id="finish">"Finish"</h2>
            <ActionForm action=finish attr:class="stack" attr:novalidate=true>
                <FormError error />
                <input type="hidden" name="id" value=id />
                <div class="row">
                    <SelectField label="Outcome" name="finish[status]" error_for="status" error options=outcomes />
                    <Field label="Finished (UTC)" name="finish[finished_at]" error_for="finished_at" error placeholder="2026-11-27 10:52" hint="YYYY-MM-DD HH:MM; empty: now" />
                </div>
                <Submit label="Finish deployment" busy_label="Finishing…" pending=finish.pending() class="primary" />
            </ActionForm>
        </section>
    }
}

#[component]
fn NoteForm(id: i64, note: ServerAction<AddDeploymentNote>) -> impl IntoView {
    let error = action_error(note);
    let form = NodeRef::new();
    reset_on_success(note, form);
    view! {
        <ActionForm action=note node_ref=form attr:class="stack" attr:novalidate=true>
            <FormError error />
            <input type="hidden" name="id" value=id />
            <div class="field">
                <label for="field-note">"Add a note"</label>
                <textarea id="field-note" name="note" rows="2"></textarea>
                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("note"))}</p>
            </div>
            <Submit label="Add note" busy_label="Adding…" pending=note.pending() />
        </ActionForm>
    }
}
