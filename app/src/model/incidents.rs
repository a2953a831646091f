//! Incidents, post-mortems and action items as pages and the API show them: the sentences,
//! the allowed moves and the rendered HTML are all computed on the server.

use serde::{Deserialize, Serialize};

use super::Recorder;
use crate::domain::{
    incidents::{
        action_items::ActionItemStatus, postmortem::PostmortemStatus, IncidentStatus, LinkKind,
        Severity,
    },
    operations::OperationAction,
    Timestamp,
};

crate::word_enum! {
    /// Who or what wrote a timeline entry.
    TimelineKind, "timeline entry kind" {
        /// A person's note.
        Note = "note",
        Declared = "declared",
        Status = "status",
        Severity = "severity",
        Commander = "commander",
        Link = "link",
        /// An operation on the environment started or ended.
        Operation = "operation",
        Checklist = "checklist",
        Postmortem = "postmortem",
    }
}

/// One line of an incident's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub id: i64,
    pub at: Timestamp,
    pub kind: TimelineKind,
    pub author: Recorder,
    pub text: String,
    /// The operation it reports, for a link to it.
    pub operation_id: Option<i64>,
    pub action: Option<OperationAction>,
    /// Set when its author edited it; the earlier texts are in `edits`.
    pub edited_at: Option<Timestamp>,
    /// Earlier texts, oldest first: (text, replaced at).
    pub edits: Vec<(String, Timestamp)>,
    /// Whether the viewer may edit it (its author, a note).
    pub may_edit: bool,
}

/// A deployment linked to an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentLink {
    pub deployment_id: i64,
    pub kind: LinkKind,
    pub version: String,
    pub is_rollback: bool,
    pub finished_at: Option<Timestamp>,
    pub shipped_by: String,
    pub linked_by: String,
    pub linked_at: Timestamp,
}

/// A deployment that finished in the incident's environment in the 24 hours before it
/// started: a likely cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SuggestedDeployment {
    pub deployment_id: i64,
    pub version: String,
    pub status: String,
    pub is_rollback: bool,
    pub finished_at: Timestamp,
    pub shipped_by: String,
    /// "3 h before the start".
    pub before_start: String,
    /// How it is linked already, if it is.
    pub linked_as: Option<LinkKind>,
}

/// A deployment that finished anywhere in the last 24 hours, offered as a likely cause while
/// an incident is declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentDeployment {
    pub deployment_id: i64,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub status: String,
    pub shipped_by: String,
    /// "3 h ago".
    pub age: String,
}

/// One step of a checklist on the incident page, ticked or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChecklistStep {
    pub key: String,
    pub title: String,
    pub description: String,
    pub done_by: Option<String>,
    pub done_at: Option<Timestamp>,
}

/// The guide's incident-response steps, or its rollback steps once a rollback ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentChecklist {
    /// `incident` or `rollback`.
    pub kind: String,
    pub title: String,
    pub steps: Vec<ChecklistStep>,
}

/// An incident, as its page and `GET /api/v1/incidents/{id}` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub service: String,
    pub environment: String,
    pub severity: Severity,
    /// What the severity means.
    pub severity_meaning: String,
    pub status: IncidentStatus,
    pub commander: String,
    pub description: String,
    pub declared_by: Recorder,
    pub started_at: Timestamp,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// Time since start against the guide's recovery objective, in words.
    pub rto: String,
    /// Whether the recovery objective is exceeded (still open past it, or resolved late).
    pub past_rto: bool,
    /// "Post-mortem due" when resolved SEV1/SEV2 without a published one.
    pub postmortem_due: bool,
    pub postmortem_status: Option<PostmortemStatus>,
    pub timeline: Vec<TimelineEntry>,
    pub links: Vec<IncidentLink>,
    pub suggestions: Vec<SuggestedDeployment>,
    pub checklists: Vec<IncidentChecklist>,
    /// The statuses the viewer may move it to now, with each button's words.
    pub next_statuses: Vec<(IncidentStatus, String)>,
    /// Whether the viewer may write: notes, links, changes (engineers and above).
    pub may_write: bool,
}

/// A line of the Incidents list (and the Overview).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentSummary {
    pub id: i64,
    pub title: String,
    pub service: String,
    pub environment: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub commander: String,
    pub started_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub postmortem_status: Option<PostmortemStatus>,
    pub postmortem_due: bool,
    /// "open for 42 min", "resolved in 1 h 5 min".
    pub duration: String,
}

/// Which incidents to list; every field narrows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct IncidentFilter {
    /// `investigating`, `identified`, `monitoring`, `resolved`, or `open` (any but resolved).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::incidents::IncidentStatus>))]
    pub status: Option<String>,
    /// `SEV1` … `SEV4`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::incidents::Severity>))]
    pub severity: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    /// Started at or after (RFC 3339 or YYYY-MM-DD).
    #[serde(default)]
    pub from: Option<String>,
    /// Started before (RFC 3339, or YYYY-MM-DD: up to and including that day).
    #[serde(default)]
    pub to: Option<String>,
    /// Resolved SEV1/SEV2 without a published post-mortem only.
    #[serde(default)]
    pub postmortem_due: Option<bool>,
    /// Resolved at or after (RFC 3339 or YYYY-MM-DD): the window MTTR counts incidents in.
    #[serde(default)]
    pub resolved_from: Option<String>,
    /// Resolved before (RFC 3339, or YYYY-MM-DD: up to and including that day).
    #[serde(default)]
    pub resolved_to: Option<String>,
    /// Only environments of this tier.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::catalog::Tier>))]
    pub tier: Option<String>,
}

/// An incident's post-mortem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Postmortem {
    pub incident_id: i64,
    pub incident_title: String,
    pub title: String,
    pub markdown: String,
    /// The sanitized HTML of `markdown`.
    pub html: String,
    /// 0 before the first save; each save adds one.
    pub version: i64,
    pub status: PostmortemStatus,
    pub updated_by: Option<String>,
    pub updated_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    /// Whether it is saved (false: the template, not yet saved).
    pub saved: bool,
    /// Whether the viewer may edit its text now (engineers, until published).
    pub may_edit: bool,
    /// The statuses the viewer may move it to, with each button's words.
    pub next_statuses: Vec<(PostmortemStatus, String)>,
    pub action_items: Vec<ActionItem>,
}

/// What a stale save is answered with: the text saved meanwhile, to merge by hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostmortemConflict {
    pub version: i64,
    pub markdown: String,
    pub updated_by: String,
    pub updated_at: Timestamp,
}

/// An action item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActionItem {
    pub id: i64,
    pub incident_id: i64,
    pub incident_title: String,
    pub title: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub status: ActionItemStatus,
    pub overdue: bool,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which action items to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ActionItemFilter {
    /// `open` (the default on the page), `done`, `wont_do`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::incidents::action_items::ActionItemStatus>))]
    pub status: Option<String>,
    /// A username, or `me`.
    #[serde(default)]
    pub owner: Option<String>,
    /// Overdue ones only.
    #[serde(default)]
    pub overdue: Option<bool>,
    #[serde(default)]
    pub incident_id: Option<i64>,
}

/// A line of the Overview's "Needs attention": an open incident, a post-mortem due, overdue
/// action items. Worded on the server, so the Overview's code stays small.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub href: String,
    /// The badge: "SEV1", "post-mortem due", "overdue".
    pub badge: String,
    /// The badge's style: `severity-sev1`, `status-failed`…
    pub class: String,
    pub text: String,
}
