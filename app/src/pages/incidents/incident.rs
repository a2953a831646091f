//! One incident: what is wrong and since when against the recovery objective, its lifecycle
//! buttons, the environment with its rollback button, the suggested causes and links, the
//! response checklists, and the timeline, followed live by every open browser.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::{incident_path, IncidentBadge, SeverityBadge};
use crate::{
    components::{
        confirm::ConfirmSubmit,
        failure::LoadFailed,
        form::{action_error, Submit},
        links::{environment_path, EnvironmentLink},
        live::follow,
    },
    domain::{
        incidents::{LinkKind, Severity},
        operations::OperationAction,
        Action,
    },
    error::AppError,
    model::{
        EnvironmentView, Incident, IncidentChecklist, IncidentLink, SuggestedDeployment,
        TimelineEntry,
    },
    pages::accounts::session::Protected,
};

/// What the incident page shows: the incident, and its environment's state and buttons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentView {
    pub incident: Incident,
    pub environment: EnvironmentView,
}

/// The incident page's data.
#[server(prefix = "/rpc", endpoint = "incident_page")]
pub async fn incident_page(id: i64) -> Result<IncidentView, AppError> {
    use crate::backend::{incidents, operations, rpc};
    rpc::serve(|state, caller| async move {
        let incident = incidents::get(&state.db, &caller, id).await?;
        let environment =
            operations::view(&state, &caller, &incident.service, &incident.environment).await?;
        Ok(IncidentView {
            incident,
            environment,
        })
    })
    .await
}

/// Changes the status, severity or commander (the fields the page's forms send).
#[server(prefix = "/rpc", endpoint = "change_incident")]
pub async fn change_incident(
    id: i64,
    status: Option<String>,
    severity: Option<String>,
    commander: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        backend::{incidents, rpc},
        domain::incidents::IncidentPatch,
    };
    let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let patch = IncidentPatch {
        status: blank(status),
        severity: blank(severity),
        commander: blank(commander),
        ..Default::default()
    };
    rpc::serve(|state, caller| async move {
        incidents::change(&state, &caller, id, &patch).await?;
        leptos_axum::redirect(&incident_path(id));
        Ok(())
    })
    .await
}

/// Adds a note to the timeline.
#[server(prefix = "/rpc", endpoint = "add_incident_note")]
pub async fn add_incident_note(id: i64, text: Option<String>) -> Result<(), AppError> {
    use crate::{
        backend::{incidents, rpc},
        domain::incidents::TimelineInput,
    };
    let input = TimelineInput {
        text: text.unwrap_or_default(),
        at: None,
    };
    rpc::serve(|state, caller| async move {
        incidents::add_note(&state, &caller, id, &input).await?;
        leptos_axum::redirect(&incident_path(id));
        Ok(())
    })
    .await
}

/// Edits one's own note.
#[server(prefix = "/rpc", endpoint = "edit_incident_note")]
pub async fn edit_incident_note(id: i64, entry: i64, text: Option<String>) -> Result<(), AppError> {
    use crate::backend::{incidents, rpc};
    rpc::serve(|state, caller| async move {
        incidents::edit_note(&state, &caller, id, entry, &text.unwrap_or_default()).await?;
        leptos_axum::redirect(&incident_path(id));
        Ok(())
    })
    .await
}

/// Links a deployment as a cause or fix, or removes the link (`remove` set).
#[server(prefix = "/rpc", endpoint = "link_incident")]
pub async fn link_incident(
    id: i64,
    deployment_id: i64,
    kind: String,
    remove: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        backend::{incidents, rpc},
        domain::incidents::LinkInput,
    };
    let input = LinkInput {
        deployment_id,
        kind,
    };
    rpc::serve(|state, caller| async move {
        if remove.is_some() {
            incidents::unlink(&state, &caller, id, &input).await?;
        } else {
            incidents::link(&state, &caller, id, &input).await?;
        }
        leptos_axum::redirect(&incident_path(id));
        Ok(())
    })
    .await
}

