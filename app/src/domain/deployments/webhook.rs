//! What CI systems send about deployments, turned into Switchyard's words: GitHub's
//! `deployment_status` events and Switchyard's own generic shape. Pure mapping; signatures
//! are checked before anything here runs.

use serde::Deserialize;

use super::{CommitSha, DeploymentInput};
use crate::domain::{catalog::Name, FieldError, Timestamp};

/// How GitHub's names become Switchyard's: repository → service, GitHub environment →
/// environment. Unlisted repositories map to their name without the owner
/// (`acme/parts-api` → `parts-api`); unlisted environments keep their name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GithubMapping {
    pub services: Vec<(String, String)>,
    pub environments: Vec<(String, String)>,
}

impl GithubMapping {
    fn service(&self, repository: &str) -> String {
        self.services
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(repository))
            .map(|(_, to)| to.clone())
            .unwrap_or_else(|| {
                repository
                    .rsplit('/')
                    .next()
                    .unwrap_or(repository)
                    .to_ascii_lowercase()
            })
    }

    fn environment(&self, environment: &str) -> String {
        self.environments
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(environment))
            .map(|(_, to)| to.clone())
            .unwrap_or_else(|| environment.to_ascii_lowercase())
    }

    /// Parses `from=to, from=to` pairs (the configuration's form), checking each target is a
    /// valid name.
    pub fn parse_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (from, to) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("{pair:?} is not a from=to pair"))?;
                let to = Name::parse("to", to).map_err(|e| format!("{to:?}: {}", e.message))?;
                Ok((from.trim().to_owned(), to.to_string()))
            })
            .collect()
    }
}

/// What becomes of the events of a GitHub environment no Switchyard environment matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Acknowledged and listed, waiting for an admin's choice.
    Listed,
    /// Recorded in this environment of the same service.
    Mapped(Name),
    /// Acknowledged and dropped.
    Ignored,
}

impl Disposition {
    /// An admin's choice as the API sends it: an environment to map to, or `ignored`, or
    /// neither (back to waiting); both at once is refused.
    pub fn parse(maps_to: Option<&str>, ignored: bool) -> Result<Self, FieldError> {
        match (maps_to.map(str::trim).filter(|t| !t.is_empty()), ignored) {
            (Some(_), true) => Err(FieldError::new(
                "maps_to",
                "Map the environment or ignore it, not both.",
            )),
            (Some(name), false) => Ok(Self::Mapped(Name::parse("maps_to", name)?)),
            (None, true) => Ok(Self::Ignored),
            (None, false) => Ok(Self::Listed),
        }
    }

    /// The choice of the admin page's menu: `ignore`, `wait`, or `to:<environment>`.
    pub fn parse_choice(choice: &str) -> Result<Self, FieldError> {
        match choice.trim() {
            "ignore" => Ok(Self::Ignored),
            "wait" => Ok(Self::Listed),
            other => match other.strip_prefix("to:") {
                Some(name) => Self::parse(Some(name), false),
                None => Err(FieldError::new(
                    "choice",
                    "Choose an environment to record these events in, or to ignore them.",
                )),
            },
        }
    }

    /// The environment events are recorded in, and whether they are dropped.
    pub fn columns(&self) -> (Option<&str>, bool) {
        match self {
            Self::Listed => (None, false),
            Self::Mapped(name) => (Some(name.as_str()), false),
            Self::Ignored => (None, true),
        }
    }
}

