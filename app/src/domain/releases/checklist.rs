//! Checklist templates: ordered groups of items a team signs off. Each service has one per
//! kind; until an admin edits one, it is the guide's (`reference/deployment-best-practices.md`).
//! A release copies its template's items when it opens, so editing a template never changes a
//! checklist already started.

use serde::{Deserialize, Serialize};

use crate::domain::{words::bounded_text, FieldError, FieldErrors, Role};

crate::word_enum! {
    /// What a checklist is for: a release's pre-deployment checks, a rollback's procedure, an
    /// incident's emergency response.
    TemplateKind, "checklist kind" {
        Release = "release",
        Rollback = "rollback",
        Incident = "incident",
    }
}

/// The longest item title and group name, in characters.
pub const MAX_TITLE: usize = 120;
/// The longest item description.
pub const MAX_DESCRIPTION: usize = 1000;
/// The most items one checklist holds.
pub const MAX_ITEMS: usize = 100;

/// One thing to check and sign off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChecklistItem {
    /// Names the item within its checklist, in URLs and the API: `tests-pass`.
    pub key: String,
    /// The heading it is listed under: "Code Quality".
    pub group: String,
    pub title: String,
    pub description: String,
    /// The least role that may sign it.
    pub role: Role,
    /// Whether the gate waits for it.
    pub required: bool,
    /// Whether its sign-off needs a link (a CI run, a pull request).
    pub evidence: bool,
}

/// A service's checklist of one kind, as stored: `revision` 0 is the guide's, never edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Template {
    pub kind: TemplateKind,
    pub revision: i64,
    pub items: Vec<ChecklistItem>,
}

impl Template {
    /// The guide's checklist of `kind`.
    pub fn guide(kind: TemplateKind) -> Self {
        let entries: Guide = match kind {
            TemplateKind::Release => GUIDE_RELEASE,
            TemplateKind::Rollback => GUIDE_ROLLBACK,
            TemplateKind::Incident => GUIDE_INCIDENT,
        };
        let items = entries
            .iter()
            .flat_map(|(group, items)| {
                items
                    .iter()
                    .map(move |(title, description, evidence)| ChecklistItem {
                        key: key_of(title),
                        group: (*group).to_owned(),
                        title: (*title).to_owned(),
                        description: (*description).to_owned(),
                        role: Role::Engineer,
                        required: true,
                        evidence: *evidence,
                    })
            })
            .collect();
        Self {
            kind,
            revision: 0,
            items,
        }
    }
}

/// One of the guide's items: (title, description, whether its sign-off needs a link).
type GuideItem = (&'static str, &'static str, bool);
/// One of the guide's checklists: its groups, each with its items.
type Guide = &'static [(&'static str, &'static [GuideItem])];

/// The guide's "Pre-Deployment Checklist".
const GUIDE_RELEASE: Guide = &[
    (
        "Environment Preparation",
        &[
            (
                "Server Health Check",
                "Verify server resources (CPU, memory, disk space).",
                false,
            ),
            (
                "Network Connectivity",
                "Test SSH access and external connectivity.",
                false,
            ),
            (
                "Dependencies",
                "Ensure all required software is installed and up-to-date.",
                false,
            ),
            (
                "Security Updates",
                "Apply latest security patches to the server.",
                false,
            ),
            (
                "Backup Verification",
                "Confirm backup systems are working.",
                false,
            ),
            (
                "SSL Certificates",
                "Check certificate expiration dates.",
                false,
            ),
        ],
    ),
    (
        "Code Quality",
        &[
            (
                "Tests Pass",
                "All unit, integration, and e2e tests pass: link the CI run.",
                true,
            ),
            (
                "Code Review",
                "All changes have been reviewed and approved: link the review.",
                true,
            ),
            (
                "Security Scan",
                "Security vulnerabilities have been addressed.",
                false,
            ),
            (
                "Performance Check",
                "Performance tests meet requirements.",
                false,
            ),
            (
                "Documentation",
                "Updated documentation for any changes.",
                false,
            ),
        ],
    ),
    (
        "Configuration Management",
        &[
            (
                "Environment Variables",
                "All required environment variables are set.",
                false,
            ),
            (
                "Secrets Management",
                "Sensitive data is properly secured.",
                false,
            ),
            (
                "Configuration Validation",
                "All configuration files are valid.",
                false,
            ),
            (
                "Database Schema",
                "Migration scripts are tested and ready.",
                false,
            ),
        ],
    ),
];