/// Ticks or unticks a checklist step.
#[server(prefix = "/rpc", endpoint = "check_incident_step")]
pub async fn check_incident_step(
    id: i64,
    kind: String,
    key: String,
    done: String,
) -> Result<(), AppError> {
    use crate::backend::{incidents, rpc};
    rpc::serve(|state, caller| async move {
        incidents::check_step(&state, &caller, id, &kind, &key, done == "true").await?;
        leptos_axum::redirect(&incident_path(id));
        Ok(())
    })
    .await
}

/// Rolls the environment back from the incident page; the rollback is linked as the fix.
#[server(prefix = "/rpc", endpoint = "incident_rollback")]
pub async fn incident_rollback(id: i64, expected_revision: i64) -> Result<(), AppError> {
    use crate::backend::{incidents, rpc};
    rpc::serve(|state, caller| async move {
        incidents::rollback(&state, &caller, id, expected_revision).await?;
        leptos_axum::redirect(&incident_path(id));
        Ok(())
    })
    .await
}

/// The page's actions; the answer of the last one shows in one place at the top.
#[derive(Clone, Copy)]
struct Actions {
    change: ServerAction<ChangeIncident>,
    note: ServerAction<AddIncidentNote>,
    edit: ServerAction<EditIncidentNote>,
    link: ServerAction<LinkIncident>,
    check: ServerAction<CheckIncidentStep>,
    rollback: ServerAction<IncidentRollback>,
}

impl Actions {
    fn new() -> Self {
        Self {
            change: ServerAction::new(),
            note: ServerAction::new(),
            edit: ServerAction::new(),
            link: ServerAction::new(),
            check: ServerAction::new(),
            rollback: ServerAction::new(),
        }
    }

    /// The newest refusal of any of the page's forms.
    fn error(self) -> Signal<Option<AppError>> {
        let errors = [
            action_error(self.change),
            action_error(self.note),
            action_error(self.edit),
            action_error(self.link),
            action_error(self.check),
            action_error(self.rollback),
        ];
        Signal::derive(move || errors.iter().find_map(|e| e.get()))
    }
}

