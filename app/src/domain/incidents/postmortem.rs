//! Post-mortems: the write-up of an incident, in Markdown, started from the guide-shaped
//! template, edited by several people with a version number so nobody overwrites anyone
//! silently, and moved `draft` → `in_review` → `published`.

use serde::{Deserialize, Serialize};

use super::MAX_TITLE;
use crate::domain::{words::bounded_text, FieldError, FieldErrors};

crate::word_enum! {
    /// Where a post-mortem stands; a published one is read-only except its action items.
    PostmortemStatus, "post-mortem status" {
        Draft = "draft",
        InReview = "in_review",
        Published = "published",
    }
}

impl PostmortemStatus {
    /// Forward one step, or back from review to draft when the review asks for changes.
    pub fn may_become(self, to: PostmortemStatus) -> bool {
        use PostmortemStatus::*;
        matches!(
            (self, to),
            (Draft, InReview) | (InReview, Published) | (InReview, Draft)
        )
    }

    /// The statuses this one may move to.
    pub fn next(self) -> Vec<PostmortemStatus> {
        Self::ALL
            .iter()
            .copied()
            .filter(|to| self.may_become(*to))
            .collect()
    }

    /// The button that moves a post-mortem to this status.
    pub fn verb(self) -> &'static str {
        match self {
            PostmortemStatus::Draft => "Back to draft",
            PostmortemStatus::InReview => "Ask for review",
            PostmortemStatus::Published => "Publish",
        }
    }
}

/// The largest post-mortem accepted, in bytes of Markdown.
pub const MAX_MARKDOWN: usize = 256 * 1024;

/// A save, as the editor or `PUT /api/v1/incidents/{id}/postmortem` sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostmortemInput {
    pub markdown: String,
    /// The version the text was edited from: 0 for the first save.
    pub base_version: i64,
    /// "Post-mortem: <incident title>" when left out on the first save; kept otherwise.
    #[serde(default)]
    pub title: Option<String>,
}

/// A save, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostmortemSave {
    pub markdown: String,
    pub base_version: i64,
    pub title: Option<String>,
}

impl PostmortemInput {
    pub fn parse(&self) -> Result<PostmortemSave, FieldErrors> {
        let markdown = if self.markdown.len() > MAX_MARKDOWN {
            Err(FieldError::new(
                "markdown",
                format!(
                    "The post-mortem is {} KiB; the limit is {} KiB. Move long logs or data to a linked document.",
                    self.markdown.len().div_ceil(1024),
                    MAX_MARKDOWN / 1024
                ),
            ))
        } else if self.markdown.trim().is_empty() {
            Err(FieldError::new(
                "markdown",
                "The post-mortem is empty: start from the template.",
            ))
        } else {
            Ok(self.markdown.clone())
        };
        let base_version = if self.base_version < 0 {
            Err(FieldError::new(
                "base_version",
                "base_version is the version you edited: 0 for the first save.",
            ))
        } else {
            Ok(self.base_version)
        };
        let title = self
            .title
            .as_deref()
            .map(|title| {
                let title = bounded_text("title", title, MAX_TITLE)?;
                if title.is_empty() {
                    return Err(FieldError::new(
                        "title",
                        "Give the post-mortem a title, such as \"Checkout outage on 3 December\".",
                    ));
                }
                Ok(title)
            })
            .transpose();
        crate::check_fields! {
            markdown = markdown,
            base_version = base_version,
            title = title,
        }
        Ok(PostmortemSave {
            markdown,
            base_version,
            title,
        })
    }
}

/// What the template is filled with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateFacts<'a> {
    pub title: &'a str,
    pub service: &'a str,
    pub environment: &'a str,
    pub severity: &'a str,
    pub started_at: String,
    pub detected_at: String,
    pub resolved_at: Option<String>,
    /// "2026-12-03 10:45 UTC — ada: …", oldest first.
    pub timeline: Vec<String>,
}

/// The post-mortem template, pre-filled with the incident's facts and timeline.
pub fn template(facts: &TemplateFacts<'_>) -> String {
    let timeline = if facts.timeline.is_empty() {
        "- (nothing recorded)".to_owned()
    } else {
        facts
            .timeline
            .iter()
            .map(|line| format!("- {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "## Summary\n\nWhat happened, in two or three sentences.\n\n\
         ## Impact\n\n{service} in {environment}, {severity}: who was affected, how, and for how long \
         (started {started}, detected {detected}, resolved {resolved}).\n\n\
         ## Trigger and root causes\n\nWhat set it off, and why the system let it happen.\n\n\
         ## Detection\n\nHow it was noticed, and how it could be noticed sooner.\n\n\
         ## Resolution\n\nWhat restored service.\n\n\
         ## Timeline\n\n{timeline}\n\n\
         ## Lessons\n\n### What went well\n\n- \n\n### What went wrong\n\n- \n\n### Where we got lucky\n\n- \n\n\
         ## Action items\n\nTrack each one below the editor (owner, due date), so it is followed to done.\n",
        service = facts.service,
        environment = facts.environment,
        severity = facts.severity,
        started = facts.started_at,
        detected = facts.detected_at,
        resolved = facts.resolved_at.as_deref().unwrap_or("not yet"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_moves_one_step_and_back_from_review_only() {
        use PostmortemStatus::*;
        for from in PostmortemStatus::ALL {
            for to in PostmortemStatus::ALL {
                let allowed = matches!(
                    (from, to),
                    (Draft, InReview) | (InReview, Published) | (InReview, Draft)
                );
                assert_eq!(from.may_become(*to), allowed, "{from} → {to}");
            }
        }
        assert!(Published.next().is_empty());
    }

    #[test]
    fn markdown_over_the_limit_or_empty_is_refused_naming_the_field() {
        let save = |markdown: String, base_version| PostmortemInput {
            markdown,
            base_version,
            title: None,
        };
        let at_limit = save("a".repeat(MAX_MARKDOWN), 0).parse();
        assert!(at_limit.is_ok());
        let over = save("a".repeat(MAX_MARKDOWN + 1), 0)
            .parse()
            .expect_err("refused");
        assert_eq!(over.0[0].field, "markdown");
        assert!(
            over.0[0].message.contains("256 KiB"),
            "{}",
            over.0[0].message
        );
        let empty = save("  \n".into(), -1).parse().expect_err("refused");
        let fields: Vec<&str> = empty.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["markdown", "base_version"]);
        let untitled = PostmortemInput {
            markdown: "x".into(),
            base_version: 1,
            title: Some("  ".into()),
        };
        assert_eq!(untitled.parse().expect_err("refused").0[0].field, "title");
    }

    #[test]
    fn the_template_carries_the_timeline_and_every_section() {
        let text = template(&TemplateFacts {
            title: "Checkout down",
            service: "parts",
            environment: "production",
            severity: "SEV1",
            started_at: "2026-12-01 10:00 UTC".into(),
            detected_at: "2026-12-01 10:05 UTC".into(),
            resolved_at: None,
            timeline: vec!["2026-12-01 10:05 UTC: declared by ada".into()],
        });
        for heading in [
            "## Summary",
            "## Impact",
            "## Trigger and root causes",
            "## Detection",
            "## Resolution",
            "## Timeline",
            "### What went well",
            "### What went wrong",
            "### Where we got lucky",
            "## Action items",
        ] {
            assert!(text.contains(heading), "{heading}");
        }
        assert!(text.contains("- 2026-12-01 10:05 UTC: declared by ada"));
        assert!(text.contains("resolved not yet"));
    }
}
