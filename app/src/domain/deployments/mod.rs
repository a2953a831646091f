//! Deployments as PRODUCT.md defines them: one version reaching one environment. What may be
//! recorded, and how a deployment's status may move, decided here without I/O.

use std::time::Duration;

pub mod webhook;

use serde::{Deserialize, Serialize};

use super::{
    catalog::{parse_http_url, Name, SlotColor, Strategy},
    words::{bounded_text, present},
    FieldError, FieldErrors, Timestamp,
};
use crate::word_enum;

word_enum! {
    /// How a deployment ended, or that it has not yet. Moves only forward: `running` to one
    /// final state.
    DeploymentStatus, "status" {
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl DeploymentStatus {
    /// Whether the deployment is over: nothing but its notes may change any more.
    pub fn is_final(self) -> bool {
        self != DeploymentStatus::Running
    }

    /// Whether a deployment in this status may move to `next`.
    pub fn may_become(self, next: DeploymentStatus) -> bool {
        self == DeploymentStatus::Running && next.is_final()
    }
}

word_enum! {
    /// Which way a deployment's record came in.
    Source, "source" {
        Ui = "ui",
        Api = "api",
        Webhook = "webhook",
        Operation = "operation",
    }
}

/// The longest version text.
pub const MAX_VERSION: usize = 100;
/// The longest notes.
pub const MAX_NOTES: usize = 10_000;
/// How far ahead of the server's clock a reported time may be (clocks of CI runners drift);
/// anything later is a mistake, not a deployment.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// Times before this (2000-01-01) are typos, not deployments.
const EARLIEST: Timestamp = Timestamp(946_684_800_000);

/// A version as released: `2.4.1`, `v2.4.1-rc.1+build.7`, `main-abc1234`. Only ASCII letters,
/// digits and `. _ + -`, starting with a letter or digit: a version reaches the operator's
/// driver scripts, so it can carry no shell metacharacter, and cannot pass for an option.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version(String);

/// What [`Version::parse`] accepts, in words for the API description and errors.
pub const VERSION_CHARACTERS: &str =
    "ASCII letters, digits and . _ + -, starting with a letter or digit";

impl Version {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let version = input.trim();
        let error = |message: &str| Err(FieldError::new("version", message));
        if version.is_empty() {
            return error("Enter the version being deployed, such as 2.4.1.");
        }
        if version.chars().count() > MAX_VERSION {
            return error("Use at most 100 characters for the version.");
        }
        if version.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return error("Remove the spaces from the version.");
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-');
        if let Some(bad) = version.chars().find(|&c| !allowed(c)) {
            return error(&format!(
                "Remove {bad:?} from the version: use only {VERSION_CHARACTERS}, such as v2.4.1-rc.1."
            ));
        }
        if !version.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return error(&format!(
                "Start the version with a letter or digit: use only {VERSION_CHARACTERS}."
            ));
        }
        Ok(Self(version.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A git commit id: 7 to 40 hexadecimal characters, kept lowercase.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CommitSha(String);

impl CommitSha {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let sha = input.trim().to_ascii_lowercase();
        if !(7..=40).contains(&sha.len()) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(FieldError::new(
                "commit_sha",
                "Enter the commit SHA as 7 to 40 hexadecimal characters.",
            ));
        }
        Ok(Self(sha))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A deployment as a form, a REST call or a webhook reports it: text, parsed by
/// [`DeploymentInput::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub service: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub environment: String,
    /// At most 100 ASCII letters, digits and `. _ + -`, starting with a letter or digit
    /// (versions reach driver scripts, so no shell metacharacters).
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::version))]
    pub version: String,
    #[serde(default)]
    pub commit_sha: Option<String>,
    #[serde(default)]
    pub commit_at: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<DeploymentStatus>))]
    pub status: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::domain::catalog::Strategy>))]
    pub strategy: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::domain::catalog::SlotColor>))]
    pub slot: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::optional_text::<10000>))]
    pub notes: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// This deployment puts back an earlier version; when it succeeds, the deployment it
    /// replaced is marked rolled back.
    #[serde(default)]
    pub is_rollback: bool,
}

/// A deployment to record, checked: every field valid and the times in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDeployment {
    pub service: Name,
    pub environment: Name,
    pub version: Version,
    pub commit_sha: Option<CommitSha>,
    pub commit_at: Option<Timestamp>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub status: DeploymentStatus,
    /// `None`: the environment's own strategy.
    pub strategy: Option<Strategy>,
    pub slot: Option<SlotColor>,
    pub notes: String,
    pub url: Option<String>,
    pub is_rollback: bool,
}

