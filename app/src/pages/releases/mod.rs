//! Releases: the list with each checklist's progress and the "New release" form, and one
//! release's checklist, signed item by item and followed live in every open browser. The
//! server words every sentence and decides what the viewer may do; the pages only show it.

mod checklist;
pub mod freezes;
mod list;
mod release;

pub use checklist::ChecklistPage;
pub use list::ReleasesPage;
pub use release::ReleasePage;

use leptos::prelude::*;

use crate::domain::releases::ReleaseStatus;

/// The badge of a release's status.
#[component]
fn ReleaseBadge(status: ReleaseStatus) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status.as_str()}</span> }
}

/// A release's page.
pub fn release_path(id: i64) -> String {
    format!("/releases/{id}")
}
