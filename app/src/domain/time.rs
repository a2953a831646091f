//! Points in time as whole milliseconds since the Unix epoch, UTC: the one representation
//! both database engines store (`BIGINT`), compare and order the same way. On the wire
//! (JSON, forms) they are RFC 3339 text in UTC.

use std::{fmt, time::Duration};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::FieldError;

/// A duration with a unit, as the configuration writes them: `200ms`, `90s`, `30m`, `8h`,
/// `7d`; zero only where `zero_ok`.
pub fn parse_duration(text: &str, zero_ok: bool) -> Result<Duration, String> {
    let text = text.trim();
    let invalid = || format!("{text:?} is not a duration such as 200ms, 30s, 8h or 7d");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let millis: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(invalid()),
    };
    let duration = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis))
        .map(Duration::from_millis)
        .ok_or_else(invalid)?;
    if duration.is_zero() && !zero_ok {
        return Err(format!("{text:?}: use a duration above zero"));
    }
    Ok(duration)
}

/// A moment, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(value_type = String, format = DateTime, example = "2026-11-27T10:45:00.000Z"))]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Reads RFC 3339 (`2026-11-27T10:45:00Z`, any offset), or a date and time without an
    /// offset, which is taken as UTC: `2026-11-27 10:45` as forms ask for it, or with a `T`
    /// as a browser's `datetime-local` field sends it; seconds are optional.
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        parse_time(text).map(Self).ok_or_else(|| {
            FieldError::new(
                field,
                format!("\"{text}\" is not a time; use YYYY-MM-DD HH:MM in UTC, such as 2026-11-27 10:45, or RFC 3339."),
            )
        })
    }

    /// Reads a UTC day (`2026-11-27`) as its first moment, or the first moment of the next day
    /// when `whole_day` (an "up to and including" bound); or any time [`Timestamp::parse`]
    /// reads.
    pub fn parse_day_or_time(field: &str, text: &str, whole_day: bool) -> Result<Self, FieldError> {
        let text = text.trim();
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|day| (1..=9999).contains(&day.year()))
            .and_then(|day| if whole_day { day.succ_opt() } else { Some(day) })
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|start| start.and_utc().timestamp_millis());
        day.or_else(|| parse_time(text)).map(Self).ok_or_else(|| {
            FieldError::new(
                field,
                format!("\"{text}\" is not a day or time; use YYYY-MM-DD (a UTC day) or YYYY-MM-DD HH:MM in UTC."),
            )
        })
    }

    /// RFC 3339 in UTC with milliseconds: `2026-11-27T10:45:00.000Z`.
    pub fn to_rfc3339(self) -> Option<String> {
        DateTime::from_timestamp_millis(self.0)
            .map(|moment| moment.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

/// Milliseconds of an RFC 3339 time, or of a date and time without an offset read as UTC.
fn parse_time(text: &str) -> Option<i64> {
    const LOCAL_FORMATS: [&str; 6] = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ];
    DateTime::parse_from_rfc3339(text)
        .map(|moment| moment.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            LOCAL_FORMATS
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
                .map(|naive| naive.and_utc())
        })
        // RFC 3339's years only: chrono's %Y also reads `-1` or `12345`, which the answer
        // would then write in a form no client (nor this parser) reads back. Found by fuzzing.
        .filter(|moment| (1..=9999).contains(&moment.year()))
        .map(|moment| moment.timestamp_millis())
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.to_rfc3339() {
            Some(text) => serializer.serialize_str(&text),
            None => Err(serde::ser::Error::custom("time out of range")),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse("time", &text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl Timestamp {
    /// The current time (server side: the browser's clock is not trusted with records).
    #[cfg(feature = "ssr")]
    pub fn now() -> Self {
        Self(chrono::Utc::now().timestamp_millis())
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// This moment moved forward by `duration`, saturating rather than overflowing.
    pub fn plus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// This moment moved back by `duration`.
    pub fn minus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(millis))
    }

    /// How long from `earlier` to this moment; zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

impl fmt::Display for Timestamp {
    /// `2026-11-27 10:45 UTC`: one unambiguous form for tables, logs and print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match chrono::DateTime::from_timestamp_millis(self.0) {
            Some(moment) => write!(f, "{}", moment.format("%Y-%m-%d %H:%M UTC")),
            None => write!(f, "{} ms", self.0),
        }
    }
}

/// How long ago `then` was, seen at `now`, in rough words: "just now", "5 min ago",
/// "3 h ago", "2 days ago".
pub fn describe_age(then: Timestamp, now: Timestamp) -> String {
    let seconds = now.since(then).as_secs();
    match seconds {
        0..=59 => "just now".to_owned(),
        60..=3_599 => format!("{} min ago", seconds / 60),
        3_600..=86_399 => format!("{} h ago", seconds / 3_600),
        _ => {
            let days = seconds / 86_400;
            format!("{days} day{} ago", if days == 1 { "" } else { "s" })
        }
    }
}

/// A duration in short words: "45 s", "7 min 30 s", "2 h 5 min".
pub fn describe_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3_599 if seconds.is_multiple_of(60) => format!("{} min", seconds / 60),
        60..=3_599 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ if seconds.is_multiple_of(3_600) => format!("{} h", seconds / 3_600),
        _ => format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60),
    }
}

