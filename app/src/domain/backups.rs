//! Backups as plain data: what a backup's name and manifest say, and which backups the
//! retention policy keeps. The guide's policy (daily backups kept 30 days, weekly 12 weeks,
//! monthly 12 months) is the default; keeping is a pure function of the dates, so it is tested
//! over years of simulated days without a clock or a disk.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{
    DateTime, Datelike, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How many daily, weekly and monthly backups to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Retention {
    /// The deployment guide's policy (Backup Strategy): 30 days, 12 weeks, 12 months.
    pub const GUIDE: Self = Self {
        daily: 30,
        weekly: 12,
        monthly: 12,
    };

    /// Which of the backups `taken` (local times, in any order) to keep on `today`: the newest
    /// of each of the last `daily` days, of each of the last `weekly` ISO weeks and of each of
    /// the last `monthly` months (each counting the one `today` is in), the newest up to
    /// `today` whatever its age, and any dated after `today` (a clock that was wrong is no reason to
    /// delete). Returns indices into `taken`. A week's or a month's newest backup no longer
    /// changes once it is over, so what is kept stays kept until it ages out.
    pub fn kept(&self, taken: &[NaiveDateTime], today: NaiveDate) -> BTreeSet<usize> {
        let first_day = today - chrono::Days::new(u64::from(self.daily.saturating_sub(1)));
        let this_monday = today.week(chrono::Weekday::Mon).first_day();
        let first_monday =
            this_monday - chrono::Days::new(7 * u64::from(self.weekly.saturating_sub(1)));
        let this_month = today.with_day(1).unwrap_or(today);
        let first_month = this_month
            .checked_sub_months(Months::new(self.monthly.saturating_sub(1)))
            .unwrap_or(NaiveDate::MIN);

        // Per period, the newest backup in it: (kind, period start) → index.
        let mut newest: BTreeMap<(u8, NaiveDate), usize> = BTreeMap::new();
        let mut keep = BTreeSet::new();
        for (index, at) in taken.iter().enumerate() {
            let day = at.date();
            if day > today {
                keep.insert(index);
                continue;
            }
            let monday = day.week(chrono::Weekday::Mon).first_day();
            let month = day.with_day(1).unwrap_or(day);
            let periods = [
                (self.daily > 0 && day >= first_day).then_some((0, day)),
                (self.weekly > 0 && monday >= first_monday).then_some((1, monday)),
                (self.monthly > 0 && month >= first_month).then_some((2, month)),
            ];
            for period in periods.into_iter().flatten() {
                let slot = newest.entry(period).or_insert(index);
                if taken[*slot] < *at {
                    *slot = index;
                }
            }
        }
        keep.extend(newest.into_values());
        let latest = (0..taken.len())
            .filter(|&i| taken[i].date() <= today)
            .max_by_key(|&i| taken[i]);
        keep.extend(latest);
        keep
    }
}

/// When scheduled backups run: every day at a wall-clock time in a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub at: NaiveTime,
    pub zone: Tz,
}

impl Default for Schedule {
    /// 02:30 UTC, the guide's "0 2 * * *" give or take the half hour that keeps it clear of
    /// whatever else runs on the hour.
    fn default() -> Self {
        Self {
            at: NaiveTime::from_hms_opt(2, 30, 0).unwrap_or(NaiveTime::MIN),
            zone: Tz::UTC,
        }
    }
}

impl Schedule {
    /// `HH:MM` (or `HH:MM:SS`), 24-hour.
    pub fn parse_at(text: &str) -> Result<NaiveTime, String> {
        let text = text.trim();
        NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
            .map_err(|_| format!("\"{text}\" is not a time of day; use HH:MM, e.g. 02:30"))
    }

    /// An IANA time zone name such as `Europe/Berlin`, or `UTC`.
    pub fn parse_zone(text: &str) -> Result<Tz, String> {
        text.trim().parse::<Tz>().map_err(|_| {
            format!("\"{text}\" is not a time zone; use an IANA name such as Europe/Berlin, or UTC")
        })
    }

