//! The management report: the Metrics page's cards, charts and services for a window, then
//! the incidents resolved in it with their post-mortems and the action items still open, laid
//! out for A4 paper (the print stylesheet leaves the navigation and buttons out).

use leptos::prelude::*;
use leptos_meta::Title;

use super::Report;
use crate::{
    components::url::encode,
    domain::Action,
    error::AppError,
    model::{ActionItem, IncidentSummary, MetricsQuery, MetricsReport},
    pages::accounts::session::Protected,
};

/// Everything the report shows for `query`.
#[server(prefix = "/rpc", endpoint = "delivery_report")]
pub async fn delivery_report(query: MetricsQuery) -> Result<MetricsReport, AppError> {
    use crate::backend::{metrics, rpc};
    rpc::serve(|state, caller| async move { metrics::report(&state.db, &caller, &query).await })
        .await
}

/// The report's address for the window and scope of `query`.
pub(super) fn href(query: &MetricsQuery) -> String {
    let pairs: Vec<String> = [
        ("range", &query.range),
        ("from", &query.from),
        ("to", &query.to),
        ("service", &query.service),
        ("environment", &query.environment),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}={}", encode(v))))
    .collect();
    format!("/metrics/report?{}", pairs.join("&"))
}

#[component]
pub(super) fn ReportPage(query: Memo<MetricsQuery>) -> impl IntoView {
    let report = Resource::new(move || query.get(), delivery_report);
    let back = move || href(&query.get()).replacen("/metrics/report", "/metrics", 1);
    view! {
        <Title text="Delivery report" />
        <Protected action=Action::Read>
            <div class="page-head">
                <h1>"Delivery report"</h1>
                <div class="actions no-print">
                    <button type="button" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                    <a href=back>"Back to Metrics"</a>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Preparing the report…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(report) => view! {
                            <p class="hint">"Made " {report.made_at} ". Formulas as in Switchyard's product definition; each figure is beside its previous window."</p>
                            <Report view=report.view />
                            <Incidents list=report.incidents />
                            <ActionItems list=report.action_items />
                        }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Incidents(list: Vec<IncidentSummary>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="report-section">"No incident was resolved in this window."</p> }
            .into_any();
    }
    let rows = list
        .into_iter()
        .map(|i| {
            let postmortem = match (i.postmortem_due, i.postmortem_status) {
                (true, _) => "due".to_owned(),
                (false, Some(status)) => status.as_str().replace('_', " "),
                (false, None) => "not needed".to_owned(),
            };
            view! {
                <tr>
                    <th scope="row"><a href=format!("/incidents/{}", i.id)>{i.title}</a></th>
                    <td data-label="Severity">{i.severity.as_str()}</td>
                    <td data-label="Where">{format!("{}/{}", i.service, i.environment)}</td>
                    <td data-label="Duration">{i.duration}</td>
                    <td data-label="Post-mortem">{postmortem}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="report-section" aria-labelledby="report-incidents">
            <h2 id="report-incidents">"Incidents resolved in the window"</h2>
            <div class="table-wrap">
                <table class="stacked">
                    <thead><tr>
                        <th scope="col">"Incident"</th><th scope="col">"Severity"</th><th scope="col">"Where"</th>
                        <th scope="col">"Duration"</th><th scope="col">"Post-mortem"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn ActionItems(list: Vec<ActionItem>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="report-section">"No action item is open."</p> }.into_any();
    }
    let overdue = list.iter().filter(|a| a.overdue).count();
    let rows = list
        .into_iter()
        .map(|a| {
            view! {
                <tr>
                    <th scope="row">{a.title}</th>
                    <td data-label="Owner">{a.owner}</td>
                    <td data-label="Due">{a.due}{a.overdue.then_some(" (overdue)")}</td>
                    <td data-label="From"><a href=format!("/incidents/{}", a.incident_id)>{a.incident_title}</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="report-section" aria-labelledby="report-actions">
            <h2 id="report-actions">"Open action items"</h2>
            <p>{format!("{overdue} overdue.")}</p>
            <div class="table-wrap">
                <table class="stacked">
                    <thead><tr>
                        <th scope="col">"Action item"</th><th scope="col">"Owner"</th>
                        <th scope="col">"Due"</th><th scope="col">"From"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}