/// A wait in words: "45 seconds", "1 minute", "14 minutes", rounding up so nobody retries
/// too early.
pub fn describe_wait(wait: Duration) -> String {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if seconds < 60 {
        let seconds = seconds.max(1);
        return format!("{seconds} second{}", if seconds == 1 { "" } else { "s" });
    }
    let minutes = seconds.div_ceil(60);
    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_outside_rfc_3339_years_are_refused() {
        for text in [
            "-1-2-27 5:3",
            "-0001-02-27T05:03:00Z",
            "12345-01-01 00:00",
            "-5-01-01",
        ] {
            assert!(Timestamp::parse("at", text).is_err(), "{text}");
            assert!(
                Timestamp::parse_day_or_time("from", text, true).is_err(),
                "{text}"
            );
        }
        let first = Timestamp::parse("at", "0001-01-01 00:00").expect("year 1");
        let written = first.to_rfc3339().expect("writable");
        assert_eq!(Timestamp::parse("at", &written), Ok(first));
    }

    #[test]
    fn durations_need_a_unit_and_zero_only_where_allowed() {
        assert_eq!(
            parse_duration(" 200ms ", false),
            Ok(Duration::from_millis(200))
        );
        assert_eq!(
            parse_duration("7d", false),
            Ok(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(parse_duration("0s", true), Ok(Duration::ZERO));
        for text in [
            "0s",
            "30",
            "s",
            "1.5s",
            "-1s",
            "18446744073709551615d",
            "5 weeks",
        ] {
            assert!(parse_duration(text, false).is_err(), "{text}");
        }
    }

    #[test]
    fn timestamps_display_in_utc_minutes() {
        assert_eq!(
            Timestamp(1_795_776_300_000).to_string(),
            "2026-11-27 10:45 UTC"
        );
    }

    #[test]
    fn wire_form_is_rfc3339_in_utc() {
        let t = Timestamp(1_795_776_300_123);
        assert_eq!(t.to_rfc3339().unwrap(), "2026-11-27T10:45:00.123Z");
        assert_eq!(Timestamp::parse("t", "2026-11-27T10:45:00.123Z"), Ok(t));
        assert_eq!(
            Timestamp::parse("t", "2026-11-27T11:45:00.123+01:00"),
            Ok(t)
        );
        assert_eq!(
            Timestamp::parse("t", "2026-11-27T10:45"),
            Ok(Timestamp(1_795_776_300_000))
        );
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-27T10:45:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        let error = Timestamp::parse("started_at", "yesterday").unwrap_err();
        assert_eq!(error.field, "started_at");
        assert!(error.message.contains("RFC 3339"));
    }

    #[test]
    fn arithmetic_saturates_and_never_goes_negative() {
        let t = Timestamp(10_000);
        assert_eq!(t.plus(Duration::from_secs(5)), Timestamp(15_000));
        assert_eq!(t.minus(Duration::from_secs(5)), Timestamp(5_000));
        assert_eq!(t.since(Timestamp(4_000)), Duration::from_secs(6));
        assert_eq!(Timestamp(4_000).since(t), Duration::ZERO);
        assert_eq!(Timestamp(i64::MAX).plus(Duration::MAX), Timestamp(i64::MAX));
    }

    #[test]
    fn ages_and_durations_read_briefly() {
        let now = Timestamp(10_000_000_000);
        assert_eq!(describe_age(Timestamp(now.0 - 30_000), now), "just now");
        assert_eq!(
            describe_age(Timestamp(now.0 - 5 * 60_000), now),
            "5 min ago"
        );
        assert_eq!(
            describe_age(Timestamp(now.0 - 3 * 3_600_000), now),
            "3 h ago"
        );
        assert_eq!(
            describe_age(Timestamp(now.0 - 86_400_000), now),
            "1 day ago"
        );
        assert_eq!(describe_duration(Duration::from_secs(45)), "45 s");
        assert_eq!(describe_duration(Duration::from_secs(450)), "7 min 30 s");
        assert_eq!(describe_duration(Duration::from_secs(420)), "7 min");
        assert_eq!(describe_duration(Duration::from_secs(7_500)), "2 h 5 min");
    }

    #[test]
    fn waits_round_up() {
        assert_eq!(describe_wait(Duration::from_millis(200)), "1 second");
        assert_eq!(describe_wait(Duration::from_secs(45)), "45 seconds");
        assert_eq!(describe_wait(Duration::from_secs(60)), "1 minute");
        assert_eq!(describe_wait(Duration::from_secs(61)), "2 minutes");
        assert_eq!(
            describe_wait(Duration::from_secs(14 * 60 + 59)),
            "15 minutes"
        );
    }
}
