//! Admin: users. Create them, change their roles, deactivate them, reset their passwords.

use leptos::prelude::*;
use leptos_meta::Title;

use super::role_options;
use crate::layout::AdminNav;
use crate::{
    components::{
        confirm::ConfirmSubmit,
        form::{action_error, reset_on_success, Field, FormError, Submit},
    },
    domain::{
        accounts::input::{NewUserInput, PasswordReset, UserUpdate},
        Action, Role,
    },
    error::AppError,
    pages::accounts::session::Protected,
};

#[cfg(feature = "ssr")]
use crate::backend::{accounts, accounts::manage, backups, rpc};
use crate::model::{BackupStatus, User};

/// Every user.
#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    rpc::serve(|state, caller| async move { manage::list_users(&state.db, &caller).await }).await
}

/// Creates a user.
#[server(prefix = "/rpc", endpoint = "create_user")]
pub async fn create_user(input: NewUserInput) -> Result<User, AppError> {
    rpc::serve(
        |state, caller| async move { accounts::create_user(&state.db, &caller, &input).await },
    )
    .await
}

/// Changes a user's role or active flag.
#[server(prefix = "/rpc", endpoint = "update_user")]
pub async fn update_user(update: UserUpdate) -> Result<User, AppError> {
    rpc::serve(|state, caller| async move {
        manage::update_user(&state.db, &state.callers, &caller, &update).await
    })
    .await
}

/// Sets a new password for a user.
#[server(prefix = "/rpc", endpoint = "reset_password")]
pub async fn reset_password(reset: PasswordReset) -> Result<(), AppError> {
    rpc::serve(|state, caller| async move {
        manage::reset_password(&state.db, &state.callers, &caller, &reset).await
    })
    .await
}

/// Clears a user's failed logins, ending any wait the login throttle imposed on them.
#[server(prefix = "/rpc", endpoint = "clear_login_failures")]
pub async fn clear_login_failures(id: i64) -> Result<u64, AppError> {
    rpc::serve(
        |state, caller| async move { manage::clear_login_failures(&state.db, &caller, id).await },
    )
    .await
}

/// How the scheduled backups stand, in a sentence.
#[server(prefix = "/rpc", endpoint = "backup_status")]
pub async fn read_backup_status() -> Result<BackupStatus, AppError> {
    rpc::serve(|state, caller| async move { backups::status(&state, &caller).await }).await
}

