//! Admin: services and their environments. Drivers that act on environments are set in the
//! server's configuration file, never here.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::layout::AdminNav;
use crate::{
    components::{
        form::{action_error, reset_on_success, Field, FormError, SelectField, Submit},
        links::{EnvironmentLink, ServiceLink},
    },
    domain::{
        catalog::{
            EnvironmentInput, ServiceInput, SlotColor, SlotInput, SlotsInput, Strategy, Tier,
        },
        Action,
    },
    error::AppError,
    model::{Environment, GithubEnvironment, Service},
    pages::accounts::session::Protected,
    pages::deployments::list_environments,
};

/// Every service.
#[server(prefix = "/rpc", endpoint = "list_services")]
pub async fn list_services() -> Result<Vec<Service>, AppError> {
    use crate::backend::{catalog, rpc};
    rpc::serve(|state, caller| async move { catalog::services(&state.db, &caller).await }).await
}

/// Creates a service.
#[server(prefix = "/rpc", endpoint = "create_service")]
pub async fn create_service(service: ServiceInput) -> Result<Service, AppError> {
    use crate::backend::{catalog, rpc};
    rpc::serve(|state, caller| async move {
        Ok(catalog::create_service(&state.db, &caller, &service, None)
            .await?
            .value)
    })
    .await
}

/// The environment form as posted: flat, one input per slot address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentForm {
    pub service: String,
    pub name: String,
    pub tier: String,
    pub strategy: String,
    #[serde(default)]
    pub blue_upstream: String,
    #[serde(default)]
    pub blue_health_url: String,
    #[serde(default)]
    pub green_upstream: String,
    #[serde(default)]
    pub green_health_url: String,
}

/// The environment as the API takes it: slots only when any slot address was typed or the
/// strategy is blue-green (which needs them).
impl From<&EnvironmentForm> for EnvironmentInput {
    fn from(form: &EnvironmentForm) -> Self {
        let addresses = [
            &form.blue_upstream,
            &form.blue_health_url,
            &form.green_upstream,
            &form.green_health_url,
        ];
        let any_slot = addresses.iter().any(|a| !a.trim().is_empty());
        let blue_green = form.strategy == Strategy::BlueGreen.as_str();
        let slots = (any_slot || blue_green).then(|| SlotsInput {
            blue: SlotInput {
                upstream: form.blue_upstream.clone(),
                health_url: form.blue_health_url.clone(),
            },
            green: SlotInput {
                upstream: form.green_upstream.clone(),
                health_url: form.green_health_url.clone(),
            },
        });
        EnvironmentInput {
            name: form.name.clone(),
            tier: form.tier.clone(),
            strategy: form.strategy.clone(),
            slots,
        }
    }
}

/// Creates an environment.
#[server(prefix = "/rpc", endpoint = "create_environment")]
pub async fn create_environment(environment: EnvironmentForm) -> Result<Environment, AppError> {
    use crate::backend::{catalog, rpc};
    rpc::serve(|state, caller| async move {
        let input = EnvironmentInput::from(&environment);
        let made = catalog::create_environment(&state, &caller, &environment.service, &input, None)
            .await?;
        Ok(made.value)
    })
    .await
}

/// Changes an environment's tier and slot addresses.
#[server(prefix = "/rpc", endpoint = "update_environment")]
pub async fn update_environment(edit: EnvironmentForm) -> Result<Environment, AppError> {
    use crate::{
        backend::{catalog, rpc},
        domain::catalog::EnvironmentPatch,
    };
    rpc::serve(|state, caller| async move {
        let input = EnvironmentInput::from(&edit);
        let patch = EnvironmentPatch {
            tier: Some(input.tier),
            slots: input.slots,
        };
        catalog::update_environment(&state, &caller, &edit.service, &edit.name, &patch).await
    })
    .await
}

/// GitHub environments that matched none of Switchyard's.
#[server(prefix = "/rpc", endpoint = "github_environments")]
pub async fn github_environments() -> Result<Vec<GithubEnvironment>, AppError> {
    use crate::backend::{deployments::webhooks, rpc};
    rpc::serve(
        |state, caller| async move { webhooks::github_environments(&state.db, &caller).await },
    )
    .await
}

/// The decision form: which listed environment, and `choice` (`to:<environment>`, `ignore`
/// or `wait`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubDecisionForm {
    pub service: String,
    pub name: String,
    pub choice: String,
}

