//! Operations: what a releaser asks Switchyard to do to an environment (deploy to idle, switch,
//! rollback, canary steps). Plain Rust with no I/O, in three steps:
//! - [`request`]: the request as typed, parsed, and checked against the environment's state;
//! - [`plan`]: what the request amounts to, its steps and the confirmation sentence;
//! - [`run`]: the state machine that hands out one [`Step`] at a time, and on a failure the
//!   steps that undo it, then the [`Ending`] to apply.
//!
//! The backend runs each step with the environment's driver and health checks, feeds the
//! outcome to [`Run::next`], and applies the ending it returns.

mod plan;
pub mod redact;
mod request;
mod run;

use serde::{Deserialize, Serialize};

pub use self::{plan::*, request::*, run::*};
use super::{
    catalog::{SlotColor, Strategy},
    deployments::Version,
};
use crate::word_enum;

word_enum! {
    /// What an operation does, as the API and the buttons name it.
    OperationAction, "known action" {
        Deploy = "deploy",
        Switch = "switch",
        Rollback = "rollback",
        CanaryPromote = "canary_promote",
        CanaryAbort = "canary_abort",
    }
}

word_enum! {
    /// Where an operation is. `interrupted`: the server stopped while it ran.
    OperationStatus, "operation status" {
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Interrupted = "interrupted",
    }
}

word_enum! {
    /// What one driver call asks of the world: put a version on a slot (or roll it out),
    /// move traffic to a slot, or give a canary a weight.
    DriverAction, "driver action" {
        Deploy = "deploy",
        Switch = "switch",
        Canary = "canary",
    }
}

word_enum! {
    /// Where one step of an operation is.
    StepStatus, "step status" {
        Pending = "pending",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Skipped = "skipped",
    }
}

word_enum! {
    /// Where a log line came from: Switchyard itself, or the driver's output.
    LogStream, "stream" {
        Info = "info",
        Stdout = "stdout",
        Stderr = "stderr",
        Error = "error",
    }
}

impl OperationAction {
    /// The actions an environment of `strategy` offers.
    pub fn offered_by(strategy: Strategy) -> &'static [OperationAction] {
        use OperationAction::*;
        match strategy {
            Strategy::BlueGreen => &[Deploy, Switch, Rollback],
            Strategy::Rolling => &[Deploy, Rollback],
            Strategy::Canary => &[Deploy, CanaryPromote, CanaryAbort, Rollback],
        }
    }
}

impl OperationAction {
    /// The button that opens its confirmation.
    pub fn button_label(self, blue_green: bool) -> &'static str {
        match self {
            OperationAction::Deploy if blue_green => "Deploy to idle…",
            OperationAction::Deploy => "Deploy…",
            OperationAction::Switch => "Switch…",
            OperationAction::Rollback => "Roll back…",
            OperationAction::CanaryPromote => "Promote canary…",
            OperationAction::CanaryAbort => "Abort canary…",
        }
    }

    /// The confirmation's button.
    pub fn confirm_label(self) -> &'static str {
        match self {
            OperationAction::Deploy => "Yes, deploy",
            OperationAction::Switch => "Yes, switch",
            OperationAction::Rollback => "Yes, roll back",
            OperationAction::CanaryPromote => "Yes, promote",
            OperationAction::CanaryAbort => "Yes, abort",
        }
    }

    /// What it does, before the version: "Switch to 2.4.1".
    pub fn words(self) -> &'static str {
        match self {
            OperationAction::Deploy => "Deploy",
            OperationAction::Switch => "Switch to",
            OperationAction::Rollback => "Roll back to",
            OperationAction::CanaryPromote => "Promote canary",
            OperationAction::CanaryAbort => "Abort canary",
        }
    }
}

impl OperationStatus {
    /// Whether the operation has ended.
    pub fn is_final(self) -> bool {
        self != OperationStatus::Running
    }
}

/// The canary steps used when the configuration names none: percentages of traffic.
pub const DEFAULT_CANARY_STEPS: [u8; 4] = [10, 25, 50, 100];

/// A canary in progress: a new version taking `weight` percent of the traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    pub version: Version,
    pub weight: u8,
}

/// What an operation is planned from: the environment as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    /// The environment's name, for the sentences that describe an operation.
    pub name: String,
    pub strategy: Strategy,
    pub revision: i64,
    /// Blue-green: the slot taking traffic.
    pub live: Option<SlotColor>,
    /// Blue-green: the versions the slots hold.
    pub blue: Option<Version>,
    pub green: Option<Version>,
    /// Rolling and canary: the version all (or the stable share of) traffic reaches.
    pub current_version: Option<Version>,
    pub canary: Option<Canary>,
    /// The newest version that succeeded here before the one live now: what a rollback puts
    /// back.
    pub previous_version: Option<Version>,
}

impl EnvironmentState {
    /// The version slot `color` holds.
    pub fn slot_version(&self, color: SlotColor) -> Option<&Version> {
        match color {
            SlotColor::Blue => self.blue.as_ref(),
            SlotColor::Green => self.green.as_ref(),
        }
    }

    /// The version taking (the stable share of) traffic.
    pub fn live_version(&self) -> Option<&Version> {
        match self.live {
            Some(live) => self.slot_version(live),
            None => self.current_version.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests;
