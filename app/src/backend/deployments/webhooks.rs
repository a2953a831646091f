//! Deployments reported by CI webhooks: signatures checked with HMAC-SHA256 against a
//! configured secret before anything is read, then each event creates the deployment or
//! moves the one it created before (found by the sender's id) to its final status. GitHub
//! environments Switchyard does not know are listed for admins to map or ignore.

use secrecy::{ExposeSecret, SecretString};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use std::collections::BTreeMap;

use serde_json::json;

use crate::backend::{
    audit,
    catalog::conflict_or_fail,
    deployments::{
        self,
        store::{self, GithubEnvironmentRow},
    },
    Caller, Database,
};
use crate::{
    domain::{
        deployments::webhook::{CommitTime, Disposition, GithubMapping, Reported},
        deployments::{DeploymentStatus, Finish, Source},
        Action, FieldError, Timestamp,
    },
    error::AppError,
    model::{Deployment, GithubEnvironment},
};

/// A webhook secret from configuration; empty (or blank) means the webhook is off.
pub fn secret_setting(text: &str) -> Option<SecretString> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.into())
}

/// The webhooks' configuration.
#[derive(Clone, Debug, Default)]
pub struct WebhookSettings {
    /// Verifies `X-Hub-Signature-256`; without it the GitHub webhook is off.
    pub github_secret: Option<SecretString>,
    pub github_mapping: GithubMapping,
    /// Verifies `X-Switchyard-Signature-256`; without it the generic webhook is off.
    pub generic_secret: Option<SecretString>,
}

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`, compared
/// in constant time.
pub fn signature_matches(secret: &SecretString, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The signature header value for `body` under `secret`: what senders (and tests) compute.
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What an event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new deployment.
    Recorded(Deployment),
    /// The deployment this sender reported before, now ended.
    Finished(Deployment),
    /// Nothing new: a repeated delivery, or an event older than what is recorded.
    Unchanged(Deployment),
    /// Acknowledged, not recorded: an environment Switchyard does not know (now listed for
    /// an admin) or one an admin chose to ignore. The text says which.
    SetAside(String),
}

/// Records what `reported` says, as `caller` (the webhook's system identity).
pub async fn report(
    db: &Database,
    caller: &Caller,
    reported: &Reported,
) -> Result<Outcome, AppError> {
    let now = Timestamp::now();
    let deployment = reported.input.parse(now)?;
    let target = deployments::resolve_target(db, &deployment).await?;
    let mut tx = db.begin().await?;
    let known = store::find_external(&mut tx, Source::Webhook, &reported.external_id).await?;
    let Some(known) = known else {
        let taken = || {
            FieldError::new(
                "id",
                "Two deliveries of this event arrived at once; the first was recorded.",
            )
        };
        let id = deployments::insert(
            &mut tx,
            caller,
            &deployment,
            target,
            Source::Webhook,
            Some(&reported.external_id),
        )
        .await?;
        tx.commit().await.map_err(|e| conflict_or_fail(e, taken))?;
        return Ok(Outcome::Recorded(deployments::load(db, id).await?));
    };
    let unchanged = known.status == deployment.status
        || (known.status.is_final() && deployment.status == DeploymentStatus::Running);
    if unchanged {
        return Ok(Outcome::Unchanged(known));
    }
    if known.status.is_final() {
        return Err(AppError::Conflict(FieldError::new(
            "status",
            format!(
                "This deployment already ended as {}; it cannot become {}.",
                known.status, deployment.status
            ),
        )));
    }
    let finish = Finish {
        status: deployment.status,
        finished_at: deployment.finished_at.unwrap_or(now).max(known.started_at),
    };
    deployments::finish_in(&mut tx, caller, &known, finish).await?;
    tx.commit().await?;
    Ok(Outcome::Finished(deployments::load(db, known.id).await?))
}

/// The longest service, environment or repository name kept for an unknown environment.
const MAX_NAME: usize = 200;

/// The fields that name where a deployment ran.
const NAMES: [&str; 2] = ["service", "environment"];

/// Records what a GitHub event reports, as [`report`] does, unless its environment matches
/// none of Switchyard's. Such an event is acknowledged and counted, and the environment is
/// listed for an admin (Admin → Services) to map to one of the service's environments or to
/// ignore; once mapped, its events are recorded there. Refusing instead would only put an
/// error in a GitHub delivery log nobody reads, and lose the deployments.
pub async fn report_github(
    db: &Database,
    caller: &Caller,
    mut reported: Reported,
    repository: &str,
) -> Result<Outcome, AppError> {
    let bounded = |text: &str| text.chars().take(MAX_NAME).collect::<String>();
    let (service, name) = (
        bounded(&reported.input.service),
        bounded(&reported.input.environment),
    );
    let listed = store::github_environment(db.reader(), &service, &name).await?;
    let seen = || async {
        let mut tx = db.begin().await?;
        store::saw_github_environment(
            &mut tx,
            &service,
            &name,
            &bounded(repository),
            Timestamp::now(),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    match listed {
        Some(row) if row.ignored => {
            seen().await?;
            return Ok(Outcome::SetAside(format!(
                "Environment {name} of {service} is ignored, as an admin chose under Admin → Services."
            )));
        }
        Some(GithubEnvironmentRow {
            maps_to: Some(to), ..
        }) => {
            seen().await?;
            reported.input.environment = to;
        }
        _ => {}
    }
    // Everything else about the event must be right; only the names may match nothing
    // (a GitHub name such as "GitHub Pages" is not even a valid Switchyard name).
    let known = match reported.input.parse(Timestamp::now()) {
        Ok(deployment) => {
            let (service, environment) = (&deployment.service, &deployment.environment);
            store::target(db.reader(), service.as_str(), environment.as_str())
                .await?
                .is_some()
        }
        Err(errors) if errors.0.iter().all(|e| NAMES.contains(&e.field.as_str())) => false,
        Err(errors) => return Err(errors.into()),
    };
    if !known {
        seen().await?;
        return Ok(Outcome::SetAside(format!(
            "Service {service} has no environment named {name}; the event is listed under Admin → Services for an admin to map or ignore."
        )));
    }
    report(db, caller, &reported).await
}

/// The GitHub environments without a match, for admins.
pub async fn github_environments(
    db: &Database,
    caller: &Caller,
) -> Result<Vec<GithubEnvironment>, AppError> {
    caller.authorize(Action::ManageCatalog)?;
    let mut choices: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut listed = Vec::new();
    for row in store::github_environments(db.reader()).await? {
        if !choices.contains_key(&row.service) {
            let names = store::environment_names(db.reader(), &row.service).await?;
            choices.insert(row.service.clone(), names);
        }
        let choices = choices[&row.service].clone();
        listed.push(github_environment(row, choices));
    }
    Ok(listed)
}

fn github_environment(row: GithubEnvironmentRow, choices: Vec<String>) -> GithubEnvironment {
    let state = match (&row.maps_to, row.ignored) {
        (Some(to), _) => format!("Recorded in {to}"),
        (None, true) => "Ignored".to_owned(),
        (None, false) => "Waiting for a decision".to_owned(),
    };
    GithubEnvironment {
        service: row.service,
        name: row.name,
        repository: row.repository,
        maps_to: row.maps_to,
        ignored: row.ignored,
        events: row.events,
        first_seen: row.first_seen,
        last_seen: row.last_seen,
        state,
        choices,
    }
}

/// An admin maps a listed GitHub environment to an environment of its service, ignores it,
/// or puts it back to waiting; audited.
pub async fn decide(
    db: &Database,
    caller: &Caller,
    service: &str,
    name: &str,
    disposition: &Disposition,
) -> Result<GithubEnvironment, AppError> {
    caller.authorize(Action::ManageCatalog)?;
    let before = store::github_environment(db.reader(), service, name)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "GitHub environment {name} of {service} is not listed; only environments GitHub has reported appear here."
            ))
        })?;
    if let Disposition::Mapped(to) = disposition {
        if store::target(db.reader(), service, to.as_str())
            .await?
            .is_none()
        {
            return Err(FieldError::new(
                "maps_to",
                format!("Service {service} has no environment named {to}; create it above, or choose another."),
            )
            .into());
        }
    }
    let columns = disposition.columns();
    let mut tx = db.begin().await?;
    store::decide_github_environment(&mut tx, service, name, columns).await?;
    let summary =
        |maps_to: Option<&str>, ignored: bool| json!({ "maps_to": maps_to, "ignored": ignored });
    audit::change(
        &mut tx,
        caller,
        "github_environment.decided",
        format!("github_environment:{service}/{name}"),
        Some(summary(before.maps_to.as_deref(), before.ignored)),
        summary(columns.0, columns.1),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    let after = GithubEnvironmentRow {
        maps_to: columns.0.map(str::to_owned),
        ignored: columns.1,
        ..before
    };
    let choices = store::environment_names(db.reader(), service).await?;
    Ok(github_environment(after, choices))
}

/// What a push taught: how many commit times, and how many deployments gained theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Learnt {
    pub commits: usize,
    pub deployments: u64,
}

/// Remembers the commit times a push reported and fills them into deployments of those
/// commits that were recorded without one (GitHub's deployment events carry only the SHA).
/// All in one transaction: a push is learnt whole or not at all.
pub async fn learn_commits(db: &Database, commits: &[CommitTime]) -> Result<Learnt, AppError> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let mut deployments = 0;
    for commit in commits {
        store::remember_commit(&mut tx, commit.sha.as_str(), commit.at, now).await?;
        deployments += store::fill_commit_time(&mut tx, commit.sha.as_str(), commit.at).await?;
    }
    tx.commit().await?;
    Ok(Learnt {
        commits: commits.len(),
        deployments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_right_secret_and_body() {
        let secret = secret_setting("It's a Secret to Everybody").unwrap();
        // GitHub's documented example.
        let body = b"Hello, World!";
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(&secret, body), expected);
        assert!(signature_matches(&secret, body, Some(expected)));
        assert!(!signature_matches(
            &secret,
            b"Hello, World?",
            Some(expected)
        ));
        assert!(!signature_matches(
            &secret_setting("other").unwrap(),
            body,
            Some(expected)
        ));
        assert!(!signature_matches(&secret, body, None));
        assert!(!signature_matches(&secret, body, Some("sha1=abc")));
        assert!(!signature_matches(&secret, body, Some("sha256=zz")));
        assert!(secret_setting("  ").is_none());
        assert!(!format!("{secret:?}").contains("Everybody"));
    }
}
