//! Running a plan: one step at a time, the steps that undo a failure, and how it ends.

use serde::{Deserialize, Serialize};

use super::{
    plan::{drive, Kind},
    Canary, DriverAction, OperationStatus, Plan, Step,
};
use crate::domain::{
    catalog::SlotColor,
    deployments::{DeploymentStatus, Version},
};

impl Plan {
    /// What undoes a failure at step `failed_at`, run before the operation ends.
    pub(super) fn recovery(&self, failed_at: usize) -> Vec<Step> {
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
