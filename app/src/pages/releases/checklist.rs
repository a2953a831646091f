//! The checklist template editor (admins): every item of a service's release checklist as a
//! row of fields, ordered by position, with empty rows to add items and a box to remove one.
//! A plain form, so it works by keyboard, on a phone and without JavaScript; releases already
//! open keep their own copy.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{
        failure::LoadFailed,
        form::{action_error, FormError, Submit},
        links::service_path,
    },
    domain::Action,
    error::AppError,
    model::{ChecklistTemplate, SIGNER_ROLES},
    pages::accounts::session::Protected,
};

/// Empty rows offered for new items.
const NEW_ROWS: usize = 3;

/// One row of the editor, as the form sends it: checkboxes are absent when unticked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowForm {
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub required: Option<String>,
    #[serde(default)]
    pub evidence: Option<String>,
    #[serde(default)]
    pub remove: Option<String>,
}

/// The editor's rows, in the order the positions give; removed and blank rows are left out.
#[cfg(feature = "ssr")]
fn to_input(rows: Vec<RowForm>) -> crate::domain::releases::checklist::TemplateInput {
    use crate::domain::releases::checklist::{ItemInput, TemplateInput};
    let mut kept: Vec<(f64, usize, RowForm)> = rows
        .into_iter()
        .enumerate()
        .filter(|(_, row)| {
            row.remove.is_none() && !(row.title.trim().is_empty() && row.group.trim().is_empty())
        })
        .map(|(index, row)| {
            let position = row
                .position
                .trim()
                .parse::<f64>()
                .unwrap_or(index as f64 + 1.0);
            (position, index, row)
        })
        .collect();
    kept.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    TemplateInput {
        items: kept
            .into_iter()
            .map(|(_, _, row)| ItemInput {
                key: Some(row.key).filter(|k| !k.trim().is_empty()),
                group: row.group,
                title: row.title,
                description: row.description,
                role: Some(row.role).filter(|r| !r.is_empty()),
                required: row.required.is_some(),
                evidence: row.evidence.is_some(),
            })
            .collect(),
    }
}

/// The service's release checklist.
#[server(prefix = "/rpc", endpoint = "checklist_template")]
pub async fn get_checklist(service: String) -> Result<ChecklistTemplate, AppError> {
    use crate::{
        backend::{releases, rpc},
        domain::releases::checklist::TemplateKind,
    };
    rpc::serve(|state, caller| async move {
        releases::template(&state.db, &caller, &service, TemplateKind::Release).await
    })
    .await
}

/// Saves the editor's rows as the service's next checklist revision.
#[server(prefix = "/rpc", endpoint = "save_checklist")]
pub async fn save_checklist(service: String, rows: Vec<RowForm>) -> Result<i64, AppError> {
    use crate::{
        backend::{releases, rpc},
        domain::releases::checklist::TemplateKind,
    };
    rpc::serve(|state, caller| async move {
        let input = to_input(rows);
        let saved =
            releases::save_template(&state.db, &caller, &service, TemplateKind::Release, &input)
                .await?;
        Ok(saved.template.revision)
    })
    .await
}

/// The editor page. The checklist loads only for those who may edit it: loaded for anyone,
/// a service that does not exist answered 404 where the page answers 403, and whichever
/// finished last set the status.
#[component]
pub fn ChecklistPage() -> impl IntoView {
    view! {
        <Protected action=Action::ManageChecklists>
            <ChecklistEditor />
        </Protected>
    }
}

