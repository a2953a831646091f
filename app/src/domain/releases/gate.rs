//! The gate: the one rule that decides whether an operation may run past a release's checklist
//! and the environment's freeze windows. Evaluated on the server for every operation request
//! (REST, server function) and for the buttons a page shows, so both say the same thing.

use crate::domain::{catalog::Tier, operations::OperationAction, FieldError, Timestamp};

/// The least length of an override's reason, in characters.
pub const MIN_OVERRIDE_REASON: usize = 10;

/// How far the open release of the version an operation puts live has got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub release_id: i64,
    pub version: String,
    /// Required items without a sign-off.
    pub unsigned_required: usize,
}

/// A freeze window in force now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveFreeze {
    pub id: i64,
    /// "weekly, Mon–Fri 09:00–18:00 (Asia/Shanghai)".
    pub window: String,
    pub reason: String,
    pub ends_at: Timestamp,
}

/// What the gate looks at for one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateCheck<'a> {
    pub action: OperationAction,
    pub environment: &'a str,
    pub tier: Tier,
    /// The version the operation would put in front of all users, if it would.
    pub goes_live: Option<&'a str>,
    /// The open release of `goes_live` there, if there is one.
    pub release: Option<&'a Readiness>,
    /// The freeze window in force, if any.
    pub freeze: Option<&'a ActiveFreeze>,
}

/// Why the gate is closed, as the button, the 409 and the log say it; `None`: it is open.
/// Rollbacks and canary aborts restore a known-good state and are never gated.
pub fn closed_because(check: &GateCheck<'_>) -> Option<String> {
    if matches!(
        check.action,
        OperationAction::Rollback | OperationAction::CanaryAbort
    ) {
        return None;
    }
    if let Some(freeze) = check.freeze {
        return Some(format!(
            "{} is frozen until {} ({}: {}). Rollbacks still run; an admin may override with a reason.",
            check.environment, freeze.ends_at, freeze.window, freeze.reason
        ));
    }
    let version = check.goes_live.filter(|_| check.tier == Tier::Production)?;
    match check.release {
        None => Some(format!(
            "No open release of {version} in {}: open one on the Releases page and sign its checklist first.",
            check.environment
        )),
        Some(release) if release.unsigned_required > 0 => Some(format!(
            "{} required {} unsigned on release {version}: sign {} on the release page first.",
            release.unsigned_required,
            if release.unsigned_required == 1 { "item" } else { "items" },
            if release.unsigned_required == 1 { "it" } else { "them" },
        )),
        Some(_) => None,
    }
}

/// An override's reason: `None` when none was given, else at least
/// [`MIN_OVERRIDE_REASON`] characters.
pub fn override_reason(text: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let text = crate::domain::words::bounded_text("override_reason", text, 1000)?;
    if text.chars().count() < MIN_OVERRIDE_REASON {
        return Err(FieldError::new(
            "override_reason",
            format!("Say why the gate may be passed, in {MIN_OVERRIDE_REASON} characters or more: it goes into the audit log."),
        ));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(action: OperationAction, tier: Tier) -> GateCheck<'static> {
        GateCheck {
            action,
            environment: "production",
            tier,
            goes_live: Some("2.4.1"),
            release: None,
            freeze: None,
        }
    }

    const READY: Readiness = Readiness {
        release_id: 1,
        version: String::new(),
        unsigned_required: 0,
    };

    #[test]
    fn production_waits_for_the_signed_release_of_the_version_going_live() {
        use OperationAction::*;
        for action in [Deploy, Switch, CanaryPromote] {
            let gate = check(action, Tier::Production);
            assert_eq!(
                closed_because(&gate).as_deref(),
                Some("No open release of 2.4.1 in production: open one on the Releases page and sign its checklist first.")
            );
            let three = Readiness {
                unsigned_required: 3,
                ..READY
            };
            let waiting = GateCheck {
                release: Some(&three),
                ..gate.clone()
            };
            assert_eq!(
                closed_because(&waiting).as_deref(),
                Some("3 required items unsigned on release 2.4.1: sign them on the release page first.")
            );
            let ready = GateCheck {
                release: Some(&READY),
                ..gate.clone()
            };
            assert_eq!(closed_because(&ready), None);
            // Nothing going live (a deploy to the idle slot, a partial canary step): open.
            let idle = GateCheck {
                goes_live: None,
                ..gate
            };
            assert_eq!(closed_because(&idle), None);
        }
    }

    #[test]
    fn other_tiers_need_no_release() {
        for tier in [Tier::Staging, Tier::Development] {
            assert_eq!(closed_because(&check(OperationAction::Switch, tier)), None);
        }
    }

    #[test]
    fn a_freeze_closes_every_tier_but_never_a_rollback_or_an_abort() {
        let freeze = ActiveFreeze {
            id: 1,
            window: "weekly, Mon–Fri 09:00–18:00 (Asia/Shanghai)".into(),
            reason: "peak business hours".into(),
            ends_at: Timestamp(1_796_000_000_000),
        };
        for tier in [Tier::Production, Tier::Staging] {
            for action in OperationAction::ALL {
                let gate = GateCheck {
                    freeze: Some(&freeze),
                    release: Some(&READY),
                    ..check(*action, tier)
                };
                let closed = closed_because(&gate);
                if matches!(
                    action,
                    OperationAction::Rollback | OperationAction::CanaryAbort
                ) {
                    assert_eq!(closed, None, "{action}");
                } else {
                    let why = closed.unwrap_or_default();
                    assert!(why.starts_with("production is frozen until "), "{why}");
                    assert!(why.contains("peak business hours"), "{why}");
                }
            }
        }
    }

    #[test]
    fn an_override_needs_a_real_reason() {
        assert_eq!(override_reason(None), Ok(None));
        assert_eq!(override_reason(Some("  ")), Ok(None));
        assert_eq!(
            override_reason(Some("hotfix")).expect_err("refused").field,
            "override_reason"
        );
        assert_eq!(
            override_reason(Some(" CVE-2026-1234 fix ")),
            Ok(Some("CVE-2026-1234 fix".into()))
        );
    }
}
