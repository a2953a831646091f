//! One environment: its state (live slot, versions, canary), the buttons that run operations
//! (releasers and admins), each asking for confirmation in words, and the newest operation's
//! steps and log, following along live in every open browser.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    components::form::{action_error, Field, FormError, Submit},
    components::url,
    domain::{
        operations::{plan, OperationAction, OperationStatus, Refusal, Request},
        Action, FieldError,
    },
    error::AppError,
    model::{EnvironmentView, Operation},
    pages::accounts::session::Protected,
};

/// The environment page's data.
#[server(prefix = "/rpc", endpoint = "environment_page")]
pub async fn environment_page(
    service: String,
    environment: String,
) -> Result<EnvironmentView, AppError> {
    use crate::backend::{operations, rpc};
    rpc::serve(|state, caller| async move {
        operations::view(&state, &caller, &service, &environment).await
    })
    .await
}

/// Starts an operation; the page then follows it.
#[server(prefix = "/rpc", endpoint = "start_operation")]
pub async fn start_operation(
    service: String,
    environment: String,
    operation: crate::domain::operations::OperationInput,
) -> Result<i64, AppError> {
    use crate::backend::{operations, rpc};
    rpc::serve(|state, caller| async move {
        let started =
            operations::start(&state, &caller, &service, &environment, &operation).await?;
        leptos_axum::redirect(&environment_path(&service, &environment));
        Ok(started.id)
    })
    .await
}

fn environment_path(service: &str, environment: &str) -> String {
    format!(
        "/services/{}/environments/{}",
        url::encode(service),
        url::encode(environment)
    )
}

/// The environment page.
#[component]
pub fn EnvironmentPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let start = ServerAction::<StartOperation>::new();
    // Bumped by every `changed` event, which re-reads the page's data.
    let changed = RwSignal::new(0_u64);
    let names = Memo::new(move |_| {
        let params = params.read();
        (
            params.get("service").unwrap_or_default(),
            params.get("environment").unwrap_or_default(),
        )
    });
    let data = Resource::new(
        move || (names.get(), start.version().get(), changed.get()),
        |((service, environment), _, _)| environment_page(service, environment),
    );
    Effect::new(move |_| {
        let (service, environment) = names.get();
        follow(
            format!(
                "/api/v1/services/{}/environments/{}/events",
                url::encode(&service),
                url::encode(&environment)
            ),
            changed,
        );
    });
    let confirm = Memo::new(move |_| {
        let query = query.read();
        let action = query
            .get("confirm")
            .and_then(|a| OperationAction::parse("confirm", &a).ok());
        let revision = query.get("revision").and_then(|r| r.parse::<i64>().ok());
        action.zip(revision)
    });
    view! {
        <Protected action=Action::Read>
            <Transition fallback=|| view! { <p class="loading">"Loading the environment…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view! { <Environment view confirm=confirm.get() start /> }.into_any(),
                        Err(error) => view! {
                            <Title text="Environment" />
                            <h1>"Environment"</h1>
                            <p class="form-error" role="alert">{error.to_string()}</p>
                            <p><a href="/">"← Overview"</a></p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

/// Listens to the environment's server-sent events, bumping `changed` on each; closes when
/// the page goes.
#[cfg(feature = "hydrate")]
fn follow(url: String, changed: RwSignal<u64>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return;
    };
    let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
        changed.update(|n| *n += 1);
    });
    let _ = source.add_event_listener_with_callback("changed", on_change.as_ref().unchecked_ref());
    let kept = StoredValue::new_local(Some((source, on_change)));
    on_cleanup(move || {
        if let Some((source, _)) = kept.try_update_value(Option::take).flatten() {
            source.close();
        }
    });
}

/// The server renders the state as it is; following starts in the browser.
#[cfg(not(feature = "hydrate"))]
fn follow(_url: String, _changed: RwSignal<u64>) {}