/// Blank optional text is the same as none: forms send empty fields.
/// A reported time: readable, not before 2000 and not in the future.
fn parse_time(
    field: &str,
    value: &Option<String>,
    now: Timestamp,
) -> Result<Option<Timestamp>, FieldError> {
    let Some(text) = present(value) else {
        return Ok(None);
    };
    let at = Timestamp::parse(field, text)?;
    check_time(field, at, now)?;
    Ok(Some(at))
}

fn check_time(field: &str, at: Timestamp, now: Timestamp) -> Result<(), FieldError> {
    if at > now.plus(CLOCK_SKEW) {
        return Err(FieldError::new(
            field,
            "This time is in the future; give the time it actually happened, in UTC.",
        ));
    }
    if at < EARLIEST {
        return Err(FieldError::new(
            field,
            "This time is before the year 2000; check it.",
        ));
    }
    Ok(())
}

impl DeploymentInput {
    /// Checks every field, reporting every problem at once in form order, then how the times
    /// relate, and fills the defaults: started now; `running` unless a finish time or a final
    /// status is given; a final status without a finish time finishes now.
    pub fn parse(&self, now: Timestamp) -> Result<NewDeployment, FieldErrors> {
        crate::check_fields! {
            service = Name::parse("service", &self.service)
                .map_err(|_| chosen("service", "Choose the service this deployment belongs to.", &self.service)),
            environment = Name::parse("environment", &self.environment)
                .map_err(|_| chosen("environment", "Choose the environment it reached.", &self.environment)),
            version = Version::parse(&self.version),
            commit_sha = present(&self.commit_sha).map(CommitSha::parse).transpose(),
            commit_at = parse_time("commit_at", &self.commit_at, now),
            started_at = parse_time("started_at", &self.started_at, now),
            finished_at = parse_time("finished_at", &self.finished_at, now),
            status = present(&self.status)
                .map(|text| DeploymentStatus::parse("status", text))
                .transpose(),
            strategy = present(&self.strategy)
                .map(|text| Strategy::parse("strategy", text))
                .transpose(),
            slot = present(&self.slot)
                .map(|text| SlotColor::parse("slot", text))
                .transpose(),
            notes = bounded_text("notes", self.notes.as_deref().unwrap_or_default(), MAX_NOTES),
            url = present(&self.url)
                .map(|text| parse_http_url("url", text))
                .transpose(),
        }
        let started_at = started_at.unwrap_or(now);
        let status = status.unwrap_or(if finished_at.is_some() {
            DeploymentStatus::Succeeded
        } else {
            DeploymentStatus::Running
        });
        let finished_at = match (status.is_final(), finished_at) {
            (false, Some(_)) => return Err(FieldError::new(
                "finished_at",
                "A running deployment has no finish time; leave it out, or give the final status.",
            )
            .into()),
            (true, None) => Some(now.max(started_at)),
            (_, finished_at) => finished_at,
        };
        if let Some(finished) = finished_at {
            check_order(started_at, finished)?;
        }
        if commit_at
            .is_some_and(|commit| commit > finished_at.unwrap_or(started_at).max(started_at))
        {
            return Err(FieldError::new(
                "commit_at",
                "The commit time is after the deployment; a deployment ships commits made before it.",
            )
            .into());
        }
        Ok(NewDeployment {
            service,
            environment,
            version,
            commit_sha,
            commit_at,
            started_at,
            finished_at,
            status,
            strategy,
            slot,
            notes,
            url,
            is_rollback: self.is_rollback,
        })
    }
}

/// A name chosen from a list (the form's `<select>`): left empty, the message says to choose
/// one; typed wrong (the API), the name's own rule says what is wrong.
fn chosen(field: &str, empty: &str, text: &str) -> FieldError {
    match Name::parse(field, text) {
        Err(error) if !text.trim().is_empty() => error,
        _ => FieldError::new(field, empty),
    }
}

fn check_order(started_at: Timestamp, finished_at: Timestamp) -> Result<(), FieldError> {
    if finished_at < started_at {
        return Err(FieldError::new(
            "finished_at",
            "The finish time is before the start time; check both.",
        ));
    }
    Ok(())
}

impl NewDeployment {
    /// The strategy and slot this deployment records in an environment with `strategy`:
    /// slots belong to blue-green only.
    pub fn settle_strategy(
        &self,
        environment: Strategy,
    ) -> Result<(Strategy, Option<SlotColor>), FieldError> {
        let strategy = self.strategy.unwrap_or(environment);
        if self.slot.is_some() && strategy != Strategy::BlueGreen {
            return Err(FieldError::new(
                "slot",
                "Only blue-green deployments go to a slot; leave the slot out.",
            ));
        }
        Ok((strategy, self.slot))
    }
}

/// The end of a running deployment, as reported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FinishInput {
    pub status: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// The end of a running deployment, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finish {
    pub status: DeploymentStatus,
    pub finished_at: Timestamp,
}

