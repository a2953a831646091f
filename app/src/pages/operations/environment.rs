//! One environment: what is live and who shipped it, each slot's version and health, the
//! buttons that run operations (releasers and admins), each asking for confirmation in words,
//! and the newest operation's steps and log, following along live in every open browser. The
//! server words every button, refusal and question; the page only shows them.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    components::{
        failure::LoadFailed,
        form::{action_error, Field, FormError, Submit},
        links::{environment_path, Breadcrumbs},
        live::follow,
        url,
    },
    domain::{operations::OperationAction, time::describe_age, Action, Timestamp},
    error::AppError,
    model::{EnvironmentView, OfferedAction, Operation, Shipped, Slot, SlotHealth},
    pages::{
        accounts::session::{me, Protected},
        releases::freezes::{AddFreeze, FreezeWindows, RemoveFreeze},
    },
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

/// The environment page.
#[component]
pub fn EnvironmentPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let start = ServerAction::<StartOperation>::new();
    let freezes = (
        ServerAction::<AddFreeze>::new(),
        ServerAction::<RemoveFreeze>::new(),
    );
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
        move || {
            (
                names.get(),
                start.version().get(),
                changed.get(),
                freezes.0.version().get() + freezes.1.version().get(),
            )
        },
        |((service, environment), ..)| environment_page(service, environment),
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
                        Ok(view) => view! { <Environment view confirm=confirm.get() start freezes /> }.into_any(),
                        Err(error) => view! {
                            <LoadFailed title="Environment" error back=("/services", "← Services") />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Environment(
    view: EnvironmentView,
    confirm: Option<(OperationAction, i64)>,
    start: ServerAction<StartOperation>,
    freezes: (ServerAction<AddFreeze>, ServerAction<RemoveFreeze>),
) -> impl IntoView {
    let env = &view.environment;
    let title = format!("{} · {}", env.service, env.name);
    view! {
        <Title text=title.clone() />
        <Breadcrumbs service=env.service.clone() environment=env.name.clone() />
        <div class="page-head">
            <h1>{title}</h1>
            <span class="tag">{env.tier.as_str()}</span>
            <span class="tag">{env.strategy.label()}</span>
        </div>
        <State view=view.clone() />
        <Operate view=view.clone() confirm start />
        {view.operation.clone().map(|operation| view! { <Progress operation /> })}
        <FreezeWindows service=env.service.clone() environment=env.name.clone() freezes=view.freezes.clone() add=freezes.0 remove=freezes.1 />
        <History operations=view.history.clone() />
    }
}

/// "2.4.1, shipped by ci 3 h ago (deployment 12)".
fn shipped_words(shipped: &Option<Shipped>, now: Timestamp) -> AnyView {
    match shipped {
        Some(shipped) => view! {
            " shipped by " {shipped.by.clone()} " "
            <time datetime=shipped.at.to_rfc3339() title=shipped.at.to_string()>{describe_age(shipped.at, now)}</time>
            " (" <a href=format!("/deployments/{}", shipped.deployment_id)>{format!("deployment {}", shipped.deployment_id)}</a> ")"
        }
        .into_any(),
        None => ().into_any(),
    }
}

/// A slot's newest health check: "healthy" or what went wrong, and when it was checked.
#[component]
pub fn HealthBadge(health: Option<SlotHealth>, now: Timestamp) -> impl IntoView {
    match health {
        Some(health) => {
            let (class, word) = if health.healthy {
                ("status status-succeeded", "healthy")
            } else {
                ("status status-failed", "not healthy")
            };
            view! {
                <span class=class title=health.detail.clone()>{word}</span>
                <span class="hint">
                    " checked "
                    <time datetime=health.checked_at.to_rfc3339()>{describe_age(health.checked_at, now)}</time>
                </span>
                {(!health.healthy).then(|| view! { <span class="hint block">{health.detail.clone()}</span> })}
            }
            .into_any()
        }
        None => view! { <span class="hint">"not checked yet"</span> }.into_any(),
    }
}

/// The environment's state: what is live and who shipped it, the slots, the canary.
#[component]
fn State(view: EnvironmentView) -> impl IntoView {
    let env = view.environment;
    let now = view.now;
    let health_of = |slot: Option<&Slot>| {
        env.health
            .iter()
            .find(|h| h.slot == slot.map(|s| s.color))
            .cloned()
    };
    let live = match &env.live_version {
        Some(live) => view! {
            <strong id="live-version">{live.version.clone()}</strong>
            {live.slot.map(|slot| view! { " on " <strong id="live-slot">{slot.as_str()}</strong> })}
            {shipped_words(&live.shipped, now)}
        }
        .into_any(),
        None => match env.live_slot {
            Some(slot) => view! {
                "the " <strong id="live-slot">{slot.as_str()}</strong>
                " slot takes the traffic, but no deployment has named it yet: record one with \"slot\": \""
                {slot.as_str()} "\", or deploy to it"
            }
            .into_any(),
            None => "nothing yet: record a succeeded deployment here, or deploy one".into_any(),
        },
    };
    let slots = (!env.slots.is_empty()).then(|| {
        let rows = env
            .slots
            .iter()
            .map(|slot| {
                let is_live = Some(slot.color) == env.live_slot;
                view! {
                    <tr data-slot=slot.color.as_str()>
                        <th scope="row">{slot.color.as_str()}</th>
                        <td data-label="Traffic">{if is_live { view! { <strong>"live"</strong> }.into_any() } else { "idle".into_any() }}</td>
                        <td data-label="Version">{slot.version.clone().unwrap_or_else(|| "—".into())}</td>
                        <td data-label="Shipped">
                            {match &slot.shipped {
                                Some(shipped) => view! {
                                    {shipped.by.clone()} " "
                                    <time datetime=shipped.at.to_rfc3339() title=shipped.at.to_string()>{describe_age(shipped.at, now)}</time>
                                }.into_any(),
                                None => "—".into_any(),
                            }}
                        </td>
                        <td data-label="Health"><HealthBadge health=health_of(Some(slot)) now /></td>
                        <td data-label="Upstream"><code>{slot.upstream.clone()}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap"><table class="slots stacked">
                <thead><tr>
                    <th scope="col">"Slot"</th><th scope="col">"Traffic"</th><th scope="col">"Version"</th>
                    <th scope="col">"Shipped"</th><th scope="col">"Health"</th><th scope="col">"Upstream"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        }
    });
    let in_place_health = env.slots.is_empty().then(|| {
        health_of(None).map(
            |health| view! { <dt>"Health"</dt><dd><HealthBadge health=Some(health) now /></dd> },
        )
    });
    view! {
        <section class="card" id="state-card" aria-labelledby="state" data-revision=env.revision>
            <h2 id="state">"What is live"</h2>
            <dl class="facts">
                <dt>"Live"</dt><dd>{live}</dd>
                {env.idle_version.clone().map(|idle| view! {
                    <dt>"Idle slot"</dt>
                    <dd>{idle} " on " {env.idle().map(|s| s.color.as_str())} ", ready to switch to"</dd>
                })}
                {env.canary.clone().map(|canary| view! {
                    <dt>"Canary"</dt>
                    <dd>{format!("{} takes {}% of traffic ", canary.version, canary.weight)}<meter min="0" max="100" value=canary.weight></meter></dd>
                })}
                <dt>"A rollback puts back"</dt>
                <dd>{view.previous_version.clone().unwrap_or_else(|| "nothing yet: no operation has put an earlier version live here".to_owned())}</dd>
                {in_place_health}
            </dl>
            {slots}
        </section>
    }
}

/// The operation buttons and, after one is pressed, its confirmation; or why there are none.
#[component]
fn Operate(
    view: EnvironmentView,
    confirm: Option<(OperationAction, i64)>,
    start: ServerAction<StartOperation>,
) -> impl IntoView {
    let explain = |text: String| {
        view! {
            <section class="card" aria-labelledby="operate">
                <h2 id="operate">"Operations"</h2>
                <p class="hint">{text}</p>
            </section>
        }
        .into_any()
    };
    let admin = me().is_some_and(|user| user.may(Action::ManageCatalog));
    if !view.has_driver {
        return explain(if admin {
            "No driver is configured for this environment, so Switchyard cannot act on it. Add an [[environment]] table for it to the server's configuration file (README: Operations) and restart Switchyard.".to_owned()
        } else {
            "An operator has not connected this environment to Switchyard yet, so it cannot deploy, switch or roll back here; it only shows what is recorded.".to_owned()
        });
    }
    if !view.may_operate {
        return explain(
            "Deploying, switching and rolling back take the releaser role; ask an administrator if you need it.".to_owned(),
        );
    }
    let env = &view.environment;
    let here = environment_path(&env.service, &env.name);
    let running = view
        .operation
        .as_ref()
        .is_some_and(|o| !o.status.is_final());
    let revision = env.revision;
    // An action the state does not allow now is shown disabled, with the reason beside it,
    // instead of a confirmation that can only refuse; so is one a gate holds, except for
    // admins, whose confirmation then asks why they pass it.
    let may_override = view.may_override;
    let held = |offered: &OfferedAction| {
        offered.refusal.is_some() || (offered.gate.is_some() && !may_override)
    };
    let buttons = view
        .actions
        .iter()
        .map(|offered| {
            if held(offered) {
                view! { <button type="button" disabled=true>{offered.label.clone()}</button> }
                    .into_any()
            } else {
                let href = format!("{here}?confirm={}&revision={revision}", offered.action);
                view! { <a class="button" href=href>{offered.label.clone()}</a> }.into_any()
            }
        })
        .collect_view();
    let unavailable = view
        .actions
        .iter()
        .filter_map(|offered| {
            offered.refusal.as_ref().or(offered.gate.as_ref()).map(|refusal| {
                view! { <li>{format!("{}: {refusal}", offered.label.trim_end_matches('…'))}</li> }
            })
        })
        .collect::<Vec<_>>();
    let offered = confirm.and_then(|(action, seen)| {
        view.actions
            .iter()
            .find(|offered| offered.action == action && !held(offered))
            .cloned()
            .map(|offered| (offered, seen))
    });
    let confirmation = offered.map(|(offered, seen)| view! { <Confirm view=view.clone() offered seen here=here.clone() start /> });
    view! {
        <section class="card" aria-labelledby="operate">
            <h2 id="operate">"Operations"</h2>
            {if running {
                view! { <p class="hint">"An operation runs; the buttons come back when it ends."</p> }.into_any()
            } else {
                view! {
                    <div class="actions">{buttons}</div>
                    {(!unavailable.is_empty()).then(|| view! { <ul class="hint unavailable">{unavailable}</ul> })}
                }.into_any()
            }}
            {confirmation}
        </section>
    }
    .into_any()
}

/// Asks "Switch production to green, version 2.4.1?" and submits the revision the question
/// was asked on (`seen`), so a state that moved meanwhile refuses instead of doing something
/// else than was read.
#[component]
fn Confirm(
    view: EnvironmentView,
    offered: OfferedAction,
    seen: i64,
    here: String,
    start: ServerAction<StartOperation>,
) -> impl IntoView {
    let error = action_error(start);
    let env = view.environment;
    let moved = (seen != env.revision).then(|| view! {
        <p class="form-error" role="alert">{format!("{} changed since you pressed the button: read what is live again before you confirm.", env.name)}</p>
    });
    view! {
        <div class="confirm-panel">
            <ActionForm action=start attr:class="stack confirm" attr:novalidate=true attr:aria-labelledby="confirm-question">
                <p id="confirm-question" class="question">{offered.question.clone()}</p>
                {moved}
                <FormError error />
                // Refusals about the state (a stale revision, another operation running) name a
                // field the form has no input for: they belong here.
                <p class="form-error" role="alert">
                    {move || error.get().filter(|e| e.field().is_some_and(|f| f != "version")).map(|e| e.to_string())}
                </p>
                <input type="hidden" name="service" value=env.service.clone() />
                <input type="hidden" name="environment" value=env.name.clone() />
                <input type="hidden" name="operation[action]" value=offered.action.as_str() />
                <input type="hidden" name="operation[expected_revision]" value=seen />
                {offered.asks_version.then(|| view! {
                    <Field label="Version" name="operation[version]" error_for="version" error placeholder="2.4.1" hint="Letters, digits, '.', '_', '+' and '-', as your build names it." />
                })}
                {offered.gate.clone().map(|gate| view! {
                    <p class="notice">{format!("Gate closed: {gate}")}</p>
                    <Field label="Why pass the gate? (admins, audited)" name="operation[override_reason]" error_for="override_reason" error hint="10 characters or more; shown on the release, in the log and in the audit log." />
                })}
                <div class="actions">
                    <Submit label=offered.action.confirm_label() busy_label="Starting…" pending=start.pending() class="primary" />
                    <a href=here.clone()>"Cancel"</a>
                </div>
            </ActionForm>
        </div>
    }
}

/// The newest operation: steps, progress and log.
#[component]
fn Progress(operation: Operation) -> impl IntoView {
    let (done, total) = operation.progress();
    let status = operation.status;
    let heading = format!(
        "{} {}{}",
        operation.action.words(),
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

/// Earlier operations, newest first.
#[component]
fn History(operations: Vec<Operation>) -> impl IntoView {
    (!operations.is_empty()).then(|| {
        let rows = operations
            .into_iter()
            .map(|o| view! {
                <tr>
                    <td data-label="#">{o.id}</td>
                    <td data-label="Action">{o.action.as_str()}</td>
                    <td data-label="Version">{o.version.clone().unwrap_or_default()}</td>
                    <td data-label="Status"><span class=format!("status status-{}", o.status.as_str())>{o.status.as_str()}</span></td>
                    <td data-label="By">{o.requested_by.clone()}</td>
                    <td data-label="Started (UTC)"><time datetime=o.started_at.to_rfc3339()>{o.started_at.to_string()}</time></td>
                    <td data-label="Error">{o.error.clone().unwrap_or_default()}</td>
                </tr>
            })
            .collect_view();
        view! {
            <section class="card" aria-labelledby="history">
                <h2 id="history">"Earlier operations"</h2>
                <div class="table-wrap"><table class="stacked">
                    <thead><tr><th scope="col">"#"</th><th scope="col">"Action"</th><th scope="col">"Version"</th><th scope="col">"Status"</th><th scope="col">"By"</th><th scope="col">"Started (UTC)"</th><th scope="col">"Error"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            </section>
        }
    })
}
