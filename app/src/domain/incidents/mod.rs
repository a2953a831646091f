//! Incidents: something wrong in an environment, from declaration to resolution, with its
//! severity, its lifecycle, its timeline and its links to the deployments that caused or fixed
//! it; then its post-mortem ([`postmortem`]) and the action items that follow ([`action_items`]).

pub mod action_items;
#[cfg(feature = "markdown")]
pub mod markdown;
pub mod postmortem;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    catalog::Name,
    words::{bounded_text, present},
    FieldError, FieldErrors, Timestamp, Username,
};

crate::word_enum! {
    /// How bad it is: SEV1 is the worst.
    Severity, "severity" {
        Sev1 = "SEV1",
        Sev2 = "SEV2",
        Sev3 = "SEV3",
        Sev4 = "SEV4",
    }
}

impl Severity {
    /// What the level means, shown wherever it is chosen.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::Sev1 => "Critical: the service is down or data is at risk for most users. Everyone needed joins now.",
            Severity::Sev2 => "Major: a core feature is broken or many users are affected. Fix now, before other work.",
            Severity::Sev3 => "Minor: degraded for some users, with a workaround. Fix in working hours.",
            Severity::Sev4 => "Low: little or no user impact (internal, cosmetic). Track it.",
        }
    }

    /// The guide's recovery time objective: critical systems (SEV1, SEV2) < 1 hour,
    /// non-critical < 4 hours.
    pub fn rto(self) -> Duration {
        match self {
            Severity::Sev1 | Severity::Sev2 => Duration::from_secs(3_600),
            Severity::Sev3 | Severity::Sev4 => Duration::from_secs(4 * 3_600),
        }
    }

    /// Whether a resolved incident of this severity needs a post-mortem.
    pub fn needs_postmortem(self) -> bool {
        matches!(self, Severity::Sev1 | Severity::Sev2)
    }
}

crate::word_enum! {
    /// Where an incident stands.
    IncidentStatus, "incident status" {
        Investigating = "investigating",
        Identified = "identified",
        Monitoring = "monitoring",
        Resolved = "resolved",
    }
}

impl IncidentStatus {
    /// Whether an incident may move from this status to `to`: forward one step at a time,
    /// back from `monitoring` to `investigating` when the fix did not hold, and from
    /// `resolved` to `investigating` when it comes back (reopened).
    pub fn may_become(self, to: IncidentStatus) -> bool {
        use IncidentStatus::*;
        matches!(
            (self, to),
            (Investigating, Identified)
                | (Identified, Monitoring)
                | (Monitoring, Resolved)
                | (Monitoring, Investigating)
                | (Resolved, Investigating)
        )
    }

    /// The statuses this one may move to, in order.
    pub fn next(self) -> Vec<IncidentStatus> {
        Self::ALL
            .iter()
            .copied()
            .filter(|to| self.may_become(*to))
            .collect()
    }

    /// The refusal for an illegal move, saying which moves there are.
    pub fn refuse(self, to: IncidentStatus) -> FieldError {
        let next: Vec<&str> = self.next().iter().map(|s| s.as_str()).collect();
        FieldError::new(
            "status",
            format!(
                "An incident cannot go from {self} to {to}; from {self} it may go to {}.",
                super::words::or_list(&next)
            ),
        )
    }

    /// The button that moves an incident to this status.
    pub fn verb(self, from: IncidentStatus) -> &'static str {
        match (from, self) {
            (IncidentStatus::Resolved, _) => "Reopen",
            (IncidentStatus::Monitoring, IncidentStatus::Investigating) => "Back to investigating",
            (_, IncidentStatus::Identified) => "Cause identified",
            (_, IncidentStatus::Monitoring) => "Fix in place: monitor",
            (_, IncidentStatus::Resolved) => "Resolve",
            (_, IncidentStatus::Investigating) => "Investigate",
        }
    }
}

crate::word_enum! {
    /// What a linked deployment did to the incident.
    LinkKind, "link kind" {
        Cause = "cause",
        Fix = "fix",
    }
}

/// The longest title, description or timeline entry.
pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 10_000;
/// How far back before `started_at` deployments are suggested as causes.
pub const SUGGESTION_WINDOW: Duration = Duration::from_secs(24 * 3_600);

/// Whether a deployment that finished at `finished_at` is suggested as a cause of an incident
/// that started at `started_at`: it finished in the 24 hours up to the start.
pub fn suggested(finished_at: Timestamp, started_at: Timestamp) -> bool {
    finished_at <= started_at && finished_at >= started_at.minus(SUGGESTION_WINDOW)
}

