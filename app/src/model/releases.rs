//! Releases as pages and the API show them: the checklist with each item's sign-off and
//! history, ready-made sentences, and what the viewer may do, all computed on the server.

use serde::{Deserialize, Serialize};

use super::Recorder;
use crate::domain::{
    catalog::Tier,
    releases::{checklist::ChecklistItem, freeze::FreezeRule, ReleaseStatus},
    Role, Timestamp,
};

/// Who signed an item, when, and what they added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignOff {
    pub id: i64,
    pub signed_by: Recorder,
    pub signed_at: Timestamp,
    pub note: String,
    pub evidence_url: Option<String>,
    /// Set when the signer or an admin took the sign-off back; the row stays as history.
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<Timestamp>,
}

/// One item of a release's checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseItem {
    #[serde(flatten)]
    pub item: ChecklistItem,
    /// The sign-off in force, if any.
    pub signed_by: Option<String>,
    pub signed_at: Option<Timestamp>,
    pub note: Option<String>,
    pub evidence_url: Option<String>,
    /// Every sign-off the item had, oldest first, withdrawn ones included.
    pub history: Vec<SignOff>,
    /// Whether the viewer may sign it now (open release, role high enough, not signed).
    pub may_sign: bool,
    /// Whether the viewer may withdraw its sign-off (the signer, or an admin).
    pub may_withdraw: bool,
    /// Why the viewer may not sign, when the item is unsigned: "Needs releaser or above."
    pub cannot_sign: Option<String>,
}

/// A release, as its page and `GET /api/v1/releases/{id}` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Release {
    pub id: i64,
    pub service: String,
    pub environment: String,
    pub tier: Tier,
    pub version: String,
    pub commit_sha: Option<String>,
    pub summary: String,
    pub url: Option<String>,
    pub status: ReleaseStatus,
    /// The template revision its checklist was copied from (0: the guide's).
    pub template_revision: i64,
    pub opened_by: Recorder,
    pub opened_at: Timestamp,
    pub ended_by: Option<String>,
    pub ended_at: Option<Timestamp>,
    /// Why it was abandoned, or what released it.
    pub end_reason: Option<String>,
    pub items: Vec<ReleaseItem>,
    pub signed: usize,
    pub required_left: usize,
    /// "11 / 15 signed, 2 required left".
    pub progress: String,
    /// Gates passed by an admin for this version here: (operation, who, reason).
    pub overrides: Vec<GateOverride>,
}

/// An admin's pass through a closed gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GateOverride {
    pub operation_id: i64,
    pub by: String,
    pub at: Timestamp,
    /// The gate it passed, as it was worded.
    pub gate: String,
    pub reason: String,
}

/// A line of the Releases list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseSummary {
    pub id: i64,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub status: ReleaseStatus,
    pub opened_by: String,
    pub opened_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub total: usize,
    pub signed: usize,
    pub required_left: usize,
    pub progress: String,
}

/// Which releases to list; every field narrows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ReleaseFilter {
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    /// `open`, `released` or `abandoned`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::releases::ReleaseStatus>))]
    pub status: Option<String>,
}

/// A freeze window of an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FreezeWindow {
    pub id: i64,
    pub service: String,
    pub environment: String,
    #[serde(flatten)]
    pub rule: FreezeRule,
    /// The window in words.
    pub window: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: Timestamp,
    /// When it ends, if it is in force now.
    pub active_until: Option<Timestamp>,
}

/// A service's checklist template, as the editor and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChecklistTemplate {
    pub service: String,
    #[serde(flatten)]
    pub template: crate::domain::releases::checklist::Template,
    /// Who saved this revision (none for the guide's).
    pub updated_by: Option<String>,
    pub updated_at: Option<Timestamp>,
}

/// Roles a sign-off may need, as the editor offers them.
pub const SIGNER_ROLES: [Role; 3] = [Role::Engineer, Role::Releaser, Role::Admin];