/// The parts of a GitHub `deployment_status` event Switchyard reads.
#[derive(Clone, Debug, Deserialize)]
pub struct GithubDeploymentStatus {
    pub deployment_status: GithubStatus,
    pub deployment: GithubDeployment,
    pub repository: GithubRepository,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GithubStatus {
    pub state: String,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub target_url: Option<String>,
    #[serde(default)]
    pub log_url: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GithubDeployment {
    pub id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub environment: String,
    pub created_at: String,
    /// Free JSON the deployer attached; a string `version` in it wins over the ref.
    #[serde(default)]
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GithubRepository {
    pub full_name: String,
}

/// A deployment as a webhook reports it: the sender's id for it, and what to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    pub external_id: String,
    pub input: DeploymentInput,
}

impl GithubDeploymentStatus {
    /// What this event reports, or `None` for states that say nothing about an outcome yet
    /// (`queued`, `pending`) or any more (`inactive`).
    pub fn report(&self, mapping: &GithubMapping) -> Result<Option<Reported>, FieldError> {
        let status = match self.deployment_status.state.as_str() {
            "in_progress" => "running",
            "success" => "succeeded",
            "failure" | "error" => "failed",
            "queued" | "pending" | "inactive" => return Ok(None),
            other => {
                return Err(FieldError::new(
                    "deployment_status.state",
                    format!("\"{other}\" is not a deployment state GitHub sends."),
                ))
            }
        };
        let environment = self
            .deployment_status
            .environment
            .as_deref()
            .unwrap_or(&self.deployment.environment);
        let version = self
            .deployment
            .payload
            .get("version")
            .and_then(|v| v.as_str())
            .unwrap_or(&self.deployment.git_ref);
        // A pipeline that knows when the change was committed may say so in the payload.
        let commit_at = self
            .deployment
            .payload
            .get("commit_at")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let url = self
            .deployment_status
            .target_url
            .clone()
            .or_else(|| self.deployment_status.log_url.clone())
            .filter(|u| !u.is_empty());
        let input = DeploymentInput {
            service: mapping.service(&self.repository.full_name),
            environment: mapping.environment(environment),
            version: version.to_owned(),
            commit_sha: Some(self.deployment.sha.clone()),
            commit_at,
            started_at: Some(self.deployment.created_at.clone()),
            finished_at: (status != "running").then(|| self.deployment_status.created_at.clone()),
            status: Some(status.to_owned()),
            url,
            notes: self.deployment_status.description.clone(),
            ..DeploymentInput::default()
        };
        Ok(Some(Reported {
            external_id: format!(
                "github:{}#{}",
                self.repository.full_name, self.deployment.id
            ),
            input,
        }))
    }
}

/// The parts of a GitHub `push` event Switchyard reads: the pushed commits' ids and times.
#[derive(Clone, Debug, Deserialize)]
pub struct GithubPush {
    #[serde(default)]
    pub commits: Vec<GithubCommit>,
    #[serde(default)]
    pub head_commit: Option<GithubCommit>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GithubCommit {
    pub id: String,
    /// The commit's own time (git's committer date), with its offset.
    pub timestamp: String,
}

/// When a commit was made: where a change's journey to production starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitTime {
    pub sha: CommitSha,
    pub at: Timestamp,
}

impl GithubPush {
    /// Each pushed commit once (the head commit is usually also in `commits`), or the first
    /// malformed one, named by its place in the event.
    pub fn commit_times(&self) -> Result<Vec<CommitTime>, FieldError> {
        let mut times: Vec<CommitTime> = Vec::with_capacity(self.commits.len() + 1);
        let head = self
            .head_commit
            .iter()
            .map(|c| ("head_commit".to_owned(), c));
        let listed = self
            .commits
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("commits[{i}]"), c));
        for (place, commit) in listed.chain(head) {
            let sha = CommitSha::parse(&commit.id)
                .map_err(|e| FieldError::new(&format!("{place}.id"), e.message))?;
            let at = Timestamp::parse(&format!("{place}.timestamp"), &commit.timestamp)?;
            if !times.iter().any(|t| t.sha == sha) {
                times.push(CommitTime { sha, at });
            }
        }
        Ok(times)
    }
}

/// Switchyard's own webhook body: a deployment with the sender's `id` for it, sent again
/// with the final status when it ends.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GenericEvent {
    pub id: String,
    #[serde(flatten)]
    pub deployment: GenericDeployment,
}