/// The users page, for admins.
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let clear = ServerAction::<ClearLoginFailures>::new();
    // Here, not in the table: the table is rebuilt when the answer reloads the users, and
    // what was pressed must outlive it.
    let answer = last_answer(update, reset, clear);
    let users = Resource::new(
        move || (create.version().get(), update.version().get()),
        |_| list_users(),
    );
    let backup = Resource::new(|| (), |()| read_backup_status());
    let create_error = action_error(create);
    let form = NodeRef::new();
    reset_on_success(create, form);
    view! {
        <Title text="Users" />
        <Protected action=Action::ManageUsers>
            <h1>"Admin"</h1>
            <AdminNav />
            <Suspense>
                {move || Suspend::new(async move {
                    backup.await.ok().map(|status| {
                        let class = if status.stale { "notice warning" } else { "notice" };
                        view! { <p class=class id="backup-status"><strong>"Backups: "</strong>{status.sentence}</p> }
                    })
                })}
            </Suspense>
            <section class="card" aria-labelledby="new-user-title">
                <h2 id="new-user-title">"New user"</h2>
                <ActionForm action=create node_ref=form attr:class="stack" attr:novalidate=true>
                    <FormError error=create_error />
                    <Field label="Username" name="input[username]" error_for="username" error=create_error required=true
                        hint="Letters, digits, '.', '_' and '-'; up to 64 characters." />
                    <Field label="Display name" name="input[display_name]" error_for="display_name" error=create_error hint="The username if left empty." />
                    <div class="field">
                        <label for="field-role">"Role"</label>
                        <select id="field-role" name="input[role]">{role_options(Role::Viewer)}</select>
                    </div>
                    <Field label="Password" name="input[password]" error_for="password" kind="password" error=create_error autocomplete="new-password"
                        required=true hint="At least 12 characters. Tell the user, who can change it from their account page." />
                    <Submit label="Create user" busy_label="Creating…" pending=create.pending() class="primary" />
                    <p class="form-success" role="status">
                        {move || match create.value().get() {
                            Some(Ok(user)) => Some(format!("Created {} ({}, {}): they can log in now.", user.username, user.display_name, user.role)),
                            _ => None,
                        }}
                    </p>
                </ActionForm>
            </section>
            <section class="card" aria-labelledby="users-title">
                <h2 id="users-title">"Users"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading users…"</p> }>
                    {move || Suspend::new(async move {
                        match users.await {
                            Ok(users) => view! { <UserTable users update reset clear answer /> }.into_any(),
                            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </Protected>
    }
}

/// The button pressed last: a user's update (role or status), password reset, or clearing
/// of failed logins.
#[derive(Clone)]
enum Pressed {
    Update(UserUpdate),
    Reset(i64),
    Clear(i64),
}

/// Which of a row's buttons an answer belongs beside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Button {
    Role,
    Status,
    Password,
    Logins,
}

impl Pressed {
    /// The button of `user`'s row this press came from, if it came from that row. A status
    /// press flips `active`; a role press keeps it.
    fn button_for(&self, user: &User) -> Option<Button> {
        match self {
            Self::Update(update) if update.id == user.id => Some(if update.active == user.active {
                Button::Role
            } else {
                Button::Status
            }),
            Self::Reset(id) if *id == user.id => Some(Button::Password),
            Self::Clear(id) if *id == user.id => Some(Button::Logins),
            _ => None,
        }
    }
}

/// The server's answer to the last press, with the press: `Err` holds a refusal to show
/// beside the button, `Ok` a confirmation.
type Answer = Option<(Pressed, Result<&'static str, String>)>;

fn last_answer(
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetPassword>,
    clear: ServerAction<ClearLoginFailures>,
) -> Signal<Answer> {
    // An action's input is only set while it runs: remember it for when the answer comes.
    let pressed = RwSignal::new(None::<Pressed>);
    Effect::new(move || {
        if let Some(input) = update.input().get() {
            pressed.set(Some(Pressed::Update(input.update)));
        }
    });
    Effect::new(move || {
        if let Some(input) = reset.input().get() {
            pressed.set(Some(Pressed::Reset(input.reset.id)));
        }
    });
    Effect::new(move || {
        if let Some(input) = clear.input().get() {
            pressed.set(Some(Pressed::Clear(input.id)));
        }
    });
    Signal::derive(move || {
        let pressed = pressed.get()?;
        let answer = match &pressed {
            Pressed::Update(_) => match update.value().get()? {
                Ok(_) => Ok("Saved."),
                Err(error) => Err(error.to_string()),
            },
            Pressed::Reset(_) => match reset.value().get()? {
                Ok(()) => Ok("Password set; their sessions have ended."),
                Err(error) => Err(error.to_string()),
            },
            Pressed::Clear(_) => match clear.value().get()? {
                Ok(0) => Ok("No failed logins to clear."),
                Ok(_) => Ok("Cleared: they can log in again now."),
                Err(error) => Err(error.to_string()),
            },
        };
        Some((pressed, answer))
    })
}

/// The answer beside `button` of `user`'s row, if the last press was that button.
#[component]
fn RowAnswer(answer: Signal<Answer>, user: User, button: Button) -> impl IntoView {
    let mine = move || {
        answer
            .get()
            .filter(|(pressed, _)| pressed.button_for(&user) == Some(button))
            .map(|(_, answer)| answer)
    };
    view! {
        <span class="row-answer" role="status">
            {move || match mine() {
                Some(Ok(text)) => view! { <span class="form-success">{text}</span> }.into_any(),
                Some(Err(text)) => view! { <span class="form-error">{text}</span> }.into_any(),
                None => ().into_any(),
            }}
        </span>
    }
}

#[component]
fn UserTable(
    users: Vec<User>,
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetPassword>,
    clear: ServerAction<ClearLoginFailures>,
    answer: Signal<Answer>,
) -> impl IntoView {
    // Rows are built afresh after every answer: a refused role change shows the saved role
    // again, not the one picked in the dropdown.
    let generation = update.version().get_untracked() + reset.version().get_untracked();
    view! {
        <div class="table-wrap">
            <table class="stacked">
                <thead><tr>
                    <th scope="col">"Username"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Password"</th>
                    <th scope="col">"Failed logins"</th>
                </tr></thead>
                <tbody>
                    <For each=move || users.clone() key=move |user| (generation, user.id) let:user>
                        <UserRow user update reset clear answer />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    user: User,
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetPassword>,
    clear: ServerAction<ClearLoginFailures>,
    answer: Signal<Answer>,
) -> impl IntoView {
    let (id, active, role) = (user.id, user.active, user.role);
    let name = user.username.clone();
    let select_id = format!("role-{id}");
    let password_id = format!("password-{id}");
    let (role_label, save_label) = (format!("Role of {name}"), format!("Save role of {name}"));
    let (password_label, set_label) = (
        format!("New password for {name}"),
        format!("Set password of {name}"),
    );
    let status = if active {
        view! {
            <ConfirmSubmit label="Deactivate" accessible_label=format!("Deactivate {name}")
                question=format!("Deactivate {name}? Their sessions end and the API tokens they created are revoked.")
                confirm=format!("Yes, deactivate {name}") pending=update.pending() />
        }
        .into_any()
    } else {
        view! { <button type="submit" aria-label=format!("Reactivate {name}")>"Reactivate"</button> }.into_any()
    };
    let (for_role, for_status, for_password) = (user.clone(), user.clone(), user.clone());
    let clear_label = format!("Clear the failed logins of {name}, wherever they came from");
    view! {
        <tr class:inactive=!active>
            <th scope="row" data-label="Username">{name}</th>
            <td data-label="Name">{user.display_name.clone()}</td>
            <td data-label="Role">
                <ActionForm action=update attr:class="inline">
                    <input type="hidden" name="update[id]" value=id />
                    <input type="hidden" name="update[active]" value=active.to_string() />
                    <label for=select_id.clone() class="visually-hidden">{role_label}</label>
                    <select id=select_id name="update[role]">{role_options(role)}</select>
                    <button type="submit" aria-label=save_label>"Save role"</button>
                    <RowAnswer answer user=for_role button=Button::Role />
                </ActionForm>
            </td>
            <td data-label="Status">
                <ActionForm action=update attr:class="inline">
                    <input type="hidden" name="update[id]" value=id />
                    <input type="hidden" name="update[role]" value=role.as_str() />
                    <input type="hidden" name="update[active]" value=(!active).to_string() />
                    {if active { "Active " } else { "Deactivated " }}
                    {status}
                    <RowAnswer answer user=for_status button=Button::Status />
                </ActionForm>
            </td>
            <td data-label="Password">
                <ActionForm action=reset attr:class="inline">
                    <input type="hidden" name="reset[id]" value=id />
                    <label for=password_id.clone() class="visually-hidden">{password_label}</label>
                    <input id=password_id type="password" name="reset[password]" autocomplete="new-password" placeholder="New password" />
                    <button type="submit" aria-label=set_label>"Set password"</button>
                    <RowAnswer answer user=for_password button=Button::Password />
                </ActionForm>
            </td>
            <td data-label="Failed logins">
                <ActionForm action=clear attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" aria-label=clear_label>"Clear"</button>
                    <RowAnswer answer user button=Button::Logins />
                </ActionForm>
            </td>
        </tr>
    }
}
