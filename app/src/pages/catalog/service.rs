//! One service's page: its environments with what is live, the idle slot and health, and its
//! newest deployments.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    components::{
        failure::LoadFailed,
        links::{Breadcrumbs, EnvironmentLink},
    },
    domain::{time::describe_age, Action},
    error::AppError,
    model::ServiceDetail,
    pages::{accounts::session::Protected, deployments::StatusBadge, operations::HealthBadge},
};

/// One service with its environments and newest deployments.
#[server(prefix = "/rpc", endpoint = "service_page")]
pub async fn service_page(service: String) -> Result<ServiceDetail, AppError> {
    use crate::backend::{catalog, rpc};
    rpc::serve(|state, caller| async move { catalog::detail(&state, &caller, &service).await })
        .await
}

/// The service page.
#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("service").unwrap_or_default());
    let detail = Resource::new(move || name.get(), service_page);
    view! {
        <Protected action=Action::Read>
            <Transition fallback=|| view! { <p class="loading">"Loading the service…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <Service detail /> }.into_any(),
                        Err(error) => view! {
                            <Breadcrumbs />
                            <LoadFailed title="Service" error back=("/services", "← Services") />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Service(detail: ServiceDetail) -> impl IntoView {
    let service = detail.service;
    let now = detail.now;
    let environments = detail
        .environments
        .into_iter()
        .map(|env| {
            let live = env.live_version.clone().map_or_else(
                || "nothing recorded yet".to_owned(),
                |live| match live.slot {
                    Some(slot) => format!("{} on {slot}", live.version),
                    None => live.version,
                },
            );
            let shipped = env.live_version.as_ref().and_then(|l| l.shipped.clone());
            let health = env
                .health
                .iter()
                .map(|reading| view! {
                    <span class="block">
                        {reading.slot.map(|slot| format!("{slot}: "))}
                        <HealthBadge health=Some(reading.clone()) now />
                    </span>
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row"><EnvironmentLink service=env.service.clone() environment=env.name.clone() /></th>
                    <td data-label="Tier">{env.tier.as_str()} " · " {env.strategy.label()}</td>
                    <td data-label="Live">
                        {live}
                        {shipped.map(|s| view! {
                            <span class="hint block">{format!("by {} ", s.by)}<time datetime=s.at.to_rfc3339()>{describe_age(s.at, now)}</time></span>
                        })}
                    </td>
                    <td data-label="Idle slot">{env.idle_version.clone().unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Health">{health}</td>
                </tr>
            }
        })
        .collect_view();
    let recent = detail
        .recent
        .into_iter()
        .map(|d| view! {
            <tr>
                <td data-label="Version"><a href=format!("/deployments/{}", d.id)>{d.version.clone()}</a></td>
                <td data-label="Environment"><EnvironmentLink service=d.service.clone() environment=d.environment.clone() /></td>
                <td data-label="Status"><StatusBadge status=d.status superseded=d.superseded_by.is_some() /></td>
                <td data-label="By">{d.recorded_by.name.clone()}</td>
                <td data-label="Started"><time datetime=d.started_at.to_rfc3339() title=d.started_at.to_string()>{describe_age(d.started_at, now)}</time></td>
            </tr>
        })
        .collect::<Vec<_>>();
    let deployments_href = format!(
        "/deployments?service={}",
        crate::components::url::encode(&service.name)
    );
    // Each section is type-erased: one nested view type for the whole page is deeper than the
    // compiler's query limit in release builds.
    let environments = view! {
        <section class="card" aria-labelledby="environments">
            <h2 id="environments">"Environments"</h2>
            <div class="table-wrap"><table class="stacked">
                <thead><tr>
                    <th scope="col">"Environment"</th><th scope="col">"Tier"</th><th scope="col">"Live"</th>
                    <th scope="col">"Idle slot"</th><th scope="col">"Health"</th>
                </tr></thead>
                <tbody>{environments}</tbody>
            </table></div>
        </section>
    }
    .into_any();
    view! {
        <Title text=service.name.clone() />
        <Breadcrumbs service=service.name.clone() />
        <h1>{service.name.clone()}</h1>
        {(!service.description.is_empty()).then(|| view! { <p class="lead">{service.description.clone()}</p> })}
        <p class="hint">{if service.owner_team.is_empty() { "No owner team set.".to_owned() } else { format!("Owned by {}.", service.owner_team) }}</p>
        {environments}
        <section class="card" aria-labelledby="recent">
            <h2 id="recent">"Newest deployments"</h2>
            {if recent.is_empty() {
                view! { <p class="empty-state">"Nothing recorded for this service yet. Record a deployment, or let CI record them with an API token."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table class="stacked">
                        <thead><tr>
                            <th scope="col">"Version"</th><th scope="col">"Environment"</th><th scope="col">"Status"</th>
                            <th scope="col">"By"</th><th scope="col">"Started"</th>
                        </tr></thead>
                        <tbody>{recent}</tbody>
                    </table></div>
                    <p><a href=deployments_href>"All deployments of this service →"</a></p>
                }.into_any()
            }}
        </section>
    }
}