    /// The first run strictly after `now`. On the day clocks spring forward past `at`, the
    /// run is at the first minute that exists after it; on the day they fall back through it,
    /// at its first occurrence.
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.with_timezone(&self.zone).date_naive();
        (0..=2)
            .filter_map(|days| today.checked_add_days(chrono::Days::new(days)))
            .filter_map(|day| self.instant_on(day))
            .find(|run| *run > now)
            .unwrap_or(now + chrono::Duration::days(1))
    }

    /// The day `instant` falls on here: backups are kept by local days.
    pub fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.zone).naive_local()
    }

    fn instant_on(&self, day: NaiveDate) -> Option<DateTime<Utc>> {
        let mut local = day.and_time(self.at);
        // A gap is at most a few hours long; step over it a minute at a time.
        for _ in 0..24 * 60 {
            match self.zone.from_local_datetime(&local) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                    return Some(at.with_timezone(&Utc))
                }
                LocalResult::None => local += chrono::Duration::minutes(1),
            }
        }
        None
    }
}

/// How old the newest backup may be before it counts as stale: a daily backup, plus two hours
/// for one that runs long or late.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(26 * 3600);

/// What a backup folder says about the newest backup in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    /// Within [`STALE_AFTER`].
    Ok,
    /// Older than that: the scheduled backups are failing, or stopped.
    Stale,
    /// No backup at all.
    Missing,
}

impl Freshness {
    pub fn of(newest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match newest {
            None => Self::Missing,
            Some(at) if (now - at).to_std().unwrap_or_default() > STALE_AFTER => Self::Stale,
            Some(_) => Self::Ok,
        }
    }
}

/// The Admin page's line about backups, in words: whether they run, how old the newest is,
/// when the next comes. `dir` is shown so an admin knows where to look.
pub fn describe(
    dir: &str,
    schedule: &Schedule,
    newest: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    let next = schedule.next_after(now).with_timezone(&schedule.zone);
    let next = format!("{} {}", next.format("%Y-%m-%d %H:%M"), schedule.zone.name());
    let Some(newest) = newest else {
        return format!("No backup in {dir} yet; the first one runs at {next}.");
    };
    let age = crate::domain::time::describe_age(
        crate::domain::Timestamp(newest.timestamp_millis()),
        crate::domain::Timestamp(now.timestamp_millis()),
    );
    let taken = newest.format("%Y-%m-%d %H:%M UTC");
    match Freshness::of(Some(newest), now) {
        Freshness::Stale => format!(
            "The newest backup in {dir} is stale: taken {age} ({taken}). Look for \"the scheduled backup failed\" in the server log; the next one runs at {next}."
        ),
        _ => format!("The newest backup in {dir} was taken {age} ({taken}); the next one runs at {next}."),
    }
}

/// What a backup holds, written beside it as JSON: enough to check it and to refuse restoring
/// it where it does not belong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The data file's name, beside the manifest.
    pub file: String,
    /// When the snapshot was taken, UTC, RFC 3339.
    pub taken_at: String,
    /// `sqlite` or `postgres`: a backup restores into the engine it came from.
    pub engine: String,
    /// The newest migration the database had: a newer Switchyard's backup is refused.
    pub migration: i64,
    /// The Switchyard version that took it.
    pub switchyard: String,
    /// Rows per table in the snapshot (not counting the migration history).
    pub tables: BTreeMap<String, i64>,
    /// SHA-256 of the data file, lowercase hex.
    pub sha256: String,
    /// The data file's size in bytes.
    pub bytes: u64,
}

/// The name every backup starts with; the UTC time it was taken follows.
pub const PREFIX: &str = "switchyard-";
/// The time in a backup's name: sortable, and free of `:` for every file system.
const NAME_TIME: &str = "%Y%m%dT%H%M%SZ";

