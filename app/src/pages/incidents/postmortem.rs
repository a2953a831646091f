//! An incident's post-mortem: the Markdown editor with a server-rendered preview, the
//! conflict view when someone saved meanwhile, the review and publish buttons, and the action
//! items. Printed, it is one clean document: the rendered text and the action items.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::incident_path;
use crate::{
    components::{
        failure::LoadFailed,
        form::{action_error, reset_on_success, Field, FormError, Submit},
        live::follow,
    },
    domain::{
        incidents::{
            action_items::ActionItemStatus, postmortem::PostmortemStatus as PublishedStatus,
        },
        Action,
    },
    error::AppError,
    model::{ActionItem, Postmortem},
    pages::accounts::session::{me, Protected},
};

fn postmortem_path(id: i64) -> String {
    format!("{}/postmortem", incident_path(id))
}

/// The post-mortem, saved or the template.
#[server(prefix = "/rpc", endpoint = "postmortem_page")]
pub async fn postmortem_page(id: i64) -> Result<Postmortem, AppError> {
    use crate::backend::{incidents::postmortems, rpc};
    rpc::serve(|state, caller| async move { postmortems::get(&state.db, &caller, id).await }).await
}

/// Saves the text over `base_version`.
#[server(prefix = "/rpc", endpoint = "save_postmortem")]
pub async fn save_postmortem(
    id: i64,
    base_version: i64,
    title: Option<String>,
    markdown: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        backend::{incidents::postmortems, rpc},
        domain::incidents::postmortem::PostmortemInput,
    };
    let input = PostmortemInput {
        markdown: markdown.unwrap_or_default(),
        base_version,
        title: Some(title.unwrap_or_default()),
    };
    rpc::serve(|state, caller| async move {
        postmortems::save(&state, &caller, id, &input).await?;
        leptos_axum::redirect(&postmortem_path(id));
        Ok(())
    })
    .await
}

/// The sanitized HTML of the text being edited.
#[server(prefix = "/rpc", endpoint = "preview_postmortem")]
pub async fn preview_postmortem(markdown: String) -> Result<String, AppError> {
    use crate::backend::{incidents::postmortems, rpc};
    rpc::serve(|_state, caller| async move { postmortems::preview(&caller, &markdown) }).await
}

/// Moves the post-mortem along draft → in review → published.
#[server(prefix = "/rpc", endpoint = "postmortem_status")]
pub async fn postmortem_status(id: i64, status: String) -> Result<(), AppError> {
    use crate::backend::{incidents::postmortems, rpc};
    rpc::serve(|state, caller| async move {
        postmortems::set_status(&state, &caller, id, &status).await?;
        leptos_axum::redirect(&postmortem_path(id));
        Ok(())
    })
    .await
}

/// Adds an action item.
#[server(prefix = "/rpc", endpoint = "add_action_item")]
pub async fn add_action_item(
    incident_id: i64,
    title: Option<String>,
    owner: Option<String>,
    due: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        backend::{incidents::postmortems, rpc},
        domain::incidents::action_items::ActionItemInput,
    };
    let input = ActionItemInput {
        incident_id,
        title: title.unwrap_or_default(),
        owner: owner.unwrap_or_default(),
        due: due.unwrap_or_default(),
    };
    rpc::serve(|state, caller| async move {
        postmortems::add_action_item(&state, &caller, &input).await?;
        leptos_axum::redirect(&postmortem_path(incident_id));
        Ok(())
    })
    .await
}

/// Sets an action item's status; back to `back` afterwards.
#[server(prefix = "/rpc", endpoint = "set_action_item")]
pub async fn set_action_item(id: i64, status: String, back: String) -> Result<(), AppError> {
    use crate::{
        backend::{incidents::postmortems, rpc},
        domain::incidents::action_items::ActionItemPatch,
    };
    let patch = ActionItemPatch {
        status: Some(status),
        ..Default::default()
    };
    rpc::serve(|state, caller| async move {
        postmortems::update_action_item(&state, &caller, id, &patch).await?;
        // Only the app's own pages: never an address from elsewhere.
        let back = if back.starts_with('/') && !back.starts_with("//") {
            back
        } else {
            "/action-items".into()
        };
        leptos_axum::redirect(&back);
        Ok(())
    })
    .await
}

