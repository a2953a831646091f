//! Accounts in the browser: who is logged in and the guard on every page (`session`), the
//! login and first-run setup pages, one's own account, and the admin pages for users and API
//! tokens.

mod account;
mod login;
pub mod session;
mod setup;
mod tokens;
mod users;

use leptos::prelude::*;

pub use account::AccountPage;
pub use login::LoginPage;
pub use setup::SetupPage;
pub use tokens::TokensPage;
pub use users::UsersPage;

/// The options of a role `<select>`, with `selected` preselected.
fn role_options(selected: crate::domain::Role) -> impl IntoView {
    crate::domain::Role::ALL
        .into_iter()
        .map(|role| {
            view! {
                <option value=role.as_str() selected=role == selected>
                    {role.as_str()}
                </option>
            }
        })
        .collect_view()
}
