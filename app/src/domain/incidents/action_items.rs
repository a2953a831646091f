//! Action items: the follow-ups a post-mortem commits to, each with an owner and a due date,
//! followed to `done` (or to `wont_do`, said openly).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::MAX_TITLE;
use crate::domain::{
    words::{bounded_text, present},
    FieldError, FieldErrors, Timestamp, Username,
};

crate::word_enum! {
    /// Where an action item stands; overdue when `open` past its due date.
    ActionItemStatus, "action item status" {
        Open = "open",
        Done = "done",
        WontDo = "wont_do",
    }
}

/// A new action item, as the form or `POST /api/v1/action-items` sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActionItemInput {
    pub incident_id: i64,
    pub title: String,
    /// A username.
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// A change to an action item; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActionItemPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due: Option<String>,
    /// `open`, `done` or `wont_do`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<ActionItemStatus>))]
    pub status: Option<String>,
}

/// An action item's fields, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionItemFields {
    pub title: Option<String>,
    pub owner: Option<Username>,
    pub due: Option<NaiveDate>,
    pub status: Option<ActionItemStatus>,
}

impl ActionItemFields {
    /// Whether anything but the status changes: a published post-mortem allows only that.
    pub fn edits_more_than_status(&self) -> bool {
        self.title.is_some() || self.owner.is_some() || self.due.is_some()
    }
}

fn title(text: &str) -> Result<String, FieldError> {
    let title = bounded_text("title", text, MAX_TITLE)?;
    if title.is_empty() {
        return Err(FieldError::new(
            "title",
            "Say what will be done, such as \"Alert on checkout error rate\".",
        ));
    }
    Ok(title)
}

fn owner(text: &str) -> Result<Username, FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(
            "owner",
            "Choose who owns it: one person follows it to done.",
        ));
    }
    Username::parse(text)
        .map_err(|_| FieldError::new("owner", format!("\"{}\" is not a username.", text.trim())))
}

fn due(text: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            "due",
            format!(
                "\"{}\" is not a date; give the due date as YYYY-MM-DD.",
                text.trim()
            ),
        )
    })
}

impl ActionItemInput {
    pub fn parse(&self) -> Result<ActionItemFields, FieldErrors> {
        crate::check_fields! {
            title = title(&self.title),
            owner = owner(&self.owner),
            due = due(&self.due),
        }
        Ok(ActionItemFields {
            title: Some(title),
            owner: Some(owner),
            due: Some(due),
            status: Some(ActionItemStatus::Open),
        })
    }
}

impl ActionItemPatch {
    pub fn parse(&self) -> Result<ActionItemFields, FieldErrors> {
        crate::check_fields! {
            title = self.title.as_deref().map(title).transpose(),
            owner = present(&self.owner).map(owner).transpose(),
            due = present(&self.due).map(due).transpose(),
            status = self.status.as_deref().map(|s| ActionItemStatus::parse("status", s)).transpose(),
        }
        let fields = ActionItemFields {
            title,
            owner,
            due,
            status,
        };
        if fields == ActionItemFields::default() {
            return Err(FieldError::new(
                "action_item",
                "Nothing to change: send title, owner, due or status.",
            )
            .into());
        }
        Ok(fields)
    }
}

/// Whether an item due on `due` is overdue at `now`: open after its due day has ended (UTC).
pub fn overdue(status: ActionItemStatus, due: NaiveDate, now: Timestamp) -> bool {
    let today = chrono::DateTime::from_timestamp_millis(now.millis()).map(|t| t.date_naive());
    status == ActionItemStatus::Open && today.is_some_and(|today| due < today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_item_reports_every_wrong_field() {
        let errors = ActionItemInput {
            incident_id: 1,
            title: " ".into(),
            owner: "Not A User!".into(),
            due: "next week".into(),
        }
        .parse()
        .expect_err("refused")
        .0;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "owner", "due"]);
    }

    #[test]
    fn overdue_is_open_after_the_due_day() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
        let noon = Timestamp::parse("now", "2026-12-05 12:00").expect("time");
        assert!(overdue(ActionItemStatus::Open, day("2026-12-04"), noon));
        assert!(!overdue(ActionItemStatus::Open, day("2026-12-05"), noon));
        assert!(!overdue(ActionItemStatus::Done, day("2026-12-01"), noon));
        assert!(ActionItemPatch::default().parse().is_err());
        let status_only = ActionItemPatch {
            status: Some("done".into()),
            ..Default::default()
        }
        .parse()
        .expect("accepted");
        assert!(!status_only.edits_more_than_status());
    }
}
