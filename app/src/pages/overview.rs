//! The Overview: the first page everyone sees, answering "what runs where right now?".

use leptos::prelude::*;
use leptos_meta::Title;

use super::{deployments::StatusBadge, operations::HealthBadge};
use crate::{
    components::links::{EnvironmentLink, ServiceLink},
    domain::{time::describe_age, Timestamp},
    error::AppError,
    model::{Attention, Environment, OverviewRow},
};

/// Every environment with what is live there and its newest deployment, and the server's
/// clock for ages.
#[server(prefix = "/rpc", endpoint = "overview")]
pub async fn overview() -> Result<(Vec<OverviewRow>, Timestamp, Vec<Attention>), AppError> {
    use crate::backend::{deployments, incidents, rpc};
    rpc::serve(|state, caller| async move {
        let rows = deployments::overview(&state, &caller).await?;
        let attention = incidents::attention(&state.db, &caller).await?;
        Ok((rows, Timestamp::now(), attention))
    })
    .await
}

/// Every service and environment at a glance: what is live and who shipped it, the idle slot,
/// health, the last deployment and whether one runs. Until services exist it explains how
/// they get here.
#[component]
pub fn Overview() -> impl IntoView {
    let rows = Resource::new(|| (), |_| overview());
    view! {
        <Title text="Overview" />
        <h1>"Overview"</h1>
        <p class="lead">
            "What is live in every environment, who shipped it, and how the last deployment went."
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading environments…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok((rows, _, _)) if rows.is_empty() => view! { <GettingStarted /> }.into_any(),
                    Ok((rows, now, attention)) => view! {
                        <NeedsAttention lines=attention />
                        <EnvironmentTable rows now />
                    }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Open incidents (worst first), post-mortems due and overdue action items, each a link.
#[component]
fn NeedsAttention(lines: Vec<Attention>) -> impl IntoView {
    (!lines.is_empty()).then(|| {
        let items = lines
            .into_iter()
            .map(|line| view! {
                <li><a href=line.href><span class=format!("status {}", line.class)>{line.badge}</span> " " {line.text}</a></li>
            })
            .collect_view();
        view! {
            <section class="card attention" aria-labelledby="attention">
                <h2 id="attention">"Needs attention"</h2>
                <ul>{items}</ul>
            </section>
        }
    })
}

/// What is live: "2.4.0 on blue · by ci 3 h ago".
fn live_cell(env: &Environment, now: Timestamp) -> AnyView {
    match &env.live_version {
        Some(live) => view! {
            {live.slot.map(|slot| view! { <span class=format!("slot slot-{slot}") aria-hidden="true"></span> })}
            <strong>{live.version.clone()}</strong>
            {live.slot.map(|slot| format!(" on {slot}"))}
            {live.shipped.as_ref().map(|shipped| view! {
                <span class="hint block">
                    {format!("by {} ", shipped.by)}
                    <time datetime=shipped.at.to_rfc3339() title=shipped.at.to_string()>{describe_age(shipped.at, now)}</time>
                </span>
            })}
        }
        .into_any(),
        None => match env.live_slot {
            Some(slot) => view! {
                <span class=format!("slot slot-{slot}") aria-hidden="true"></span>
                {format!("{slot}: no version recorded yet")}
            }
            .into_any(),
            None => view! { <span class="hint">"nothing recorded yet"</span> }.into_any(),
        },
    }
}

#[component]
fn EnvironmentTable(rows: Vec<OverviewRow>, now: Timestamp) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="overview stacked">
                <thead><tr>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Environment"</th>
                    <th scope="col">"Live"</th>
                    <th scope="col">"Idle slot"</th>
                    <th scope="col">"Health"</th>
                    <th scope="col">"Last deployment"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let env = row.environment;
                        let live = live_cell(&env, now);
                        let health = if env.health.is_empty() {
                            view! { <span class="hint">"not checked yet"</span> }.into_any()
                        } else {
                            env.health.iter().map(|reading| view! {
                                <span class="block">
                                    {reading.slot.map(|slot| format!("{slot}: "))}
                                    <HealthBadge health=Some(reading.clone()) now />
                                </span>
                            }).collect_view().into_any()
                        };
                        view! {
                            <tr>
                                <th scope="row"><ServiceLink service=env.service.clone() /></th>
                                <td data-label="Environment">
                                    <EnvironmentLink service=env.service.clone() environment=env.name.clone() /> " "
                                    <span class="tier">{env.tier.as_str()}</span>
                                    {(row.running > 0).then(|| view! {
                                        " " <span class="status status-running">{format!("{} running", row.running)}</span>
                                    })}
                                    {row.frozen.map(|why| view! {
                                        <span class="block"><span class="status status-frozen">"frozen"</span> {format!(" {why}")}</span>
                                    })}
                                    {row.waiting.into_iter().map(|r| view! {
                                        <span class="block">
                                            <a href=format!("/releases/{}", r.id)>{format!("Release {}", r.version)}</a>
                                            {format!(": {}", r.progress)}
                                        </span>
                                    }).collect_view()}
                                </td>
                                <td data-label="Live">
                                    {live}
                                    {row.unplaced.map(|d| view! {
                                        <span class="hint block">
                                            <a href=format!("/deployments/{}", d.id)>{d.version.clone()}</a>
                                            " was recorded without a slot, so Switchyard cannot tell which colour runs it."
                                        </span>
                                    })}
                                </td>
                                <td data-label="Idle slot">
                                    {match (env.idle(), env.idle_version.clone()) {
                                        (Some(slot), Some(version)) => format!("{version} on {}", slot.color),
                                        (Some(slot), None) => format!("{}: empty", slot.color),
                                        (None, _) => "—".to_owned(),
                                    }}
                                </td>
                                <td data-label="Health">{health}</td>
                                {match row.last {
                                    Some(last) => view! {
                                        <td data-label="Last deployment">
                                            <a href=format!("/deployments/{}", last.id)>{last.version.clone()}</a> " "
                                            <StatusBadge status=last.status superseded=last.superseded_by.is_some() /> " "
                                            <time datetime=last.started_at.to_rfc3339() title=last.started_at.to_string()>{describe_age(last.started_at, now)}</time>
                                        </td>
                                    }.into_any(),
                                    None => view! { <td data-label="Last deployment" class="hint">"Nothing deployed yet"</td> }.into_any(),
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
                "what is live, who shipped it and how its last deployment ended."
            </p>
            <ol>
                <li>"Add your services and their production, staging and development environments."</li>
                <li>
                    "Let your CI pipeline report each deployment with an API token (Admin → API tokens shows the command), "
                    "or record one by hand from the Deployments page."
                </li>
                <li>
                    "Check that Switchyard itself is healthy: "
                    <a href="/api/v1/health/detailed">"/api/v1/health/detailed"</a>
                    " reports the database, its migrations and the running build."
                </li>
            </ol>
        </section>
    }
}