/// The name stem of a backup taken at `at` (UTC): `switchyard-20261206T023000Z`.
pub fn stem(at: NaiveDateTime) -> String {
    format!("{PREFIX}{}", at.format(NAME_TIME))
}

/// When the backup named `name` (a data file or its manifest) was taken, UTC; `None` for a
/// file that is not a backup, which retention then never touches.
pub fn taken_at(name: &str) -> Option<NaiveDateTime> {
    // Written out, the time is 16 characters: 20261206T023000Z.
    let time = name.strip_prefix(PREFIX)?.get(..16)?;
    NaiveDateTime::parse_from_str(time, NAME_TIME).ok()
}

/// The first line of a `switchyard export` file: what follows it, one
/// `{"table": …, "row": {…}}` line per row, tables in [`load_order`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHeader {
    /// Always [`ExportHeader::FORMAT`]: a file that does not start with it is not an export.
    pub format: String,
    /// The engine it was exported from (`sqlite` or `postgres`); it imports into either.
    pub engine: String,
    /// The schema it was exported at; it imports only into the same schema.
    pub migration: i64,
    /// The Switchyard version that wrote it.
    pub switchyard: String,
    /// When the consistent read began, UTC, RFC 3339.
    pub taken_at: String,
    /// Rows per table, in that read.
    pub tables: BTreeMap<String, i64>,
}

impl ExportHeader {
    pub const FORMAT: &'static str = "switchyard-export/1";
}

/// A foreign key: `table`'s `columns` refer to rows of `referenced`. `nullable` when every
/// one of the columns may be NULL, so a row can be loaded without it and have it set later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub table: String,
    pub referenced: String,
    pub columns: Vec<String>,
    pub nullable: bool,
}

/// How to load a schema's tables so that every foreign key points at a row already there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// Each table after the tables it needs, otherwise by name.
    pub order: Vec<String>,
    /// Columns loaded as NULL and set once every table is loaded: the nullable references
    /// that close a cycle (an environment's current deployment, which refers back to it).
    pub deferred: BTreeMap<String, BTreeSet<String>>,
}

