//! The frame every page lives in: header with navigation and the user menu, content area,
//! footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    build_info,
    domain::Action,
    pages::accounts::session::{me, reload_at, CurrentUser, Logout},
    theme::ThemeToggle,
};

/// One entry of the main navigation.
struct NavItem {
    href: &'static str,
    label: &'static str,
    /// What a role must be allowed to do to see the entry.
    needs: Action,
}

/// The sections of Switchyard, in the order a release walks through them.
const NAVIGATION: [NavItem; 7] = [
    NavItem {
        href: "/",
        label: "Overview",
        needs: Action::Read,
    },
    NavItem {
        href: "/services",
        label: "Services",
        needs: Action::Read,
    },
    NavItem {
        href: "/deployments",
        label: "Deployments",
        needs: Action::Read,
    },
    NavItem {
        href: "/releases",
        label: "Releases",
        needs: Action::Read,
    },
    NavItem {
        href: "/incidents",
        label: "Incidents",
        needs: Action::Read,
    },
    NavItem {
        href: "/metrics",
        label: "Metrics",
        needs: Action::Read,
    },
    NavItem {
        href: "/admin",
        label: "Admin",
        needs: Action::ManageUsers,
    },
];

/// Header, navigation, content and footer around `children`.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let user = me();
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"⇄"</span>
                "Switchyard"
            </A>
            <Navigation user=user.clone() />
            <UserMenu user />
            <ThemeToggle />
        </header>
        <main id="content" class="content" tabindex="-1">
            {children()}
        </main>
        <footer class="site-footer">
            <span>{format!("Switchyard {}", build_info::VERSION)}</span>
            <span class="commit" title="Build commit">{build_info::COMMIT}</span>
        </footer>
    }
}

/// The sections the user's role may open; none before logging in.
#[component]
fn Navigation(user: Option<CurrentUser>) -> impl IntoView {
    let user = user?;
    Some(view! {
        <nav class="site-nav" aria-label="Main">
            <ul>
                {NAVIGATION
                    .iter()
                    .filter(|item| user.may(item.needs))
                    .map(|item| {
                        // `exact` keeps Overview ("/") from matching every page.
                        view! {
                            <li>
                                <A href=item.href exact=item.href == "/">
                                    {item.label}
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    })
}

/// Who is logged in, a link to their account and the logout button; or a login link.
#[component]
fn UserMenu(user: Option<CurrentUser>) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move || {
        if let Some(Ok(())) = logout.value().get() {
            reload_at("/login");
        }
    });
    match user {
        Some(user) => view! {
            <div class="user-menu">
                <A href="/account" attr:class="user-name" attr:title="Your account">
                    {user.display_name.clone()}
                    <span class="role-badge">{user.role.as_str()}</span>
                </A>
                <ActionForm action=logout attr:class="inline">
                    <button type="submit" class="link-button">"Log out"</button>
                </ActionForm>
            </div>
        }
        .into_any(),
        None => view! {
            <div class="user-menu">
                <A href="/login">"Log in"</A>
            </div>
        }
        .into_any(),
    }
}

/// The admin section's own navigation: its pages belong to several features.
#[component]
pub fn AdminNav() -> impl IntoView {
    view! {
        <nav class="sub-nav" aria-label="Admin">
            <A href="/admin" exact=true>"Users"</A>
            <A href="/admin/tokens">"API tokens"</A>
            <A href="/admin/services">"Services"</A>
            <A href="/admin/audit">"Audit log"</A>
        </nav>
    }
}
