//! Operations as the environment page and the API show them.

use serde::{Deserialize, Serialize};

use super::Environment;
use crate::domain::{
    catalog::SlotColor,
    operations::{LogStream, OperationAction, OperationStatus, StepStatus},
    Timestamp,
};

/// One operation, with its steps and log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Operation {
    pub id: i64,
    pub service: String,
    pub environment: String,
    pub action: OperationAction,
    pub status: OperationStatus,
    /// The version the operation puts in place.
    pub version: Option<String>,
    pub target_slot: Option<SlotColor>,
    pub canary_weight: Option<u8>,
    /// The environment revision it started from.
    pub base_revision: i64,
    /// Who asked for it.
    pub requested_by: String,
    /// The deployment it records.
    pub deployment_id: Option<i64>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Why it failed, in words.
    pub error: Option<String>,
    pub steps: Vec<OperationStep>,
    pub log: Vec<LogLine>,
}

impl Operation {
    /// The share of steps done, for a progress bar: (done, total).
    pub fn progress(&self) -> (usize, usize) {
        let done = self
            .steps
            .iter()
            .filter(|s| !matches!(s.status, StepStatus::Pending | StepStatus::Running))
            .count();
        (done, self.steps.len())
    }
}

/// One step of an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperationStep {
    pub position: i64,
    pub name: String,
    pub status: StepStatus,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// One line of an operation's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub seq: i64,
    pub at: Timestamp,
    pub stream: LogStream,
    pub line: String,
}

/// An operation the environment offers, as its button and confirmation show it: worded and
/// checked against the state on the server, so the browser needs none of the rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedAction {
    pub action: OperationAction,
    /// "Switch…", "Deploy to idle…".
    pub label: String,
    /// Why the state does not allow it now; `None`: it may run.
    pub refusal: Option<String>,
    /// What will happen, as the confirmation asks it.
    pub question: String,
    /// Whether the confirmation asks for the version (a deploy).
    pub asks_version: bool,
    /// Why a gate holds it (an unsigned production checklist, a freeze window): disabled,
    /// except for admins, who may override with a reason.
    pub gate: Option<String>,
}

/// Everything the environment page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentView {
    pub environment: Environment,
    /// The operations this environment offers, in order, each allowed or refused.
    pub actions: Vec<OfferedAction>,
    /// What a rollback would put back.
    pub previous_version: Option<String>,
    /// Whether the operator configured a driver for this environment.
    pub has_driver: bool,
    /// Whether the viewer may run operations.
    pub may_operate: bool,
    /// Whether the viewer may pass a closed gate with a reason (admins).
    pub may_override: bool,
    /// The environment's freeze windows.
    pub freezes: Vec<crate::model::FreezeWindow>,
    /// The newest operation, running or not.
    pub operation: Option<Operation>,
    /// The operations before it, newest first, without their logs.
    pub history: Vec<Operation>,
    /// The server's clock, for ages ("3 h ago").
    pub now: Timestamp,
}
