//! A request as a button or an API call sends it, parsed field by field, and checked against
//! the environment's state before anything is planned.

use serde::{Deserialize, Serialize};

use super::{Canary, EnvironmentState, OperationAction};
use crate::domain::{
    catalog::{SlotColor, Strategy},
    deployments::Version,
    words, FieldError,
};

/// An operation as a button or an API call asks for it: text, parsed by
/// [`OperationInput::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperationInput {
    /// `deploy`, `switch`, `rollback`, `canary_promote` or `canary_abort`.
    #[cfg_attr(feature = "ssr", schema(value_type = crate::domain::operations::OperationAction))]
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
    /// Admins: why this operation may pass a closed gate (an unsigned production checklist,
    /// a freeze window); 10 characters or more, audited.
    #[serde(default)]
    pub override_reason: Option<String>,
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

/// Checks what holds for every action: the environment offers it, a weight only for a canary,
/// and the caller saw the state as it is now.
pub(super) fn check(state: &EnvironmentState, request: &Request) -> Result<(), Refusal> {
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
                words::or_list(&offered)
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
    Ok(())
}

pub(super) fn conflict(field: &str, message: impl Into<String>) -> Refusal {
    Refusal::Conflict(FieldError::new(field, message))
}

pub(super) fn live_slot(state: &EnvironmentState) -> Result<SlotColor, Refusal> {
    state.live.ok_or_else(|| {
        conflict(
            "action",
            "This environment has no live slot; an admin sets its slots up first.",
        )
    })
}

pub(super) fn required_version(request: &Request) -> Result<Version, Refusal> {
    request.version.clone().ok_or_else(|| {
        FieldError::new("version", "Enter the version to deploy, such as 2.4.1.").into()
    })
}

pub(super) fn rollback_version(
    state: &EnvironmentState,
    request: &Request,
) -> Result<Version, Refusal> {
    let previous = state.previous_version.clone().ok_or_else(|| {
        conflict(
            "action",
            format!(
                "Nothing to roll back to: no operation has put an earlier version live in {}; deploy the version you want instead.",
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

pub(super) fn running_canary(state: &EnvironmentState) -> Result<&Canary, Refusal> {
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

pub(super) fn canary_runs(canary: &Canary) -> Refusal {
    conflict(
        "action",
        format!(
            "A canary of {} runs at {}%: promote or abort it first.",
            canary.version.as_str(),
            canary.weight
        ),
    )
}