/// Plans the load: tables in dependency order; where references form a cycle, the nullable
/// ones among them are deferred. A table referring to itself is left to the row order. `Err`
/// names the tables of a cycle of NOT NULL references, which no order can load.
pub fn load_plan(
    tables: &BTreeSet<String>,
    references: &[Reference],
) -> Result<LoadPlan, Vec<String>> {
    // What each table still waits for: the referenced table, and whether that wait may be
    // deferred.
    let mut waiting: BTreeMap<&str, Vec<&Reference>> = tables
        .iter()
        .map(|table| (table.as_str(), Vec::new()))
        .collect();
    for reference in references {
        if reference.table != reference.referenced && tables.contains(&reference.referenced) {
            if let Some(needs) = waiting.get_mut(reference.table.as_str()) {
                needs.push(reference);
            }
        }
    }
    let mut plan = LoadPlan {
        order: Vec::with_capacity(tables.len()),
        deferred: BTreeMap::new(),
    };
    while !waiting.is_empty() {
        let ready: Vec<&str> = waiting
            .iter()
            .filter(|(_, needs)| needs.is_empty())
            .map(|(table, _)| *table)
            .collect();
        if ready.is_empty() {
            // A cycle. The first table (by name) with references that can wait loads without
            // them, and they are set afterwards; one table at a time, so no more is deferred
            // than the cycle needs.
            let Some(needs) = waiting
                .values_mut()
                .find(|needs| needs.iter().any(|reference| reference.nullable))
            else {
                return Err(waiting.keys().map(|t| (*t).to_owned()).collect());
            };
            for reference in needs.iter().filter(|reference| reference.nullable) {
                let columns = plan.deferred.entry(reference.table.clone()).or_default();
                columns.extend(reference.columns.iter().cloned());
            }
            needs.retain(|reference| !reference.nullable);
            continue;
        }
        for table in ready {
            waiting.remove(table);
            for needs in waiting.values_mut() {
                needs.retain(|reference| reference.referenced != table);
            }
            plan.order.push(table.to_owned());
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    /// `(table, referenced, column, nullable)` rows as references.
    fn refs(list: &[(&str, &str, &str, bool)]) -> Vec<Reference> {
        list.iter()
            .map(|(table, referenced, column, nullable)| Reference {
                table: (*table).to_owned(),
                referenced: (*referenced).to_owned(),
                columns: vec![(*column).to_owned()],
                nullable: *nullable,
            })
            .collect()
    }

    #[test]
    fn tables_load_after_the_tables_they_reference() {
        let tables = names(&[
            "deployments",
            "environments",
            "incident_links",
            "incidents",
            "services",
            "users",
        ]);
        let plan = load_plan(
            &tables,
            &refs(&[
                ("environments", "services", "service_id", false),
                ("deployments", "environments", "environment_id", false),
                ("deployments", "services", "service_id", false),
                ("incident_links", "incidents", "incident_id", false),
                ("incident_links", "deployments", "deployment_id", false),
                ("incidents", "services", "service_id", false),
                // A nullable reference without a cycle is kept in order, not deferred.
                ("incidents", "environments", "environment_id", true),
                // Self-references and tables outside the set change nothing.
                ("incidents", "incidents", "duplicate_of", true),
                ("users", "_elsewhere", "x", false),
            ]),
        )
        .expect("no cycle");
        let at = |t: &str| plan.order.iter().position(|o| o == t).expect(t);
        assert_eq!(plan.order.len(), tables.len());
        assert!(at("services") < at("environments") && at("environments") < at("deployments"));
        assert!(at("deployments") < at("incident_links") && at("incidents") < at("incident_links"));
        // Ties go by name: the order is the same on every run and engine.
        assert_eq!(
            plan.order,
            [
                "services",
                "users",
                "environments",
                "deployments",
                "incidents",
                "incident_links"
            ]
        );
        assert!(plan.deferred.is_empty());
    }

    #[test]
    fn a_cycle_through_nullable_references_defers_them() {
        // Switchyard's own: an environment and its slots name their current deployment,
        // which belongs to the environment.
        let tables = names(&["deployments", "environments", "services", "slots"]);
        let plan = load_plan(
            &tables,
            &refs(&[
                ("environments", "services", "service_id", false),
                ("environments", "deployments", "current_deployment_id", true),
                ("deployments", "environments", "environment_id", false),
                ("slots", "environments", "environment_id", false),
                ("slots", "deployments", "deployment_id", true),
            ]),
        )
        .expect("loadable");
        assert_eq!(
            plan.order,
            ["services", "environments", "deployments", "slots"]
        );
        // Only what breaks the cycle waits: the slots load after the deployments anyway.
        let deferred: Vec<(&str, Vec<&str>)> = plan
            .deferred
            .iter()
            .map(|(t, c)| (t.as_str(), c.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(deferred, [("environments", vec!["current_deployment_id"])]);
    }

    #[test]
    fn a_cycle_of_required_references_is_named_not_looped_on() {
        let tables = names(&["a", "b", "c", "free"]);
        let cycle = load_plan(
            &tables,
            &refs(&[
                ("a", "b", "b_id", false),
                ("b", "a", "a_id", false),
                ("c", "a", "a_id", true),
                ("a", "c", "c_id", false),
            ]),
        );
        // c's nullable reference is deferred first; a and b still need each other.
        assert_eq!(cycle, Err(vec!["a".to_owned(), "b".to_owned()]));
        let empty = load_plan(&BTreeSet::new(), &[]).expect("nothing to load");
        assert!(empty.order.is_empty() && empty.deferred.is_empty());
    }

    fn at(date: NaiveDate, hour: u32) -> NaiveDateTime {
        date.and_hms_opt(hour, 30, 0).expect("time")
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    /// Simulates a daily backup at 02:30 from `start` for `days`, pruning after each one as
    /// the server does; returns the dates still kept at the end.
    fn simulate(start: NaiveDate, days: u64, skip: impl Fn(NaiveDate) -> bool) -> Vec<NaiveDate> {
        let mut kept: Vec<NaiveDateTime> = Vec::new();
        for n in 0..days {
            let today = start + chrono::Days::new(n);
            if !skip(today) {
                kept.push(at(today, 2));
            }
            let keep = Retention::GUIDE.kept(&kept, today);
            kept = keep.into_iter().map(|i| kept[i]).collect();
        }
        kept.iter().map(NaiveDateTime::date).collect()
    }

    #[test]
    fn two_years_of_daily_backups_keep_30_days_12_weeks_12_months() {
        let start = day(2025, 1, 1);
        let kept = simulate(start, 730, |_| false);
        let today = start + chrono::Days::new(729);
        assert_eq!(today, day(2026, 12, 31));
        // The last 30 days, every one.
        let last_30: Vec<NaiveDate> = (0..30).map(|n| today - chrono::Days::new(29 - n)).collect();
        assert!(last_30.iter().all(|d| kept.contains(d)), "{kept:?}");
        // Before them: only Sundays (a week's newest) or month ends (a month's newest).
        for d in kept.iter().filter(|d| **d < last_30[0]) {
            let sunday = d.weekday() == chrono::Weekday::Sun;
            let month_end = d.succ_opt().is_some_and(|next| next.day() == 1);
            assert!(
                sunday || month_end,
                "{d} is neither a week's nor a month's newest"
            );
        }
        // 12 weeks: the newest of each of the last 12 ISO weeks is there.
        for w in 0..12 {
            let monday = today.week(chrono::Weekday::Mon).first_day() - chrono::Days::new(7 * w);
            let sunday = (monday + chrono::Days::new(6)).min(today);
            assert!(kept.contains(&sunday), "week of {monday}");
        }
        // 12 months: the last day of each of the last 12 months, nothing older.
        for m in 0..12 {
            let first = day(2026, 12 - m, 1);
            let last = first
                .checked_add_months(Months::new(1))
                .and_then(|next| next.pred_opt())
                .expect("month end");
            assert!(kept.contains(&last), "month of {first}");
        }
        assert!(kept.iter().all(|d| *d >= day(2026, 1, 1)), "{kept:?}");
        // 30 days + the Sundays of the 12-week window before them + month ends before that.
        assert!(kept.len() <= 30 + 12 + 12, "{} kept", kept.len());
        let unique: BTreeSet<_> = kept.iter().collect();
        assert_eq!(unique.len(), kept.len());
    }

    #[test]
    fn gaps_keep_the_newest_backup_of_each_period() {
        // Backups only on the 10th of each month for two years: each month keeps its one.
        let kept = simulate(day(2025, 1, 1), 730, |d| d.day() != 10);
        let expected: Vec<NaiveDate> = (1..=12).map(|m| day(2026, m, 10)).collect();
        assert_eq!(kept, expected);
    }

    #[test]
    fn the_newest_backup_is_kept_however_old_and_future_ones_are_never_deleted() {
        let old = at(day(2020, 5, 5), 2);
        let future = at(day(2030, 1, 1), 2);
        let today = day(2026, 12, 6);
        assert_eq!(Retention::GUIDE.kept(&[old], today), BTreeSet::from([0]));
        let older = at(day(2019, 1, 1), 2);
        assert_eq!(
            Retention::GUIDE.kept(&[older, future, old], today),
            BTreeSet::from([1, 2]),
            "the future one, and the newest before today"
        );
        assert!(Retention::GUIDE.kept(&[], today).is_empty());
    }

    #[test]
    fn several_backups_a_day_keep_the_days_newest() {
        let today = day(2026, 12, 6);
        let taken = [
            at(today, 2),
            at(today, 14),
            at(today, 9),
            at(today - chrono::Days::new(1), 23),
        ];
        assert_eq!(Retention::GUIDE.kept(&taken, today), BTreeSet::from([1, 3]));
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_schedule_runs_daily_at_its_local_time_across_clock_changes() {
        let berlin = Schedule {
            at: Schedule::parse_at("02:30").expect("time"),
            zone: Schedule::parse_zone("Europe/Berlin").expect("zone"),
        };
        // Winter: UTC+1.
        assert_eq!(
            berlin.next_after(utc("2026-12-06T00:00:00Z")),
            utc("2026-12-06T01:30:00Z")
        );
        assert_eq!(
            berlin.next_after(utc("2026-12-06T01:30:00Z")),
            utc("2026-12-07T01:30:00Z")
        );
        // 29 March 2026: 02:00 becomes 03:00, so 02:30 does not exist; it runs at 03:00 CEST.
        assert_eq!(
            berlin.next_after(utc("2026-03-28T12:00:00Z")),
            utc("2026-03-29T01:00:00Z")
        );
        // 25 October 2026: 02:30 happens twice; the first one (CEST, UTC+2) counts, once.
        assert_eq!(
            berlin.next_after(utc("2026-10-24T12:00:00Z")),
            utc("2026-10-25T00:30:00Z")
        );
        assert_eq!(
            berlin.next_after(utc("2026-10-25T00:30:00Z")),
            utc("2026-10-26T01:30:00Z")
        );
        assert_eq!(
            Schedule::default().next_after(utc("2026-12-06T02:30:00Z")),
            utc("2026-12-07T02:30:00Z")
        );
        assert_eq!(
            Schedule::parse_at("7:05:09").map(|t| t.to_string()),
            Ok("07:05:09".to_owned())
        );
        assert!(Schedule::parse_at("25:00")
            .unwrap_err()
            .contains("use HH:MM"));
        assert!(Schedule::parse_zone("Mars/Olympus")
            .unwrap_err()
            .contains("IANA"));
    }

    #[test]
    fn the_admin_reads_how_backups_stand() {
        let schedule = Schedule {
            at: Schedule::parse_at("02:30").expect("time"),
            zone: Schedule::parse_zone("Europe/Berlin").expect("zone"),
        };
        let now = utc("2026-12-06T12:00:00Z");
        assert_eq!(
            describe("/var/backups", &schedule, None, now),
            "No backup in /var/backups yet; the first one runs at 2026-12-07 02:30 Europe/Berlin."
        );
        assert_eq!(
            describe("/var/backups", &schedule, Some(utc("2026-12-06T01:30:00Z")), now),
            "The newest backup in /var/backups was taken 10 h ago (2026-12-06 01:30 UTC); the next one runs at 2026-12-07 02:30 Europe/Berlin."
        );
        assert!(describe("/b", &schedule, Some(utc("2026-12-04T01:30:00Z")), now)
            .starts_with("The newest backup in /b is stale: taken 2 days ago (2026-12-04 01:30 UTC). Look for"));
    }

    #[test]
    fn a_backup_older_than_26_hours_is_stale() {
        let now = utc("2026-12-06T12:00:00Z");
        assert_eq!(Freshness::of(None, now), Freshness::Missing);
        assert_eq!(
            Freshness::of(Some(utc("2026-12-05T10:00:00Z")), now),
            Freshness::Ok
        );
        assert_eq!(
            Freshness::of(Some(utc("2026-12-05T09:59:59Z")), now),
            Freshness::Stale
        );
    }

    #[test]
    fn a_backup_name_carries_its_time() {
        let taken = at(day(2026, 12, 6), 2);
        let name = format!("{}.sqlite.gz", stem(taken));
        assert_eq!(name, "switchyard-20261206T023000Z.sqlite.gz");
        assert_eq!(taken_at(&name), Some(taken));
        assert_eq!(taken_at("switchyard-20261206T023000Z.json"), Some(taken));
        assert_eq!(taken_at("notes.txt"), None);
        assert_eq!(taken_at("switchyard-2026.sqlite.gz"), None);
        assert_eq!(taken_at("switchyard-20261306T023000Z.json"), None);
    }
}