/// Maps a listed GitHub environment, ignores it, or puts it back to waiting.
#[server(prefix = "/rpc", endpoint = "decide_github_environment")]
pub async fn decide_github_environment(
    decision: GithubDecisionForm,
) -> Result<GithubEnvironment, AppError> {
    use crate::backend::{deployments::webhooks, rpc};
    use crate::domain::deployments::webhook::Disposition;
    rpc::serve(|state, caller| async move {
        let disposition = Disposition::parse_choice(&decision.choice)?;
        webhooks::decide(
            &state.db,
            &caller,
            &decision.service,
            &decision.name,
            &disposition,
        )
        .await
    })
    .await
}

fn options<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter()
        .map(|&w| (name(w).to_owned(), name(w).replace('_', "-")))
        .collect()
}

/// The services page, for admins.
#[component]
pub fn CatalogAdminPage() -> impl IntoView {
    let new_service = ServerAction::<CreateService>::new();
    let new_environment = ServerAction::<CreateEnvironment>::new();
    // Each environment's edit form has its own action; any of them succeeding reloads the list.
    // (A counter, not a trigger: a resource refetches only when its source's value changes.)
    let edited = RwSignal::new(0_u32);
    let services = Resource::new(move || new_service.version().get(), |_| list_services());
    let environments = Resource::new(
        move || (new_environment.version().get(), edited.get()),
        |_| list_environments(),
    );
    let service_error = action_error(new_service);
    let environment_error = action_error(new_environment);
    let service_form = NodeRef::new();
    reset_on_success(new_service, service_form);
    let environment_form = NodeRef::new();
    reset_on_success(new_environment, environment_form);
    view! {
        <Title text="Services" />
        <Protected action=Action::ManageCatalog>
            <h1>"Admin"</h1>
            <AdminNav />
            <section class="card" aria-labelledby="new-service-title">
                <h2 id="new-service-title">"New service"</h2>
                <ActionForm action=new_service node_ref=service_form attr:class="stack" attr:novalidate=true>
                    <FormError error=service_error />
                    <Field label="Name" name="service[name]" error_for="name" error=service_error required=true hint="As in URLs: lowercase letters, digits, '-', '_' and '.', starting with a letter or digit; e.g. china-car-parts." id_suffix="-service" />
                    <Field label="Description" name="service[description]" error_for="description" error=service_error id_suffix="-service" />
                    <Field label="Owner team" name="service[owner_team]" error_for="owner_team" error=service_error />
                    <Submit label="Create service" busy_label="Creating…" pending=new_service.pending() class="primary" />
                    <p class="form-success" role="status">
                        {move || match new_service.value().get() {
                            Some(Ok(service)) => Some(view! {
                                {format!("Created service {}. ", service.name)}
                                <ServiceLink service=service.name /> " — add its environments below."
                            }),
                            _ => None,
                        }}
                    </p>
                </ActionForm>
            </section>
            <section class="card" aria-labelledby="new-environment-title">
                <h2 id="new-environment-title">"New environment"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading services…"</p> }>
                    {move || Suspend::new(async move {
                        let services = services.await.unwrap_or_default();
                        if services.is_empty() {
                            return view! { <p class="hint">"Create a service first."</p> }.into_any();
                        }
                        let choices: Vec<(String, String)> = services.iter().map(|s| (s.name.clone(), s.name.clone())).collect();
                        view! {
                            <ActionForm action=new_environment node_ref=environment_form attr:class="stack" attr:novalidate=true>
                                <FormError error=environment_error />
                                <div class="row">
                                    <SelectField label="Service" name="environment[service]" error_for="service" error=environment_error options=choices />
                                    <Field label="Name" name="environment[name]" error_for="name" error=environment_error required=true placeholder="production" id_suffix="-environment" />
                                    <SelectField label="Tier" name="environment[tier]" error_for="tier" error=environment_error options=options(Tier::ALL, Tier::as_str) />
                                    <SelectField label="Strategy" name="environment[strategy]" error_for="strategy" error=environment_error options=Strategy::ALL.iter().map(|s| (s.as_str().to_owned(), s.label().to_owned())).collect() />
                                </div>
                                // Hidden by the stylesheet while another strategy is chosen.
                                <fieldset class="slot-fields">
                                    <legend>"Slots"</legend>
                                    <p class="hint">"Where the blue and green slots answer, and the URL that says each is healthy."</p>
                                    <p class="field-error" role="alert">{move || environment_error.get().and_then(|e| e.message_for("slots"))}</p>
                                    <div class="row">
                                        <Field label="Blue upstream" name="environment[blue_upstream]" error_for="slots.blue.upstream" error=environment_error kind="url" placeholder="http://10.0.0.1:8080" />
                                        <Field label="Blue health URL" name="environment[blue_health_url]" error_for="slots.blue.health_url" error=environment_error kind="url" />
                                    </div>
                                    <div class="row">
                                        <Field label="Green upstream" name="environment[green_upstream]" error_for="slots.green.upstream" error=environment_error kind="url" placeholder="http://10.0.0.2:8080" />
                                        <Field label="Green health URL" name="environment[green_health_url]" error_for="slots.green.health_url" error=environment_error kind="url" />
                                    </div>
                                </fieldset>
                                <Submit label="Create environment" busy_label="Creating…" pending=new_environment.pending() class="primary" />
                                <p class="form-success" role="status">
                                    {move || match new_environment.value().get() {
                                        Some(Ok(env)) => Some(view! {
                                            {format!("Created {} of {}: ", env.name, env.service)}
                                            <EnvironmentLink service=env.service.clone() environment=env.name.clone() />
                                        }),
                                        _ => None,
                                    }}
                                </p>
                            </ActionForm>
                        }.into_any()
                    })}
                </Transition>
            </section>
            <section class="card" aria-labelledby="environments-title">
                <h2 id="environments-title">"Environments"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading environments…"</p> }>
                    {move || Suspend::new(async move {
                        match environments.await {
                            Ok(rows) if rows.is_empty() => view! { <p class="empty-state">"No environments yet. Create one above for each place a service runs: production, staging…"</p> }.into_any(),
                            Ok(rows) => view! {
                                <EnvironmentList rows=rows.clone() />
                                {rows.into_iter().map(|environment| view! { <EditEnvironment environment edited /> }).collect_view()}
                            }.into_any(),
                            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <GithubEnvironments edited />
        </Protected>
    }
}

/// The GitHub environments without a match, each with its decision form.
#[component]
fn GithubEnvironments(edited: RwSignal<u32>) -> impl IntoView {
    let decide = ServerAction::<DecideGithubEnvironment>::new();
    let error = action_error(decide);
    let listed = Resource::new(
        move || (decide.version().get(), edited.get()),
        |_| github_environments(),
    );
    view! {
        <section class="card" aria-labelledby="github-environments-title">
            <h2 id="github-environments-title">"GitHub environments without a match"</h2>
            <p class="hint">"Deployments GitHub reported for an environment none of yours matches. They were acknowledged, not recorded: record the next ones in one of the service's environments, or ignore them (GitHub Pages, say)."</p>
            <FormError error />
            <Transition fallback=|| view! { <p class="loading">"Loading GitHub environments…"</p> }>
                {move || Suspend::new(async move {
                    match listed.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty-state">"None: every GitHub environment reported so far matched one of yours."</p> }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-wrap">
                                <table class="stacked">
                                    <thead><tr>
                                        <th scope="col">"GitHub environment"</th>
                                        <th scope="col">"Service"</th>
                                        <th scope="col">"Events"</th>
                                        <th scope="col">"Last seen"</th>
                                        <th scope="col">"Now"</th>
                                        <th scope="col">"Decision"</th>
                                    </tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|row| view! { <GithubEnvironmentRow row decide /> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn GithubEnvironmentRow(
    row: GithubEnvironment,
    decide: ServerAction<DecideGithubEnvironment>,
) -> impl IntoView {
    let id = format!("decision-{}-{}", row.service, row.name.replace(' ', "-"));
    let current = match (&row.maps_to, row.ignored) {
        (Some(to), _) => format!("to:{to}"),
        (None, true) => "ignore".to_owned(),
        (None, false) => "wait".to_owned(),
    };
    let mut choices: Vec<(String, String)> = row
        .choices
        .iter()
        .map(|env| (format!("to:{env}"), format!("Record in {env}")))
        .collect();
    choices.push(("ignore".into(), "Ignore its events".into()));
    choices.push(("wait".into(), "Decide later".into()));
    view! {
        <tr>
            <th scope="row" data-label="GitHub environment">{row.name.clone()}<span class="block small">{row.repository.clone()}</span></th>
            <td data-label="Service">{row.service.clone()}{row.choices.is_empty().then(|| view! { <span class="block small">"No such service yet: create it above to map this."</span> })}</td>
            <td data-label="Events">{row.events}</td>
            <td data-label="Last seen">{row.last_seen.to_string()}</td>
            <td data-label="Now">{row.state.clone()}</td>
            <td data-label="Decision">
                <ActionForm action=decide attr:class="inline">
                    <input type="hidden" name="decision[service]" value=row.service.clone() />
                    <input type="hidden" name="decision[name]" value=row.name.clone() />
                    <label class="visually-hidden" for=id.clone()>{format!("Decision for {}", row.name)}</label>
                    <select id=id name="decision[choice]">
                        {choices.into_iter().map(|(value, text)| {
                            let selected = value == current;
                            view! { <option value=value selected=selected>{text}</option> }
                        }).collect_view()}
                    </select>
                    <Submit label="Save" busy_label="Saving…" pending=decide.pending() />
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn EnvironmentList(rows: Vec<Environment>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="stacked">
                <thead><tr>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Environment"</th>
                    <th scope="col">"Tier"</th>
                    <th scope="col">"Strategy"</th>
                    <th scope="col">"Slots"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|env| {
                        let slots = env.slots.iter().map(|slot| {
                            let live = if Some(slot.color) == env.live_slot { " (live)" } else { "" };
                            format!("{}{live}: {}", slot.color, slot.upstream)
                        }).collect::<Vec<_>>().join("; ");
                        view! {
                            <tr>
                                <th scope="row" data-label="Service">
                                    <ServiceLink service=env.service.clone() />
                                    <a class="block small" href=format!("/admin/services/{}/checklist", crate::components::url::encode(&env.service))>"Release checklist"</a>
                                </th>
                                <td data-label="Environment"><EnvironmentLink service=env.service.clone() environment=env.name.clone() /></td>
                                <td data-label="Tier">{env.tier.as_str()}</td>
                                <td data-label="Strategy">{env.strategy.label()}</td>
                                <td data-label="Slots">{slots}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The form that changes one environment's tier and, for blue-green, its slots' addresses.
#[component]
fn EditEnvironment(environment: Environment, edited: RwSignal<u32>) -> impl IntoView {
    let edit = ServerAction::<UpdateEnvironment>::new();
    let error = action_error(edit);
    Effect::new(move || {
        if let Some(Ok(_)) = edit.value().get() {
            edited.update(|count| *count += 1);
        }
    });
    let key = format!("{}/{}", environment.service, environment.name);
    let suffix = format!("-{}-{}", environment.service, environment.name);
    let address = |color: SlotColor, part: fn(&crate::model::Slot) -> String| {
        environment
            .slots
            .iter()
            .find(|s| s.color == color)
            .map(part)
            .unwrap_or_default()
    };
    let upstream = |s: &crate::model::Slot| s.upstream.clone();
    let health = |s: &crate::model::Slot| s.health_url.clone();
    let slots = (environment.strategy == Strategy::BlueGreen).then(|| {
        let suffix = suffix.clone();
        view! {
            <div class="row">
                <Field label="Blue upstream" name="edit[blue_upstream]" error_for="slots.blue.upstream" error kind="url" value=address(SlotColor::Blue, upstream) id_suffix=suffix.clone() />
                <Field label="Blue health URL" name="edit[blue_health_url]" error_for="slots.blue.health_url" error kind="url" value=address(SlotColor::Blue, health) id_suffix=suffix.clone() />
            </div>
            <div class="row">
                <Field label="Green upstream" name="edit[green_upstream]" error_for="slots.green.upstream" error kind="url" value=address(SlotColor::Green, upstream) id_suffix=suffix.clone() />
                <Field label="Green health URL" name="edit[green_health_url]" error_for="slots.green.health_url" error kind="url" value=address(SlotColor::Green, health) id_suffix=suffix />
            </div>
        }
    });
    view! {
        <details class="card edit">
            <summary>{format!("Edit {key}")}</summary>
            <ActionForm action=edit attr:class="stack" attr:novalidate=true>
                <FormError error />
                <input type="hidden" name="edit[service]" value=environment.service.clone() />
                <input type="hidden" name="edit[name]" value=environment.name.clone() />
                <input type="hidden" name="edit[strategy]" value=environment.strategy.as_str() />
                <SelectField label="Tier" name="edit[tier]" error_for="tier" error options=options(Tier::ALL, Tier::as_str) selected=environment.tier.as_str() id_suffix=suffix.clone() />
                {slots}
                <Submit label="Save changes" busy_label="Saving…" pending=edit.pending() />
                {move || matches!(edit.value().get(), Some(Ok(_))).then(|| view! { <p class="form-success" role="status">"Saved."</p> })}
            </ActionForm>
        </details>
    }
}
