//! Deployments as pages and the API show them.

use serde::{Deserialize, Serialize};

use super::Environment;
use crate::domain::{
    catalog::{SlotColor, Strategy},
    deployments::{DeploymentStatus, Source},
    Timestamp,
};

/// Who recorded a deployment: a user, an API token, or Switchyard itself (webhooks,
/// operations).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Recorder {
    /// `user`, `token` or `system`.
    pub kind: String,
    pub name: String,
}

/// One version reaching one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub id: i64,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub commit_sha: Option<String>,
    pub commit_at: Option<Timestamp>,
    pub strategy: Strategy,
    pub slot: Option<SlotColor>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub status: DeploymentStatus,
    pub is_rollback: bool,
    pub rolled_back_at: Option<Timestamp>,
    pub recorded_by: Recorder,
    pub source: Source,
    pub notes: String,
    pub url: Option<String>,
    pub created_at: Timestamp,
    /// Still `running`, but a newer deployment in the same environment and slot has ended
    /// since: this one will most likely never report. It stays as recorded (Switchyard does
    /// not guess how it ended), is not counted as running, and the metrics, which count only
    /// deployments that ended, ignore it.
    pub superseded_by: Option<i64>,
}

/// Which deployments to list: every field narrows; `cursor` continues after a page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DeploymentFilter {
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::deployments::DeploymentStatus>))]
    pub status: Option<String>,
    /// Started at or after (RFC 3339).
    #[serde(default)]
    pub from: Option<String>,
    /// Started before (RFC 3339).
    #[serde(default)]
    pub to: Option<String>,
    /// Text the version or the commit SHA starts with.
    #[serde(default)]
    pub q: Option<String>,
    /// Finished at or after (RFC 3339): the window a metric counts deployments in.
    #[serde(default)]
    pub finished_from: Option<String>,
    /// Finished before (RFC 3339).
    #[serde(default)]
    pub finished_to: Option<String>,
    /// Only environments of this tier (`production`, `staging`, `development`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(schema_with = crate::domain::schema::filter::<crate::domain::catalog::Tier>))]
    pub tier: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page of deployments, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentPage {
    pub deployments: Vec<Deployment>,
    /// Pass as `cursor` for the next, older page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A GitHub environment no Switchyard environment matches, as admins see it: its events are
/// acknowledged and counted, then recorded where an admin maps it, or dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GithubEnvironment {
    /// The service the repository maps to (it may not exist yet).
    pub service: String,
    /// GitHub's environment name, lowercased (after the configured mapping).
    pub name: String,
    /// The repository that last reported it.
    pub repository: String,
    /// The environment of `service` its events are recorded in.
    pub maps_to: Option<String>,
    pub ignored: bool,
    /// Events received for it so far.
    pub events: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// "Waiting for a decision", "Recorded in production", "Ignored".
    pub state: String,
    /// The service's environments it may be mapped to; empty when the service does not exist.
    pub choices: Vec<String>,
}

/// An admin's choice for a [`GithubEnvironment`]: `maps_to` an environment of its service,
/// or `ignored`, or neither (back to waiting).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GithubEnvironmentDecision {
    #[serde(default)]
    pub maps_to: Option<String>,
    #[serde(default)]
    pub ignored: bool,
}

/// One service × environment on the Overview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OverviewRow {
    pub environment: Environment,
    /// The newest deployment, running or not.
    pub last: Option<Deployment>,
    /// Deployments in progress right now (not counting superseded ones).
    pub running: u32,
    /// A blue-green environment whose newest succeeded deployment named no slot: its version
    /// runs somewhere, but Switchyard cannot tell which colour holds it.
    pub unplaced: Option<Deployment>,
    /// The freeze window in force, in words ("frozen until …: peak business hours").
    pub frozen: Option<String>,
    /// Open releases here still waiting for required sign-offs.
    pub waiting: Vec<crate::model::ReleaseSummary>,
}