/// The incident page.
#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    });
    let actions = Actions::new();
    // Bumped by every `changed` event: a note, a status change, an operation's start or end.
    let changed = RwSignal::new(0_u64);
    Effect::new(move |_| {
        if let Some(id) = id.get() {
            follow(format!("/api/v1/incidents/{id}/events"), changed);
        }
    });
    let data = Resource::new(
        move || {
            (
                id.get(),
                changed.get(),
                actions.change.version().get(),
                actions.note.version().get(),
                actions.edit.version().get(),
                actions.link.version().get(),
                actions.check.version().get(),
                actions.rollback.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => incident_page(id).await,
                None => Err(AppError::NotFound(
                    "There is no such incident; ids are numbers.".into(),
                )),
            }
        },
    );
    let error = actions.error();
    view! {
        <Protected action=Action::Read>
            <Transition fallback=|| view! { <p class="loading">"Loading the incident…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view! { <Detail view actions error /> }.into_any(),
                        Err(error) => view! {
                            <LoadFailed title="Incident" error back=("/incidents", "← Incidents") />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Detail(view: IncidentView, actions: Actions, error: Signal<Option<AppError>>) -> AnyView {
    let i = view.incident;
    let id = i.id;
    let resolved = i
        .resolved_at
        .map(|at| at.to_string())
        .unwrap_or_else(|| "not yet".into());
    let postmortem = format!("{}/postmortem", incident_path(id));
    let postmortem_line = if i.postmortem_due {
        view! { <p class="card notice"><strong>"Post-mortem due. "</strong>"A resolved SEV1 or SEV2 needs one. " <a href=postmortem.clone()>"Write the post-mortem"</a></p> }.into_any()
    } else {
        let label = match i.postmortem_status {
            Some(status) => format!("Post-mortem ({status})"),
            None => "Start a post-mortem".to_owned(),
        };
        view! { <p><a href=postmortem.clone()>{label}</a></p> }.into_any()
    };
    view! {
        <Title text=format!("{} · {}", i.severity, i.title) />
        <p class="breadcrumb"><a href="/incidents">"Incidents"</a> " / " {id}</p>
        <div class="page-head">
            <h1>{i.title.clone()}</h1>
            <SeverityBadge severity=i.severity />
            <IncidentBadge status=i.status />
        </div>
        <p class="form-error" role="alert">{move || error.get().map(|e| e.to_string())}</p>
        <p class=if i.past_rto { "rto late" } else { "rto" }>{i.rto.clone()}</p>
        <section class="card" aria-labelledby="incident-facts">
            <h2 id="incident-facts">"What and where"</h2>
            <dl class="facts">
                <dt>"Where"</dt><dd>{format!("{} / ", i.service)}<EnvironmentLink service=i.service.clone() environment=i.environment.clone() /></dd>
                <dt>"Severity"</dt><dd>{format!("{}: {}", i.severity, i.severity_meaning)}</dd>
                <dt>"Commander"</dt><dd>{i.commander.clone()}</dd>
                <dt>"Started"</dt><dd>{i.started_at.to_string()}</dd>
                <dt>"Detected"</dt><dd>{i.detected_at.to_string()}</dd>
                <dt>"Resolved"</dt><dd>{resolved}</dd>
                <dt>"Declared by"</dt><dd>{i.declared_by.name.clone()}</dd>
            </dl>
            {(!i.description.is_empty()).then(|| view! { <p class="summary">{i.description.clone()}</p> })}
            {postmortem_line}
        </section>
        {i.may_write.then(|| view! { <Lifecycle incident=i.clone() actions /> })}
        <Environment id environment=view.environment actions />
        <Causes id suggestions=i.suggestions.clone() links=i.links.clone() may_write=i.may_write actions />
        {i.checklists.iter().cloned().map(|list| view! { <Checklist id list may_write=i.may_write actions /> }).collect_view()}
        <Timeline id entries=i.timeline.clone() may_write=i.may_write actions here=environment_path(&i.service, &i.environment) />
    }
    .into_any()
}

/// The status buttons, and the severity and commander.
#[component]
fn Lifecycle(incident: Incident, actions: Actions) -> impl IntoView {
    let id = incident.id;
    let buttons = incident
        .next_statuses
        .clone()
        .into_iter()
        .map(|(status, label)| {
            view! {
                <ActionForm action=actions.change attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="status" value=status.as_str() />
                    <button type="submit" class="primary">{label}</button>
                </ActionForm>
            }
        })
        .collect_view();
    let severities = Severity::ALL
        .iter()
        .map(|s| {
            // "SEV1: Critical": the level's full meaning is on the incident and the declare form.
            let short = s.meaning().split(':').next().unwrap_or_default();
            view! { <option value=s.as_str() selected=*s == incident.severity>{format!("{s}: {short}")}</option> }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="lifecycle">
            <h2 id="lifecycle">"Status"</h2>
            <div class="actions">{buttons}</div>
            <ActionForm action=actions.change attr:class="row">
                <input type="hidden" name="id" value=id />
                <div class="field">
                    <label for="change-severity">"Severity"</label>
                    <select id="change-severity" name="severity">{severities}</select>
                </div>
                <div class="field">
                    <label for="change-commander">"Commander"</label>
                    <input id="change-commander" name="commander" value=incident.commander.clone() />
                </div>
                <Submit label="Save" busy_label="Saving…" pending=actions.change.pending() />
            </ActionForm>
        </section>
    }
}

/// What is live in the environment, the operation running there, and the rollback button.
#[component]
fn Environment(id: i64, environment: EnvironmentView, actions: Actions) -> impl IntoView {
    let env = environment.environment.clone();
    let live = env
        .live_version
        .as_ref()
        .map_or_else(|| "nothing recorded yet".to_owned(), |l| l.version.clone());
    let running = environment.operation.clone().filter(|o| o.finished_at.is_none()).map(|op| {
        let (done, total) = op.progress();
        view! {
            <p class="progress-line">
                <progress max=total value=done aria-label="Operation progress"></progress>
                {format!(" {} by {} running: step {} of {total}", op.action, op.requested_by, (done + 1).min(total))}
            </p>
        }
    });
    let rollback = environment
        .actions
        .iter()
        .find(|a| a.action == OperationAction::Rollback)
        .cloned();
    let button = match (rollback, environment.may_operate) {
        (Some(offered), true) if offered.refusal.is_none() => view! {
            <ActionForm action=actions.rollback>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="expected_revision" value=env.revision />
                <ConfirmSubmit
                    label=offered.label.clone()
                    accessible_label="Roll back from this incident"
                    question=format!("{} It is linked as this incident's fix.", offered.question)
                    confirm="Yes, roll back"
                    pending=actions.rollback.pending()
                />
            </ActionForm>
        }
        .into_any(),
        (Some(offered), true) => view! { <p class="hint">{offered.refusal.unwrap_or_default()}</p> }.into_any(),
        (Some(_), false) => view! { <p class="hint">"A releaser can roll back from here."</p> }.into_any(),
        (None, _) => view! { <p class="hint">"This environment offers no rollback (no driver, or its strategy has none)."</p> }.into_any(),
    };
    view! {
        <section class="card" aria-labelledby="incident-environment">
            <h2 id="incident-environment">"The environment"</h2>
            <p>
                {format!("Live in {} now: {live}. ", env.name)}
                {environment.previous_version.clone().map(|v| format!("A rollback puts back {v}. "))}
                <a href=environment_path(&env.service, &env.name)>"Environment page"</a>
            </p>
            {running}
            {button}
        </section>
    }
}

/// The suggested causes and the links made.
#[component]
fn Causes(
    id: i64,
    suggestions: Vec<SuggestedDeployment>,
    links: Vec<IncidentLink>,
    may_write: bool,
    actions: Actions,
) -> impl IntoView {
    let link_form = move |deployment_id: i64, kind: LinkKind, remove: bool, label: String| {
        view! {
            <ActionForm action=actions.link attr:class="inline">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="deployment_id" value=deployment_id />
                <input type="hidden" name="kind" value=kind.as_str() />
                {remove.then(|| view! { <input type="hidden" name="remove" value="true" /> })}
                <button type="submit">{label}</button>
            </ActionForm>
        }
    };
    let linked = if links.is_empty() {
        view! { <p class="hint">"No deployment is linked yet."</p> }.into_any()
    } else {
        links
            .into_iter()
            .map(|l| {
                view! {
                    <li>
                        <span class=format!("tag link-{}", l.kind)>{l.kind.as_str()}</span> " "
                        <a href=format!("/deployments/{}", l.deployment_id)>{format!("{}{}", l.version, if l.is_rollback { " (rollback)" } else { "" })}</a>
                        {format!(" shipped by {}, linked by {}", l.shipped_by, l.linked_by)} " "
                        {may_write.then(|| link_form(l.deployment_id, l.kind, true, format!("Unlink {}", l.kind)))}
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    let suggested = if suggestions.is_empty() {
        view! { <p class="hint">"No deployment finished here in the 24 hours before it started."</p> }.into_any()
    } else {
        suggestions
            .into_iter()
            .map(|s| {
                let buttons = (may_write && s.linked_as.is_none()).then(|| {
                    view! {
                        {link_form(s.deployment_id, LinkKind::Cause, false, "Mark as cause".into())}
                        {link_form(s.deployment_id, LinkKind::Fix, false, "Mark as fix".into())}
                    }
                });
                view! {
                    <li>
                        <a href=format!("/deployments/{}", s.deployment_id)>{s.version.clone()}</a>
                        {format!(" {} by {}, {}", s.status, s.shipped_by, s.before_start)}
                        {s.linked_as.map(|k| view! { " " <span class="tag">{format!("linked as {k}")}</span> })}
                        " " {buttons}
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="card" aria-labelledby="incident-causes">
            <h2 id="incident-causes">"Deployments"</h2>
            <h3>"Linked"</h3>
            <ul class="links">{linked}</ul>
            <h3>"Finished here in the 24 hours before it started"</h3>
            <ul class="suggestions">{suggested}</ul>
        </section>
    }
}

/// A checklist of the guide's steps, each ticked by whoever did it.
#[component]
fn Checklist(id: i64, list: IncidentChecklist, may_write: bool, actions: Actions) -> impl IntoView {
    let heading = format!("checklist-{}", list.kind);
    let kind = list.kind.clone();
    let steps = list
        .steps
        .into_iter()
        .map(|step| {
            let done = step.done_by.is_some();
            let status = step.done_by.clone().map(|by| {
                let at = step.done_at.map(|t| t.to_string()).unwrap_or_default();
                view! { <span class="hint block">{format!("done by {by} at {at}")}</span> }
            });
            let label = format!("{} {}", if done { "Untick" } else { "Done:" }, step.title);
            let (kind, key) = (kind.clone(), step.key.clone());
            let form = may_write.then(move || view! {
                <ActionForm action=actions.check attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="kind" value=kind />
                    <input type="hidden" name="key" value=key />
                    <input type="hidden" name="done" value=if done { "false" } else { "true" } />
                    <button type="submit" aria-label=label>{if done { "Untick" } else { "Done" }}</button>
                </ActionForm>
            });
            view! {
                <li class=if done { "step done" } else { "step" }>
                    <span class="mark" aria-hidden="true">{if done { "✓" } else { "○" }}</span>
                    <strong>{step.title.clone()}</strong>
                    <span class="hint block">{step.description.clone()}</span>
                    {status}
                    {form}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby=heading.clone()>
            <h2 id=heading.clone()>{list.title.clone()}</h2>
            <ul class="checklist">{steps}</ul>
        </section>
    }
}

/// The timeline, oldest first, and the note form.
#[component]
fn Timeline(
    id: i64,
    entries: Vec<TimelineEntry>,
    may_write: bool,
    actions: Actions,
    here: String,
) -> impl IntoView {
    let items = entries
        .into_iter()
        .map(|e| {
            let edited = e.edited_at.map(|at| {
                let earlier = e.edits.iter().map(|(text, at)| view! { <li>{format!("{at}: {text}")}</li> }).collect_view();
                view! {
                    <details class="edits">
                        <summary>{format!("edited {at}")}</summary>
                        <ul>{earlier}</ul>
                    </details>
                }
            });
            let operation = e.operation_id.map(|op| view! { " " <a href=here.clone()>{format!("operation {op} on the environment page")}</a> });
            let current = e.text.clone();
            let edit = e.may_edit.then(move || view! {
                <details class="edit-note">
                    <summary>"Edit"</summary>
                    <ActionForm action=actions.edit attr:class="stack">
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="entry" value=e.id />
                        <label for=format!("edit-{}", e.id)>"Note"</label>
                        <textarea id=format!("edit-{}", e.id) name="text" rows="2">{current}</textarea>
                        <Submit label="Save note" busy_label="Saving…" pending=actions.edit.pending() />
                    </ActionForm>
                </details>
            });
            view! {
                <li class=format!("entry entry-{}", e.kind)>
                    <time datetime=e.at.to_rfc3339()>{e.at.to_string()}</time>
                    <span class="author">{e.author.name.clone()}</span>
                    <span class="text">{e.text.clone()}</span>
                    {operation}
                    {edited}
                    {edit}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="incident-timeline">
            <h2 id="incident-timeline">"Timeline"</h2>
            <ol class="timeline" aria-live="polite">{items}</ol>
            {may_write.then(|| view! {
                <ActionForm action=actions.note attr:class="stack">
                    <input type="hidden" name="id" value=id />
                    <label for="note-text">"Add to the timeline"</label>
                    <textarea id="note-text" name="text" rows="2" placeholder="What was seen, tried or decided"></textarea>
                    <Submit label="Add note" busy_label="Adding…" pending=actions.note.pending() />
                </ActionForm>
            })}
        </section>
    }
}
