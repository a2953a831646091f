//! Declaring an incident: one short form, phone first, with each severity's meaning beside
//! its choice. The incident page it leads to suggests the likely causes.

// The server function takes the form's nine fields one argument each, as `ActionForm` sends
// them; the `#[server]` macro's browser stub does not carry an item-level allow.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::form::{action_error, Field, FormError, SelectField, Submit},
    domain::{incidents::Severity, Action},
    error::AppError,
    model::{Environment, RecentDeployment},
    pages::{
        accounts::session::{me, Protected},
        deployments::choices,
    },
};

/// The environments an incident may be declared in, and the deployments that finished in the
/// last 24 hours (the likely causes).
#[server(prefix = "/rpc", endpoint = "declare_choices")]
pub async fn declare_choices() -> Result<(Vec<Environment>, Vec<RecentDeployment>), AppError> {
    use crate::backend::{catalog, incidents, rpc};
    rpc::serve(|state, caller| async move {
        Ok((
            catalog::environments(&state.db, &caller).await?,
            incidents::recent_deployments(&state.db, &caller).await?,
        ))
    })
    .await
}

/// Declares the incident, then shows it. Loose optional fields, as the form sends them.
#[server(prefix = "/rpc", endpoint = "declare_incident")]
pub async fn declare_incident(
    title: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    severity: Option<String>,
    commander: Option<String>,
    started_at: Option<String>,
    detected_at: Option<String>,
    description: Option<String>,
    causes: Option<Vec<i64>>,
) -> Result<(), AppError> {
    use crate::{
        backend::{incidents, rpc},
        domain::incidents::IncidentInput,
    };
    let input = IncidentInput {
        title: title.unwrap_or_default(),
        service: service.unwrap_or_default(),
        environment: environment.unwrap_or_default(),
        severity: severity.unwrap_or_default(),
        commander,
        started_at,
        detected_at,
        description,
        causes: causes.unwrap_or_default(),
        ..Default::default()
    };
    rpc::serve(|state, caller| async move {
        let incident = incidents::declare(&state, &caller, &input).await?;
        leptos_axum::redirect(&super::incident_path(incident.id));
        Ok(())
    })
    .await
}

/// The declare page.
#[component]
pub fn DeclarePage() -> impl IntoView {
    let declare = ServerAction::<DeclareIncident>::new();
    let environments = Resource::new(|| (), |_| declare_choices());
    view! {
        <Title text="Declare an incident" />
        <Protected action=Action::WriteIncidents>
            <p class="breadcrumb"><a href="/incidents">"Incidents"</a> " / new"</p>
            <h1>"Declare an incident"</h1>
            <p class="lead">"Say what is wrong and how bad it is; everything else can follow. Switchyard then suggests the deployments that may have caused it and records every operation on that environment in its timeline."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading environments…"</p> }>
                {move || Suspend::new(async move {
                    match environments.await {
                        Ok((environments, recent)) => view! { <DeclareForm environments recent declare /> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn DeclareForm(
    environments: Vec<Environment>,
    recent: Vec<RecentDeployment>,
    declare: ServerAction<DeclareIncident>,
) -> impl IntoView {
    let error = action_error(declare);
    let (services, names) = choices(&environments, "Choose…");
    let me = me().map(|user| user.name).unwrap_or_default();
    let severities = Severity::ALL
        .iter()
        .map(|severity| {
            let id = format!("severity-{}", severity.as_str());
            view! {
                <label class="choice" for=id.clone()>
                    <input type="radio" id=id.clone() name="severity" value=severity.as_str() checked=*severity == Severity::Sev2 />
                    <strong>{severity.as_str()}</strong>
                    <span class="hint block">{severity.meaning()}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <ActionForm action=declare attr:class="stack card" attr:novalidate=true>
            <FormError error />
            <Field label="What is wrong" name="title" error required=true placeholder="Checkout returns 502 for most users" />
            <div class="row">
                <SelectField label="Service" name="service" error_for="service" error options=services />
                <SelectField label="Environment" name="environment" error_for="environment" error options=names />
            </div>
            <fieldset class="choices">
                <legend>"Severity"</legend>
                {severities}
                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("severity"))}</p>
            </fieldset>
            <Field label="Commander" name="commander" error value=me hint="the username of who leads the response; you, unless you hand it over" />
            <div class="row">
                <Field label="Started (UTC)" name="started_at" error placeholder="YYYY-MM-DD HH:MM" hint="empty: now" />
                <Field label="Detected (UTC)" name="detected_at" error placeholder="YYYY-MM-DD HH:MM" hint="empty: when it started" />
            </div>
            <Causes recent error />
            <div class="field">
                <label for="field-description">"What is known so far"</label>
                <textarea id="field-description" name="description" rows="3"></textarea>
                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("description"))}</p>
            </div>
            <Submit label="Declare incident" busy_label="Declaring…" pending=declare.pending() class="danger" />
        </ActionForm>
    }
}

/// The deployments that finished in the last 24 hours, each a box to tick as a cause. Only
/// those of the chosen environment are accepted; the server says so by name otherwise.
#[component]
fn Causes(recent: Vec<RecentDeployment>, error: Signal<Option<AppError>>) -> impl IntoView {
    let body = if recent.is_empty() {
        view! { <p class="hint">"No deployment finished anywhere in the last 24 hours."</p> }
            .into_any()
    } else {
        recent
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let id = format!("cause-{}", d.deployment_id);
                view! {
                    <label class="choice" for=id.clone()>
                        <input type="checkbox" id=id.clone() name=format!("causes[{i}]") value=d.deployment_id />
                        <strong>{format!("{}/{} {}", d.service, d.environment, d.version)}</strong>
                        <span class="hint block">{format!("{} by {}, {}", d.status, d.shipped_by, d.age)}</span>
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <fieldset class="choices">
            <legend>"Likely causes: deployments that finished in the last 24 hours"</legend>
            {body}
            <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("deployment_id"))}</p>
        </fieldset>
    }
}
