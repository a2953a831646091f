//! Records as pages and the API show them: plain data, the same on server and browser. The
//! backend reads them from storage; nothing here holds a secret.

use serde::{Deserialize, Serialize};

use crate::domain::{Role, Timestamp};

/// How the scheduled backups stand, as the Admin page shows it: one sentence worded on the
/// server, and whether it needs attention (off, missing or stale).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupStatus {
    pub sentence: String,
    pub stale: bool,
}

/// A user (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: Timestamp,
}

/// An API token (never the secret, never its digest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether requests with this token are accepted at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| expiry > now)
    }
}

/// A token just created: the only time its secret is seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// One audit log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor_kind: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    /// The record before and after, as JSON text.
    pub before: Option<String>,
    pub after: Option<String>,
    /// The same change in words: `role: engineer → viewer`.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default)]
    pub change: String,
    pub client_address: Option<String>,
    pub request_id: Option<String>,
}

/// Which audit entries to list; empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Actor name, exactly.
    pub actor: Option<String>,
    /// Action, exactly, or a prefix ending in `.` (`user.` for every user action).
    pub action: Option<String>,
    /// Object contains this text.
    pub object: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Entries older than this id (the next page).
    pub before_id: Option<i64>,
}

mod catalog;
mod deployments;
mod incidents;
mod metrics;
mod operations;
mod releases;

pub use catalog::{
    CanaryShare, Environment, LiveVersion, Service, ServiceDetail, ServiceSummary, Shipped, Slot,
    SlotHealth,
};
pub use deployments::{
    Deployment, DeploymentFilter, DeploymentPage, GithubEnvironment, GithubEnvironmentDecision,
    OverviewRow, Recorder,
};
pub use incidents::{
    ActionItem, ActionItemFilter, Attention, ChecklistStep, Incident, IncidentChecklist,
    IncidentFilter, IncidentLink, IncidentSummary, Postmortem, PostmortemConflict,
    RecentDeployment, SuggestedDeployment, TimelineEntry, TimelineKind,
};
pub use metrics::{
    Chart, MetricCard, MetricsQuery, MetricsReport, MetricsSeries, MetricsView, ServiceCell,
    ServiceRow, Trend,
};
pub use operations::{EnvironmentView, LogLine, OfferedAction, Operation, OperationStep};
pub use releases::{
    ChecklistTemplate, FreezeWindow, GateOverride, Release, ReleaseFilter, ReleaseItem,
    ReleaseSummary, SignOff, SIGNER_ROLES,
};
