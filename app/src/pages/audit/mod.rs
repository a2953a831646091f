//! Admin: the audit log, newest first, filtered by actor, action, object and date.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::layout::AdminNav;
use crate::{
    components::url,
    domain::Action,
    error::AppError,
    model::{AuditEntry, AuditFilter},
    pages::accounts::session::Protected,
};

/// A page of entries matching the filter.
#[server(prefix = "/rpc", endpoint = "audit_entries")]
pub async fn audit_entries(
    #[server(default)] filter: AuditFilter,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::backend::{audit, rpc};
    rpc::serve(|state, caller| async move { audit::log(&state.db, &caller, &filter).await }).await
}

/// The filter form's fields, as they appear in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Query {
    actor: String,
    action: String,
    object: String,
    from: String,
    to: String,
    before: String,
}

impl Query {
    /// The filter these fields describe; dates are whole UTC days, `to` inclusive.
    fn filter(&self) -> Result<AuditFilter, String> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let day = |s: &str, name: &str, offset_days: i64| -> Result<_, String> {
            let Some(s) = text(s) else { return Ok(None) };
            let date = chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| format!("\"{s}\" is not a date for {name}; use YYYY-MM-DD."))?;
            let start = date
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_millis() + offset_days * 86_400_000);
            Ok(start.map(crate::domain::Timestamp))
        };
        let before_id = match text(&self.before) {
            Some(s) => Some(
                s.parse()
                    .map_err(|_| format!("\"{s}\" is not an entry id."))?,
            ),
            None => None,
        };
        Ok(AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            object: text(&self.object),
            from: day(&self.from, "From", 0)?,
            to: day(&self.to, "To", 1)?,
            before_id,
        })
    }

    /// The query string of the next (older) page.
    fn older_than(&self, id: i64) -> String {
        let pairs = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object", &self.object),
            ("from", &self.from),
            ("to", &self.to),
        ];
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url::encode(v)))
            .collect();
        query.push(format!("before={id}"));
        format!("?{}", query.join("&"))
    }
}

/// The audit log page, for admins.
#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let params = params.read();
        let get = |key: &str| params.get(key).unwrap_or_default();
        Query {
            actor: get("actor"),
            action: get("action"),
            object: get("object"),
            from: get("from"),
            to: get("to"),
            before: get("before"),
        }
    });
    let entries = Resource::new(
        move || query.get().filter(),
        |filter| async move {
            match filter {
                Ok(filter) => audit_entries(filter).await.map_err(|e| e.to_string()),
                Err(message) => Err(message),
            }
        },
    );
    view! {
        <Title text="Audit log" />
        <Protected action=Action::ReadAuditLog>
            <h1>"Admin"</h1>
            <AdminNav />
            <section class="card" aria-labelledby="audit-title">
                <h2 id="audit-title">"Audit log"</h2>
                <form method="get" action="/admin/audit" class="filters">
                    <FilterField label="Actor" name="actor" value=move || query.get().actor hint="user or token name" />
                    <FilterField label="Action" name="action" value=move || query.get().action hint="e.g. user. or session.login_failed" />
                    <FilterField label="Object" name="object" value=move || query.get().object hint="contains" />
                    <FilterField label="From" name="from" kind="date" value=move || query.get().from hint="" />
                    <FilterField label="To" name="to" kind="date" value=move || query.get().to hint="" />
                    <button type="submit">"Filter"</button>
                    <a href="/admin/audit">"Clear"</a>
                </form>
                <Transition fallback=|| view! { <p class="loading">"Loading entries…"</p> }>
                    {move || Suspend::new(async move {
                        match entries.await {
                            Ok(rows) if rows.is_empty() => view! { <p>"No entries match."</p> }.into_any(),
                            Ok(rows) => {
                                let older = rows.last().map(|last| query.get_untracked().older_than(last.id));
                                let full = rows.len() as i64 >= 50;
                                view! {
                                    <AuditTable rows />
                                    {(full).then(|| view! { <p><a href=older.unwrap_or_default()>"Older entries →"</a></p> })}
                                }.into_any()
                            }
                            Err(message) => view! { <p class="form-error" role="alert">{message}</p> }.into_any(),
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
    #[prop(default = "text")] kind: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    hint: &'static str,
) -> impl IntoView {
    let id = format!("filter-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=kind prop:value=value placeholder=hint />
        </div>
    }
}

/// An entry's before/after summaries in words: the fields that changed as `role: engineer →
/// viewer`, or every field of a new record; times in UTC, not milliseconds.
fn describe_change(before: Option<&str>, after: Option<&str>) -> String {
    use serde_json::{Map, Value};
    let object = |text: Option<&str>| -> Map<String, Value> {
        text.and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    };
    let show = |key: &str, value: &Value| match value {
        Value::Null => "none".to_owned(),
        Value::Number(n) if key.ends_with("_at") => n.as_i64().map_or_else(
            || n.to_string(),
            |ms| crate::domain::Timestamp(ms).to_string(),
        ),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (before, after) = (object(before), object(after));
    after
        .iter()
        .filter_map(|(key, new)| match before.get(key) {
            Some(old) if old == new => None,
            Some(old) => Some(format!("{key}: {} → {}", show(key, old), show(key, new))),
            None => Some(format!("{key}: {}", show(key, new))),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn AuditTable(rows: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="audit">
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
                        let change = describe_change(row.before.as_deref(), row.after.as_deref());
                        view! {
                            <tr>
                                <td>{row.at.to_string()}</td>
                                <td>{format!("{} ({})", row.actor, row.actor_kind)}</td>
                                <td><code>{row.action.clone()}</code></td>
                                <td>{row.object.clone()}</td>
                                <td class="change">{change}</td>
                                <td>
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

#[cfg(test)]
mod tests {
    use super::{describe_change, Query};

    #[test]
    fn filters_refuse_dates_and_ids_they_cannot_read() {
        let query = |from: &str, before: &str| Query {
            from: from.into(),
            before: before.into(),
            ..Query::default()
        };
        assert_eq!(
            query("27.11.2026", "").filter().unwrap_err(),
            "\"27.11.2026\" is not a date for From; use YYYY-MM-DD."
        );
        assert_eq!(
            query("", "ten").filter().unwrap_err(),
            "\"ten\" is not an entry id."
        );
        let filter = query("2026-11-27", "").filter().unwrap();
        assert_eq!(
            filter.from,
            Some(crate::domain::Timestamp(1_795_737_600_000))
        );
        let to = Query {
            to: "2026-11-27".into(),
            ..Query::default()
        };
        // `to` includes its whole day.
        assert_eq!(
            to.filter().unwrap().to,
            Some(crate::domain::Timestamp(1_795_824_000_000))
        );
    }

    #[test]
    fn changes_read_as_words() {
        assert_eq!(
            describe_change(
                Some(r#"{"username":"eng","role":"engineer","active":true}"#),
                Some(r#"{"username":"eng","role":"viewer","active":true}"#)
            ),
            "role: engineer → viewer"
        );
        assert_eq!(
            describe_change(
                None,
                Some(r#"{"name":"ci","expires_at":1795776300000,"revoked_at":null}"#)
            ),
            "expires_at: 2026-11-27 10:45 UTC, name: ci, revoked_at: none"
        );
        assert_eq!(describe_change(None, None), "");
        assert_eq!(
            describe_change(Some("not json"), Some(r#"{"sessions_ended":2}"#)),
            "sessions_ended: 2"
        );
    }
}
