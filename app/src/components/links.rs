//! Links to services and environments: wherever a page names one, the name leads to it.

use leptos::prelude::*;

use super::url;

/// `/services/{service}`
pub fn service_path(service: &str) -> String {
    format!("/services/{}", url::encode(service))
}

/// `/services/{service}/environments/{environment}`
pub fn environment_path(service: &str, environment: &str) -> String {
    format!(
        "{}/environments/{}",
        service_path(service),
        url::encode(environment)
    )
}

/// A service's name, linked to its page.
#[component]
pub fn ServiceLink(#[prop(into)] service: String) -> impl IntoView {
    let href = service_path(&service);
    view! { <a href=href>{service}</a> }
}

/// An environment's name, linked to its page.
#[component]
pub fn EnvironmentLink(
    #[prop(into)] service: String,
    #[prop(into)] environment: String,
) -> impl IntoView {
    let href = environment_path(&service, &environment);
    view! { <a href=href>{environment}</a> }
}

/// Where a page sits: "Services / parts / production", each step but the last a link.
#[component]
pub fn Breadcrumbs(
    /// The service the page belongs to, if any.
    #[prop(optional, into)]
    service: Option<String>,
    /// The environment of that service, if the page is about one.
    #[prop(optional, into)]
    environment: Option<String>,
) -> impl IntoView {
    let service_part = service.clone().map(|service| match &environment {
        Some(_) => view! { " / " <ServiceLink service /> }.into_any(),
        None => view! { " / " <span aria-current="page">{service}</span> }.into_any(),
    });
    let environment_part = environment
        .map(|environment| view! { " / " <span aria-current="page">{environment}</span> });
    view! {
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href="/services">"Services"</a>
            {service_part}
            {environment_part}
        </nav>
    }
}
