//! What a checked request amounts to: its kind, its steps, the deployment it records and the
//! sentence that asks for confirmation.

use serde::{Deserialize, Serialize};

use super::{
    request::{
        canary_runs, check, conflict, live_slot, required_version, rollback_version, running_canary,
    },
    DriverAction, EnvironmentState, OperationAction, Refusal, Request,
};
use crate::domain::{
    catalog::{SlotColor, Strategy},
    deployments::Version,
    FieldError,
};

/// One thing an operation does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Calls the driver. `slot` is the slot acted on (blue-green), `weight` the canary share.
    Drive {
        action: DriverAction,
        slot: Option<SlotColor>,
        version: Version,
        weight: Option<u8>,
    },
    /// Checks health until it answers healthy, or gives up after the configured time.
    AwaitHealthy { slot: Option<SlotColor> },
    /// Keeps checking health for the configured period; one failed check fails the step.
    Verify { slot: Option<SlotColor> },
}

impl Step {
    /// The step in words, as the page lists it.
    pub fn describe(&self) -> String {
        let target = |slot: &Option<SlotColor>| match slot {
            Some(color) => color.to_string(),
            None => "the environment".to_owned(),
        };
        match self {
            Step::Drive {
                action: DriverAction::Deploy,
                slot,
                version,
                ..
            } => format!("Deploy {} to {}", version.as_str(), target(slot)),
            Step::Drive {
                action: DriverAction::Switch,
                slot,
                ..
            } => format!("Switch traffic to {}", target(slot)),
            Step::Drive {
                action: DriverAction::Canary,
                version,
                weight,
                ..
            } => format!(
                "Send {}% of traffic to {}",
                weight.unwrap_or(0),
                version.as_str()
            ),
            Step::AwaitHealthy { slot } => format!("Wait until {} is healthy", target(slot)),
            Step::Verify { slot } => format!("Watch the health of {}", target(slot)),
        }
    }
}

/// The deployment an operation records: a new one, or the running one it continues (the
/// deployment a deploy to idle opened, which the switch finishes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentIntent {
    pub version: Version,
    pub slot: Option<SlotColor>,
    pub is_rollback: bool,
    /// Continue a running deployment of this version (and slot) if there is one.
    pub continues_running: bool,
}

/// What the operation amounts to, which decides its steps, its recovery and its endings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Kind {
    /// Blue-green: a version onto the idle slot, which takes no traffic yet.
    DeployIdle { slot: SlotColor, version: Version },
    /// Blue-green: traffic from `from` to `to` (a switch, or a rollback; `redeploy` first puts
    /// `version` on `to` when it does not hold it any more).
    Switch {
        from: SlotColor,
        to: SlotColor,
        version: Version,
        redeploy: bool,
    },
    /// Rolling (and a canary environment's rollback): the version rolled out in place.
    RollOut {
        version: Version,
        previous: Option<Version>,
        is_rollback: bool,
    },
    /// Canary: the new version to a larger share of traffic (from none, when it starts).
    CanaryStep { version: Version, to: u8 },
    /// Canary: all traffic back to the stable version.
    CanaryAbort { version: Version, weight: u8 },
}

/// A checked operation, ready to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub action: OperationAction,
    pub version: Option<Version>,
    pub target_slot: Option<SlotColor>,
    pub weight: Option<u8>,
    pub deployment: Option<DeploymentIntent>,
    pub steps: Vec<Step>,
    /// What will happen, as the confirmation asks it: "Switch production to green, version
    /// 2.4.1?"
    pub question: String,
    pub(super) kind: Kind,
}

impl Plan {
    /// The version this operation puts in front of all users, if it does: a switch, a
    /// rolling deploy, the canary step to 100%. Rollbacks restore rather than release.
    pub fn goes_live(&self) -> Option<&Version> {
        match &self.kind {
            Kind::Switch { version, .. } if self.action == OperationAction::Switch => Some(version),
            Kind::RollOut {
                version,
                is_rollback: false,
                ..
            } => Some(version),
            Kind::CanaryStep { version, to: 100 } => Some(version),
            _ => None,
        }
    }
}

/// Checks `request` against `state` and plans it. `canary_steps` are the configured traffic
/// shares, ascending, ending at 100.
pub fn plan(
    state: &EnvironmentState,
    request: &Request,
    canary_steps: &[u8],
) -> Result<Plan, Refusal> {
    check(state, request)?;
    let kind = match state.strategy {
        Strategy::BlueGreen => blue_green(state, request)?,
        Strategy::Rolling | Strategy::Canary => in_place(state, request, canary_steps)?,
    };
    Ok(Plan::new(state, request.action, kind))
}

