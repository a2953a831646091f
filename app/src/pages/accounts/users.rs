//! Admin: users. Create them, change their roles, deactivate them, reset their passwords.

use leptos::prelude::*;
use leptos_meta::Title;

use super::role_options;
use crate::layout::AdminNav;
use crate::{
    components::form::{action_error, reset_on_success, Field, FormError, Submit},
    domain::{
        accounts::input::{NewUserInput, PasswordReset, UserUpdate},
        Action, Role,
    },
    error::AppError,
    pages::accounts::session::Protected,
};

#[cfg(feature = "ssr")]
use crate::backend::{accounts, accounts::manage, rpc};
use crate::model::User;

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

/// The users page, for admins.
#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = Resource::new(
        move || (create.version().get(), update.version().get()),
        |_| list_users(),
    );
    let create_error = action_error(create);
    let form = NodeRef::new();
    reset_on_success(create, form);
    let update_error = action_error(update);
    let reset_error = action_error(reset);
    view! {
        <Title text="Users" />
        <Protected action=Action::ManageUsers>
            <h1>"Admin"</h1>
            <AdminNav />
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
                            Some(Ok(user)) => Some(format!("Created {} ({}).", user.username, user.role)),
                            _ => None,
                        }}
                    </p>
                </ActionForm>
            </section>
            <section class="card" aria-labelledby="users-title">
                <h2 id="users-title">"Users"</h2>
                <FormError error=update_error />
                <FormError error=reset_error />
                <p class="form-success" role="status">
                    {move || matches!(reset.value().get(), Some(Ok(()))).then_some("Password set; that user's sessions have ended.")}
                </p>
                <Transition fallback=|| view! { <p class="loading">"Loading users…"</p> }>
                    {move || Suspend::new(async move {
                        match users.await {
                            Ok(users) => view! { <UserTable users update reset /> }.into_any(),
                            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </Protected>
    }
}

#[component]
fn UserTable(
    users: Vec<User>,
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr>
                    <th scope="col">"Username"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Password"</th>
                </tr></thead>
                <tbody>
                    {users.into_iter().map(|user| {
                        let select_id = format!("role-{}", user.id);
                        let password_id = format!("password-{}", user.id);
                        let role_label = format!("Role of {}", user.username);
                        let password_label = format!("New password for {}", user.username);
                        view! {
                            <tr class:inactive=!user.active>
                                <th scope="row">{user.username.clone()}</th>
                                <td>{user.display_name.clone()}</td>
                                <td>
                                    <ActionForm action=update attr:class="inline">
                                        <input type="hidden" name="update[id]" value=user.id />
                                        <input type="hidden" name="update[active]" value=user.active.to_string() />
                                        <label for=select_id.clone() class="visually-hidden">{role_label}</label>
                                        <select id=select_id name="update[role]">{role_options(user.role)}</select>
                                        <button type="submit">"Save role"</button>
                                    </ActionForm>
                                </td>
                                <td>
                                    <ActionForm action=update attr:class="inline">
                                        <input type="hidden" name="update[id]" value=user.id />
                                        <input type="hidden" name="update[role]" value=user.role.as_str() />
                                        <input type="hidden" name="update[active]" value=(!user.active).to_string() />
                                        {if user.active { "Active " } else { "Deactivated " }}
                                        <button type="submit" class=if user.active { "danger" } else { "" }>
                                            {if user.active { "Deactivate" } else { "Reactivate" }}
                                        </button>
                                    </ActionForm>
                                </td>
                                <td>
                                    <ActionForm action=reset attr:class="inline">
                                        <input type="hidden" name="reset[id]" value=user.id />
                                        <label for=password_id.clone() class="visually-hidden">{password_label}</label>
                                        <input id=password_id type="password" name="reset[password]" autocomplete="new-password" placeholder="New password" />
                                        <button type="submit">"Set password"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
