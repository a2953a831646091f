//! Incidents: the list with its filters, the declare form (phone first), one incident with
//! its timeline, links, checklists and rollback button, followed live; the post-mortem
//! editor and its print view; and every open action item. The server words every sentence,
//! renders the Markdown and decides what the viewer may do; the pages only show it.

mod action_items;
mod declare;
mod incident;
mod list;
mod postmortem;

pub use action_items::ActionItemsPage;
pub use declare::DeclarePage;
pub use incident::IncidentPage;
pub use list::IncidentsPage;
pub use postmortem::PostmortemPage;

use leptos::prelude::*;

use crate::domain::incidents::{IncidentStatus, Severity};

/// The badge of an incident's severity.
#[component]
fn SeverityBadge(severity: Severity) -> impl IntoView {
    let class = format!("status severity-{}", severity.as_str().to_lowercase());
    view! { <span class=class title=severity.meaning()>{severity.as_str()}</span> }
}

/// The badge of an incident's status.
#[component]
fn IncidentBadge(status: IncidentStatus) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status.as_str()}</span> }
}

/// An incident's page.
pub fn incident_path(id: i64) -> String {
    format!("/incidents/{id}")
}