/// Blue-green: deploy to the idle slot, switch to it, or roll back to the previous version.
fn blue_green(state: &EnvironmentState, request: &Request) -> Result<Kind, Refusal> {
    let live = live_slot(state)?;
    let idle = live.other();
    Ok(match request.action {
        OperationAction::Deploy => Kind::DeployIdle {
            slot: idle,
            version: required_version(request)?,
        },
        OperationAction::Switch => {
            let version = state.slot_version(idle).cloned().ok_or_else(|| {
                conflict(
                    "action",
                    format!("The idle slot ({idle}) holds no version yet: deploy to it first."),
                )
            })?;
            if let Some(asked) = request.version.as_ref().filter(|asked| **asked != version) {
                return Err(conflict(
                    "version",
                    format!(
                        "{idle} holds {}, not {}: deploy {} to it first.",
                        version.as_str(),
                        asked.as_str(),
                        asked.as_str()
                    ),
                ));
            }
            Kind::Switch {
                from: live,
                to: idle,
                version,
                redeploy: false,
            }
        }
        OperationAction::Rollback => {
            let version = rollback_version(state, request)?;
            let redeploy = state.slot_version(idle) != Some(&version);
            Kind::Switch {
                from: live,
                to: idle,
                version,
                redeploy,
            }
        }
        OperationAction::CanaryPromote | OperationAction::CanaryAbort => {
            unreachable!("check() refuses what blue-green does not offer")
        }
    })
}

/// Rolling and canary environments: the version rolled out in place, or a canary's steps.
fn in_place(
    state: &EnvironmentState,
    request: &Request,
    canary_steps: &[u8],
) -> Result<Kind, Refusal> {
    Ok(match request.action {
        OperationAction::Deploy if state.strategy == Strategy::Canary => {
            if let Some(canary) = &state.canary {
                return Err(canary_runs(canary));
            }
            let first = request
                .weight
                .unwrap_or_else(|| canary_steps.first().copied().unwrap_or(100));
            if first == 0 {
                return Err(FieldError::new("weight", "Start a canary above 0%.").into());
            }
            Kind::CanaryStep {
                version: required_version(request)?,
                to: first,
            }
        }
        OperationAction::Deploy => Kind::RollOut {
            version: required_version(request)?,
            previous: state.current_version.clone(),
            is_rollback: false,
        },
        OperationAction::Rollback => {
            if let Some(canary) = &state.canary {
                return Err(conflict(
                    "action",
                    format!(
                        "A canary of {} runs at {}%: abort it to put all traffic back on the stable version.",
                        canary.version.as_str(),
                        canary.weight
                    ),
                ));
            }
            Kind::RollOut {
                version: rollback_version(state, request)?,
                previous: state.current_version.clone(),
                is_rollback: true,
            }
        }
        OperationAction::CanaryPromote => {
            let canary = running_canary(state)?;
            if let Some(asked) = request.version.as_ref().filter(|a| **a != canary.version) {
                return Err(conflict(
                    "version",
                    format!(
                        "The canary running in {} is {}, not {}: promote it, or deploy {} first.",
                        state.name,
                        canary.version.as_str(),
                        asked.as_str(),
                        asked.as_str()
                    ),
                ));
            }
            let next = canary_steps
                .iter()
                .copied()
                .find(|&w| w > canary.weight)
                .unwrap_or(100);
            let to = request.weight.unwrap_or(next);
            if to <= canary.weight {
                return Err(FieldError::new(
                    "weight",
                    format!("Promote to more than the current {}%.", canary.weight),
                )
                .into());
            }
            Kind::CanaryStep {
                version: canary.version.clone(),
                to,
            }
        }
        OperationAction::CanaryAbort => {
            let canary = running_canary(state)?;
            Kind::CanaryAbort {
                version: canary.version.clone(),
                weight: canary.weight,
            }
        }
        OperationAction::Switch => unreachable!("check() refuses a switch without slots"),
    })
}

impl Plan {
    fn new(state: &EnvironmentState, action: OperationAction, kind: Kind) -> Self {
        let deployment = kind.deployment(action, state);
        Plan {
            action,
            version: Some(deployment.version.clone()),
            target_slot: match &kind {
                Kind::DeployIdle { slot, .. } => Some(*slot),
                Kind::Switch { to, .. } => Some(*to),
                _ => None,
            },
            weight: match &kind {
                Kind::CanaryStep { to, .. } => Some(*to),
                Kind::CanaryAbort { .. } => Some(0),
                _ => None,
            },
            steps: kind.steps(),
            question: kind.question(action, state),
            deployment: Some(deployment),
            kind,
        }
    }
}

