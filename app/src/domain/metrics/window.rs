//! The window a figure is computed over, `[from, to)`, and the buckets a trend splits it into.

use serde::{Deserialize, Serialize};

use super::super::{FieldError, FieldErrors, Timestamp};

pub const DAY_MS: i64 = 86_400_000;
/// PRODUCT.md: a week is 7 days, a month 30.
pub const WEEK_MS: i64 = 7 * DAY_MS;
pub const MONTH_MS: i64 = 30 * DAY_MS;
/// The longest window asked for: five years of 365 days and a leap day.
pub const MAX_WINDOW_MS: i64 = (5 * 365 + 1) * DAY_MS;
/// Without `from` or `to`: the last 30 days.
pub const DEFAULT_WINDOW_MS: i64 = 30 * DAY_MS;

/// `[from, to)`, both UTC instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Window {
    /// Reads the optional `from` and `to` (RFC 3339, or a UTC day; `to` as a day means "up to
    /// and including"): either missing takes 30 days from the other, both missing the 30 days
    /// up to `now`. A window that ends before it starts or is longer than five years is refused.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, FieldErrors> {
        let parse = |field: &str, text: Option<&str>, whole_day: bool| {
            text.filter(|t| !t.trim().is_empty())
                .map(|t| Timestamp::parse_day_or_time(field, t, whole_day))
                .transpose()
        };
        let (from, to) = match (parse("from", from, false), parse("to", to, true)) {
            (Ok(from), Ok(to)) => (from, to),
            (from, to) => {
                let errors = [from.err(), to.err()].into_iter().flatten().collect();
                return Err(FieldErrors(errors));
            }
        };
        let window = match (from, to) {
            (Some(from), Some(to)) => Self { from, to },
            (Some(from), None) => Self {
                from,
                to: Timestamp(from.0.saturating_add(DEFAULT_WINDOW_MS)),
            },
            (None, Some(to)) => Self {
                from: Timestamp(to.0.saturating_sub(DEFAULT_WINDOW_MS)),
                to,
            },
            (None, None) => Self::last(DEFAULT_WINDOW_MS, now),
        };
        window.check()?;
        Ok(window)
    }

    /// A named window as the Metrics page offers them: the last 7, 30, 90 or 365 days, this
    /// calendar quarter so far, or the last whole one (UTC).
    pub fn preset(name: &str, now: Timestamp) -> Result<Self, FieldError> {
        let days = |n: i64| Ok(Self::last(n * DAY_MS, now));
        match name.trim() {
            "7d" => days(7),
            "30d" => days(30),
            "90d" => days(90),
            "365d" => days(365),
            "quarter" => {
                let start = quarter_start(now, 0);
                Ok(Self { from: start, to: now.max(Timestamp(start.0 + 1)) })
            }
            "last-quarter" => Ok(Self {
                from: quarter_start(now, -1),
                to: quarter_start(now, 0),
            }),
            other => Err(FieldError::new(
                "range",
                format!("\"{other}\" is not a window; choose 7d, 30d, 90d, 365d, quarter or last-quarter, or give from and to."),
            )),
        }
    }

    /// The `length` milliseconds up to `now`.
    pub fn last(length: i64, now: Timestamp) -> Self {
        Self {
            from: Timestamp(now.0.saturating_sub(length)),
            to: now,
        }
    }

    pub(super) fn check(self) -> Result<(), FieldError> {
        if self.to <= self.from {
            return Err(FieldError::new(
                "to",
                format!(
                    "The window ends ({}) before it starts ({}); choose a later \"to\".",
                    self.to, self.from
                ),
            ));
        }
        if self.length() > MAX_WINDOW_MS {
            return Err(FieldError::new(
                "to",
                "The window is longer than 5 years; choose a shorter one.",
            ));
        }
        Ok(())
    }

    pub fn length(self) -> i64 {
        self.to.0 - self.from.0
    }

    /// The "days in window" of PRODUCT.md, fractions included.
    pub fn days(self) -> f64 {
        self.length() as f64 / DAY_MS as f64
    }

    pub fn contains(self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }

    /// The window of the same length just before this one, for comparison.
    pub fn previous(self) -> Self {
        Self {
            from: Timestamp(self.from.0 - self.length()),
            to: self.from,
        }
    }

    /// Consecutive buckets from `from`; the last one ends at `to` and may be shorter.
    pub fn buckets(self, bucket: Bucket) -> Vec<Window> {
        let step = bucket.millis();
        let mut buckets = Vec::new();
        let mut from = self.from.0;
        while from < self.to.0 {
            let to = from.saturating_add(step).min(self.to.0);
            buckets.push(Window {
                from: Timestamp(from),
                to: Timestamp(to),
            });
            from = to;
        }
        buckets
    }

    /// Which of [`Window::buckets`] holds `at`, if the window does.
    pub fn bucket_of(self, bucket: Bucket, at: Timestamp) -> Option<usize> {
        self.contains(at)
            .then(|| usize::try_from((at.0 - self.from.0) / bucket.millis()).unwrap_or(0))
    }
}

/// The first moment (UTC) of the calendar quarter `offset` quarters from the one holding `now`.
fn quarter_start(now: Timestamp, offset: i32) -> Timestamp {
    use chrono::{Datelike, NaiveDate};
    let today = chrono::DateTime::from_timestamp_millis(now.0)
        .unwrap_or_default()
        .date_naive();
    let quarter = today.year() * 4 + (today.month0() as i32) / 3 + offset;
    NaiveDate::from_ymd_opt(
        quarter.div_euclid(4),
        (quarter.rem_euclid(4) * 3 + 1) as u32,
        1,
    )
    .and_then(|day| day.and_hms_opt(0, 0, 0))
    .map_or(now, |start| Timestamp(start.and_utc().timestamp_millis()))
}

crate::word_enum! {
    /// How a trend splits its window.
    Bucket, "bucket" {
        Week = "week",
        Month = "month",
    }
}

impl Bucket {
    pub fn millis(self) -> i64 {
        match self {
            Bucket::Week => WEEK_MS,
            Bucket::Month => MONTH_MS,
        }
    }

    /// Weeks for windows up to half a year, months beyond: enough points for a trend, few
    /// enough to read.
    pub fn for_window(window: Window) -> Self {
        if window.length() <= 26 * WEEK_MS {
            Bucket::Week
        } else {
            Bucket::Month
        }
    }
}
