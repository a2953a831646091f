//! Sections whose features are not built yet. Each says plainly what it will hold, so the
//! navigation is honest about the product's shape from the first release.

use leptos::prelude::*;
use leptos_meta::Title;

/// A section of the navigation whose page is still to come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlannedPage {
    Metrics,
}

impl PlannedPage {
    fn title(self) -> &'static str {
        match self {
            Self::Metrics => "Metrics",
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            Self::Metrics => {
                "Deployment frequency, lead time, change failure rate and recovery time, over any window."
            }
        }
    }
}

/// The page of a section that is not built yet.
#[component]
pub fn Planned(page: PlannedPage) -> impl IntoView {
    view! {
        <Title text=page.title() />
        <h1>{page.title()}</h1>
        <p class="lead">{page.purpose()}</p>
        <section class="card empty-state">
            <h2>"Not available yet"</h2>
            <p>"This section is part of the next Switchyard releases. Nothing is recorded here yet."</p>
        </section>
    }
}
