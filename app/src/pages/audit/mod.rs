//! Admin: the audit log, newest first, filtered by actor, action, object and date.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::layout::AdminNav;
use crate::{
    components::url, domain::audit::AuditSearch, domain::Action, error::AppError,
    model::AuditEntry, pages::accounts::session::Protected,
};

/// A page of entries matching the filter as typed; the server reads it, so a mistyped day is
/// reported at its field.
#[server(prefix = "/rpc", endpoint = "audit_entries")]
pub async fn audit_entries(
    #[server(default)] search: AuditSearch,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::backend::{audit, rpc};
    rpc::serve(|state, caller| async move {
        let filter = search.parse()?;
        audit::log(&state.db, &caller, &filter).await
    })
    .await
}

/// The query string of the next (older) page.
fn older_than(search: &AuditSearch, id: i64) -> String {
    let pairs = [
        ("actor", &search.actor),
        ("action", &search.action),
        ("object", &search.object),
        ("from", &search.from),
        ("to", &search.to),
    ];
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url::encode(v)))
        .collect();
    query.push(format!("before={id}"));
    format!("?{}", query.join("&"))
}

/// The audit log page, for admins.
#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let search = Memo::new(move |_| {
        let params = params.read();
        let get = |key: &str| params.get(key).unwrap_or_default();
        AuditSearch {
            actor: get("actor"),
            action: get("action"),
            object: get("object"),
            from: get("from"),
            to: get("to"),
            before: get("before"),
        }
    });
    let entries = Resource::new(move || search.get(), audit_entries);
    let error = Signal::derive(move || entries.get().and_then(Result::err));
    view! {
        <Title text="Audit log" />
        <Protected action=Action::ReadAuditLog>
            <h1>"Admin"</h1>
            <AdminNav />
            <section class="card" aria-labelledby="audit-title">
                <h2 id="audit-title">"Audit log"</h2>
                <form method="get" action="/admin/audit" class="filters" aria-label="Filter the audit log">
                    <FilterField label="Actor" name="actor" value=move || search.get().actor hint="user or token name" error />
                    <FilterField label="Action" name="action" value=move || search.get().action hint="e.g. user. or session.login_failed" error />
                    <FilterField label="Object" name="object" value=move || search.get().object hint="contains" error />
                    <FilterField label="From (UTC)" name="from" value=move || search.get().from hint="YYYY-MM-DD" error />
                    <FilterField label="To (UTC, included)" name="to" value=move || search.get().to hint="YYYY-MM-DD" error />
                    <div class="actions">
                        <button type="submit">"Filter"</button>
                        <a href="/admin/audit">"Clear"</a>
                    </div>
                </form>
                <Transition fallback=|| view! { <p class="loading">"Loading entries…"</p> }>
                    {move || Suspend::new(async move {
                        match entries.await {
                            Ok(rows) if rows.is_empty() => view! {
                                <p class="empty-state">"No entries match. Widen the dates or clear the filter."</p>
                            }.into_any(),
                            Ok(rows) => {
                                let older = rows.last().map(|last| older_than(&search.get_untracked(), last.id));
                                let full = rows.len() as i64 >= 50;
                                view! {
                                    <AuditTable rows />
                                    {full.then(|| view! { <p><a href=older.unwrap_or_default() rel="next">"Older entries →"</a></p> })}
                                }.into_any()
                            }
                            Err(error) if error.field().is_some() => view! {
                                <p class="form-error" role="alert">"Correct the filter above."</p>
                            }.into_any(),
                            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </Protected>
    }
}

#[component]
fn FilterField(
    label: &'static str,
    name: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    hint: &'static str,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("filter-{name}");
    let message_id = format!("{id}-error");
    let message = move || error.get().and_then(|e| e.message_for(name));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type="text" prop:value=value placeholder=hint
                aria-invalid=move || message().map(|_| "true") aria-describedby=message_id.clone() />
            <p class="field-error" id=message_id role="alert">{message}</p>
        </div>
    }
}

#[component]
fn AuditTable(rows: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="audit stacked">
                <thead><tr>
                    <th scope="col">"Time"</th>
                    <th scope="col">"Actor"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Object"</th>
                    <th scope="col">"Change"</th>
                    <th scope="col">"From"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        view! {
                            <tr>
                                <td data-label="Time">{row.at.to_string()}</td>
                                <td data-label="Actor">{format!("{} ({})", row.actor, row.actor_kind)}</td>
                                <td data-label="Action"><code>{row.action.clone()}</code></td>
                                <td data-label="Object">{row.object.clone()}</td>
                                <td data-label="Change" class="change">{row.change.clone()}</td>
                                <td data-label="From">
                                    {row.client_address.clone().unwrap_or_default()}
                                    <br />
                                    <small class="request-id">{row.request_id.clone().unwrap_or_default()}</small>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