#[component]
fn Environment(
    view: EnvironmentView,
    confirm: Option<(OperationAction, i64)>,
    start: ServerAction<StartOperation>,
) -> impl IntoView {
    let env = &view.environment;
    let title = format!("{} · {}", env.service, env.name);
    let here = environment_path(&env.service, &env.name);
    let running = view
        .operation
        .as_ref()
        .is_some_and(|o| o.status == OperationStatus::Running);
    view! {
        <Title text=title.clone() />
        <p class="breadcrumb"><a href="/">"Overview"</a> " / " {env.service.clone()} " / " {env.name.clone()}</p>
        <div class="page-head">
            <h1>{title}</h1>
            <span class="tag">{env.tier.as_str()}</span>
            <span class="tag">{env.strategy.as_str()}</span>
        </div>
        <State view=view.clone() />
        {view.may_operate.then(|| view! { <Buttons view=view.clone() running here=here.clone() confirm start /> })}
        {view.operation.clone().map(|operation| view! { <Progress operation /> })}
        <History operations=view.history.clone() />
    }
}

/// The environment's state: live slot and versions, or current version and canary.
#[component]
fn State(view: EnvironmentView) -> impl IntoView {
    let env = view.environment;
    let state = view.state;
    let slots = (!env.slots.is_empty()).then(|| {
        let rows = env
            .slots
            .iter()
            .map(|slot| {
                let live = Some(slot.color) == env.live_slot;
                view! {
                    <tr data-slot=slot.color.as_str()>
                        <th scope="row">{slot.color.as_str()}</th>
                        <td>{if live { view! { <strong>"live"</strong> }.into_any() } else { "idle".into_any() }}</td>
                        <td>{slot.version.clone().unwrap_or_else(|| "—".into())}</td>
                        <td><code>{slot.upstream.clone()}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap"><table class="slots">
                <thead><tr><th scope="col">"Slot"</th><th scope="col">"Traffic"</th><th scope="col">"Version"</th><th scope="col">"Upstream"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        }
    });
    view! {
        <section class="card" aria-labelledby="state">
            <h2 id="state">"State"</h2>
            <dl class="facts">
                {env.live_slot.map(|live| view! { <dt>"Live slot"</dt><dd><strong id="live-slot">{live.as_str()}</strong></dd> })}
                {env.live_slot.is_none().then(|| view! {
                    <dt>"Running version"</dt>
                    <dd>{env.current_version.clone().unwrap_or_else(|| "unknown: no operation put one here yet".into())}</dd>
                })}
                {env.canary.clone().map(|canary| view! {
                    <dt>"Canary"</dt>
                    <dd>{format!("{} takes {}% of traffic ", canary.version, canary.weight)}<meter min="0" max="100" value=canary.weight></meter></dd>
                })}
                <dt>"Previous version"</dt>
                <dd>{state.previous_version.map_or_else(|| "none yet".to_owned(), |v| v.as_str().to_owned())}</dd>
                <dt>"Revision"</dt><dd id="revision">{env.revision}</dd>
            </dl>
            {slots}
        </section>
    }
}

/// The operation buttons and, after one is pressed, its confirmation.
#[component]
fn Buttons(
    view: EnvironmentView,
    running: bool,
    here: String,
    confirm: Option<(OperationAction, i64)>,
    start: ServerAction<StartOperation>,
) -> impl IntoView {
    if !view.has_driver {
        return view! {
            <section class="card" aria-labelledby="operate">
                <h2 id="operate">"Operations"</h2>
                <p class="hint">"No driver is configured for this environment, so Switchyard cannot act on it. An operator adds an [[environment]] table to the server's configuration file (see the README, Operations)."</p>
            </section>
        }
        .into_any();
    }
    let revision = view.environment.revision;
    let blue_green = view.state.live.is_some();
    // An action the state does not allow now is shown disabled, with the reason beside it,
    // instead of a confirmation that can only refuse.
    let (mut buttons, mut unavailable) = (Vec::new(), Vec::new());
    for &action in OperationAction::offered_by(view.state.strategy) {
        let label = button_label(action, blue_green);
        let request = Request {
            action,
            version: None,
            expected_revision: revision,
            weight: None,
        };
        match plan(&view.state, &request, &view.canary_steps) {
            Err(Refusal::Conflict(refused)) => {
                buttons.push(
                    view! { <button type="button" disabled=true>{label}</button> }.into_any(),
                );
                unavailable.push(view! { <li>{format!("{}: {}", label.trim_end_matches('…'), refused.message)}</li> });
            }
            _ => {
                let href = format!("{here}?confirm={action}&revision={revision}");
                buttons.push(view! { <a class="button" href=href>{label}</a> }.into_any());
            }
        }
    }
    let buttons = view! {
        <div class="actions">{buttons}</div>
        {(!unavailable.is_empty()).then(|| view! { <ul class="hint unavailable">{unavailable}</ul> })}
    };
    let confirmation = confirm.map(|(action, seen)| view! { <Confirm view=view.clone() action seen here=here.clone() start /> });
    view! {
        <section class="card" aria-labelledby="operate">
            <h2 id="operate">"Operations"</h2>
            {if running {
                view! { <p class="hint">"An operation runs; the buttons come back when it ends."</p> }.into_any()
            } else {
                buttons.into_any()
            }}
            {confirmation}
        </section>
    }
    .into_any()
}

fn button_label(action: OperationAction, blue_green: bool) -> &'static str {
    match action {
        OperationAction::Deploy if blue_green => "Deploy to idle…",
        OperationAction::Deploy => "Deploy…",
        OperationAction::Switch => "Switch…",
        OperationAction::Rollback => "Roll back…",
        OperationAction::CanaryPromote => "Promote canary…",
        OperationAction::CanaryAbort => "Abort canary…",
    }
}

fn confirm_label(action: OperationAction) -> &'static str {
    match action {
        OperationAction::Deploy => "Yes, deploy",
        OperationAction::Switch => "Yes, switch",
        OperationAction::Rollback => "Yes, roll back",
        OperationAction::CanaryPromote => "Yes, promote",
        OperationAction::CanaryAbort => "Yes, abort",
    }
}

