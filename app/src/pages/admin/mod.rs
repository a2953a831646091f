//! The admin pages: users, API tokens, services and the audit log.

mod audit;
mod services;
mod tokens;
mod users;

use leptos::prelude::*;
use leptos_router::components::A;

pub use audit::AuditPage;
pub use services::ServicesPage;
pub use tokens::TokensPage;
pub use users::UsersPage;

/// The admin section's own navigation.
#[component]
fn AdminNav() -> impl IntoView {
    view! {
        <nav class="sub-nav" aria-label="Admin">
            <A href="/admin" exact=true>"Users"</A>
            <A href="/admin/tokens">"API tokens"</A>
            <A href="/admin/services">"Services"</A>
            <A href="/admin/audit">"Audit log"</A>
        </nav>
    }
}

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
