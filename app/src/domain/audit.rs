//! The audit log as people read it: a filter typed into a form, and an entry's before and
//! after summaries as words.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{FieldError, FieldErrors, Timestamp};
use crate::model::AuditFilter;

/// The audit page's filter as typed: every field text, read on the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSearch {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub object: String,
    /// A UTC day, `YYYY-MM-DD`, or a UTC time.
    #[serde(default)]
    pub from: String,
    /// A UTC day, included whole, or a UTC time.
    #[serde(default)]
    pub to: String,
    /// The id below which the next page starts.
    #[serde(default)]
    pub before: String,
}

impl AuditSearch {
    /// The filter these fields describe, or every field that cannot be read.
    pub fn parse(&self) -> Result<AuditFilter, FieldErrors> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let day = |field: &str, s: &str, whole_day: bool| match text(s) {
            None => Ok(None),
            Some(s) => Timestamp::parse_day_or_time(field, &s, whole_day).map(Some),
        };
        let before = || match text(&self.before) {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| FieldError::new("before", format!("\"{s}\" is not an entry id."))),
        };
        crate::check_fields! {
            from = day("from", &self.from, false),
            to = day("to", &self.to, true),
            before_id = before(),
        }
        Ok(AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            object: text(&self.object),
            from,
            to,
            before_id,
        })
    }
}

/// An entry's change in words: the fields that changed as `role: engineer → viewer`, or every
/// field of a new record; names without underscores, times in UTC, yes and no for flags.
pub fn describe_change(before: Option<&str>, after: Option<&str>) -> String {
    let object = |text: Option<&str>| -> Map<String, Value> {
        text.and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    };
    let (before, after) = (object(before), object(after));
    after
        .iter()
        .filter_map(|(key, new)| {
            let name = key.replace('_', " ");
            match before.get(key) {
                Some(old) if old == new => None,
                Some(old) => Some(format!("{name}: {} → {}", show(key, old), show(key, new))),
                None => Some(format!("{name}: {}", show(key, new))),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn show(key: &str, value: &Value) -> String {
    match value {
        Value::Null => "none".to_owned(),
        Value::Bool(flag) => if *flag { "yes" } else { "no" }.to_owned(),
        Value::Number(n) if key.ends_with("_at") => n
            .as_i64()
            .map_or_else(|| n.to_string(), |ms| Timestamp(ms).to_string()),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{describe_change, AuditSearch};
    use crate::domain::Timestamp;

    #[test]
    fn the_filter_reads_days_times_and_ids_and_names_every_mistake() {
        let wrong = AuditSearch {
            from: "27.11.2026".into(),
            to: "tomorrow".into(),
            before: "ten".into(),
            ..AuditSearch::default()
        };
        let errors = wrong.parse().unwrap_err().0;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["from", "to", "before"]);
        assert_eq!(
            errors[0].message,
            "\"27.11.2026\" is not a day or time; use YYYY-MM-DD (a UTC day) or YYYY-MM-DD HH:MM in UTC."
        );
        assert_eq!(errors[2].message, "\"ten\" is not an entry id.");
        let days = AuditSearch {
            from: "2026-11-27".into(),
            to: "2026-11-27".into(),
            ..AuditSearch::default()
        }
        .parse()
        .unwrap();
        assert_eq!(days.from, Some(Timestamp(1_795_737_600_000)));
        // A `to` day is included whole.
        assert_eq!(days.to, Some(Timestamp(1_795_824_000_000)));
        let times = AuditSearch {
            from: "2026-11-27 10:45".into(),
            to: " 2026-11-27T10:45:00Z ".into(),
            actor: "  ".into(),
            ..AuditSearch::default()
        }
        .parse()
        .unwrap();
        assert_eq!(times.from, Some(Timestamp(1_795_776_300_000)));
        assert_eq!(times.to, times.from, "a time is taken as it is");
        assert_eq!(times.actor, None);
    }

    #[test]
    fn changes_read_as_words() {
        assert_eq!(
            describe_change(
                Some(r#"{"username":"eng","role":"engineer","active":true}"#),
                Some(r#"{"username":"eng","role":"viewer","active":false}"#)
            ),
            "active: yes → no; role: engineer → viewer"
        );
        assert_eq!(
            describe_change(
                None,
                Some(r#"{"name":"ci","expires_at":1795776300000,"revoked_at":null}"#)
            ),
            "expires at: 2026-11-27 10:45 UTC; name: ci; revoked at: none"
        );
        assert_eq!(describe_change(None, None), "");
        assert_eq!(
            describe_change(Some("not json"), Some(r#"{"sessions_ended":2}"#)),
            "sessions ended: 2"
        );
    }
}