/// An incident as the declare form or `POST /api/v1/incidents` sends it. A past incident may
/// be imported whole: `status: "resolved"` with its three times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::required_text::<200>))]
    pub title: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub service: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub environment: String,
    /// `SEV1` (worst) to `SEV4`.
    #[cfg_attr(feature = "ssr", schema(value_type = Severity))]
    pub severity: String,
    /// A username; the declarer when left out.
    #[serde(default)]
    pub commander: Option<String>,
    /// When it began; now when left out.
    #[serde(default)]
    pub started_at: Option<String>,
    /// When someone noticed; `started_at` when left out.
    #[serde(default)]
    pub detected_at: Option<String>,
    /// Only when importing a resolved incident; now when left out.
    #[serde(default)]
    pub resolved_at: Option<String>,
    /// `investigating` (the default) … `resolved` (an import).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<IncidentStatus>))]
    pub status: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::optional_text::<MAX_TEXT>))]
    pub description: Option<String>,
    /// Deployments of the same service and environment to link as causes at once (the
    /// declare form's suggestions).
    #[serde(default)]
    pub causes: Vec<i64>,
}

/// An incident to declare, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIncident {
    pub title: String,
    pub service: Name,
    pub environment: Name,
    pub severity: Severity,
    pub commander: Option<Username>,
    pub status: IncidentStatus,
    pub times: IncidentTimes,
    pub description: String,
    /// Deployments to link as causes, each once.
    pub causes: Vec<i64>,
}

/// An incident's three moments, consistent with each other and with now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncidentTimes {
    pub started_at: Timestamp,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

impl IncidentTimes {
    /// Checks the order (started ≤ detected, started ≤ resolved) and that none is after
    /// `now`; every problem is reported.
    pub fn check(self, now: Timestamp) -> Result<Self, FieldErrors> {
        let mut errors = Vec::new();
        let future = |field: &str, at: Timestamp, errors: &mut Vec<FieldError>| {
            if at > now {
                errors.push(FieldError::new(
                    field,
                    format!("{at} is in the future; give a time no later than now ({now})."),
                ));
            }
        };
        future("started_at", self.started_at, &mut errors);
        future("detected_at", self.detected_at, &mut errors);
        if self.detected_at < self.started_at {
            errors.push(FieldError::new(
                "detected_at",
                "It cannot be detected before it started: give a detection time at or after the start.",
            ));
        }
        if let Some(resolved_at) = self.resolved_at {
            future("resolved_at", resolved_at, &mut errors);
            if resolved_at < self.started_at {
                errors.push(FieldError::new(
                    "resolved_at",
                    "It cannot be resolved before it started: give a resolution time at or after the start.",
                ));
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(FieldErrors(errors))
        }
    }
}

fn optional_time(field: &str, text: &Option<String>) -> Result<Option<Timestamp>, FieldError> {
    present(text)
        .map(|t| Timestamp::parse(field, t))
        .transpose()
}

fn title(text: &str) -> Result<String, FieldError> {
    let title = bounded_text("title", text, MAX_TITLE)?;
    if title.is_empty() {
        return Err(FieldError::new(
            "title",
            "Give the incident a title: what is wrong, in a few words.",
        ));
    }
    Ok(title)
}

fn commander(text: &Option<String>) -> Result<Option<Username>, FieldError> {
    present(text)
        .map(|name| {
            Username::parse(name)
                .map_err(|_| FieldError::new("commander", format!("\"{name}\" is not a username.")))
        })
        .transpose()
}

impl IncidentInput {
    /// Checks every field; `now` is the server's clock.
    pub fn parse(&self, now: Timestamp) -> Result<NewIncident, FieldErrors> {
        let chosen = |field: &str, text: &str, empty: &str| {
            if text.trim().is_empty() {
                Err(FieldError::new(field, empty))
            } else {
                Name::parse(field, text)
            }
        };
        let status = match present(&self.status) {
            Some(text) => IncidentStatus::parse("status", text),
            None => Ok(IncidentStatus::Investigating),
        };
        crate::check_fields! {
            title = title(&self.title),
            service = chosen("service", &self.service, "Choose the affected service."),
            environment = chosen("environment", &self.environment, "Choose the affected environment."),
            severity = if self.severity.trim().is_empty() {
                Err(FieldError::new("severity", "Choose a severity, SEV1 (worst) to SEV4."))
            } else {
                Severity::parse("severity", &self.severity)
            },
            commander = commander(&self.commander),
            status = status,
            started_at = optional_time("started_at", &self.started_at),
            detected_at = optional_time("detected_at", &self.detected_at),
            resolved_at = optional_time("resolved_at", &self.resolved_at),
            description = bounded_text("description", self.description.as_deref().unwrap_or_default(), MAX_TEXT),
        }
        if resolved_at.is_some() && status != IncidentStatus::Resolved {
            return Err(FieldError::new(
                "resolved_at",
                "Only a resolved incident has a resolution time: send status \"resolved\" with it, or leave it out.",
            )
            .into());
        }
        let started_at = started_at.unwrap_or(now);
        let times = IncidentTimes {
            started_at,
            detected_at: detected_at.unwrap_or(started_at),
            resolved_at: (status == IncidentStatus::Resolved).then(|| resolved_at.unwrap_or(now)),
        }
        .check(now)?;
        let mut causes = self.causes.clone();
        causes.sort_unstable();
        causes.dedup();
        Ok(NewIncident {
            title,
            service,
            environment,
            severity,
            commander,
            status,
            times,
            description,
            causes,
        })
    }
}

/// A change to an incident, as `PATCH /api/v1/incidents/{id}` or the page's forms send it;
/// every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IncidentPatch {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::some_text::<200>))]
    pub title: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Severity>))]
    pub severity: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<IncidentStatus>))]
    pub status: Option<String>,
    #[serde(default)]
    pub commander: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::optional_text::<MAX_TEXT>))]
    pub description: Option<String>,
    #[serde(default)]
    pub detected_at: Option<String>,
    /// With `status: "resolved"`: when it was resolved (now when left out).
    #[serde(default)]
    pub resolved_at: Option<String>,
}

