//! Operations: what a releaser asks Switchyard to do to an environment (deploy to idle, switch,
//! rollback, canary steps), checked against the environment's state, and the state machine that
//! runs it. Plain Rust with no I/O: the backend runs each [`Step`] with the environment's driver
//! and health checks, feeds the outcome to [`Run::next`], and applies the [`Ending`] it returns.

use serde::{Deserialize, Serialize};

use super::{
    catalog::{SlotColor, Strategy},
    deployment::{DeploymentStatus, Version},
    FieldError,
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

impl OperationStatus {
    /// Whether the operation has ended.
    pub fn is_final(self) -> bool {
        self != OperationStatus::Running
    }
}

/// The canary steps used when the configuration names none: percentages of traffic.
pub const DEFAULT_CANARY_STEPS: [u8; 4] = [10, 25, 50, 100];

/// An operation as a button or an API call asks for it: text, parsed by
/// [`OperationInput::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperationInput {
    /// `deploy`, `switch`, `rollback`, `canary_promote` or `canary_abort`.
    pub action: String,
    /// `deploy`: the version to put in place. Elsewhere optional: when sent, it must be the
    /// version the operation would put in place, a guard against pressing the wrong button.
    #[serde(default)]
    pub version: Option<String>,
    /// The environment revision the caller was looking at; a newer one refuses with 409.
    pub expected_revision: i64,
    /// Canary only: the traffic percentage to go to instead of the next configured step.
    #[serde(default)]
    pub weight: Option<i64>,
}

/// An operation request with every field valid on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub action: OperationAction,
    pub version: Option<Version>,
    pub expected_revision: i64,
    pub weight: Option<u8>,
}

impl OperationInput {
    pub fn parse(&self) -> Result<Request, FieldError> {
        let action = OperationAction::parse("action", &self.action)?;
        let version = match self.version.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Version::parse(text)?),
        };
        let weight =
            self.weight
                .map(|weight| {
                    u8::try_from(weight)
                        .ok()
                        .filter(|w| *w <= 100)
                        .ok_or_else(|| {
                            FieldError::new(
                        "weight",
                        format!("{weight} is not a traffic share; use a percentage from 0 to 100."),
                    )
                        })
                })
                .transpose()?;
        Ok(Request {
            action,
            version,
            expected_revision: self.expected_revision,
            weight,
        })
    }
}

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

/// Why an operation cannot start: bad input (422) or a state that does not allow it (409).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Invalid(FieldError),
    Conflict(FieldError),
}

impl From<FieldError> for Refusal {
    fn from(error: FieldError) -> Self {
        Refusal::Invalid(error)
    }
}

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
enum Kind {
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
    kind: Kind,
}

