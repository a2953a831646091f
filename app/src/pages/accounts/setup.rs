//! The first-run page: creates the first admin through the one-time link the server prints
//! when it starts on an empty database.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::form::{action_error, Field, FormError, Submit},
    error::AppError,
    pages::accounts::session::reload_at,
};

/// Whether the setup link with this token still works.
#[server(prefix = "/rpc", endpoint = "setup_status")]
pub async fn setup_status(token: String) -> Result<bool, AppError> {
    use crate::backend::{accounts, rpc};
    rpc::serve(|state, _| async move { Ok(accounts::setup_link_valid(&state.db, &token).await?) })
        .await
}

/// Creates the first admin and logs them in.
#[server(prefix = "/rpc", endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    username: String,
    display_name: String,
    password: String,
    password_confirmation: String,
) -> Result<(), AppError> {
    use crate::{
        backend::{accounts, rpc},
        domain::{
            accounts::input::{confirmed, NewUserInput},
            FieldError, FieldErrors, Role,
        },
    };
    rpc::serve(|state, caller| async move {
        let input = NewUserInput {
            username,
            display_name,
            role: "admin".to_owned(),
            password: password.into(),
        };
        // Every problem at once: the fields, and the confirmation beside them.
        let mut errors = input
            .parse(Some(Role::Admin))
            .err()
            .map_or_else(Vec::new, |e| e.0);
        let differ = FieldError::new(
            "password_confirmation",
            "The two passwords differ; type the same password twice.",
        );
        if let Err(error) = confirmed(&input.password, &password_confirmation.into(), differ) {
            errors.push(error);
        }
        if !errors.is_empty() {
            return Err(FieldErrors(errors).into());
        }
        accounts::complete_setup(
            &state,
            &caller,
            &rpc::session()?,
            &token,
            &input,
            rpc::user_agent(),
        )
        .await
        .map(drop)
    })
    .await
}

/// The setup form, or why the link no longer works.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let status = Resource::new_blocking(token, setup_status);
    let setup = ServerAction::<CompleteSetup>::new();
    let error = action_error(setup);
    Effect::new(move || {
        if let Some(Ok(())) = setup.value().get() {
            reload_at("/");
        }
    });
    view! {
        <Title text="Set up Switchyard" />
        <section class="card narrow" aria-labelledby="setup-title">
            <h1 id="setup-title">"Set up Switchyard"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Checking the setup link…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(true) => view! {
                            <p>"Create the first administrator. They can then add everyone else from the Admin page."</p>
                            <ActionForm action=setup attr:class="stack" attr:novalidate=true>
                                <input type="hidden" name="token" value=token() />
                                <FormError error />
                                <Field label="Username" name="username" error autocomplete="username" required=true autofocus=true
                                    hint="Letters, digits, '.', '_' and '-'; up to 64 characters." />
                                <Field label="Display name" name="display_name" error autocomplete="name"
                                    hint="Shown in the header and the audit log; the username if left empty." />
                                <Field label="Password" name="password" kind="password" error autocomplete="new-password" required=true
                                    hint="At least 12 characters." />
                                <Field label="Password again" name="password_confirmation" kind="password" error autocomplete="new-password" required=true />
                                <Submit label="Create administrator" busy_label="Creating…" pending=setup.pending() class="primary" />
                            </ActionForm>
                        }.into_any(),
                        Ok(false) => view! {
                            <p class="form-error" role="alert">
                                "This setup link has expired or was already used. If nobody has set Switchyard up yet, restart the server: it prints a new link. Otherwise, "
                                <a href="/login">"log in"</a>"."
                            </p>
                        }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