/// The post-mortem page.
#[component]
pub fn PostmortemPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    });
    let save = ServerAction::<SavePostmortem>::new();
    let status = ServerAction::<PostmortemStatus>::new();
    let add = ServerAction::<AddActionItem>::new();
    let set = ServerAction::<SetActionItem>::new();
    // Re-read after a save only when it succeeded: a refused save keeps the editor (and the
    // text being merged) as it is.
    let saved = RwSignal::new(0_u64);
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            saved.update(|n| *n += 1);
        }
    });
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
                saved.get(),
                status.version().get(),
                add.version().get(),
                set.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => postmortem_page(id).await,
                None => Err(AppError::NotFound(
                    "There is no such incident; ids are numbers.".into(),
                )),
            }
        },
    );
    view! {
        <Protected action=Action::Read>
            <Transition fallback=|| view! { <p class="loading">"Loading the post-mortem…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(postmortem) => view! { <Document postmortem save status add set changed /> }.into_any(),
                        Err(error) => view! {
                            <LoadFailed title="Post-mortem" error back=("/incidents", "← Incidents") />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Document(
    postmortem: Postmortem,
    save: ServerAction<SavePostmortem>,
    status: ServerAction<PostmortemStatus>,
    add: ServerAction<AddActionItem>,
    set: ServerAction<SetActionItem>,
    changed: RwSignal<u64>,
) -> AnyView {
    let p = postmortem;
    let id = p.incident_id;
    let state = match (p.saved, p.updated_by.clone(), p.updated_at) {
        (true, Some(by), Some(at)) => format!(
            "{}, version {}, saved by {by} at {at}.",
            p.status, p.version
        ),
        _ => "Not saved yet: this is the template, pre-filled from the incident's timeline."
            .to_owned(),
    };
    // Someone else saved while this page was open: say so, so nobody edits an old text blind.
    let seen = changed.get_untracked();
    let moved_on = move || changed.get() != seen;
    let status_error = action_error(status);
    let buttons = p
        .next_statuses
        .clone()
        .into_iter()
        .map(|(to, label)| {
            view! {
                <ActionForm action=status attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="status" value=to.as_str() />
                    <button type="submit" class="primary">{label}</button>
                </ActionForm>
            }
        })
        .collect_view();
    view! {
        <Title text=p.title.clone() />
        <p class="breadcrumb"><a href="/incidents">"Incidents"</a> " / " <a href=incident_path(id)>{p.incident_title.clone()}</a> " / post-mortem"</p>
        <div class="page-head">
            <h1>{p.title.clone()}</h1>
            <span class=format!("status status-{}", p.status)>{p.status.as_str()}</span>
        </div>
        <p class="hint">{state}</p>
        <p class="notice" role="status">{move || moved_on().then_some("This post-mortem or its incident changed since you opened the page; saving tells you if your text is out of date.")}</p>
        <p class="form-error" role="alert">{move || status_error.get().map(|e| e.to_string())}</p>
        <div class="actions">{buttons}</div>
        {if p.may_edit {
            view! { <Editor postmortem=p.clone() save /> }.into_any()
        } else {
            view! { <article class="card markdown" inner_html=p.html.clone()></article> }.into_any()
        }}
        <ActionItems
            incident=id
            items=p.action_items.clone()
            may_add={p.status != PublishedStatus::Published && me().is_some_and(|u| u.may(Action::WriteIncidents))}
            add
            set
        />
    }
    .into_any()
}

/// The Markdown editor, its preview, and the other person's text after a conflicting save.
#[component]
fn Editor(postmortem: Postmortem, save: ServerAction<SavePostmortem>) -> impl IntoView {
    let p = postmortem;
    let error = action_error(save);
    let text = NodeRef::<leptos::html::Textarea>::new();
    let preview = ServerAction::<PreviewPostmortem>::new();
    let preview_html = move || match preview.value().get() {
        Some(Ok(html)) => Some(html),
        _ => None,
    };
    let preview_error = action_error(preview);
    let conflict = move || match error.get() {
        Some(AppError::EditConflict(theirs)) => Some(*theirs),
        _ => None,
    };
    // After a conflict the next save is made over their version, once merged by hand.
    let base = {
        let version = p.version;
        move || conflict().map_or(version, |theirs| theirs.version)
    };
    let saved_html = p.html.clone();
    view! {
        <ActionForm action=save attr:class="stack card editor" attr:novalidate=true>
            <FormError error=Signal::derive(move || error.get().filter(|e| !matches!(e, AppError::EditConflict(_)))) />
            <input type="hidden" name="id" value=p.incident_id />
            <input type="hidden" name="base_version" prop:value=move || base().to_string() />
            <Field label="Title" name="title" error value=p.title.clone() />
            {move || conflict().map(|theirs| view! {
                <div class="conflict card notice" role="alert">
                    <p>{AppError::EditConflict(Box::new(theirs.clone())).to_string()}</p>
                    <label for="theirs">{format!("{}'s text (version {})", theirs.updated_by, theirs.version)}</label>
                    <textarea id="theirs" readonly=true rows="12">{theirs.markdown.clone()}</textarea>
                </div>
            })}
            <div class="field">
                <label for="field-markdown">"Post-mortem (Markdown)"</label>
                <textarea id="field-markdown" name="markdown" rows="24" node_ref=text>{p.markdown.clone()}</textarea>
                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("markdown"))}</p>
            </div>
            <div class="actions">
                <Submit label="Save" busy_label="Saving…" pending=save.pending() class="primary" />
                <button
                    type="button"
                    aria-busy=move || preview.pending().get().then_some("true")
                    on:click=move |_| {
                        if let Some(area) = text.get_untracked() {
                            preview.dispatch(PreviewPostmortem { markdown: area.value() });
                        }
                    }
                >{move || if preview.pending().get() { "Rendering…" } else { "Preview" }}</button>
            </div>
        </ActionForm>
        <section class="card" aria-labelledby="preview-heading">
            <h2 id="preview-heading">{move || if preview_html().is_some() { "Preview of your text" } else { "As saved" }}</h2>
            <p class="form-error" role="alert">{move || preview_error.get().map(|e| e.to_string())}</p>
            <article class="markdown" inner_html=move || preview_html().unwrap_or_else(|| saved_html.clone())></article>
        </section>
    }
}

/// The post-mortem's action items, and the form that adds one.
#[component]
fn ActionItems(
    incident: i64,
    items: Vec<ActionItem>,
    may_add: bool,
    add: ServerAction<AddActionItem>,
    set: ServerAction<SetActionItem>,
) -> impl IntoView {
    let error = action_error(add);
    let form = NodeRef::new();
    reset_on_success(add, form);
    let back = postmortem_path(incident);
    view! {
        <section class="card" aria-labelledby="action-items">
            <h2 id="action-items">"Action items"</h2>
            {if items.is_empty() {
                view! { <p class="hint">"None yet: each lesson that needs work becomes one, with an owner and a due date."</p> }.into_any()
            } else {
                view! { <ActionItemTable items show_incident=false set back /> }.into_any()
            }}
            {may_add.then(|| view! {
                <ActionForm action=add node_ref=form attr:class="stack add-action-item" attr:novalidate=true>
                    <FormError error />
                    <input type="hidden" name="incident_id" value=incident />
                    <Field label="Action item" name="title" error placeholder="Alert on checkout error rate" id_suffix="-action-item" />
                    <div class="row">
                        <Field label="Owner" name="owner" error placeholder="username" id_suffix="-action-item" />
                        <Field label="Due" name="due" kind="date" error id_suffix="-action-item" />
                    </div>
                    <Submit label="Add action item" busy_label="Adding…" pending=add.pending() />
                </ActionForm>
            })}
        </section>
    }
}

/// Action items with their status buttons; shared with the Action items page.
#[component]
pub(super) fn ActionItemTable(
    items: Vec<ActionItem>,
    show_incident: bool,
    set: ServerAction<SetActionItem>,
    back: String,
) -> impl IntoView {
    let may_set = me().is_some_and(|u| u.may(Action::WriteIncidents));
    let rows = items
        .into_iter()
        .map(|item| {
            let (title, back) = (item.title.clone(), back.clone());
            let buttons = may_set.then(move || {
                ActionItemStatus::ALL
                    .iter()
                    .filter(|s| **s != item.status)
                    .map(|s| {
                        let (title, back) = (title.clone(), back.clone());
                        let label = match s {
                            ActionItemStatus::Open => "Reopen",
                            ActionItemStatus::Done => "Done",
                            ActionItemStatus::WontDo => "Won't do",
                        };
                        view! {
                            <ActionForm action=set attr:class="inline">
                                <input type="hidden" name="id" value=item.id />
                                <input type="hidden" name="status" value=s.as_str() />
                                <input type="hidden" name="back" value=back />
                                <button type="submit" aria-label=format!("{label}: {title}")>{label}</button>
                            </ActionForm>
                        }
                    })
                    .collect_view()
            });
            view! {
                <tr class=if item.overdue { "overdue" } else { "" }>
                    <th scope="row">{item.title.clone()}</th>
                    {show_incident.then(|| view! { <td data-label="Incident"><a href=incident_path(item.incident_id)>{item.incident_title.clone()}</a></td> })}
                    <td data-label="Owner">{item.owner.clone()}</td>
                    <td data-label="Due">{item.due.clone()}{item.overdue.then(|| view! { " " <span class="status status-failed">"overdue"</span> })}</td>
                    <td data-label="Status"><span class=format!("status status-{}", item.status)>{item.status.as_str()}</span></td>
                    <td data-label="Change">{buttons}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="stacked action-items">
                <thead><tr>
                    <th scope="col">"Action item"</th>
                    {show_incident.then(|| view! { <th scope="col">"Incident"</th> })}
                    <th scope="col">"Owner"</th><th scope="col">"Due"</th><th scope="col">"Status"</th><th scope="col">"Change"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
