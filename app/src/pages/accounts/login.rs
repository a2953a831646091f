//! The login page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    components::form::{action_error, Field, FormError, Submit},
    pages::accounts::session::{me, reload_at, safe_next, Login},
};

/// Username and password; afterwards, the page the user came for. Someone already logged in
/// goes straight there.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = action_error(login);
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next"));
    Effect::new(move || {
        if let Some(Ok(_)) = login.value().get() {
            reload_at(&next());
        }
    });
    view! {
        <Title text="Log in" />
        {me().is_some().then(|| view! { <Redirect path=next() /> })}
        <section class="card narrow" aria-labelledby="login-title">
            <h1 id="login-title">"Log in to Switchyard"</h1>
            <ActionForm action=login attr:class="stack" attr:novalidate=true>
                <FormError error />
                <Field label="Username" name="credentials[username]" error_for="username" error autocomplete="username" required=true autofocus=true />
                <Field label="Password" name="credentials[password]" error_for="password" kind="password" error autocomplete="current-password" required=true />
                <Submit label="Log in" busy_label="Logging in…" pending=login.pending() class="primary" />
            </ActionForm>
            <p class="hint">
                "Forgot your password? An administrator can set a new one from the Admin page."
            </p>
        </section>
    }
}
