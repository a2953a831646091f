//! The frame every page lives in: header with navigation, content area, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{build_info, theme::ThemeToggle};

/// One entry of the main navigation.
struct NavItem {
    href: &'static str,
    label: &'static str,
}

/// The sections of Switchyard, in the order a release walks through them.
const NAVIGATION: [NavItem; 6] = [
    NavItem {
        href: "/",
        label: "Overview",
    },
    NavItem {
        href: "/deployments",
        label: "Deployments",
    },
    NavItem {
        href: "/releases",
        label: "Releases",
    },
    NavItem {
        href: "/incidents",
        label: "Incidents",
    },
    NavItem {
        href: "/metrics",
        label: "Metrics",
    },
    NavItem {
        href: "/admin",
        label: "Admin",
    },
];

/// Header, navigation, content and footer around `children`.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"⇄"</span>
                "Switchyard"
            </A>
            <nav class="site-nav" aria-label="Main">
                <ul>
                    {NAVIGATION
                        .iter()
                        .map(|item| {
                            // `exact` keeps Overview ("/") from matching every page.
                            view! {
                                <li>
                                    <A href=item.href exact=true>
                                        {item.label}
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
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