impl FinishInput {
    /// Checks the finish of a deployment that started at `started_at` and is now `current`.
    /// A deployment that already ended refuses (the caller reports a conflict).
    pub fn parse(
        &self,
        current: DeploymentStatus,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<Result<Finish, StatusMoveRefused>, FieldError> {
        let status = DeploymentStatus::parse("status", &self.status)?;
        if !status.is_final() {
            return Err(FieldError::new(
                "status",
                "Finish with succeeded, failed or cancelled.",
            ));
        }
        let finished_at =
            parse_time("finished_at", &self.finished_at, now)?.unwrap_or(now.max(started_at));
        check_order(started_at, finished_at)?;
        if !current.may_become(status) {
            return Ok(Err(StatusMoveRefused {
                current,
                next: status,
            }));
        }
        Ok(Ok(Finish {
            status,
            finished_at,
        }))
    }
}

/// A deployment that already ended was asked to end again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusMoveRefused {
    pub current: DeploymentStatus,
    pub next: DeploymentStatus,
}

impl std::fmt::Display for StatusMoveRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "This deployment already ended as {}; it cannot become {}. Only its notes can still change.",
            self.current, self.next
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_795_776_300_000); // 2026-11-27T10:45:00Z

    fn input() -> DeploymentInput {
        DeploymentInput {
            service: "china-car-parts".into(),
            environment: "production".into(),
            version: "2.4.1".into(),
            ..DeploymentInput::default()
        }
    }

    /// The field of the first problem found.
    fn field_of(input: DeploymentInput) -> String {
        input.parse(NOW).unwrap_err().0[0].field.clone()
    }

    #[test]
    fn every_wrong_field_is_reported_at_once_in_form_order() {
        let errors = DeploymentInput {
            service: "parts".into(),
            environment: String::new(),
            version: String::new(),
            commit_sha: Some("not-a-sha".into()),
            ..DeploymentInput::default()
        }
        .parse(NOW)
        .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["environment", "version", "commit_sha"]);
        assert_eq!(errors.0[0].message, "Choose the environment it reached.");
        // A name typed wrong (through the API) says what is wrong with it instead.
        let typed = DeploymentInput {
            environment: "Prod Env".into(),
            ..input()
        }
        .parse(NOW)
        .unwrap_err();
        assert_ne!(typed.0[0].message, "Choose the environment it reached.");
    }

    /// Finding 2 of the security review: a version reaches driver scripts, so it carries no
    /// shell metacharacter and cannot pass for an option.
    #[test]
    fn versions_keep_to_a_character_set_safe_in_a_shell() {
        for good in [
            "2.4.1",
            "v2.4.1-rc.1+build.7",
            "main_abc1234",
            "2026.12.06",
            "A",
        ] {
            assert_eq!(Version::parse(good).map(|v| v.0), Ok(good.to_owned()));
        }
        for bad in [
            "1.0;rm -rf /",
            "$(id)",
            "`id`",
            "1|2",
            "1&2",
            "1>x",
            "1<x",
            "a'b",
            "a\"b",
            "a\\b",
            "1/2",
            "a*",
            "a?",
            "~root",
            "a#b",
            "a!b",
            "a=b",
            "a:b",
            "-rf",
            "+1",
            ".hidden",
            "_x",
            "ü1",
            "1\u{202e}2",
            "{a,b}",
            "a%20b",
            "a,b",
            "a@b",
            "[a]",
            "(a)",
        ] {
            let error = Version::parse(bad).expect_err(bad);
            assert_eq!(error.field, "version", "{bad}");
            assert!(
                error.message.contains("letter or digit") || error.message.contains("spaces"),
                "{bad}: {}",
                error.message
            );
        }
        assert!(Version::parse("a;b")
            .unwrap_err()
            .message
            .starts_with("Remove ';' from the version"));
    }

    #[test]
    fn status_moves_only_forward_from_running() {
        use DeploymentStatus::*;
        for from in DeploymentStatus::ALL {
            for to in DeploymentStatus::ALL {
                assert_eq!(
                    from.may_become(*to),
                    *from == Running && *to != Running,
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn defaults_start_now_and_run() {
        let parsed = input().parse(NOW).unwrap();
        assert_eq!(parsed.started_at, NOW);
        assert_eq!(parsed.status, DeploymentStatus::Running);
        assert_eq!(parsed.finished_at, None);
    }

    #[test]
    fn a_finish_time_means_succeeded_and_a_final_status_finishes_now() {
        let finished = DeploymentInput {
            started_at: Some("2026-11-27T10:00:00Z".into()),
            finished_at: Some("2026-11-27T10:05:00Z".into()),
            ..input()
        }
        .parse(NOW)
        .unwrap();
        assert_eq!(finished.status, DeploymentStatus::Succeeded);
        let failed = DeploymentInput {
            status: Some("failed".into()),
            ..input()
        }
        .parse(NOW)
        .unwrap();
        assert_eq!(failed.finished_at, Some(NOW));
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(
            field_of(DeploymentInput {
                service: "".into(),
                ..input()
            }),
            "service"
        );
        assert_eq!(
            field_of(DeploymentInput {
                environment: "Prod!".into(),
                ..input()
            }),
            "environment"
        );
        assert_eq!(
            field_of(DeploymentInput {
                version: " ".into(),
                ..input()
            }),
            "version"
        );
        assert_eq!(
            field_of(DeploymentInput {
                version: "v".repeat(101),
                ..input()
            }),
            "version"
        );
        for sha in ["abc12", "xyz1234", &"a".repeat(41)] {
            assert_eq!(
                field_of(DeploymentInput {
                    commit_sha: Some(sha.into()),
                    ..input()
                }),
                "commit_sha"
            );
        }
        assert_eq!(
            field_of(DeploymentInput {
                status: Some("done".into()),
                ..input()
            }),
            "status"
        );
        assert_eq!(
            field_of(DeploymentInput {
                strategy: Some("big_bang".into()),
                ..input()
            }),
            "strategy"
        );
        assert_eq!(
            field_of(DeploymentInput {
                slot: Some("red".into()),
                ..input()
            }),
            "slot"
        );
        assert_eq!(
            field_of(DeploymentInput {
                notes: Some("n".repeat(10_001)),
                ..input()
            }),
            "notes"
        );
        assert_eq!(
            field_of(DeploymentInput {
                url: Some("ci.example".into()),
                ..input()
            }),
            "url"
        );
        assert_eq!(
            field_of(DeploymentInput {
                started_at: Some("soon".into()),
                ..input()
            }),
            "started_at"
        );
    }

    #[test]
    fn times_must_be_in_order_and_not_in_the_future() {
        let backwards = DeploymentInput {
            started_at: Some("2026-11-27T10:05:00Z".into()),
            finished_at: Some("2026-11-27T10:00:00Z".into()),
            ..input()
        };
        assert_eq!(field_of(backwards), "finished_at");
        let future = DeploymentInput {
            started_at: Some("2027-01-01T00:00:00Z".into()),
            ..input()
        };
        assert_eq!(field_of(future), "started_at");
        // Within the allowed clock skew is fine.
        let skewed = DeploymentInput {
            started_at: Some("2026-11-27T10:47:00Z".into()),
            ..input()
        };
        assert!(skewed.parse(NOW).is_ok());
        let ancient = DeploymentInput {
            commit_at: Some("1999-12-31T23:59:59Z".into()),
            ..input()
        };
        assert_eq!(field_of(ancient), "commit_at");
        let commit_after = DeploymentInput {
            started_at: Some("2026-11-27T10:00:00Z".into()),
            finished_at: Some("2026-11-27T10:05:00Z".into()),
            commit_at: Some("2026-11-27T10:06:00Z".into()),
            ..input()
        };
        assert_eq!(field_of(commit_after), "commit_at");
        let running_with_finish = DeploymentInput {
            status: Some("running".into()),
            finished_at: Some("2026-11-27T10:05:00Z".into()),
            ..input()
        };
        assert_eq!(field_of(running_with_finish), "finished_at");
    }

    #[test]
    fn slots_belong_to_blue_green() {
        let with_slot = DeploymentInput {
            slot: Some("green".into()),
            ..input()
        }
        .parse(NOW)
        .unwrap();
        assert_eq!(
            with_slot.settle_strategy(Strategy::BlueGreen).unwrap(),
            (Strategy::BlueGreen, Some(SlotColor::Green))
        );
        assert_eq!(
            with_slot
                .settle_strategy(Strategy::Rolling)
                .unwrap_err()
                .field,
            "slot"
        );
    }

    #[test]
    fn finishing_checks_status_order_and_what_came_before() {
        let started = Timestamp(NOW.0 - 60_000);
        let finish = |status: &str, at: Option<&str>| FinishInput {
            status: status.into(),
            finished_at: at.map(Into::into),
        };
        let ok = finish("succeeded", None)
            .parse(DeploymentStatus::Running, started, NOW)
            .unwrap()
            .unwrap();
        assert_eq!(ok.finished_at, NOW);
        assert_eq!(
            finish("running", None)
                .parse(DeploymentStatus::Running, started, NOW)
                .unwrap_err()
                .field,
            "status"
        );
        assert_eq!(
            finish("failed", Some("2026-11-27T10:00:00Z"))
                .parse(DeploymentStatus::Running, started, NOW)
                .unwrap_err()
                .field,
            "finished_at"
        );
        let refused = finish("failed", None)
            .parse(DeploymentStatus::Succeeded, started, NOW)
            .unwrap()
            .unwrap_err();
        assert!(refused.to_string().contains("already ended as succeeded"));
    }
}