/// Asks "Switch production to green, version 2.4.1?" and submits the revision the question
/// was asked on (`seen`), so a state that moved meanwhile refuses instead of doing something
/// else than was read.
#[component]
fn Confirm(
    view: EnvironmentView,
    action: OperationAction,
    seen: i64,
    here: String,
    start: ServerAction<StartOperation>,
) -> impl IntoView {
    let error = action_error(start);
    let state = &view.state;
    let request = Request {
        action,
        version: None,
        expected_revision: state.revision,
        weight: None,
    };
    let question = match (action, plan(state, &request, &view.canary_steps)) {
        (_, Ok(plan)) => Ok(plan.question),
        // The version is typed in this very form.
        (OperationAction::Deploy, Err(Refusal::Invalid(e))) if e.field == "version" => Ok(match state.live {
            Some(live) => format!("Deploy which version to the idle slot {} of {}? It takes no traffic until you switch.", live.other(), state.name),
            None => format!("Deploy which version to {}?", state.name),
        }),
        (_, Err(Refusal::Invalid(e) | Refusal::Conflict(e))) => Err(e),
    };
    let moved = (seen != state.revision).then(|| view! {
        <p class="form-error" role="alert">{format!("{} changed since you pressed the button (revision {seen} → {}): read the state again before you confirm.", state.name, state.revision)}</p>
    });
    let body = match question {
        Err(FieldError { message, .. }) => view! { <p class="form-error" role="alert">{message}</p> <a href=here.clone()>"Close"</a> }.into_any(),
        Ok(question) => view! {
            <ActionForm action=start attr:class="stack confirm" attr:novalidate=true attr:aria-labelledby="confirm-question">
                <p id="confirm-question" class="question">{question}</p>
                {moved}
                <FormError error />
                // Refusals about the state (a stale revision, another operation running) name a
                // field the form has no input for: they belong here.
                <p class="form-error" role="alert">
                    {move || error.get().filter(|e| e.field().is_some_and(|f| f != "version")).map(|e| e.to_string())}
                </p>
                <input type="hidden" name="service" value=view.environment.service.clone() />
                <input type="hidden" name="environment" value=view.environment.name.clone() />
                <input type="hidden" name="operation[action]" value=action.as_str() />
                <input type="hidden" name="operation[expected_revision]" value=seen />
                {(action == OperationAction::Deploy).then(|| view! {
                    <Field label="Version" name="operation[version]" error_for="version" error placeholder="2.4.1" />
                })}
                <div class="actions">
                    <Submit label=confirm_label(action) busy_label="Starting…" pending=start.pending() class="primary" />
                    <a href=here.clone()>"Cancel"</a>
                </div>
            </ActionForm>
        }.into_any(),
    };
    view! { <div class="confirm-panel">{body}</div> }
}

