//! The account page: change one's password, see one's sessions and end the others.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    components::{
        confirm::ConfirmSubmit,
        form::{action_error, reset_on_success, Field, FormError, Submit},
    },
    domain::{accounts::input::PasswordChange, Action, Timestamp},
    error::AppError,
    pages::accounts::session::Protected,
};

/// One of the caller's sessions, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub handle: String,
    pub current: bool,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub client_address: Option<String>,
    /// The browser and system in words ("Firefox 133 on Linux").
    pub browser: String,
    /// The raw `User-Agent`, for whoever wants every detail.
    pub user_agent: Option<String>,
}

/// The caller's live sessions.
#[server(prefix = "/rpc", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionRow>, AppError> {
    use crate::{
        backend::{accounts, rpc},
        domain::accounts::agent::describe_agent,
    };
    rpc::serve(|state, caller| async move {
        let (sessions, current) = accounts::own_sessions(&state.db, &caller).await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionRow {
                current: s.handle == current,
                handle: s.handle,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                client_address: s.client_address,
                browser: describe_agent(s.user_agent.as_deref().unwrap_or_default()),
                user_agent: s.user_agent,
            })
            .collect())
    })
    .await
}

/// Ends one of the caller's sessions (`handle`), or all others when `handle` is empty.
#[server(prefix = "/rpc", endpoint = "end_sessions")]
pub async fn end_sessions(handle: String) -> Result<u64, AppError> {
    use crate::backend::{accounts, rpc};
    rpc::serve(|state, caller| async move {
        let handle = Some(handle.as_str()).filter(|h| !h.is_empty());
        accounts::end_own_sessions(&state.db, &state.callers, &caller, handle).await
    })
    .await
}

/// Changes the caller's password.
#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(change: PasswordChange) -> Result<(), AppError> {
    use crate::backend::{accounts, rpc};
    rpc::serve(|state, caller| async move {
        accounts::change_own_password(&state.db, &state.callers, &caller, &change).await
    })
    .await
}

/// The page, for anyone logged in.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account" />
        <Protected action=Action::ManageOwnAccount>
            <h1>"Your account"</h1>
            <PasswordForm />
            <SessionList />
        </Protected>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = action_error(change);
    let form = NodeRef::new();
    reset_on_success(change, form);
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change your password"</h2>
            <ActionForm action=change node_ref=form attr:class="stack" attr:novalidate=true>
                <FormError error />
                <Field label="Current password" name="change[current_password]" error_for="current_password" kind="password" error autocomplete="current-password" required=true />
                <Field label="New password" name="change[new_password]" error_for="new_password" kind="password" error autocomplete="new-password" required=true hint="At least 12 characters." />
                <Field label="New password again" name="change[new_password_confirmation]" error_for="new_password_confirmation" kind="password" error autocomplete="new-password" required=true />
                <Submit label="Change password" busy_label="Changing…" pending=change.pending() />
                <p class="form-success" role="status">
                    {move || done().then_some("Password changed. Your other sessions have ended.")}
                </p>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionList() -> impl IntoView {
    let end = ServerAction::<EndSessions>::new();
    let error = action_error(end);
    let sessions = Resource::new(move || end.version().get(), |_| my_sessions());
    view! {
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Your sessions"</h2>
            <p class="hint">"Every browser where you are logged in. End any you do not recognise, then change your password."</p>
            <FormError error />
            <Transition fallback=|| view! { <p class="loading">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(rows) => view! { <SessionTable rows end /> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SessionTable(rows: Vec<SessionRow>, end: ServerAction<EndSessions>) -> impl IntoView {
    let others = rows.iter().filter(|row| !row.current).count();
    view! {
        <div class="table-wrap">
            <table class="stacked">
                <thead><tr>
                    <th scope="col">"Browser"</th>
                    <th scope="col">"Address"</th>
                    <th scope="col">"Logged in"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let action = if row.current {
                            view! { <strong>"This session"</strong> }.into_any()
                        } else {
                            let question = format!("End the session of {}? That browser is logged out at once.", row.browser);
                            let label = format!("End session of {}", row.browser);
                            view! {
                                <ActionForm action=end attr:class="inline">
                                    <input type="hidden" name="handle" value=row.handle.clone() />
                                    <ConfirmSubmit label="End session" accessible_label=label
                                        question confirm="Yes, end it" pending=end.pending() />
                                </ActionForm>
                            }.into_any()
                        };
                        view! {
                            <tr>
                                <td data-label="Browser" title=row.user_agent.clone()>{row.browser.clone()}</td>
                                <td data-label="Address">{row.client_address.clone().unwrap_or_else(|| "Unknown".to_owned())}</td>
                                <td data-label="Logged in">{row.created_at.to_string()}</td>
                                <td data-label="Last used">{row.last_seen_at.to_string()}</td>
                                <td>{action}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(others > 0).then(|| view! {
            <ActionForm action=end>
                <input type="hidden" name="handle" value="" />
                <ConfirmSubmit label="End all other sessions" accessible_label="End all other sessions"
                    question=format!("End your {others} other session{}? Those browsers are logged out at once.", if others == 1 { "" } else { "s" })
                    confirm="Yes, end them" pending=end.pending() />
            </ActionForm>
        })}
    }
}