impl Kind {
    /// What the operation does, in order.
    fn steps(&self) -> Vec<Step> {
        match self {
            Kind::DeployIdle { slot, version } => vec![
                drive(DriverAction::Deploy, Some(*slot), version, None),
                Step::AwaitHealthy { slot: Some(*slot) },
            ],
            Kind::Switch {
                to,
                version,
                redeploy,
                ..
            } => {
                let redeploy =
                    redeploy.then(|| drive(DriverAction::Deploy, Some(*to), version, None));
                redeploy
                    .into_iter()
                    .chain([
                        Step::AwaitHealthy { slot: Some(*to) },
                        drive(DriverAction::Switch, Some(*to), version, None),
                        Step::Verify { slot: Some(*to) },
                    ])
                    .collect()
            }
            Kind::RollOut { version, .. } => vec![
                drive(DriverAction::Deploy, None, version, None),
                Step::AwaitHealthy { slot: None },
                Step::Verify { slot: None },
            ],
            Kind::CanaryStep { version, to } => vec![
                drive(DriverAction::Canary, None, version, Some(*to)),
                Step::Verify { slot: None },
            ],
            Kind::CanaryAbort { version, .. } => {
                vec![drive(DriverAction::Canary, None, version, Some(0))]
            }
        }
    }

    /// What will happen, as the confirmation asks it.
    fn question(&self, action: OperationAction, state: &EnvironmentState) -> String {
        let env = &state.name;
        match self {
            Kind::DeployIdle { slot, version } => format!(
                "Deploy {} to the idle slot {slot} of {env}? It takes no traffic until you switch.",
                version.as_str()
            ),
            Kind::Switch {
                to,
                version,
                redeploy,
                ..
            } => match (action == OperationAction::Rollback, redeploy) {
                (false, _) => format!("Switch {env} to {to}, version {}?", version.as_str()),
                (true, false) => format!(
                    "Roll {env} back to {} by switching to {to}?",
                    version.as_str()
                ),
                (true, true) => format!(
                    "Roll {env} back to {} (deploy it to {to}, then switch to {to})?",
                    version.as_str()
                ),
            },
            Kind::RollOut {
                version,
                is_rollback: true,
                ..
            } => format!("Roll {env} back to {}?", version.as_str()),
            Kind::RollOut { version, .. } => format!("Deploy {} to {env}?", version.as_str()),
            Kind::CanaryStep { version, to } => match &state.canary {
                None => format!(
                    "Start a canary of {} in {env} with {to}% of traffic?",
                    version.as_str()
                ),
                Some(canary) if *to == 100 => format!(
                    "Promote the canary {} in {env} from {}% to 100%, making it the stable version?",
                    version.as_str(),
                    canary.weight
                ),
                Some(canary) => format!(
                    "Promote the canary {} in {env} from {}% to {to}%?",
                    version.as_str(),
                    canary.weight
                ),
            },
            Kind::CanaryAbort { version, .. } => format!(
                "Abort the canary {} in {env} and send all traffic back to {}?",
                version.as_str(),
                state
                    .current_version
                    .as_ref()
                    .map_or("the stable version", Version::as_str)
            ),
        }
    }

    /// The deployment the operation records (or continues).
    fn deployment(&self, action: OperationAction, state: &EnvironmentState) -> DeploymentIntent {
        match self {
            Kind::DeployIdle { slot, version } => intent(version, Some(*slot), false, false),
            Kind::Switch { to, version, .. } => {
                let is_rollback = action == OperationAction::Rollback;
                intent(version, Some(*to), is_rollback, !is_rollback)
            }
            Kind::RollOut {
                version,
                is_rollback,
                ..
            } => intent(version, None, *is_rollback, false),
            Kind::CanaryStep { version, .. } => {
                intent(version, None, false, state.canary.is_some())
            }
            Kind::CanaryAbort { version, .. } => intent(version, None, false, true),
        }
    }
}

pub(super) fn drive(
    action: DriverAction,
    slot: Option<SlotColor>,
    version: &Version,
    weight: Option<u8>,
) -> Step {
    Step::Drive {
        action,
        slot,
        version: version.clone(),
        weight,
    }
}

fn intent(
    version: &Version,
    slot: Option<SlotColor>,
    is_rollback: bool,
    continues_running: bool,
) -> DeploymentIntent {
    DeploymentIntent {
        version: version.clone(),
        slot,
        is_rollback,
        continues_running,
    }
}
