//! One release: its checklist by group, each item signed (or withdrawn) in place, its history,
//! and the environment's buttons with the gate's reason. Every open browser follows it live:
//! a sign-off made anywhere (any replica) shows within about a second, and the Switch button
//! enables as soon as the last required item is signed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::ReleaseBadge;
use crate::{
    components::{
        failure::LoadFailed,
        form::{action_error, Field, FormError, Submit},
        links::{environment_path, EnvironmentLink},
        live::follow,
    },
    domain::{releases::ReleaseStatus, Action, Role},
    error::AppError,
    model::{EnvironmentView, Release, ReleaseItem},
    pages::accounts::session::{me, Protected},
};

/// What the release page shows: the release, and its environment's state and buttons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseView {
    pub release: Release,
    pub environment: EnvironmentView,
}

/// The release page's data.
#[server(prefix = "/rpc", endpoint = "release_page")]
pub async fn release_page(id: i64) -> Result<ReleaseView, AppError> {
    use crate::backend::{operations, releases, rpc};
    rpc::serve(|state, caller| async move {
        let release = releases::get(&state.db, &caller, id).await?;
        let environment =
            operations::view(&state, &caller, &release.service, &release.environment).await?;
        Ok(ReleaseView {
            release,
            environment,
        })
    })
    .await
}

/// Signs one item. The note and link are loose optional fields: a form with both left empty
/// sends nothing under a common name.
#[server(prefix = "/rpc", endpoint = "sign_release_item")]
pub async fn sign_release_item(
    id: i64,
    key: String,
    note: Option<String>,
    evidence_url: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        backend::{releases, rpc},
        domain::releases::SignInput,
    };
    let input = SignInput { note, evidence_url };
    rpc::serve(|state, caller| async move {
        releases::sign(&state, &caller, id, &key, &input).await?;
        leptos_axum::redirect(&super::release_path(id));
        Ok(())
    })
    .await
}

/// Withdraws an item's sign-off.
#[server(prefix = "/rpc", endpoint = "withdraw_release_item")]
pub async fn withdraw_release_item(id: i64, key: String) -> Result<(), AppError> {
    use crate::backend::{releases, rpc};
    rpc::serve(|state, caller| async move {
        releases::withdraw(&state, &caller, id, &key).await?;
        leptos_axum::redirect(&super::release_path(id));
        Ok(())
    })
    .await
}

/// Gives the release up.
#[server(prefix = "/rpc", endpoint = "abandon_release")]
pub async fn abandon_release(id: i64, reason: Option<String>) -> Result<(), AppError> {
    use crate::{
        backend::{releases, rpc},
        domain::releases::AbandonInput,
    };
    let input = AbandonInput {
        reason: reason.unwrap_or_default(),
    };
    rpc::serve(|state, caller| async move {
        releases::abandon(&state, &caller, id, &input).await?;
        leptos_axum::redirect(&super::release_path(id));
        Ok(())
    })
    .await
}

/// The actions the page's forms share, and which item was pressed last.
#[derive(Clone, Copy)]
struct Actions {
    sign: ServerAction<SignReleaseItem>,
    withdraw: ServerAction<WithdrawReleaseItem>,
    abandon: ServerAction<AbandonRelease>,
    /// The item whose form sent the last sign or withdraw: its answer shows beside it.
    pressed: RwSignal<Option<String>>,
}

