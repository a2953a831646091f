//! The Overview: the first page everyone sees, answering "what runs where right now?".

use leptos::prelude::*;
use leptos_meta::Title;

use super::deployments::StatusBadge;
use crate::{
    domain::{time::describe_age, Timestamp},
    error::AppError,
    model::OverviewRow,
};

/// Every environment with its newest deployment, and the server's clock for ages.
#[server(prefix = "/rpc", endpoint = "overview")]
pub async fn overview() -> Result<(Vec<OverviewRow>, Timestamp), AppError> {
    use crate::backend::{deployments, rpc};
    rpc::serve(|state, caller| async move {
        let rows = deployments::overview(&state.db, &caller).await?;
        Ok((rows, Timestamp::now()))
    })
    .await
}

/// Every service and environment at a glance: live slot and version, last deployment and
/// its age, and whether one is running. Until services exist it explains how they get here.
#[component]
pub fn Overview() -> impl IntoView {
    let rows = Resource::new(|| (), |_| overview());
    view! {
        <Title text="Overview" />
        <h1>"Overview"</h1>
        <p class="lead">
            "Every service and environment, with its live slot, the version it runs and its last deployment."
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading environments…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok((rows, _)) if rows.is_empty() => view! { <GettingStarted /> }.into_any(),
                    Ok((rows, now)) => view! { <EnvironmentTable rows now /> }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EnvironmentTable(rows: Vec<OverviewRow>, now: Timestamp) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="overview">
                <thead><tr>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Environment"</th>
                    <th scope="col">"Live"</th>
                    <th scope="col">"Last deployment"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"When"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let env = &row.environment;
                        let live = match env.live() {
                            Some(slot) => format!("{} · {}", slot.color, slot.version.as_deref().unwrap_or("no version yet")),
                            None => env.strategy.as_str().replace('_', "-"),
                        };
                        let page = format!("/services/{}/environments/{}", env.service, env.name);
                        view! {
                            <tr>
                                <th scope="row">{env.service.clone()}</th>
                                <td>
                                    <a href=page>{env.name.clone()}</a> " "
                                    <span class="tier">{env.tier.as_str()}</span>
                                    {(row.running > 0).then(|| view! {
                                        " " <span class="status status-running">{format!("{} running", row.running)}</span>
                                    })}
                                </td>
                                <td>
                                    {env.live_slot.map(|slot| view! { <span class=format!("slot slot-{slot}") aria-hidden="true"></span> })}
                                    {live}
                                </td>
                                {match row.last {
                                    Some(last) => view! {
                                        <td><a href=format!("/deployments/{}", last.id)>{last.version.clone()}</a></td>
                                        <td><StatusBadge status=last.status /></td>
                                        <td><time datetime=last.started_at.to_rfc3339() title=last.started_at.to_string()>{describe_age(last.started_at, now)}</time></td>
                                    }.into_any(),
                                    None => view! { <td colspan="3" class="hint">"Nothing deployed yet"</td> }.into_any(),
                                }}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn GettingStarted() -> impl IntoView {
    view! {
        <section class="card empty-state" aria-labelledby="no-services">
            <h2 id="no-services">"No services yet"</h2>
            <p>
                "Once an administrator adds a service and its environments (Admin → Services), each one appears here with "
                "its live colour, its version and how its last deployment ended."
            </p>
        </section>
        <details class="card getting-started">
            <summary>"Getting started"</summary>
            <ol>
                <li>"Add your services and their production, staging and development environments."</li>
                <li>
                    "Let your CI pipeline report each deployment, or record one by hand from the Deployments page."
                </li>
                <li>
                    "Check that Switchyard itself is healthy: "
                    <a href="/api/v1/health/detailed">"/api/v1/health/detailed"</a>
                    " reports the database, its migrations and the running build."
                </li>
            </ol>
        </details>
    }
}
