//! Freeze windows: periods in which deploys, switches and canary steps are refused (rollbacks
//! never are). One-off windows are two instants; weekly ones are read as a person reads them,
//! on the wall clock of a named time zone: "Mon–Fri 09:00–18:00 Asia/Shanghai" starts at nine
//! in Shanghai whatever the date, across midnight when it ends before it starts, and on the
//! days clocks change it still starts and ends at the local times it names.

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;

/// Monday first, as the window lists them.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEKDAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// When a freeze applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum FreezeRule {
    /// From `from` until `to`.
    Once { from: Timestamp, to: Timestamp },
    /// Every listed weekday from `start` to `end` (minutes after local midnight) in
    /// `time_zone`; an `end` at or before `start` is on the next day.
    Weekly {
        /// Indexes into [`WEEKDAYS`].
        weekdays: Vec<u8>,
        start: u16,
        end: u16,
        time_zone: String,
    },
}

/// `HH:MM` from minutes after midnight.
pub fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl FreezeRule {
    /// The window in words: "weekly, Mon–Fri 09:00–18:00 (Asia/Shanghai)".
    pub fn describe(&self) -> String {
        match self {
            FreezeRule::Once { from, to } => format!("from {from} to {to}"),
            FreezeRule::Weekly {
                weekdays,
                start,
                end,
                time_zone,
            } => format!(
                "weekly, {} {}–{}{} ({time_zone})",
                describe_days(weekdays),
                clock(*start),
                clock(*end),
                if end <= start { " the next day" } else { "" }
            ),
        }
    }
}