/// The guide's rollback checklist ("Rollback Procedures").
const GUIDE_ROLLBACK: Guide = &[(
    "Rollback",
    &[
        (
            "Stop new deployments",
            "Hold every deployment to this environment until it is stable.",
            false,
        ),
        (
            "Switch traffic to previous version",
            "Put the last known-good version back in front of users.",
            false,
        ),
        (
            "Verify system stability",
            "Health checks pass and error rates are back to normal.",
            false,
        ),
        (
            "Investigate root cause",
            "Find out why the new version failed.",
            false,
        ),
        (
            "Fix issues before re-deployment",
            "Ship the fix through the normal release checklist.",
            false,
        ),
    ],
)];

/// The guide's "Incident Response" procedure.
const GUIDE_INCIDENT: Guide = &[(
    "Emergency response",
    &[
        (
            "Assess the situation",
            "What is affected, since when, how badly.",
            false,
        ),
        (
            "Implement immediate fixes",
            "Restore service first: roll back, switch, scale.",
            false,
        ),
        (
            "Communicate with stakeholders",
            "Tell users and the business what is happening.",
            false,
        ),
        (
            "Document the incident",
            "Keep the timeline as it happens.",
            false,
        ),
        (
            "Conduct post-mortem",
            "Write up causes, impact and lessons.",
            false,
        ),
        (
            "Implement preventive measures",
            "Follow up the post-mortem's action items.",
            false,
        ),
    ],
)];

/// A key from a title: lowercase letters and digits, words joined by '-'.
pub fn key_of(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// One item as an admin types it; `key` is made from the title when left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ItemInput {
    #[serde(default)]
    pub key: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::required_text::<120>))]
    pub group: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::required_text::<120>))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::text::<1000>))]
    pub description: String,
    /// `engineer` (the default), `releaser` or `admin`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::domain::Role>))]
    pub role: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub evidence: bool,
}

fn yes() -> bool {
    true
}

/// A whole checklist as an admin saves it, items in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateInput {
    pub items: Vec<ItemInput>,
}

impl TemplateInput {
    /// Checks every item, reporting every problem at once, each named `items[N].field`
    /// (counting from 1, as a person reads the list).
    pub fn parse(&self) -> Result<Vec<ChecklistItem>, FieldErrors> {
        if self.items.is_empty() {
            return Err(FieldError::new(
                "items",
                "A checklist needs at least one item; add one, or keep the current checklist.",
            )
            .into());
        }
        if self.items.len() > MAX_ITEMS {
            return Err(FieldError::new(
                "items",
                format!("A checklist holds at most {MAX_ITEMS} items; merge some."),
            )
            .into());
        }
        let mut errors = Vec::new();
        let mut items: Vec<ChecklistItem> = Vec::new();
        for (index, input) in self.items.iter().enumerate() {
            match input.parse(index + 1) {
                Ok(item) => {
                    if let Some(first) = items.iter().position(|i| i.key == item.key) {
                        errors.push(FieldError::new(
                            &format!("items[{}].key", index + 1),
                            format!(
                                "Items {} and {} both have the key \"{}\"; give each item its own key or title.",
                                first + 1,
                                index + 1,
                                item.key
                            ),
                        ));
                    }
                    items.push(item);
                }
                Err(found) => errors.extend(found.0),
            }
        }
        if errors.is_empty() {
            Ok(items)
        } else {
            Err(FieldErrors(errors))
        }
    }
}

