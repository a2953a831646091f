//! Every action item across post-mortems, overdue first, filtered by status and owner
//! ("mine"): the list a team works through after its incidents.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::postmortem::{ActionItemTable, SetActionItem};
use crate::{
    domain::Action,
    error::AppError,
    model::{ActionItem, ActionItemFilter},
    pages::accounts::session::Protected,
};

/// Action items matching the filter.
#[server(prefix = "/rpc", endpoint = "action_item_list")]
pub async fn action_item_list(filter: ActionItemFilter) -> Result<Vec<ActionItem>, AppError> {
    use crate::backend::{incidents::postmortems, rpc};
    rpc::serve(|state, caller| async move {
        postmortems::action_items(&state.db, &caller, &filter).await
    })
    .await
}

/// The Action items page.
#[component]
pub fn ActionItemsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let params = params.read();
        let value = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        ActionItemFilter {
            // Open ones unless asked otherwise: this is the to-do list.
            status: Some(value("status").unwrap_or_else(|| "open".into())).filter(|s| s != "any"),
            owner: value("owner"),
            overdue: value("overdue").map(|v| v == "true"),
            incident_id: None,
        }
    });
    let set = ServerAction::<SetActionItem>::new();
    let list = Resource::new(
        move || (query.get(), set.version().get()),
        |(q, _)| action_item_list(q),
    );
    let back = move || {
        let q = query.get();
        format!(
            "/action-items?status={}&owner={}",
            q.status.unwrap_or_else(|| "any".into()),
            q.owner.unwrap_or_default()
        )
    };
    view! {
        <Title text="Action items" />
        <Protected action=Action::Read>
            <p class="breadcrumb"><a href="/incidents">"Incidents"</a> " / action items"</p>
            <h1>"Action items"</h1>
            <p class="lead">"What the post-mortems committed to, overdue first."</p>
            <nav class="filters" aria-label="Filter action items">
                <a href="/action-items">"Open"</a>
                <a href="/action-items?owner=me">"Mine"</a>
                <a href="/action-items?overdue=true">"Overdue"</a>
                <a href="/action-items?status=done">"Done"</a>
                <a href="/action-items?status=any">"All"</a>
            </nav>
            <Transition fallback=|| view! { <p class="loading">"Loading action items…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(items) if items.is_empty() => view! { <p class="empty-state">"Nothing here."</p> }.into_any(),
                        Ok(items) => view! { <ActionItemTable items show_incident=true set back=back() /> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}
