//! The Deployments page: every deployment, newest first, filtered by service, environment,
//! status, time and version or SHA, a page at a time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{choices, list_deployments, list_environments, StatusBadge};
use crate::{
    components::form::metric_window,
    components::links::{EnvironmentLink, ServiceLink},
    components::url,
    domain::{deployments::DeploymentStatus, time::describe_age, Action, Timestamp},
    model::{Deployment, DeploymentFilter},
    pages::accounts::session::{me, Protected},
};

/// The Deployments page.
#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let params = params.read();
        let value = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        DeploymentFilter {
            service: value("service"),
            environment: value("environment"),
            status: value("status"),
            from: value("from"),
            to: value("to"),
            q: value("q"),
            finished_from: value("finished_from"),
            finished_to: value("finished_to"),
            tier: value("tier"),
            limit: None,
            cursor: value("cursor"),
        }
    });
    let page = Resource::new(move || query.get(), list_deployments);
    let environments = Resource::new(|| (), |_| list_environments());
    let may_record = me().is_some_and(|user| user.may(Action::RecordDeployment));
    view! {
        <Title text="Deployments" />
        <Protected action=Action::Read>
            <div class="page-head">
                <h1>"Deployments"</h1>
                {may_record.then(|| view! { <a class="button primary" href="/deployments/new">"Record a deployment"</a> })}
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading filters…"</p> }>
                {move || Suspend::new(async move {
                    let environments = environments.await.unwrap_or_default();
                    view! { <Filters environments query=query.get_untracked() /> }
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="loading">"Loading deployments…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok((page, _)) if page.deployments.is_empty() => view! {
                            <p class="empty-state">"No deployments match. Clear the filters, or record one."</p>
                        }.into_any(),
                        Ok((page, now)) => {
                            let older = page.next_cursor.map(|cursor| next_page(&query.get_untracked(), &cursor));
                            view! {
                                <DeploymentTable deployments=page.deployments now />
                                {older.map(|href| view! { <p><a href=href rel="next">"Older deployments →"</a></p> })}
                            }.into_any()
                        }
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

/// The query string of the page after the one ending at `cursor`.
fn next_page(filter: &DeploymentFilter, cursor: &str) -> String {
    let query = url::query(
        filter_pairs(filter)
            .into_iter()
            .chain([("cursor", Some(cursor))]),
    );
    format!("/deployments?{query}")
}

/// The CSV export of every deployment `filter` selects (all pages).
fn export_link(filter: &DeploymentFilter) -> String {
    format!(
        "/api/v1/deployments.csv?{}",
        url::query(filter_pairs(filter))
    )
}

/// The filter's fields as the page's query string names them, in form order.
fn filter_pairs(filter: &DeploymentFilter) -> [(&'static str, Option<&str>); 9] {
    [
        ("service", filter.service.as_deref()),
        ("environment", filter.environment.as_deref()),
        ("status", filter.status.as_deref()),
        ("from", filter.from.as_deref()),
        ("to", filter.to.as_deref()),
        ("q", filter.q.as_deref()),
        ("finished_from", filter.finished_from.as_deref()),
        ("finished_to", filter.finished_to.as_deref()),
        ("tier", filter.tier.as_deref()),
    ]
}

#[component]
fn Filters(environments: Vec<crate::model::Environment>, query: DeploymentFilter) -> impl IntoView {
    let export = export_link(&query);
    let (services, names) = choices(&environments, "All");
    let statuses: Vec<(String, String)> = std::iter::once((String::new(), "All".to_owned()))
        .chain(
            DeploymentStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), s.as_str().to_owned())),
        )
        .collect();
    let select = |label: &'static str,
                  name: &'static str,
                  options: Vec<(String, String)>,
                  chosen: Option<String>| {
        let chosen = chosen.unwrap_or_default();
        view! {
            <div class="field">
                <label for=format!("filter-{name}")>{label}</label>
                <select id=format!("filter-{name}") name=name>
                    {options.into_iter().map(|(value, text)| {
                        let selected = value == chosen;
                        view! { <option value=value selected=selected>{text}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let text = |label: &'static str,
                name: &'static str,
                kind: &'static str,
                value: Option<String>,
                hint: &'static str| {
        view! {
            <div class="field">
                <label for=format!("filter-{name}")>{label}</label>
                <input id=format!("filter-{name}") name=name type=kind value=value.unwrap_or_default() placeholder=hint />
            </div>
        }
    };
    view! {
        <form method="get" action="/deployments" class="filters" aria-label="Filter deployments">
            {select("Service", "service", services, query.service)}
            {select("Environment", "environment", names, query.environment)}
            {select("Status", "status", statuses, query.status)}
            {text("Started from (UTC)", "from", "text", query.from, "YYYY-MM-DD HH:MM")}
            {text("Started before (UTC)", "to", "text", query.to, "YYYY-MM-DD HH:MM")}
            {text("Version or SHA", "q", "search", query.q, "starts with…")}
            {metric_window(
                ("Finished", "finished_from", "finished_to"),
                query.finished_from,
                query.finished_to,
                query.tier,
            )}
            <button type="submit">"Filter"</button>
            <a href="/deployments">"Clear"</a>
            <a href=export download>"Download as CSV"</a>
        </form>
    }
}

/// A table of deployments, newest first.
#[component]
pub fn DeploymentTable(deployments: Vec<Deployment>, now: Timestamp) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="deployments stacked">
                <thead><tr>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Environment"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Started"</th>
                    <th scope="col">"Commit"</th>
                    <th scope="col">"By"</th>
                </tr></thead>
                <tbody>
                    {deployments.into_iter().map(|d| view! {
                        <tr>
                            <th scope="row">
                                <a href=format!("/deployments/{}", d.id)>{d.version.clone()}</a>
                                {d.is_rollback.then(|| view! { <span class="tag">"rollback"</span> })}
                                {d.rolled_back_at.map(|_| view! { <span class="tag warn">"rolled back"</span> })}
                            </th>
                            <td data-label="Service"><ServiceLink service=d.service.clone() /></td>
                            <td data-label="Environment"><EnvironmentLink service=d.service.clone() environment=d.environment.clone() />{d.slot.map(|slot| format!(" ({slot})"))}</td>
                            <td data-label="Status"><StatusBadge status=d.status superseded=d.superseded_by.is_some() /></td>
                            <td data-label="Started"><time datetime=d.started_at.to_rfc3339() title=d.started_at.to_string()>{describe_age(d.started_at, now)}</time></td>
                            <td data-label="Commit"><code>{d.commit_sha.as_deref().map(|sha| sha.chars().take(7).collect::<String>())}</code></td>
                            <td data-label="By">{d.recorded_by.name.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