/// "Mon–Fri", "Sat, Sun", "Mon, Wed–Fri".
fn describe_days(days: &[u8]) -> String {
    let mut runs: Vec<(u8, u8)> = Vec::new();
    for &day in days {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == day => *last = day,
            _ => runs.push((day, day)),
        }
    }
    let name = |d: u8| WEEKDAY_NAMES[usize::from(d)];
    runs.iter()
        .map(|&(first, last)| match last - first {
            0 => name(first).to_owned(),
            1 => format!("{}, {}", name(first), name(last)),
            _ => format!("{}–{}", name(first), name(last)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A freeze window as a form or the API sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FreezeInput {
    /// `once` or `weekly`.
    pub kind: String,
    /// Once: `YYYY-MM-DD HH:MM` (UTC) or RFC 3339.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// Weekly: `mon`…`sun`.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// Weekly: local `HH:MM`.
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    /// Weekly: an IANA zone such as `Europe/Berlin`.
    #[serde(default)]
    pub time_zone: Option<String>,
    pub reason: String,
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
    use chrono_tz::Tz;

    use super::*;
    use crate::domain::{words::bounded_text, FieldError, FieldErrors};

    /// A freeze window, checked.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct NewFreeze {
        pub rule: FreezeRule,
        pub reason: String,
    }

    impl FreezeInput {
        /// Checks every field, reporting every problem at once.
        pub fn parse(&self) -> Result<NewFreeze, FieldErrors> {
            let reason = bounded_text("reason", &self.reason, 500).and_then(|r| {
                if r.is_empty() {
                    Err(FieldError::new(
                        "reason",
                        "Say why deploys stop then (\"peak business hours\"): the refused see it.",
                    ))
                } else {
                    Ok(r)
                }
            });
            let rule = match self.kind.trim() {
                "once" => self.parse_once(),
                "weekly" => self.parse_weekly(),
                other => Err(FieldError::new(
                    "kind",
                    format!("\"{other}\" is not a kind of window; choose once or weekly."),
                )
                .into()),
            };
            crate::check_fields! { rule = rule, reason = reason }
            Ok(NewFreeze { rule, reason })
        }

        fn parse_once(&self) -> Result<FreezeRule, FieldErrors> {
            let time = |field: &str, text: &Option<String>| match text.as_deref().map(str::trim) {
                None | Some("") => Err(FieldError::new(
                    field,
                    "Enter a time as YYYY-MM-DD HH:MM in UTC.",
                )),
                Some(text) => Timestamp::parse(field, text),
            };
            crate::check_fields! { from = time("from", &self.from), to = time("to", &self.to) }
            if to <= from {
                return Err(FieldError::new(
                    "to",
                    "The window ends before it starts; put its end after its start.",
                )
                .into());
            }
            Ok(FreezeRule::Once { from, to })
        }

        fn parse_weekly(&self) -> Result<FreezeRule, FieldErrors> {
            crate::check_fields! {
                weekdays = parse_weekdays(&self.weekdays),
                start = parse_clock("start", self.start.as_deref()),
                end = parse_clock("end", self.end.as_deref()),
                time_zone = parse_time_zone(self.time_zone.as_deref()),
            }
            if start == end {
                return Err(FieldError::new(
                    "end",
                    "The window starts and ends at the same time; give it a length.",
                )
                .into());
            }
            Ok(FreezeRule::Weekly {
                weekdays,
                start,
                end,
                time_zone: time_zone.name().to_owned(),
            })
        }
    }

    fn parse_weekdays(days: &[String]) -> Result<Vec<u8>, FieldError> {
        let mut found = Vec::new();
        for day in days {
            let day = day.trim().to_ascii_lowercase();
            let index = WEEKDAYS
                .iter()
                .position(|d| day.starts_with(d))
                .ok_or_else(|| {
                    FieldError::new(
                        "weekdays",
                        format!(
                            "\"{day}\" is not a weekday; use mon, tue, wed, thu, fri, sat or sun."
                        ),
                    )
                })?;
            found.push(index as u8);
        }
        found.sort_unstable();
        found.dedup();
        if found.is_empty() {
            return Err(FieldError::new("weekdays", "Choose at least one weekday."));
        }
        Ok(found)
    }

    fn parse_clock(field: &str, text: Option<&str>) -> Result<u16, FieldError> {
        let text = text.unwrap_or_default().trim();
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
            (h < 24 && m < 60 && text.len() == 5).then_some(h * 60 + m)
        });
        parsed.ok_or_else(|| {
            FieldError::new(
                field,
                format!(
                    "\"{text}\" is not a time of day; use HH:MM on a 24-hour clock, such as 09:00."
                ),
            )
        })
    }

    fn parse_time_zone(text: Option<&str>) -> Result<Tz, FieldError> {
        let text = text.unwrap_or_default().trim();
        text.parse::<Tz>().map_err(|_| {
            FieldError::new(
                "time_zone",
                format!("\"{text}\" is not a time zone; use an IANA name such as Europe/Berlin, Asia/Shanghai or UTC."),
            )
        })
    }

    impl FreezeRule {
        /// When the window ends, if `now` is inside it.
        pub fn active_until(&self, now: Timestamp) -> Option<Timestamp> {
            match self {
                FreezeRule::Once { from, to } => (*from <= now && now < *to).then_some(*to),
                FreezeRule::Weekly {
                    weekdays,
                    start,
                    end,
                    time_zone,
                } => {
                    let zone: Tz = time_zone.parse().ok()?;
                    let local = zone.timestamp_millis_opt(now.0).single()?.naive_local();
                    // An occurrence starting today, or one that started yesterday and runs
                    // past midnight.
                    [local.date(), local.date() - Duration::days(1)]
                        .into_iter()
                        .filter(|day| {
                            weekdays.contains(&(day.weekday().num_days_from_monday() as u8))
                        })
                        .find_map(|day| {
                            let opens = at(day, *start);
                            let closes = at(
                                if end <= start {
                                    day + Duration::days(1)
                                } else {
                                    day
                                },
                                *end,
                            );
                            (opens <= local && local < closes).then(|| instant(zone, closes))
                        })
                }
            }
        }
    }

    fn at(day: NaiveDate, minutes: u16) -> NaiveDateTime {
        day.and_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0)
            .unwrap_or_default()
    }

    /// The instant a wall-clock time names: in a fall-back hour the later one (the window
    /// runs until the clock has shown it for the last time); in a spring-forward gap, the
    /// moment the clock jumps.
    fn instant(zone: Tz, local: NaiveDateTime) -> Timestamp {
        let mut probe = local;
        loop {
            match zone.from_local_datetime(&probe) {
                LocalResult::Single(t) | LocalResult::Ambiguous(_, t) => {
                    return Timestamp(t.timestamp_millis())
                }
                LocalResult::None => probe -= Duration::minutes(1),
            }
            // Gaps last an hour or two; stepping back finds the last minute before the jump,
            // and the jump happens one minute later.
            if let LocalResult::Single(t) = zone.from_local_datetime(&probe) {
                return Timestamp(t.timestamp_millis() + 60_000);
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn utc(text: &str) -> Timestamp {
        Timestamp::parse("t", text).expect("accepted")
    }

    fn weekly(days: &[&str], start: &str, end: &str, zone: &str) -> FreezeRule {
        FreezeInput {
            kind: "weekly".into(),
            weekdays: days.iter().map(|d| (*d).to_owned()).collect(),
            start: Some(start.into()),
            end: Some(end.into()),
            time_zone: Some(zone.into()),
            reason: "peak business hours".into(),
            ..FreezeInput::default()
        }
        .parse()
        .expect("accepted")
        .rule
    }

    #[test]
    fn a_one_off_window_includes_its_start_and_excludes_its_end() {
        let rule = FreezeRule::Once {
            from: utc("2026-12-24 00:00"),
            to: utc("2026-12-27 00:00"),
        };
        assert_eq!(rule.active_until(utc("2026-12-23 23:59")), None);
        assert_eq!(
            rule.active_until(utc("2026-12-24 00:00")),
            Some(utc("2026-12-27 00:00"))
        );
        assert_eq!(rule.active_until(utc("2026-12-27 00:00")), None);
    }

    #[test]
    fn a_weekly_window_follows_its_time_zone() {
        let rule = weekly(
            &["mon", "tue", "wed", "thu", "fri"],
            "09:00",
            "18:00",
            "Asia/Shanghai",
        );
        assert_eq!(
            rule.describe(),
            "weekly, Mon–Fri 09:00–18:00 (Asia/Shanghai)"
        );
        // Monday 2026-12-07 10:00 in Shanghai is 02:00 UTC.
        assert_eq!(
            rule.active_until(utc("2026-12-07 02:00")),
            Some(utc("2026-12-07 10:00"))
        );
        assert_eq!(rule.active_until(utc("2026-12-07 00:59")), None);
        assert_eq!(rule.active_until(utc("2026-12-07 10:00")), None);
        // Saturday.
        assert_eq!(rule.active_until(utc("2026-12-12 02:00")), None);
    }

    #[test]
    fn a_window_across_midnight_and_the_week_boundary() {
        // Sunday 22:00 to Monday 02:00, Berlin (UTC+1 in winter).
        let rule = weekly(&["sun"], "22:00", "02:00", "Europe/Berlin");
        assert_eq!(
            rule.describe(),
            "weekly, Sun 22:00–02:00 the next day (Europe/Berlin)"
        );
        let ends = Some(utc("2026-12-07 01:00"));
        assert_eq!(rule.active_until(utc("2026-12-06 21:00")), ends); // Sun 22:00
        assert_eq!(rule.active_until(utc("2026-12-07 00:30")), ends); // Mon 01:30
        assert_eq!(rule.active_until(utc("2026-12-07 01:00")), None); // Mon 02:00
        assert_eq!(rule.active_until(utc("2026-12-06 20:59")), None);
        // Monday night is not Sunday night.
        assert_eq!(rule.active_until(utc("2026-12-07 21:30")), None);
    }

    #[test]
    fn windows_keep_their_wall_clock_times_when_clocks_change() {
        let rule = weekly(&["sun"], "01:00", "04:00", "Europe/Berlin");
        // 29 March 2026: clocks jump from 02:00 to 03:00 (UTC+1 → UTC+2).
        // 01:00 local is 00:00 UTC; 04:00 local is 02:00 UTC: three hours of wall clock,
        // two of real time.
        assert_eq!(
            rule.active_until(utc("2026-03-29 00:30")),
            Some(utc("2026-03-29 02:00"))
        );
        assert_eq!(rule.active_until(utc("2026-03-29 02:00")), None);
        // 25 October 2026: clocks fall back from 03:00 to 02:00 (UTC+2 → UTC+1).
        // 01:00 local is 23:00 UTC the day before; 04:00 local is 03:00 UTC.
        assert_eq!(
            rule.active_until(utc("2026-10-24 23:00")),
            Some(utc("2026-10-25 03:00"))
        );
        assert_eq!(
            rule.active_until(utc("2026-10-25 01:30")),
            Some(utc("2026-10-25 03:00"))
        );
        assert_eq!(rule.active_until(utc("2026-10-24 22:59")), None);
        // A window ending inside the skipped hour ends when the clock jumps.
        let gap = weekly(&["sun"], "01:00", "02:30", "Europe/Berlin");
        assert_eq!(
            gap.active_until(utc("2026-03-29 00:30")),
            Some(utc("2026-03-29 01:00"))
        );
    }

    #[test]
    fn bad_windows_name_every_wrong_field() {
        let errors = FreezeInput {
            kind: "weekly".into(),
            weekdays: vec!["funday".into()],
            start: Some("25:00".into()),
            end: Some("9".into()),
            time_zone: Some("Mars/Olympus".into()),
            reason: String::new(),
            ..FreezeInput::default()
        }
        .parse()
        .expect_err("refused")
        .0;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["weekdays", "start", "end", "time_zone", "reason"]);
        let backwards = FreezeInput {
            kind: "once".into(),
            from: Some("2026-12-27 00:00".into()),
            to: Some("2026-12-24 00:00".into()),
            reason: "holidays".into(),
            ..FreezeInput::default()
        }
        .parse()
        .expect_err("refused")
        .0;
        assert_eq!(backwards[0].field, "to");
        assert!(backwards[0].message.contains("ends before it starts"));
    }
}
