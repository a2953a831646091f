//! Admin: API tokens for CI pipelines and scripts. Create (the secret is shown once), list,
//! revoke.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::role_options;
use crate::layout::AdminNav;
use crate::{
    components::{
        confirm::ConfirmSubmit,
        copy::CopyButton,
        form::{action_error, reset_on_success, Field, FormError, Submit},
    },
    domain::{accounts::input::NewTokenInput, Action, Role, Timestamp},
    error::AppError,
    model::{ApiToken, CreatedToken},
    pages::accounts::session::Protected,
};

#[cfg(feature = "ssr")]
use crate::backend::{accounts::manage, accounts::store::tokens::TokenRef, catalog, rpc};

/// Every token, and the server's clock to tell live from expired.
#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<(Vec<ApiToken>, Timestamp), AppError> {
    rpc::serve(|state, caller| async move {
        let tokens = manage::list_tokens(&state.db, &caller).await?;
        Ok((tokens, Timestamp::now()))
    })
    .await
}

/// A created token and how to use it at once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenShown {
    pub created: CreatedToken,
    /// The JSON body of a deployment to record with it, for a catalogued environment.
    pub example_body: String,
}

/// Creates a token.
#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(input: NewTokenInput) -> Result<TokenShown, AppError> {
    rpc::serve(|state, caller| async move {
        let created = manage::create_token(&state.db, &caller, &input).await?;
        let environments = catalog::environments(&state.db, &caller).await?;
        Ok(TokenShown {
            created,
            example_body: example_body(environments.first()),
        })
    })
    .await
}

/// A deployment of the first catalogued environment (or of placeholders before there is one)
/// as the REST API takes it.
#[cfg(feature = "ssr")]
fn example_body(environment: Option<&crate::model::Environment>) -> String {
    let (service, name) = environment.map_or(("my-service", "production"), |e| {
        (e.service.as_str(), e.name.as_str())
    });
    serde_json::json!({
        "service": service,
        "environment": name,
        "version": "1.0.0",
        "status": "succeeded",
    })
    .to_string()
}

/// The command line that records a deployment with `secret`, against the server this page
/// came from (the browser knows the address it used, proxies included).
fn curl_line(secret: &str, body: &str) -> String {
    #[cfg(feature = "hydrate")]
    let origin = window().location().origin().unwrap_or_default();
    #[cfg(not(feature = "hydrate"))]
    let origin = String::from("http://localhost:3000");
    format!(
        "curl -X POST {origin}/api/v1/deployments -H 'Authorization: Bearer {secret}' -H 'Content-Type: application/json' -d '{body}'"
    )
}

/// Revokes a token.
#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<ApiToken, AppError> {
    rpc::serve(|state, caller| async move {
        manage::revoke_token(&state.db, &caller, TokenRef::Id(id)).await
    })
    .await
}

/// The tokens page, for admins.
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let create_error = action_error(create);
    let form = NodeRef::new();
    reset_on_success(create, form);
    let revoke_error = action_error(revoke);
    view! {
        <Title text="API tokens" />
        <Protected action=Action::ManageTokens>
            <h1>"Admin"</h1>
            <AdminNav />
            <section class="card" aria-labelledby="new-token-title">
                <h2 id="new-token-title">"New API token"</h2>
                <p class="hint">"For CI pipelines and scripts: send it as " <code>"Authorization: Bearer <token>"</code> " to the REST API."</p>
                <ActionForm action=create node_ref=form attr:class="stack" attr:novalidate=true>
                    <FormError error=create_error />
                    <Field label="Name" name="input[name]" error_for="name" error=create_error required=true hint="The pipeline or script that will use it, e.g. ci-main." />
                    <div class="field">
                        <label for="token-role">"Role"</label>
                        <select id="token-role" name="input[role]">{role_options(Role::Engineer)}</select>
                    </div>
                    <div class="field">
                        <label for="field-expires">"Expires after"</label>
                        <select id="field-expires" name="input[expires]">
                            <option value="30d">"30 days"</option>
                            <option value="90d" selected=true>"90 days"</option>
                            <option value="365d">"1 year"</option>
                            <option value="never">"Never"</option>
                        </select>
                        <p class="field-error" role="alert">{move || create_error.get().and_then(|e| e.message_for("expires"))}</p>
                    </div>
                    <Submit label="Create token" busy_label="Creating…" pending=create.pending() class="primary" />
                </ActionForm>
                {move || match create.value().get() {
                    Some(Ok(shown)) => Some(view! { <CreatedSecret shown /> }),
                    _ => None,
                }}
            </section>
            <section class="card" aria-labelledby="tokens-title">
                <h2 id="tokens-title">"Tokens"</h2>
                <FormError error=revoke_error />
                <Transition fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
                    {move || Suspend::new(async move {
                        match tokens.await {
                            Ok((tokens, _)) if tokens.is_empty() => view! { <p class="empty-state">"No tokens yet. Create one above for each CI pipeline that records deployments."</p> }.into_any(),
                            Ok((tokens, now)) => view! { <TokenTable tokens now revoke /> }.into_any(),
                            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </Protected>
    }
}

/// The new secret, once, with a copy button and a command that uses it.
#[component]
fn CreatedSecret(shown: TokenShown) -> impl IntoView {
    let TokenShown {
        created,
        example_body,
    } = shown;
    let curl = curl_line(&created.secret, &example_body);
    view! {
        <div class="secret" role="status">
            <p><strong>{format!("Token {} created ({}). Copy it now: it is not shown again.", created.token.name, created.token.role)}</strong></p>
            <div class="copyable">
                <code class="token-secret" id="token-secret">{created.secret.clone()}</code>
                <CopyButton text=created.secret label="Copy token" />
            </div>
            <p>"Record a deployment with it:"</p>
            <div class="copyable">
                <pre class="command" id="token-curl">{curl.clone()}</pre>
                <CopyButton text=curl label="Copy command" />
            </div>
        </div>
    }
}

fn or_never(moment: Option<Timestamp>, never: &'static str) -> String {
    moment.map_or_else(|| never.to_owned(), |t| t.to_string())
}

#[component]
fn TokenTable(
    tokens: Vec<ApiToken>,
    now: Timestamp,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="stacked">
                <thead><tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Created by"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Status"</th>
                </tr></thead>
                <tbody>
                    {tokens.into_iter().map(|token| {
                        let revoke_label = format!("Revoke {}", token.name);
                        let question = format!("Revoke {}? Pipelines using it are refused from now on.", token.name);
                        let confirm = format!("Yes, revoke {}", token.name);
                        let status = if token.revoked_at.is_some() {
                            view! { "Revoked" }.into_any()
                        } else if !token.is_live(now) {
                            view! { "Expired" }.into_any()
                        } else {
                            view! {
                                <ActionForm action=revoke attr:class="inline">
                                    <input type="hidden" name="id" value=token.id />
                                    "Active "
                                    <ConfirmSubmit label="Revoke" accessible_label=revoke_label
                                        question confirm pending=revoke.pending() />
                                </ActionForm>
                            }.into_any()
                        };
                        view! {
                            <tr class:inactive=!token.is_live(now)>
                                <th scope="row" data-label="Name">{token.name.clone()}</th>
                                <td data-label="Role">{token.role.as_str()}</td>
                                <td data-label="Created by">{token.created_by.clone()}</td>
                                <td data-label="Created">{token.created_at.to_string()}</td>
                                <td data-label="Last used">{or_never(token.last_used_at, "Never")}</td>
                                <td data-label="Expires">{or_never(token.expires_at, "Never")}</td>
                                <td data-label="Status">{status}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