/// The deployment fields of a generic event (those of `POST /api/v1/deployments`, less the
/// ones a pipeline does not know).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GenericDeployment {
    pub service: String,
    pub environment: String,
    pub version: String,
    pub status: String,
    #[serde(default)]
    pub commit_sha: Option<String>,
    #[serde(default)]
    pub commit_at: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl GenericEvent {
    pub fn report(self) -> Result<Reported, FieldError> {
        let id = self.id.trim();
        if id.is_empty() || id.len() > 200 {
            return Err(FieldError::new(
                "id",
                "Send an id of 1 to 200 characters, the same for every event of one deployment.",
            ));
        }
        let d = self.deployment;
        Ok(Reported {
            external_id: format!("generic:{id}"),
            input: DeploymentInput {
                service: d.service,
                environment: d.environment,
                version: d.version,
                status: Some(d.status),
                commit_sha: d.commit_sha,
                commit_at: d.commit_at,
                started_at: d.started_at,
                finished_at: d.finished_at,
                url: d.url,
                notes: d.notes,
                ..DeploymentInput::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(state: &str) -> GithubDeploymentStatus {
        serde_json::from_value(serde_json::json!({
            "deployment_status": {"state": state, "environment": "prod", "target_url": "https://ci.example/1", "created_at": "2026-11-20T10:05:00Z"},
            "deployment": {"id": 77, "sha": "abcdef1234567", "ref": "v2.4.1", "environment": "prod", "created_at": "2026-11-20T10:00:00Z", "payload": {}},
            "repository": {"full_name": "Acme/parts-api"}
        }))
        .unwrap()
    }

    #[test]
    fn github_states_map_to_statuses_and_names_through_the_mapping() {
        let mapping = GithubMapping {
            services: vec![("acme/parts-api".into(), "parts".into())],
            environments: vec![("prod".into(), "production".into())],
        };
        let success = event("success").report(&mapping).unwrap().unwrap();
        assert_eq!(success.external_id, "github:Acme/parts-api#77");
        assert_eq!(success.input.service, "parts");
        assert_eq!(success.input.environment, "production");
        assert_eq!(success.input.version, "v2.4.1");
        assert_eq!(success.input.status.as_deref(), Some("succeeded"));
        assert_eq!(
            success.input.finished_at.as_deref(),
            Some("2026-11-20T10:05:00Z")
        );
        let running = event("in_progress").report(&mapping).unwrap().unwrap();
        assert_eq!(running.input.status.as_deref(), Some("running"));
        assert_eq!(running.input.finished_at, None);
        for state in ["failure", "error"] {
            assert_eq!(
                event(state)
                    .report(&mapping)
                    .unwrap()
                    .unwrap()
                    .input
                    .status
                    .as_deref(),
                Some("failed")
            );
        }
        for state in ["queued", "pending", "inactive"] {
            assert_eq!(event(state).report(&mapping).unwrap(), None);
        }
        assert_eq!(
            event("exploded").report(&mapping).unwrap_err().field,
            "deployment_status.state"
        );
        // Without a mapping: the repository's name, the environment's own name.
        let plain = event("success")
            .report(&GithubMapping::default())
            .unwrap()
            .unwrap();
        assert_eq!(plain.input.service, "parts-api");
        assert_eq!(plain.input.environment, "prod");
    }

    #[test]
    fn a_version_in_the_payload_wins_over_the_ref() {
        let mut with_version = event("success");
        with_version.deployment.payload = serde_json::json!({"version": "2.4.1"});
        let report = with_version
            .report(&GithubMapping::default())
            .unwrap()
            .unwrap();
        assert_eq!(report.input.version, "2.4.1");
    }

    #[test]
    fn a_commit_time_in_the_payload_is_taken() {
        let mut with_time = event("success");
        with_time.deployment.payload = serde_json::json!({"commit_at": "2026-11-20T09:00:00Z"});
        let report = with_time
            .report(&GithubMapping::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            report.input.commit_at.as_deref(),
            Some("2026-11-20T09:00:00Z")
        );
        let without = event("success")
            .report(&GithubMapping::default())
            .unwrap()
            .unwrap();
        assert_eq!(without.input.commit_at, None);
    }

    #[test]
    fn pushes_give_each_commit_once_with_its_time() {
        let push: GithubPush = serde_json::from_value(serde_json::json!({
            "ref": "refs/heads/main",
            "commits": [
                {"id": "0D1A26E67D8F5EAF1F6BA5C57FC3C7D91AC0FD1C", "timestamp": "2015-05-05T19:40:15-04:00"},
                {"id": "f3a6bd1c7c8e3e2f1f5a0a1b2c3d4e5f6a7b8c9d", "timestamp": "2015-05-05T19:45:00-04:00"}
            ],
            "head_commit": {"id": "f3a6bd1c7c8e3e2f1f5a0a1b2c3d4e5f6a7b8c9d", "timestamp": "2015-05-05T19:45:00-04:00"}
        }))
        .unwrap();
        let times = push.commit_times().unwrap();
        assert_eq!(times.len(), 2);
        assert_eq!(
            times[0].sha.as_str(),
            "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
        );
        assert_eq!(
            times[0].at.to_rfc3339().unwrap(),
            "2015-05-05T23:40:15.000Z"
        );
        let bad: GithubPush = serde_json::from_value(serde_json::json!({
            "commits": [{"id": "abc1234", "timestamp": "2015-05-05T19:40:15Z"}, {"id": "not-a-sha", "timestamp": "2015-05-05T19:40:15Z"}]
        }))
        .unwrap();
        assert_eq!(bad.commit_times().unwrap_err().field, "commits[1].id");
        let bad_time: GithubPush = serde_json::from_value(serde_json::json!({
            "commits": [{"id": "abc1234", "timestamp": "yesterday"}]
        }))
        .unwrap();
        assert_eq!(
            bad_time.commit_times().unwrap_err().field,
            "commits[0].timestamp"
        );
        // A branch deletion pushes no commits.
        let empty: GithubPush =
            serde_json::from_value(serde_json::json!({"commits": [], "head_commit": null}))
                .unwrap();
        assert_eq!(empty.commit_times().unwrap(), vec![]);
    }

    #[test]
    fn mapping_pairs_parse_and_check_targets() {
        assert_eq!(
            GithubMapping::parse_pairs("acme/a=alpha, acme/b = beta").unwrap(),
            vec![
                ("acme/a".to_owned(), "alpha".to_owned()),
                ("acme/b".to_owned(), "beta".to_owned())
            ]
        );
        assert!(GithubMapping::parse_pairs("acme/a").is_err());
        assert!(GithubMapping::parse_pairs("acme/a=Not A Name").is_err());
        assert_eq!(GithubMapping::parse_pairs("").unwrap(), vec![]);
    }

    #[test]
    fn an_admin_maps_ignores_or_leaves_an_unknown_environment_waiting() {
        let production = Name::parse("maps_to", "production").unwrap();
        assert_eq!(
            Disposition::parse(Some(" production "), false),
            Ok(Disposition::Mapped(production.clone()))
        );
        assert_eq!(Disposition::parse(None, true), Ok(Disposition::Ignored));
        assert_eq!(Disposition::parse(Some(""), false), Ok(Disposition::Listed));
        let both = Disposition::parse(Some("production"), true).unwrap_err();
        assert_eq!(both.field, "maps_to");
        let bad = Disposition::parse(Some("Prod Env"), false).unwrap_err();
        assert_eq!(bad.field, "maps_to");
        assert_eq!(
            Disposition::parse_choice("to:production"),
            Ok(Disposition::Mapped(production))
        );
        assert_eq!(
            Disposition::parse_choice("ignore"),
            Ok(Disposition::Ignored)
        );
        assert_eq!(Disposition::parse_choice("wait"), Ok(Disposition::Listed));
        assert_eq!(
            Disposition::parse_choice("delete").unwrap_err().field,
            "choice"
        );
        assert_eq!(Disposition::Ignored.columns(), (None, true));
    }
}
