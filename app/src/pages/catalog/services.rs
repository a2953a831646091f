//! The Services page: every service, its owner team, and what is live in each environment.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::links::{EnvironmentLink, ServiceLink},
    domain::Action,
    error::AppError,
    model::ServiceSummary,
    pages::accounts::session::{me, Protected},
};

/// Every service with its environments.
#[server(prefix = "/rpc", endpoint = "service_summaries")]
pub async fn service_summaries() -> Result<Vec<ServiceSummary>, AppError> {
    use crate::backend::{catalog, rpc};
    rpc::serve(|state, caller| async move { catalog::summaries(&state, &caller).await }).await
}

/// The Services page.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let summaries = Resource::new(|| (), |_| service_summaries());
    view! {
        <Title text="Services" />
        <Protected action=Action::Read>
            <h1>"Services"</h1>
            <p class="lead">"Everything the team deploys, who owns it, and what is live where."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading services…"</p> }>
                {move || Suspend::new(async move {
                    match summaries.await {
                        Ok(list) if list.is_empty() => view! { <NoServices /> }.into_any(),
                        Ok(list) => list.into_iter().map(|summary| view! { <ServiceCard summary /> }).collect_view().into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn ServiceCard(summary: ServiceSummary) -> impl IntoView {
    let service = summary.service;
    let heading_id = format!("service-{}", service.name);
    let labelled_by = heading_id.clone();
    let environments = summary
        .environments
        .iter()
        .map(|env| {
            let live = env
                .live_version
                .as_ref()
                .map(|live| match live.slot {
                    Some(slot) => format!("{} on {slot}", live.version),
                    None => live.version.clone(),
                })
                .unwrap_or_else(|| "nothing recorded yet".to_owned());
            view! {
                <li>
                    <EnvironmentLink service=env.service.clone() environment=env.name.clone() />
                    " " <span class="tier">{env.tier.as_str()}</span> " · " {env.strategy.label()} " · live: " {live}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=heading_id><ServiceLink service=service.name.clone() /></h2>
            {(!service.description.is_empty()).then(|| view! { <p>{service.description.clone()}</p> })}
            <p class="hint">
                {if service.owner_team.is_empty() { "No owner team set".to_owned() } else { format!("Owned by {}", service.owner_team) }}
            </p>
            {if summary.environments.is_empty() {
                view! { <p class="hint">"No environments yet."</p> }.into_any()
            } else {
                view! { <ul class="plain">{environments}</ul> }.into_any()
            }}
        </section>
    }
}

#[component]
fn NoServices() -> impl IntoView {
    let admin = me().is_some_and(|user| user.may(Action::ManageCatalog));
    view! {
        <section class="card empty-state" aria-labelledby="no-services">
            <h2 id="no-services">"No services yet"</h2>
            {if admin {
                view! { <p>"Add the first one, with its environments, under " <a href="/admin/services">"Admin → Services"</a> "."</p> }.into_any()
            } else {
                view! { <p>"An administrator adds services and their environments; they appear here once they exist."</p> }.into_any()
            }}
        </section>
    }
}
