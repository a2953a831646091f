//! The Incidents list: open incidents first, worst severity first, with filters that work
//! without JavaScript (a plain GET form).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{incident_path, IncidentBadge, SeverityBadge};
use crate::{
    components::{
        form::{filter_text, metric_window},
        links::EnvironmentLink,
        url,
    },
    domain::{
        incidents::{IncidentStatus, Severity},
        Action,
    },
    error::AppError,
    model::{IncidentFilter, IncidentSummary},
    pages::accounts::session::{me, Protected},
};

/// Incidents matching the filter.
#[server(prefix = "/rpc", endpoint = "incident_list")]
pub async fn incident_list(filter: IncidentFilter) -> Result<Vec<IncidentSummary>, AppError> {
    use crate::backend::{incidents, rpc};
    rpc::serve(|state, caller| async move { incidents::list(&state.db, &caller, &filter).await })
        .await
}

/// The Incidents page.
#[component]
pub fn IncidentsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let params = params.read();
        let value = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        IncidentFilter {
            status: value("status"),
            severity: value("severity"),
            service: value("service"),
            environment: value("environment"),
            from: value("from"),
            to: value("to"),
            postmortem_due: value("postmortem_due").map(|v| v == "true"),
            resolved_from: value("resolved_from"),
            resolved_to: value("resolved_to"),
            tier: value("tier"),
        }
    });
    let list = Resource::new(move || query.get(), incident_list);
    let may_declare = me().is_some_and(|user| user.may(Action::WriteIncidents));
    view! {
        <Title text="Incidents" />
        <Protected action=Action::Read>
            <div class="page-head">
                <h1>"Incidents"</h1>
                {may_declare.then(|| view! { <a class="button danger" href="/incidents/new">"Declare an incident"</a> })}
            </div>
            <p class="lead">"Open incidents first, worst first. " <a href="/action-items">"Open action items"</a> " from post-mortems are followed on their own page."</p>
            <Filters query=query.get_untracked() />
            <Transition fallback=|| view! { <p class="loading">"Loading incidents…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-state">"No incidents match. Clear the filters to see them all."</p>
                        }.into_any(),
                        Ok(list) => view! { <IncidentTable list /> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Filters(query: IncidentFilter) -> impl IntoView {
    let export = export_link(&query);
    let options = |all: Vec<&'static str>, chosen: Option<String>| {
        std::iter::once("")
            .chain(all)
            .map(|value| {
                let selected = chosen.as_deref() == Some(value);
                let label = if value.is_empty() { "any" } else { value };
                view! { <option value=value selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let statuses = std::iter::once("open")
        .chain(IncidentStatus::ALL.iter().map(|s| s.as_str()))
        .collect();
    let severities = Severity::ALL.iter().map(|s| s.as_str()).collect();
    view! {
        <form method="get" action="/incidents" class="filters" aria-label="Filter incidents">
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" name="status">{options(statuses, query.status)}</select>
            </div>
            <div class="field">
                <label for="filter-severity">"Severity"</label>
                <select id="filter-severity" name="severity">{options(severities, query.severity)}</select>
            </div>
            {filter_text("Service", "service", query.service, "parts")}
            {filter_text("Environment", "environment", query.environment, "production")}
            {filter_text("Started from (UTC)", "from", query.from, "YYYY-MM-DD")}
            {filter_text("Started up to (UTC)", "to", query.to, "YYYY-MM-DD")}
            {metric_window(
                ("Resolved", "resolved_from", "resolved_to"),
                query.resolved_from,
                query.resolved_to,
                query.tier,
            )}
            <button type="submit">"Filter"</button>
            <a href="/incidents">"Clear"</a>
            <a href=export download>"Download as CSV"</a>
        </form>
    }
}

/// The CSV export of every incident `filter` selects (not only the first 200 shown).
fn export_link(filter: &IncidentFilter) -> String {
    let due = filter.postmortem_due.map(|due| due.to_string());
    let query = url::query([
        ("status", filter.status.as_deref()),
        ("severity", filter.severity.as_deref()),
        ("service", filter.service.as_deref()),
        ("environment", filter.environment.as_deref()),
        ("from", filter.from.as_deref()),
        ("to", filter.to.as_deref()),
        ("postmortem_due", due.as_deref()),
        ("resolved_from", filter.resolved_from.as_deref()),
        ("resolved_to", filter.resolved_to.as_deref()),
        ("tier", filter.tier.as_deref()),
    ]);
    format!("/api/v1/incidents.csv?{query}")
}

#[component]
fn IncidentTable(list: Vec<IncidentSummary>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|i| {
            let postmortem = if i.postmortem_due {
                view! { <a class="status status-failed" href=format!("{}/postmortem", incident_path(i.id))>"post-mortem due"</a> }.into_any()
            } else {
                match i.postmortem_status {
                    Some(status) => view! { <a href=format!("{}/postmortem", incident_path(i.id))>{status.as_str()}</a> }.into_any(),
                    None => view! { <span class="hint">"—"</span> }.into_any(),
                }
            };
            view! {
                <tr>
                    <th scope="row"><a href=incident_path(i.id)>{i.title.clone()}</a></th>
                    <td data-label="Severity"><SeverityBadge severity=i.severity /></td>
                    <td data-label="Status"><IncidentBadge status=i.status /></td>
                    <td data-label="Where"><EnvironmentLink service=i.service.clone() environment=i.environment.clone() /></td>
                    <td data-label="Started">{i.started_at.to_string()}<span class="hint block">{i.duration.clone()}</span></td>
                    <td data-label="Commander">{i.commander.clone()}</td>
                    <td data-label="Post-mortem">{postmortem}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="stacked">
                <thead><tr>
                    <th scope="col">"Incident"</th><th scope="col">"Severity"</th><th scope="col">"Status"</th>
                    <th scope="col">"Where"</th><th scope="col">"Started"</th><th scope="col">"Commander"</th>
                    <th scope="col">"Post-mortem"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
