//! The Overview: the first page everyone sees, answering "what runs where right now?".

use leptos::prelude::*;
use leptos_meta::Title;

/// Every service and environment at a glance. Until services are recorded it explains how
/// they get here.
#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <Title text="Overview" />
        <h1>"Overview"</h1>
        <p class="lead">
            "Every service and environment, with its live slot, the version it runs and its last deployment."
        </p>
        <section class="card empty-state" aria-labelledby="no-services">
            <h2 id="no-services">"No services yet"</h2>
            <p>
                "Once an administrator adds a service and its environments, each one appears here with "
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