/// Checks `request` against `state` and plans it. `canary_steps` are the configured traffic
/// shares, ascending, ending at 100.
pub fn plan(
    state: &EnvironmentState,
    request: &Request,
    canary_steps: &[u8],
) -> Result<Plan, Refusal> {
    let action = request.action;
    if !OperationAction::offered_by(state.strategy).contains(&action) {
        let offered: Vec<&str> = OperationAction::offered_by(state.strategy)
            .iter()
            .map(|a| a.as_str())
            .collect();
        return Err(FieldError::new(
            "action",
            format!(
                "{} is a {} environment, which has no {action}; choose {}.",
                state.name,
                state.strategy,
                super::words::or_list(&offered)
            ),
        )
        .into());
    }
    if request.weight.is_some() && state.strategy != Strategy::Canary {
        return Err(FieldError::new("weight", "Only canary steps take a weight.").into());
    }
    if request.expected_revision != state.revision {
        return Err(conflict(
            "expected_revision",
            format!(
                "{} changed since you looked (it is at revision {} now, you saw {}). Look at its new state, then try again.",
                state.name, state.revision, request.expected_revision
            ),
        ));
    }
    let kind = match (state.strategy, action) {
        (Strategy::BlueGreen, OperationAction::Deploy) => {
            let live = live_slot(state)?;
            Kind::DeployIdle {
                slot: live.other(),
                version: required_version(request)?,
            }
        }
        (Strategy::BlueGreen, OperationAction::Switch) => {
            let from = live_slot(state)?;
            let to = from.other();
            let version = state.slot_version(to).cloned().ok_or_else(|| {
                conflict(
                    "action",
                    format!("The idle slot ({to}) holds no version yet: deploy to it first."),
                )
            })?;
            if let Some(asked) = &request.version {
                if *asked != version {
                    return Err(conflict(
                        "version",
                        format!(
                            "{to} holds {}, not {}: deploy {} to it first.",
                            version.as_str(),
                            asked.as_str(),
                            asked.as_str()
                        ),
                    ));
                }
            }
            Kind::Switch {
                from,
                to,
                version,
                redeploy: false,
            }
        }
        (Strategy::BlueGreen, OperationAction::Rollback) => {
            let from = live_slot(state)?;
            let to = from.other();
            let version = rollback_version(state, request)?;
            let redeploy = state.slot_version(to) != Some(&version);
            Kind::Switch {
                from,
                to,
                version,
                redeploy,
            }
        }
        (_, OperationAction::Deploy) if state.strategy == Strategy::Canary => {
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
        (_, OperationAction::Deploy) => Kind::RollOut {
            version: required_version(request)?,
            previous: state.current_version.clone(),
            is_rollback: false,
        },
        (_, OperationAction::Rollback) => {
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
        (_, OperationAction::CanaryPromote) => {
            let canary = running_canary(state)?;
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
        (_, OperationAction::CanaryAbort) => {
            let canary = running_canary(state)?;
            Kind::CanaryAbort {
                version: canary.version.clone(),
                weight: canary.weight,
            }
        }
        (_, OperationAction::Switch) => unreachable!("only blue-green offers switch"),
    };
    Ok(Plan::new(state, action, kind))
}

fn conflict(field: &str, message: impl Into<String>) -> Refusal {
    Refusal::Conflict(FieldError::new(field, message))
}

fn live_slot(state: &EnvironmentState) -> Result<SlotColor, Refusal> {
    state.live.ok_or_else(|| {
        conflict(
            "action",
            "This environment has no live slot; an admin sets its slots up first.",
        )
    })
}

fn required_version(request: &Request) -> Result<Version, Refusal> {
    request.version.clone().ok_or_else(|| {
        FieldError::new("version", "Enter the version to deploy, such as 2.4.1.").into()
    })
}

fn rollback_version(state: &EnvironmentState, request: &Request) -> Result<Version, Refusal> {
    let previous = state.previous_version.clone().ok_or_else(|| {
        conflict(
            "action",
            format!(
                "Nothing to roll back to: no earlier version succeeded in {}.",
                state.name
            ),
        )
    })?;
    match &request.version {
        Some(asked) if *asked != previous => Err(FieldError::new(
            "version",
            format!(
                "A rollback puts back {}, the version before this one; leave the version out or send that one.",
                previous.as_str()
            ),
        )
        .into()),
        _ => Ok(previous),
    }
}

fn running_canary(state: &EnvironmentState) -> Result<&Canary, Refusal> {
    state.canary.as_ref().ok_or_else(|| {
        conflict(
            "action",
            format!(
                "No canary runs in {}: deploy a version to start one.",
                state.name
            ),
        )
    })
}

fn canary_runs(canary: &Canary) -> Refusal {
    conflict(
        "action",
        format!(
            "A canary of {} runs at {}%: promote or abort it first.",
            canary.version.as_str(),
            canary.weight
        ),
    )
}

impl Plan {
    fn new(state: &EnvironmentState, action: OperationAction, kind: Kind) -> Self {
        let env = &state.name;
        let stable = || {
            state
                .current_version
                .as_ref()
                .map_or("the stable version".to_owned(), |v| v.as_str().to_owned())
        };
        let (steps, question, deployment, target_slot, weight) = match &kind {
            Kind::DeployIdle { slot, version } => (
                vec![
                    drive(DriverAction::Deploy, Some(*slot), version, None),
                    Step::AwaitHealthy { slot: Some(*slot) },
                ],
                format!(
                    "Deploy {} to the idle slot {slot} of {env}? It takes no traffic until you switch.",
                    version.as_str()
                ),
                Some(intent(version, Some(*slot), false, false)),
                Some(*slot),
                None,
            ),
            Kind::Switch {
                to,
                version,
                redeploy,
                ..
            } => {
                let mut steps = Vec::new();
                if *redeploy {
                    steps.push(drive(DriverAction::Deploy, Some(*to), version, None));
                }
                steps.extend([
                    Step::AwaitHealthy { slot: Some(*to) },
                    drive(DriverAction::Switch, Some(*to), version, None),
                    Step::Verify { slot: Some(*to) },
                ]);
                let is_rollback = action == OperationAction::Rollback;
                let question = match (is_rollback, redeploy) {
                    (false, _) => format!("Switch {env} to {to}, version {}?", version.as_str()),
                    (true, false) => format!(
                        "Roll {env} back to {} by switching to {to}?",
                        version.as_str()
                    ),
                    (true, true) => format!(
                        "Roll {env} back to {} (deploy it to {to}, then switch to {to})?",
                        version.as_str()
                    ),
                };
                (
                    steps,
                    question,
                    Some(intent(version, Some(*to), is_rollback, !is_rollback)),
                    Some(*to),
                    None,
                )
            }
            Kind::RollOut {
                version,
                is_rollback,
                ..
            } => (
                vec![
                    drive(DriverAction::Deploy, None, version, None),
                    Step::AwaitHealthy { slot: None },
                    Step::Verify { slot: None },
                ],
                if *is_rollback {
                    format!("Roll {env} back to {}?", version.as_str())
                } else {
                    format!("Deploy {} to {env}?", version.as_str())
                },
                Some(intent(version, None, *is_rollback, false)),
                None,
                None,
            ),
            Kind::CanaryStep { version, to } => {
                let question = match &state.canary {
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
                };
                (
                    vec![
                        drive(DriverAction::Canary, None, version, Some(*to)),
                        Step::Verify { slot: None },
                    ],
                    question,
                    Some(intent(version, None, false, state.canary.is_some())),
                    None,
                    Some(*to),
                )
            }
            Kind::CanaryAbort { version, .. } => (
                vec![drive(DriverAction::Canary, None, version, Some(0))],
                format!(
                    "Abort the canary {} in {env} and send all traffic back to {}?",
                    version.as_str(),
                    stable()
                ),
                Some(intent(version, None, false, true)),
                None,
                Some(0),
            ),
        };
        let version = deployment.as_ref().map(|d| d.version.clone());
        Plan {
            action,
            version,
            target_slot,
            weight,
            deployment,
            steps,
            question,
            kind,
        }
    }

    /// What undoes a failure at step `failed_at`, run before the operation ends.
    fn recovery(&self, failed_at: usize) -> Vec<Step> {
        match &self.kind {
            Kind::Switch { from, version, .. } if failed_at >= self.switch_position() => {
                vec![drive(DriverAction::Switch, Some(*from), version, None)]
            }
            Kind::RollOut {
                previous: Some(previous),
                is_rollback: false,
                ..
            } => vec![drive(DriverAction::Deploy, None, previous, None)],
            Kind::CanaryStep { version, .. } => {
                vec![drive(DriverAction::Canary, None, version, Some(0))]
            }
            _ => Vec::new(),
        }
    }

    /// Where the traffic moves in a switch: the steps before it change nothing live.
    fn switch_position(&self) -> usize {
        self.steps
            .iter()
            .position(|s| {
                matches!(
                    s,
                    Step::Drive {
                        action: DriverAction::Switch,
                        ..
                    }
                )
            })
            .unwrap_or(usize::MAX)
    }

    /// The ending when every step succeeded.
    fn success(&self) -> Ending {
        let mut ending = Ending::new(OperationStatus::Succeeded, None);
        match &self.kind {
            Kind::DeployIdle { slot, version } => {
                ending.slot_version = Some((*slot, Some(version.clone())));
            }
            Kind::Switch { to, version, .. } => {
                ending.live = Some(*to);
                ending.slot_version = Some((*to, Some(version.clone())));
                ending.deployment = Some(DeploymentStatus::Succeeded);
            }
            Kind::RollOut { version, .. } => {
                ending.current_version = Some(Some(version.clone()));
                ending.deployment = Some(DeploymentStatus::Succeeded);
            }
            Kind::CanaryStep { version, to: 100 } => {
                ending.current_version = Some(Some(version.clone()));
                ending.canary = Some(None);
                ending.deployment = Some(DeploymentStatus::Succeeded);
            }
            Kind::CanaryStep { version, to } => {
                ending.canary = Some(Some(Canary {
                    version: version.clone(),
                    weight: *to,
                }));
            }
            Kind::CanaryAbort { weight, .. } => {
                ending.canary = Some(None);
                ending.deployment = Some(DeploymentStatus::Failed);
                ending.deployment_note = Some(format!("Canary aborted at {weight}% of traffic."));
            }
        }
        ending
    }

    /// The ending when step `failed_at` failed with `reason`, after the recovery ran
    /// (`recovery_error`: how the recovery failed, if it did).
    fn failure(&self, failed_at: usize, reason: &str, recovery_error: Option<&str>) -> Ending {
        let step = self
            .steps
            .get(failed_at)
            .map_or_else(String::new, Step::describe);
        let failed = format!("{step} failed: {reason}");
        let mut ending = Ending::new(OperationStatus::Failed, None);
        let recovered = recovery_error.is_none() && !self.recovery(failed_at).is_empty();
        let unrecovered =
            |undo: &str, e: &str| format!("{failed}. {undo} failed too ({e}): check it by hand.");
        match &self.kind {
            Kind::DeployIdle { slot, .. } => {
                // Whatever the driver left on the idle slot is not a version we can name.
                ending.slot_version = Some((*slot, None));
                ending.deployment = Some(DeploymentStatus::Failed);
                ending.error = Some(failed);
            }
            Kind::Switch {
                from,
                to,
                version,
                redeploy,
            } => {
                let switch_at = self.switch_position();
                ending.deployment = Some(DeploymentStatus::Failed);
                if *redeploy {
                    let held = (failed_at > 0).then(|| version.clone());
                    ending.slot_version = Some((*to, held));
                }
                ending.error = Some(match recovery_error {
                    _ if failed_at < switch_at => failed,
                    None => {
                        ending.live = Some(*from);
                        format!("{failed}. Switched traffic back to {from}.")
                    }
                    Some(e) => {
                        // The switch itself failing most likely left traffic where it was.
                        ending.live = Some(if failed_at == switch_at { *from } else { *to });
                        unrecovered(&format!("Switching back to {from}"), e)
                    }
                });
            }
            Kind::RollOut { previous, .. } => {
                ending.deployment = Some(DeploymentStatus::Failed);
                ending.error = Some(match (recovered, previous, recovery_error) {
                    (true, Some(previous), _) => {
                        ending.current_version = Some(Some(previous.clone()));
                        format!(
                            "{failed}. Rolled back to {} automatically.",
                            previous.as_str()
                        )
                    }
                    (_, Some(previous), Some(e)) => {
                        ending.current_version = Some(None);
                        unrecovered(&format!("Rolling back to {}", previous.as_str()), e)
                    }
                    _ => {
                        ending.current_version = Some(None);
                        failed
                    }
                });
            }
            Kind::CanaryStep { version, to } => match recovery_error {
                None => {
                    ending.canary = Some(None);
                    ending.deployment = Some(DeploymentStatus::Failed);
                    ending.error = Some(format!(
                        "{failed}. Aborted the canary: no traffic goes to {} any more.",
                        version.as_str()
                    ));
                }
                Some(e) => {
                    ending.canary = Some(Some(Canary {
                        version: version.clone(),
                        weight: *to,
                    }));
                    ending.error = Some(unrecovered("Aborting the canary", e));
                }
            },
            Kind::CanaryAbort { .. } => ending.error = Some(failed),
        }
        if let (Some(DeploymentStatus::Failed), Some(error)) = (&ending.deployment, &ending.error) {
            ending.deployment_note = Some(error.clone());
        }
        ending
    }
}

fn drive(
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

/// How an operation ended, and what that changes. `None` fields change nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    pub status: Option<OperationStatus>,
    pub error: Option<String>,
    /// The slot taking traffic now.
    pub live: Option<SlotColor>,
    /// A slot and the version it holds now (`None`: unknown).
    pub slot_version: Option<(SlotColor, Option<Version>)>,
    /// The version a rolling or canary environment runs now (inner `None`: unknown).
    pub current_version: Option<Option<Version>>,
    /// The canary now (inner `None`: none runs).
    pub canary: Option<Option<Canary>>,
    /// How the operation's deployment ends; `None` leaves it running (a deploy to idle waits
    /// for its switch, a canary for its next step).
    pub deployment: Option<DeploymentStatus>,
    /// A line added to the deployment's notes.
    pub deployment_note: Option<String>,
}

impl Ending {
    fn new(status: OperationStatus, error: Option<String>) -> Self {
        Self {
            status: Some(status),
            error,
            ..Self::default()
        }
    }

    /// The final status.
    pub fn status(&self) -> OperationStatus {
        self.status.unwrap_or(OperationStatus::Failed)
    }
}

/// How the step last handed out went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Succeeded,
    Failed(String),
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run this step; `recovery` marks the steps that undo a failure.
    Run { step: Step, recovery: bool },
    /// The operation is over.
    End(Ending),
}

/// A plan being run: hands out one step at a time and decides how it ends.
#[derive(Clone, Debug)]
pub struct Run {
    plan: Plan,
    position: usize,
    failure: Option<(usize, String)>,
    recovery: Vec<Step>,
    recovery_position: usize,
}

impl Run {
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            position: 0,
            failure: None,
            recovery: Vec::new(),
            recovery_position: 0,
        }
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The first step (`last` = `None`), or the one after the step last handed out, given
    /// how that went.
    pub fn next(&mut self, last: Option<StepOutcome>) -> Next {
        match (&self.failure, last) {
            (None, None) => {}
            (None, Some(StepOutcome::Succeeded)) => self.position += 1,
            (None, Some(StepOutcome::Failed(reason))) => {
                self.recovery = self.plan.recovery(self.position);
                self.failure = Some((self.position, reason));
            }
            (Some(_), None) => {}
            (Some(_), Some(StepOutcome::Succeeded)) => self.recovery_position += 1,
            (Some((at, reason)), Some(StepOutcome::Failed(error))) => {
                return Next::End(self.plan.failure(*at, reason, Some(&error)));
            }
        }
        match &self.failure {
            None => match self.plan.steps.get(self.position) {
                Some(step) => Next::Run {
                    step: step.clone(),
                    recovery: false,
                },
                None => Next::End(self.plan.success()),
            },
            Some((at, reason)) => match self.recovery.get(self.recovery_position) {
                Some(step) => Next::Run {
                    step: step.clone(),
                    recovery: true,
                },
                None => Next::End(self.plan.failure(*at, reason, None)),
            },
        }
    }
}

#[cfg(test)]
mod tests;
