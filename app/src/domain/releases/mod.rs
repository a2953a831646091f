//! Releases: one version of a service headed for one environment, with its own copy of the
//! checklist, signed item by item; the gate that holds production until it is signed; and the
//! freeze windows that hold every deploy.

pub mod checklist;
pub mod freeze;
pub mod gate;

use serde::{Deserialize, Serialize};

use super::{
    catalog::{parse_http_url, Name},
    deployments::{CommitSha, Version},
    words::{bounded_text, present},
    FieldError, FieldErrors,
};

crate::word_enum! {
    /// Where a release stands: `open` until its version takes traffic (`released`) or it is
    /// given up (`abandoned`); the last two are read-only history.
    ReleaseStatus, "release status" {
        Open = "open",
        Released = "released",
        Abandoned = "abandoned",
    }
}

/// The longest summary of what a release changes.
pub const MAX_SUMMARY: usize = 4000;
/// The longest sign-off note or abandon reason.
pub const MAX_NOTE: usize = 1000;

/// A release as the "New release" form or `POST /api/v1/releases` sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub service: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub environment: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::version))]
    pub version: String,
    #[serde(default)]
    pub commit_sha: Option<String>,
    /// What changes, for the people signing.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::optional_text::<4000>))]
    pub summary: Option<String>,
    /// A link: the pull request, the changelog, the CI run.
    #[serde(default)]
    pub url: Option<String>,
}

/// A release to open, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRelease {
    pub service: Name,
    pub environment: Name,
    pub version: Version,
    pub commit_sha: Option<CommitSha>,
    pub summary: String,
    pub url: Option<String>,
}

impl ReleaseInput {
    pub fn parse(&self) -> Result<NewRelease, FieldErrors> {
        let chosen = |field: &str, text: &str, empty: &str| {
            if text.trim().is_empty() {
                Err(FieldError::new(field, empty))
            } else {
                Name::parse(field, text)
            }
        };
        crate::check_fields! {
            service = chosen("service", &self.service, "Choose the service being released."),
            environment = chosen("environment", &self.environment, "Choose the environment it is headed for."),
            version = Version::parse(&self.version),
            commit_sha = present(&self.commit_sha).map(CommitSha::parse).transpose(),
            summary = bounded_text("summary", self.summary.as_deref().unwrap_or_default(), MAX_SUMMARY),
            url = present(&self.url).map(|u| parse_http_url("url", u)).transpose(),
        }
        Ok(NewRelease {
            service,
            environment,
            version,
            commit_sha,
            summary,
            url,
        })
    }
}

/// A sign-off as the button or `POST …/items/{item}/sign` sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInput {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::optional_text::<1000>))]
    pub note: Option<String>,
    /// Required where the item needs evidence: an http(s) link.
    #[serde(default)]
    pub evidence_url: Option<String>,
}

/// A sign-off, checked against its item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSignOff {
    pub note: String,
    pub evidence_url: Option<String>,
}

impl SignInput {
    /// Checks the note and the link; `needs_evidence` makes the link required.
    pub fn parse(&self, needs_evidence: bool) -> Result<NewSignOff, FieldErrors> {
        let evidence = match present(&self.evidence_url) {
            Some(url) => parse_http_url("evidence_url", url)
                .map(Some)
                .map_err(|_| FieldError::new("evidence_url", "Evidence is a link starting with http:// or https:// (the CI run, the review).")),
            None if needs_evidence => Err(FieldError::new(
                "evidence_url",
                "This item needs evidence: paste the link that shows it is done (the CI run, the review).",
            )),
            None => Ok(None),
        };
        crate::check_fields! {
            note = bounded_text("note", self.note.as_deref().unwrap_or_default(), MAX_NOTE),
            evidence_url = evidence,
        }
        Ok(NewSignOff { note, evidence_url })
    }
}

/// Why a release is given up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AbandonInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::required_text::<1000>))]
    pub reason: String,
}

impl AbandonInput {
    pub fn parse(&self) -> Result<String, FieldError> {
        let reason = bounded_text("reason", &self.reason, MAX_NOTE)?;
        if reason.is_empty() {
            return Err(FieldError::new(
                "reason",
                "Say why the release is given up, for whoever reads its history.",
            ));
        }
        Ok(reason)
    }
}

/// How far a checklist has got, in the words the list shows: "11 / 15 signed, 2 required
/// left".
pub fn describe_progress(signed: usize, total: usize, required_left: usize) -> String {
    let left = match required_left {
        0 => "every required item signed".to_owned(),
        1 => "1 required left".to_owned(),
        n => format!("{n} required left"),
    };
    format!("{signed} / {total} signed, {left}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_reports_every_wrong_field() {
        let errors = ReleaseInput {
            service: String::new(),
            environment: "Prod Env".into(),
            version: String::new(),
            commit_sha: Some("xyz".into()),
            summary: None,
            url: Some("ftp://x".into()),
        }
        .parse()
        .expect_err("refused")
        .0;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["service", "environment", "version", "commit_sha", "url"]
        );
        assert_eq!(errors[0].message, "Choose the service being released.");
    }

    #[test]
    fn evidence_is_an_http_link_and_required_where_the_item_says() {
        let sign = |url: Option<&str>| SignInput {
            note: Some(" ok ".into()),
            evidence_url: url.map(str::to_owned),
        };
        assert_eq!(sign(None).parse(false).expect("accepted").note, "ok");
        assert_eq!(
            sign(None).parse(true).expect_err("refused").0[0].field,
            "evidence_url"
        );
        assert_eq!(
            sign(Some("javascript:alert(1)"))
                .parse(false)
                .expect_err("refused")
                .0[0]
                .field,
            "evidence_url"
        );
        assert_eq!(
            sign(Some("https://ci.example/run/7"))
                .parse(true)
                .expect("accepted")
                .evidence_url
                .as_deref(),
            Some("https://ci.example/run/7")
        );
    }

    #[test]
    fn progress_reads_as_a_sentence() {
        assert_eq!(
            describe_progress(11, 15, 2),
            "11 / 15 signed, 2 required left"
        );
        assert_eq!(
            describe_progress(14, 15, 1),
            "14 / 15 signed, 1 required left"
        );
        assert_eq!(
            describe_progress(15, 15, 0),
            "15 / 15 signed, every required item signed"
        );
        assert!(AbandonInput::default().parse().is_err());
    }
}