#[component]
fn ChecklistEditor() -> impl IntoView {
    let params = use_params_map();
    let save = ServerAction::<SaveChecklist>::new();
    let service = Memo::new(move |_| params.read().get("service").unwrap_or_default());
    let template = Resource::new(
        move || (service.get(), save.version().get()),
        |(service, _)| get_checklist(service),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading the checklist…"</p> }>
            {move || Suspend::new(async move {
                match template.await {
                    Ok(template) => view! { <Editor template save /> }.into_any(),
                    Err(error) => view! {
                        <LoadFailed title="Checklist" error back=("/admin/services", "← Services") />
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Editor(template: ChecklistTemplate, save: ServerAction<SaveChecklist>) -> impl IntoView {
    let error = action_error(save);
    let service = template.service.clone();
    let title = format!("Release checklist of {service}");
    let revision = match (&template.updated_by, template.updated_at) {
        (Some(by), Some(at)) => format!(
            "Revision {}, saved by {by} at {at}.",
            template.template.revision
        ),
        _ => "The guide's checklist; nobody has edited it for this service yet.".to_owned(),
    };
    let saved = move || {
        save.value()
            .get()
            .and_then(Result::ok)
            .map(|revision| view! { <p class="notice" role="status">{format!("Saved as revision {revision}. Releases opened from now on use it; open ones keep theirs.")}</p> })
    };
    let existing = template.template.items.len();
    let rows = template
        .template
        .items
        .into_iter()
        .map(Some)
        .chain(std::iter::repeat_n(None, NEW_ROWS))
        .enumerate()
        .map(|(index, item)| view! { <Row index item is_new={index >= existing} /> })
        .collect_view();
    view! {
        <Title text=title.clone() />
        <p class="breadcrumb"><a href="/admin/services">"Services"</a> " / " <a href=service_path(&service)>{service.clone()}</a> " / checklist"</p>
        <h1>{title}</h1>
        <p class="lead">{revision}</p>
        <ActionForm action=save attr:class="stack" attr:novalidate=true>
            <input type="hidden" name="service" value=service.clone() />
            <FormError error />
            <div role="alert" class="form-error">
                {move || error.get().map(|e| e.field_errors().into_iter().map(|f| view! { <p>{f.message}</p> }).collect_view())}
            </div>
            {saved}
            <p class="hint">"Order items by their position (decimals work: 2.5 goes between 2 and 3). Tick Remove to drop an item; fill an empty row to add one."</p>
            {rows}
            <Submit label="Save checklist" busy_label="Saving…" pending=save.pending() class="primary" />
        </ActionForm>
    }
}

#[component]
fn Row(
    index: usize,
    item: Option<crate::domain::releases::checklist::ChecklistItem>,
    is_new: bool,
) -> impl IntoView {
    let name = |field: &str| format!("rows[{index}][{field}]");
    let id = |field: &str| format!("row-{index}-{field}");
    let legend = match &item {
        Some(item) => format!("Item {}: {}", index + 1, item.title),
        None => "New item".to_owned(),
    };
    let item = item.unwrap_or_else(|| crate::domain::releases::checklist::ChecklistItem {
        key: String::new(),
        group: String::new(),
        title: String::new(),
        description: String::new(),
        role: crate::domain::Role::Engineer,
        required: true,
        evidence: false,
    });
    let roles = SIGNER_ROLES
        .iter()
        .map(|role| view! { <option value=role.as_str() selected={*role == item.role}>{role.as_str()}</option> })
        .collect_view();
    view! {
        <fieldset class="card checklist-row">
            <legend>{legend}</legend>
            <input type="hidden" name=name("key") value=item.key.clone() />
            <div class="row">
                <div class="field narrow">
                    <label for=id("position")>"Position"</label>
                    <input id=id("position") name=name("position") inputmode="decimal" value={(index + 1).to_string()} />
                </div>
                <div class="field">
                    <label for=id("group")>"Group"</label>
                    <input id=id("group") name=name("group") value=item.group.clone() />
                </div>
                <div class="field">
                    <label for=id("title")>"Title"</label>
                    <input id=id("title") name=name("title") value=item.title.clone() />
                </div>
            </div>
            <div class="field">
                <label for=id("description")>"Description"</label>
                <input id=id("description") name=name("description") value=item.description.clone() />
            </div>
            <div class="row">
                <div class="field narrow">
                    <label for=id("role")>"Signed by"</label>
                    <select id=id("role") name=name("role")>{roles}</select>
                </div>
                <div class="field checkbox">
                    <input type="checkbox" id=id("required") name=name("required") value="on" checked=item.required />
                    <label for=id("required")>"Required"</label>
                </div>
                <div class="field checkbox">
                    <input type="checkbox" id=id("evidence") name=name("evidence") value="on" checked=item.evidence />
                    <label for=id("evidence")>"Needs a link"</label>
                </div>
                {(!is_new).then(|| view! {
                    <div class="field checkbox">
                        <input type="checkbox" id=id("remove") name=name("remove") value="on" />
                        <label for=id("remove")>"Remove"</label>
                    </div>
                })}
            </div>
        </fieldset>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_their_positions_and_blank_or_removed_rows_go() {
        let row = |position: &str, title: &str| RowForm {
            position: position.into(),
            group: "Checks".into(),
            title: title.into(),
            required: Some("on".into()),
            ..RowForm::default()
        };
        let input = to_input(vec![
            row("1", "First"),
            row("2", "Second"),
            RowForm {
                remove: Some("on".into()),
                ..row("3", "Gone")
            },
            row("1.5", "Between"),
            RowForm::default(),
        ]);
        let titles: Vec<&str> = input.items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["First", "Between", "Second"]);
        assert!(input.items.iter().all(|i| i.required && !i.evidence));
    }
}