impl ItemInput {
    fn parse(&self, number: usize) -> Result<ChecklistItem, FieldErrors> {
        let field = |name: &str| format!("items[{number}].{name}");
        let required_text = |name: &str, text: &str, what: &str| {
            let text = bounded_text(&field(name), text, MAX_TITLE)?;
            if text.is_empty() {
                return Err(FieldError::new(
                    &field(name),
                    format!("Item {number} needs a {what}."),
                ));
            }
            Ok(text)
        };
        crate::check_fields! {
            group = required_text("group", &self.group, "group"),
            title = required_text("title", &self.title, "title"),
            description = bounded_text(&field("description"), &self.description, MAX_DESCRIPTION),
            key = parse_key(&field("key"), self.key.as_deref(), &self.title),
            role = parse_signer_role(&field("role"), self.role.as_deref()),
        }
        Ok(ChecklistItem {
            key,
            group,
            title,
            description,
            role,
            required: self.required,
            evidence: self.evidence,
        })
    }
}

fn parse_key(field: &str, key: Option<&str>, title: &str) -> Result<String, FieldError> {
    let key = match key.map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) => key.to_owned(),
        None => key_of(title),
    };
    let valid = !key.is_empty()
        && key.len() <= 60
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(key)
    } else {
        Err(FieldError::new(
            field,
            format!("\"{key}\" is not an item key; use 1 to 60 lowercase letters, digits and '-'."),
        ))
    }
}

/// Who may sign: engineer and above (viewers only read).
fn parse_signer_role(field: &str, role: Option<&str>) -> Result<Role, FieldError> {
    let Some(text) = role.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(Role::Engineer);
    };
    match text.parse::<Role>() {
        Ok(role) if role >= Role::Engineer => Ok(role),
        _ => Err(FieldError::new(
            field,
            format!("\"{text}\" cannot sign items; choose engineer, releaser or admin."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_checklists_have_its_items_in_its_groups() {
        let release = Template::guide(TemplateKind::Release);
        let count = |group: &str| release.items.iter().filter(|i| i.group == group).count();
        assert_eq!(release.items.len(), 15);
        assert_eq!(count("Environment Preparation"), 6);
        assert_eq!(count("Code Quality"), 5);
        assert_eq!(count("Configuration Management"), 4);
        assert_eq!(release.items[0].key, "server-health-check");
        assert!(release
            .items
            .iter()
            .all(|i| i.required && i.role == Role::Engineer));
        assert_eq!(Template::guide(TemplateKind::Rollback).items.len(), 5);
        assert_eq!(Template::guide(TemplateKind::Incident).items.len(), 6);
    }

    fn item(title: &str) -> ItemInput {
        ItemInput {
            group: "Checks".into(),
            title: title.into(),
            required: true,
            ..ItemInput::default()
        }
    }

    #[test]
    fn a_template_reports_every_bad_item_at_once() {
        let empty = TemplateInput { items: vec![] }
            .parse()
            .expect_err("refused");
        assert_eq!(empty.0[0].field, "items");
        let input = TemplateInput {
            items: vec![
                item("Tests pass"),
                ItemInput {
                    role: Some("viewer".into()),
                    ..item("")
                },
                item("Tests  PASS!"),
                ItemInput {
                    key: Some("Bad Key".into()),
                    ..item("Docs")
                },
            ],
        };
        let errors = input.parse().expect_err("refused").0;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[2].title",
                "items[2].key",
                "items[2].role",
                "items[3].key",
                "items[4].key"
            ]
        );
        assert!(
            errors[3].message.contains("Items 1 and 3"),
            "{}",
            errors[3].message
        );
    }

    #[test]
    fn keys_come_from_titles_and_roles_default_to_engineer() {
        let items = TemplateInput {
            items: vec![
                ItemInput {
                    role: Some("releaser".into()),
                    ..item("SSL Certificates (expiry)")
                },
                item("Smoke test"),
            ],
        }
        .parse()
        .expect("accepted");
        assert_eq!(items[0].key, "ssl-certificates-expiry");
        assert_eq!(items[0].role, Role::Releaser);
        assert_eq!(items[1].role, Role::Engineer);
    }
}