/// A change, checked field by field (the lifecycle is checked against the incident).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub status: Option<IncidentStatus>,
    pub commander: Option<Username>,
    pub description: Option<String>,
    pub detected_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
}

impl IncidentPatch {
    pub fn parse(&self) -> Result<Change, FieldErrors> {
        crate::check_fields! {
            title = self.title.as_deref().map(title).transpose(),
            severity = self.severity.as_deref().map(|s| Severity::parse("severity", s)).transpose(),
            status = self.status.as_deref().map(|s| IncidentStatus::parse("status", s)).transpose(),
            commander = commander(&self.commander),
            description = self.description.as_deref().map(|d| bounded_text("description", d, MAX_TEXT)).transpose(),
            detected_at = optional_time("detected_at", &self.detected_at),
            resolved_at = optional_time("resolved_at", &self.resolved_at),
        }
        if resolved_at.is_some() && status != Some(IncidentStatus::Resolved) {
            return Err(FieldError::new(
                "resolved_at",
                "A resolution time comes with status \"resolved\".",
            )
            .into());
        }
        let change = Change {
            title,
            severity,
            status,
            commander,
            description,
            detected_at,
            resolved_at,
        };
        if change == Change::default() {
            return Err(FieldError::new(
                "incident",
                "Nothing to change: send at least one of title, severity, status, commander, description, detected_at.",
            )
            .into());
        }
        Ok(change)
    }
}

/// A person's timeline entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::required_text::<10000>))]
    pub text: String,
    /// When it happened, if not now (no later than now).
    #[serde(default)]
    pub at: Option<String>,
}

impl TimelineInput {
    /// The text and the moment.
    pub fn parse(&self, now: Timestamp) -> Result<(String, Timestamp), FieldErrors> {
        crate::check_fields! {
            text = entry_text(&self.text),
            at = optional_time("at", &self.at),
        }
        let at = at.unwrap_or(now);
        if at > now {
            return Err(FieldError::new(
                "at",
                format!("{at} is in the future; give a time no later than now."),
            )
            .into());
        }
        Ok((text, at))
    }
}

/// A timeline entry's text: present and bounded.
pub fn entry_text(text: &str) -> Result<String, FieldError> {
    let text = bounded_text("text", text, MAX_TEXT)?;
    if text.is_empty() {
        return Err(FieldError::new(
            "text",
            "Write what happened, what was tried or what was decided.",
        ));
    }
    Ok(text)
}

/// A link between an incident and a deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkInput {
    pub deployment_id: i64,
    /// `cause` or `fix`.
    #[cfg_attr(feature = "ssr", schema(value_type = LinkKind))]
    pub kind: String,
}

impl LinkInput {
    pub fn parse(&self) -> Result<(i64, LinkKind), FieldError> {
        Ok((self.deployment_id, LinkKind::parse("kind", &self.kind)?))
    }
}

/// "42 min", "1 h 5 min" since the start, against the objective: "1 h 5 min since start,
/// past the 1 h recovery objective".
pub fn describe_rto(elapsed: Duration, severity: Severity, resolved: bool) -> String {
    let took = super::time::describe_duration(elapsed);
    let rto = super::time::describe_duration(severity.rto());
    match (resolved, elapsed > severity.rto()) {
        (true, false) => format!("Resolved in {took}, within the {rto} recovery objective."),
        (true, true) => format!("Resolved in {took}, past the {rto} recovery objective."),
        (false, false) => format!(
            "{took} since start; the {rto} recovery objective ends in {}.",
            super::time::describe_duration(severity.rto() - elapsed)
        ),
        (false, true) => format!("{took} since start, past the {rto} recovery objective."),
    }
}

#[cfg(test)]
mod tests;
