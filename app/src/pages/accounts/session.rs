//! Who is logged in, as the pages see it: the current user (known before anything renders,
//! so the server can still redirect or answer 403), logging in and out, and the guard that
//! keeps pages from roles that may not use them.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};
use serde::{Deserialize, Serialize};

use crate::{
    components::url,
    domain::{accounts::input::Credentials, Action, Role},
    error::AppError,
    pages::Forbidden,
};

/// The logged-in user (or API token) as the header and the guards need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    /// Username, or token name.
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub is_token: bool,
}

impl CurrentUser {
    pub fn may(&self, action: Action) -> bool {
        self.role.may(action)
    }
}

/// Logs in with a username and password.
#[server(prefix = "/rpc", endpoint = "login")]
pub async fn login(credentials: Credentials) -> Result<CurrentUser, AppError> {
    use crate::backend::{accounts, rpc};
    rpc::serve(|state, caller| async move {
        let user = accounts::log_in(
            &state,
            &caller,
            &rpc::session()?,
            &credentials,
            rpc::user_agent(),
        )
        .await?;
        Ok(CurrentUser {
            name: user.username,
            display_name: user.display_name,
            role: user.role,
            is_token: false,
        })
    })
    .await
}

/// Ends the caller's session.
#[server(prefix = "/rpc", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::backend::{accounts, rpc};
    rpc::serve(
        |state, caller| async move { accounts::log_out(&state, &caller, &rpc::session()?).await },
    )
    .await
}

/// The current user (or `None` for nobody), known to every component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Me(pub Option<CurrentUser>);

/// The current user, as far as this page knows.
pub fn me() -> Option<CurrentUser> {
    use_context::<Me>().and_then(|me| me.0)
}

/// Shares the current user with every component, synchronously. The server knows the caller
/// before it renders anything (the request middleware resolved it), and sends it along in the
/// page, where hydration reads it back instead of asking again. Nothing waits for it, so
/// guards decide (and set the status or redirect) at once, and no page is rendered inside a
/// Suspense boundary that would run its closures, and their data loads, several times.
pub fn provide_current_user() {
    let user = SharedValue::new(caller_on_server).into_inner();
    provide_context(Me(user));
}

/// Outside a request (the route list is generated once at startup), nobody.
#[cfg(feature = "ssr")]
fn caller_on_server() -> Option<CurrentUser> {
    use_context::<axum::http::request::Parts>()?
        .extensions
        .get::<crate::backend::Caller>()?
        .current_user()
}

/// In the browser the user comes from the page; this runs only if it could not be read, and
/// then shows the page as to nobody, whom the server would have sent elsewhere.
#[cfg(not(feature = "ssr"))]
fn caller_on_server() -> Option<CurrentUser> {
    None
}

/// A local address to return to after logging in; anything else (another site, a
/// protocol-relative `//host`) falls back to the Overview.
pub fn safe_next(next: Option<String>) -> String {
    // Browsers drop tabs and line breaks from URLs and read `\` as `/`, so `/\t/host` would
    // become `//host`: refuse any of them outright.
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    })
    .unwrap_or_else(|| "/".to_owned())
}

/// Loads `href` afresh: after logging in or out the whole page, header included, must
/// reflect the new identity.
pub fn reload_at(href: &str) {
    #[cfg(feature = "hydrate")]
    if let Err(error) = window().location().set_href(href) {
        leptos::logging::error!("cannot navigate to {href}: {error:?}");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = href;
}

/// Shows `children` only to callers who may do `action`: nobody is sent to the login page
/// (and back here afterwards), a weaker role gets the 403 page.
#[component]
pub fn Protected(action: Action, children: ChildrenFn) -> impl IntoView {
    match me() {
        Some(user) if user.may(action) => children().into_any(),
        Some(user) => view! { <Forbidden role=user.role action=action /> }.into_any(),
        None => {
            let location = use_location();
            let search = location.search.get_untracked();
            let path = location.pathname.get_untracked();
            let here = if search.is_empty() {
                path
            } else {
                format!("{path}?{search}")
            };
            let href = format!("/login?next={}", url::encode(&here));
            view! { <Redirect path=href /> }.into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/admin/users".into())), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\\evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\t/evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\n/evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(None), "/");
    }
}