/// The newest operation: steps, progress and log.
#[component]
fn Progress(operation: Operation) -> impl IntoView {
    let (done, total) = operation.progress();
    let status = operation.status;
    let heading = format!(
        "{} {}{}",
        action_words(operation.action),
        operation.version.clone().unwrap_or_default(),
        operation
            .target_slot
            .map(|s| format!(" on {s}"))
            .unwrap_or_default()
    );
    let steps = operation
        .steps
        .iter()
        .map(|step| view! { <li data-status=step.status.as_str()><span class="step-status">{step.status.as_str()}</span> " " {step.name.clone()}</li> })
        .collect_view();
    let log = operation
        .log
        .iter()
        .map(|line| {
            // HH:MM:SS.mmm in UTC: the date is beside the start time above.
            let at = line.at.to_rfc3339().unwrap_or_default();
            format!(
                "{} {:<6} {}\n",
                at.get(11..23).unwrap_or_default(),
                line.stream.as_str(),
                line.line
            )
        })
        .collect::<String>();
    view! {
        <section class="card" id="operation" aria-labelledby="operation-heading" aria-live="polite"
            data-status=status.as_str() data-operation-id=operation.id>
            <h2 id="operation-heading">{format!("Operation {}: {heading}", operation.id)}</h2>
            <p>
                <span class=format!("status status-{}", status.as_str())>{status.as_str()}</span>
                {format!(" started by {} at {}", operation.requested_by, operation.started_at)}
                {operation.deployment_id.map(|id| view! { " · " <a href=format!("/deployments/{id}")>{format!("deployment {id}")}</a> })}
            </p>
            // Without JavaScript nothing follows the events: reload while it runs.
            {(!status.is_final()).then(|| view! { <noscript><meta http-equiv="refresh" content="2" /></noscript> })}
            <progress max=total value=if status.is_final() { total } else { done } aria-label="Steps done">{format!("{done} of {total}")}</progress>
            {operation.error.clone().map(|error| view! { <p class="form-error">{error}</p> })}
            <ol class="steps">{steps}</ol>
            <pre class="log">{log}</pre>
        </section>
    }
}

fn action_words(action: OperationAction) -> &'static str {
    match action {
        OperationAction::Deploy => "Deploy",
        OperationAction::Switch => "Switch to",
        OperationAction::Rollback => "Roll back to",
        OperationAction::CanaryPromote => "Promote canary",
        OperationAction::CanaryAbort => "Abort canary",
    }
}

/// Earlier operations, newest first.
#[component]
fn History(operations: Vec<Operation>) -> impl IntoView {
    (!operations.is_empty()).then(|| {
        let rows = operations
            .into_iter()
            .map(|o| view! {
                <tr>
                    <td>{o.id}</td>
                    <td>{o.action.as_str()}</td>
                    <td>{o.version.clone().unwrap_or_default()}</td>
                    <td><span class=format!("status status-{}", o.status.as_str())>{o.status.as_str()}</span></td>
                    <td>{o.requested_by.clone()}</td>
                    <td><time datetime=o.started_at.to_rfc3339()>{o.started_at.to_string()}</time></td>
                    <td>{o.error.clone().unwrap_or_default()}</td>
                </tr>
            })
            .collect_view();
        view! {
            <section class="card" aria-labelledby="history">
                <h2 id="history">"Earlier operations"</h2>
                <div class="table-wrap"><table>
                    <thead><tr><th scope="col">"#"</th><th scope="col">"Action"</th><th scope="col">"Version"</th><th scope="col">"Status"</th><th scope="col">"By"</th><th scope="col">"Started (UTC)"</th><th scope="col">"Error"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            </section>
        }
    })
}