/// The release page.
#[component]
pub fn ReleasePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    });
    let actions = Actions {
        sign: ServerAction::new(),
        withdraw: ServerAction::new(),
        abandon: ServerAction::new(),
        pressed: RwSignal::new(None),
    };
    Effect::new(move || {
        if let Some(input) = actions.sign.input().get() {
            actions.pressed.set(Some(input.key));
        }
    });
    Effect::new(move || {
        if let Some(input) = actions.withdraw.input().get() {
            actions.pressed.set(Some(input.key));
        }
    });
    // Bumped by every `changed` event: someone signed, withdrew, or the release ended.
    let changed = RwSignal::new(0_u64);
    Effect::new(move |_| {
        if let Some(id) = id.get() {
            follow(format!("/api/v1/releases/{id}/events"), changed);
        }
    });
    let data = Resource::new(
        move || {
            (
                id.get(),
                changed.get(),
                actions.sign.version().get(),
                actions.withdraw.version().get(),
                actions.abandon.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => release_page(id).await,
                None => Err(AppError::NotFound(
                    "There is no such release; ids are numbers.".into(),
                )),
            }
        },
    );
    view! {
        <Protected action=Action::Read>
            <Transition fallback=|| view! { <p class="loading">"Loading the release…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view! { <ReleaseDetail view actions /> }.into_any(),
                        Err(error) => view! {
                            <LoadFailed title="Release" error back=("/releases", "← Releases") />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn ReleaseDetail(view: ReleaseView, actions: Actions) -> AnyView {
    let r = view.release;
    let title = format!("{} {} to {}", r.service, r.version, r.environment);
    let total = r.items.len();
    let ended = r.ended_at.map(|at| {
        let reason = r.end_reason.clone().unwrap_or_default();
        let by = r.ended_by.clone().unwrap_or_default();
        view! { <p class="card notice">{format!("{} at {at} by {by}: {reason} The checklist is read-only now.", r.status)}</p> }
    });
    let groups = group_items(&r.items)
        .into_iter()
        .map(|(group, items)| view! { <Group release=r.id group items actions /> })
        .collect_view();
    view! {
        <Title text=title.clone() />
        <p class="breadcrumb"><a href="/releases">"Releases"</a> " / " {r.id}</p>
        <div class="page-head">
            <h1>{title}</h1>
            <ReleaseBadge status=r.status />
        </div>
        {ended}
        <section class="card" aria-labelledby="release-facts">
            <h2 id="release-facts">"Checklist progress"</h2>
            <p class="progress-line" id="release-progress">
                <progress max={total} value={r.signed} aria-labelledby="release-progress"></progress>
                " " {r.progress.clone()}
            </p>
            <dl class="facts">
                <dt>"Environment"</dt><dd><EnvironmentLink service=r.service.clone() environment=r.environment.clone() />{format!(" ({})", r.tier)}</dd>
                <dt>"Commit"</dt><dd><code>{r.commit_sha.clone().unwrap_or_else(|| "not given".into())}</code></dd>
                <dt>"Opened"</dt><dd>{format!("{} by {}", r.opened_at, r.opened_by.name)}</dd>
                <dt>"Checklist"</dt><dd>{if r.template_revision == 0 { "the guide's checklist".to_owned() } else { format!("template revision {}", r.template_revision) }}</dd>
                {r.url.clone().map(|url| view! { <dt>"Link"</dt><dd><a href=url.clone() rel="noopener noreferrer">{url.clone()}</a></dd> })}
            </dl>
            {(!r.summary.is_empty()).then(|| view! { <p class="summary">{r.summary.clone()}</p> })}
        </section>
        <GoingLive environment=view.environment open={r.status == ReleaseStatus::Open} />
        {groups}
        <Overrides release=r.clone() />
        {(r.status == ReleaseStatus::Open).then(|| view! { <Abandon release=r.id actions /> })}
    }
    // Boxed: the checklist's nested types would otherwise overflow the compiler's depth limit.
    .into_any()
}

/// Items by group, in checklist order.
fn group_items(items: &[ReleaseItem]) -> Vec<(String, Vec<ReleaseItem>)> {
    let mut groups: Vec<(String, Vec<ReleaseItem>)> = Vec::new();
    for item in items {
        match groups
            .iter_mut()
            .find(|(group, _)| *group == item.item.group)
        {
            Some((_, list)) => list.push(item.clone()),
            None => groups.push((item.item.group.clone(), vec![item.clone()])),
        }
    }
    groups
}

/// The environment's operation buttons as this release sees them: enabled, or disabled with
/// the gate's (or the state's) reason. Pressing one opens its confirmation on the environment
/// page.
#[component]
fn GoingLive(environment: EnvironmentView, open: bool) -> impl IntoView {
    let env = &environment.environment;
    let here = environment_path(&env.service, &env.name);
    let live = env
        .live_version
        .as_ref()
        .map_or_else(|| "nothing yet".to_owned(), |l| l.version.clone());
    let body = if !open {
        view! { <p class="hint">"This release has ended."</p> }.into_any()
    } else if !environment.has_driver {
        view! { <p class="hint">"An operator has not connected this environment to Switchyard, so it is switched outside it; record the deployment when it is done."</p> }.into_any()
    } else if !environment.may_operate {
        view! { <p class="hint">"A releaser switches it once every required item is signed; their Switch button enables by itself then."</p> }.into_any()
    } else {
        let revision = env.revision;
        let items = environment
            .actions
            .iter()
            .filter(|a| !matches!(a.action, crate::domain::operations::OperationAction::Deploy))
            .map(|offered| {
                let reason = offered.refusal.clone().or(offered.gate.clone());
                let held = offered.refusal.is_some()
                    || (offered.gate.is_some() && !environment.may_override);
                let label = offered.label.clone();
                let button = if held {
                    view! { <button type="button" disabled=true>{label}</button> }.into_any()
                } else {
                    let href = format!("{here}?confirm={}&revision={revision}", offered.action);
                    view! { <a class="button" href=href>{label}</a> }.into_any()
                };
                view! { <li>{button}{reason.map(|r| view! { <span class="hint">{r}</span> })}</li> }
            })
            .collect_view();
        view! { <ul class="gate-actions">{items}</ul> }.into_any()
    };
    view! {
        <section class="card" aria-labelledby="going-live">
            <h2 id="going-live">"Going live"</h2>
            <p>{format!("Live in {} now: {live}.", env.name)}</p>
            {body}
        </section>
    }
}

#[component]
fn Group(release: i64, group: String, items: Vec<ReleaseItem>, actions: Actions) -> impl IntoView {
    let heading = format!(
        "group-{}",
        crate::domain::releases::checklist::key_of(&group)
    );
    let labelled_by = heading.clone();
    let items = items
        .into_iter()
        .map(|item| view! { <Item release item actions /> })
        .collect_view();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=heading>{group}</h2>
            <ul class="checklist">{items}</ul>
        </section>
    }
}

#[component]
fn Item(release: i64, item: ReleaseItem, actions: Actions) -> AnyView {
    let key = item.item.key.clone();
    let error = {
        let (key, pressed) = (key.clone(), actions.pressed);
        let sign = action_error(actions.sign);
        let withdraw = action_error(actions.withdraw);
        Signal::derive(move || {
            (pressed.get().as_deref() == Some(key.as_str()))
                .then(|| sign.get().or(withdraw.get()))
                .flatten()
        })
    };
    let signed = item.signed_by.clone().map(|by| {
        let at = item.signed_at.map(|t| t.to_string()).unwrap_or_default();
        view! {
            <p class="signed">
                <span class="status status-succeeded">"signed"</span>
                {format!(" by {by} at {at}")}
                {item.note.clone().filter(|n| !n.is_empty()).map(|n| view! { <span class="note">{format!(" — {n}")}</span> })}
                {item.evidence_url.clone().map(|url| view! { " — " <a href=url.clone() rel="noopener noreferrer">"evidence"</a> })}
            </p>
        }
    });
    let title_id = format!("item-{key}");
    let labelled_by = title_id.clone();
    let sign_form = item.may_sign.then(|| {
        let key = key.clone();
        view! {
            <ActionForm action=actions.sign attr:class="sign-form" attr:novalidate=true>
                <input type="hidden" name="id" value=release />
                <input type="hidden" name="key" value=key.clone() />
                <Field label="Note" name="note" error id_suffix=key.clone() placeholder="optional" />
                {item.item.evidence.then(|| view! {
                    <Field label="Evidence link" name="evidence_url" error kind="url" id_suffix=key.clone() required=true placeholder="https://ci.example/runs/42" />
                })}
                <Submit label="Sign" busy_label="Signing…" pending=actions.sign.pending() class="primary" />
            </ActionForm>
        }
    });
    let withdraw_label = format!("Withdraw the sign-off of {}", item.item.title);
    let withdraw_form = item.may_withdraw.then(|| {
        view! {
            <ActionForm action=actions.withdraw attr:class="withdraw-form">
                <input type="hidden" name="id" value=release />
                <input type="hidden" name="key" value=key.clone() />
                <button type="submit" aria-label=withdraw_label>"Withdraw"</button>
            </ActionForm>
        }
    });
    let history = (item.history.len() > 1 || item.history.iter().any(|s| s.withdrawn_at.is_some())).then(|| {
        let lines = item
            .history
            .iter()
            .map(|s| {
                let withdrawn = s.withdrawn_at.map(|at| {
                    format!(", withdrawn by {} at {at}", s.withdrawn_by.clone().unwrap_or_default())
                });
                view! { <li>{format!("Signed by {} at {}{}", s.signed_by.name, s.signed_at, withdrawn.unwrap_or_default())}</li> }
            })
            .collect_view();
        view! { <details class="history"><summary>"History"</summary><ul>{lines}</ul></details> }
    });
    let tags = view! {
        {(!item.item.required).then(|| view! { <span class="tag">"optional"</span> })}
        {(item.item.role > Role::Engineer).then(|| view! { <span class="tag">{format!("{} signs", item.item.role)}</span> })}
        {item.item.evidence.then(|| view! { <span class="tag">"needs a link"</span> })}
    };
    view! {
        <li class="checklist-item" class:is-signed=item.signed_by.is_some() aria-labelledby=labelled_by>
            <div class="item-head">
                <h3 id=title_id>{item.item.title.clone()}</h3>
                {tags}
            </div>
            <p class="hint">{item.item.description.clone()}</p>
            {signed}
            {item.cannot_sign.clone().map(|why| view! { <p class="hint">{why}</p> })}
            <p class="form-error" role="alert">
                {move || error.get().filter(|e| !matches!(e.field(), Some("note" | "evidence_url"))).map(|e| e.to_string())}
            </p>
            {sign_form}
            {withdraw_form}
            {history}
        </li>
    }
    .into_any()
}

#[component]
fn Overrides(release: Release) -> impl IntoView {
    (!release.overrides.is_empty()).then(|| {
        let lines = release
            .overrides
            .iter()
            .map(|o| view! { <li>{format!("{} at {}, operation {}: passed \"{}\" because: {}", o.by, o.at, o.operation_id, o.gate, o.reason)}</li> })
            .collect_view();
        view! {
            <section class="card" aria-labelledby="overrides">
                <h2 id="overrides">"Gates overridden"</h2>
                <ul>{lines}</ul>
            </section>
        }
    })
}

#[component]
fn Abandon(release: i64, actions: Actions) -> impl IntoView {
    if !me().is_some_and(|user| user.may(Action::ManageReleases)) {
        return ().into_any();
    }
    let error = action_error(actions.abandon);
    view! {
        <details class="card">
            <summary>"Abandon this release"</summary>
            <ActionForm action=actions.abandon attr:class="stack" attr:novalidate=true>
                <FormError error />
                <input type="hidden" name="id" value=release />
                <Field label="Why" name="reason" error required=true placeholder="superseded by 2.4.2" />
                <Submit label="Abandon release" busy_label="Abandoning…" pending=actions.abandon.pending() class="danger" />
            </ActionForm>
        </details>
    }
    .into_any()
}
