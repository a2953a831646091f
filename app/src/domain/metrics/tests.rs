//! Every formula of PRODUCT.md on hand-built histories, edge cases included.

use super::{
    stats::{median, p90},
    window::{Bucket, Window, DAY_MS, MAX_WINDOW_MS, WEEK_MS},
    DeploymentFact, Figures, IncidentFact, Level, Tally,
};
use crate::domain::{deployments::DeploymentStatus, Timestamp};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// 2026-01-01T00:00:00Z
const T0: i64 = 1_767_225_600_000;

fn at(ms: i64) -> Timestamp {
    Timestamp(T0 + ms)
}

fn window(days: i64) -> Window {
    Window {
        from: at(0),
        to: at(days * DAY_MS),
    }
}

/// A deployment that started 5 minutes before `finished` (ms after T0).
fn deployment(status: DeploymentStatus, finished: i64) -> DeploymentFact {
    DeploymentFact {
        status,
        is_rollback: false,
        rolled_back: false,
        started_at: at(finished - 5 * MIN),
        finished_at: at(finished),
        commit_at: None,
        fixes_incident: false,
        cause_started: None,
        cause_resolved: None,
        next_success: None,
    }
}

fn succeeded(finished: i64) -> DeploymentFact {
    deployment(DeploymentStatus::Succeeded, finished)
}

fn failed(finished: i64) -> DeploymentFact {
    deployment(DeploymentStatus::Failed, finished)
}

fn figures(days: i64, deployments: &[DeploymentFact], incidents: &[IncidentFact]) -> Figures {
    let mut tally = Tally::default();
    deployments.iter().for_each(|d| tally.add_deployment(d));
    incidents.iter().for_each(|i| tally.add_incident(i));
    tally.figures(window(days))
}

#[test]
fn an_empty_window_is_no_data_never_zero() {
    let f = figures(30, &[], &[]);
    assert_eq!((f.attempted, f.succeeded, f.failed_changes), (0, 0, 0));
    assert_eq!(f.deployment_frequency_per_day, None);
    assert_eq!(f.deployment_frequency_per_week, None);
    assert_eq!(f.change_failure_rate, None);
    assert_eq!(f.lead_time_median_seconds, None);
    assert_eq!(f.lead_time_p90_seconds, None);
    assert_eq!(f.recovery_time_median_seconds, None);
    assert_eq!(f.mttr_mean_seconds, None);
    assert_eq!(f.rework_rate, None);
    assert_eq!(f.success_rate, None);
    assert_eq!(f.rollback_rate, None);
    assert_eq!(f.deployment_time_median_seconds, None);
    assert_eq!(f.rollback_recovery_median_seconds, None);
    assert_eq!(f.levels.deployment_frequency, None);
    assert_eq!(f.levels.change_failure_rate, None);
    assert_eq!(f.targets.success_rate, None);
    // And it serializes as null, not 0.
    let json = serde_json::to_value(&f).unwrap();
    assert!(json["change_failure_rate"].is_null());
    assert_eq!(json["attempted"], 0);
}

#[test]
fn only_cancelled_deployments_are_not_attempted() {
    let d = [
        deployment(DeploymentStatus::Cancelled, HOUR),
        deployment(DeploymentStatus::Cancelled, 2 * HOUR),
    ];
    let f = figures(30, &d, &[]);
    assert_eq!((f.attempted, f.cancelled), (0, 2));
    assert_eq!(f.change_failure_rate, None);
    assert_eq!(f.deployment_frequency_per_day, None);
    assert_eq!(f.deployment_time_median_seconds, None);
}

#[test]
fn only_failures_give_zero_frequency_and_full_failure_rate() {
    let d = [failed(HOUR), failed(2 * HOUR)];
    let f = figures(10, &d, &[]);
    assert_eq!(f.attempted, 2);
    assert_eq!(f.deployment_frequency_per_day, Some(0.0));
    assert_eq!(f.levels.deployment_frequency, Some(Level::Low));
    assert_eq!(f.change_failure_rate, Some(1.0));
    assert_eq!(f.success_rate, Some(0.0));
    assert_eq!(f.targets.success_rate, Some(false));
    // No success to divide by.
    assert_eq!(f.rollback_rate, None);
    // Neither is restored: counted, not averaged.
    assert_eq!((f.failed_changes, f.not_yet_restored), (2, 2));
    assert_eq!(f.recovery_time_median_seconds, None);
}

#[test]
fn frequency_divides_by_days_with_fractions() {
    let d: Vec<_> = (0..3).map(|i| succeeded(i * HOUR + HOUR)).collect();
    let mut tally = Tally::default();
    d.iter().for_each(|d| tally.add_deployment(d));
    // A window of 1.5 days.
    let f = tally.figures(Window {
        from: at(0),
        to: at(DAY_MS + DAY_MS / 2),
    });
    assert_eq!(f.deployment_frequency_per_day, Some(2.0));
    assert_eq!(f.deployment_frequency_per_week, Some(14.0));
}

#[test]
fn lead_time_only_from_succeeded_deployments_with_a_commit_time() {
    let with_commit = |finished: i64, lead: i64| DeploymentFact {
        commit_at: Some(at(finished - lead)),
        ..succeeded(finished)
    };
    let d = [
        with_commit(10 * HOUR, HOUR),
        with_commit(20 * HOUR, 3 * HOUR),
        succeeded(30 * HOUR),
        DeploymentFact {
            commit_at: Some(at(0)),
            ..failed(40 * HOUR)
        },
    ];
    let f = figures(30, &d, &[]);
    assert_eq!(f.with_commit_time, 2);
    // Even count: the mean of the middle two.
    assert_eq!(f.lead_time_median_seconds, Some(2.0 * 3600.0));
    // p90 of 2 values: rank ⌈1.8⌉ = 2.
    assert_eq!(f.lead_time_p90_seconds, Some(3.0 * 3600.0));
    assert_eq!(f.levels.lead_time, Some(Level::Elite));
}

#[test]
fn medians_of_odd_and_even_counts() {
    assert_eq!(median(&mut []), None);
    assert_eq!(median(&mut [7]), Some(7.0));
    assert_eq!(median(&mut [9, 1, 5]), Some(5.0));
    assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
    assert_eq!(median(&mut [1, 2]), Some(1.5));
}

#[test]
fn p90_is_nearest_rank_at_small_n() {
    assert_eq!(p90(&mut []), None);
    assert_eq!(p90(&mut [5]), Some(5.0));
    // n = 2..=10: rank ⌈0.9n⌉ is n (the largest) up to 10, where it is 9.
    for n in 2..=9_i64 {
        let mut values: Vec<i64> = (1..=n).collect();
        assert_eq!(p90(&mut values), Some(n as f64), "n = {n}");
    }
    let mut ten: Vec<i64> = (1..=10).rev().collect();
    assert_eq!(p90(&mut ten), Some(9.0));
    let mut eleven: Vec<i64> = (1..=11).collect();
    // ⌈9.9⌉ = 10.
    assert_eq!(p90(&mut eleven), Some(10.0));
    let mut twenty: Vec<i64> = (1..=20).collect();
    assert_eq!(p90(&mut twenty), Some(18.0));
}

#[test]
fn a_rollback_after_a_failure_restores_it_and_is_rework() {
    let bad = DeploymentFact {
        rolled_back: true,
        next_success: Some(at(HOUR + 20 * MIN)),
        ..succeeded(HOUR)
    };
    let rollback = DeploymentFact {
        is_rollback: true,
        started_at: at(HOUR + 17 * MIN),
        ..succeeded(HOUR + 20 * MIN)
    };
    let f = figures(30, &[bad, rollback], &[]);
    assert_eq!((f.attempted, f.succeeded, f.failed_changes), (2, 2, 1));
    assert_eq!(f.change_failure_rate, Some(0.5));
    assert_eq!(f.recovery_time_median_seconds, Some(20.0 * 60.0));
    assert_eq!(f.levels.recovery_time, Some(Level::Elite));
    assert_eq!(f.rework_rate, Some(0.5));
    // Rolled back ÷ succeeded.
    assert_eq!(f.rollback_rate, Some(0.5));
    assert_eq!(f.targets.rollback_rate, Some(false));
    // The guide's recovery time: how long the rollback itself took.
    assert_eq!(f.rollbacks, 1);
    assert_eq!(f.rollback_recovery_median_seconds, Some(3.0 * 60.0));
    assert_eq!(f.targets.rollback_recovery, Some(true));
}

#[test]
fn a_failed_change_restored_by_its_incident_before_the_next_deployment() {
    // Finished at 1 h; the incident it caused started at 1 h 10 and was resolved at 1 h 40;
    // the next success came only at 5 h.
    let d = DeploymentFact {
        cause_started: Some(at(HOUR + 10 * MIN)),
        cause_resolved: Some(at(HOUR + 40 * MIN)),
        next_success: Some(at(5 * HOUR)),
        ..succeeded(HOUR)
    };
    assert!(d.is_failed_change());
    assert_eq!(d.restored_at(), Some(at(HOUR + 40 * MIN)));
    // Failure start is the incident's start, as it came after the deployment and before
    // the restoration.
    assert_eq!(d.recovery_millis(), Some(30 * MIN));
    let f = figures(30, &[d], &[]);
    assert_eq!(f.recovery_time_median_seconds, Some(30.0 * 60.0));
}

#[test]
fn failure_start_stays_at_the_finish_when_the_incident_started_before_it() {
    let d = DeploymentFact {
        cause_started: Some(at(HOUR - 10 * MIN)),
        cause_resolved: Some(at(2 * HOUR)),
        ..succeeded(HOUR)
    };
    assert_eq!(d.recovery_millis(), Some(HOUR));
    // Started after the restoration: the finish again.
    let late = DeploymentFact {
        cause_started: Some(at(3 * HOUR)),
        cause_resolved: Some(at(4 * HOUR)),
        next_success: Some(at(2 * HOUR)),
        ..succeeded(HOUR)
    };
    assert_eq!(late.recovery_millis(), Some(HOUR));
}

#[test]
fn the_next_success_restores_when_it_comes_before_the_incident_resolution() {
    let d = DeploymentFact {
        cause_started: Some(at(HOUR + 5 * MIN)),
        cause_resolved: Some(at(9 * HOUR)),
        next_success: Some(at(HOUR + 35 * MIN)),
        ..failed(HOUR)
    };
    assert_eq!(d.recovery_millis(), Some(30 * MIN));
}

#[test]
fn failed_changes_not_yet_restored_are_counted_not_averaged() {
    let restored = DeploymentFact {
        next_success: Some(at(3 * HOUR)),
        ..failed(HOUR)
    };
    let open_incident = DeploymentFact {
        cause_started: Some(at(5 * HOUR)),
        ..succeeded(4 * HOUR)
    };
    let f = figures(30, &[restored, failed(2 * HOUR), open_incident], &[]);
    assert_eq!((f.failed_changes, f.not_yet_restored), (3, 2));
    assert_eq!(f.recovery_time_median_seconds, Some(2.0 * 3600.0));
}

#[test]
fn an_incident_linked_as_cause_of_two_deployments_fails_both() {
    // One incident (started 2 h, resolved 3 h) caused by both; each is a failed change once.
    let cause = |finished: i64| DeploymentFact {
        cause_started: Some(at(2 * HOUR)),
        cause_resolved: Some(at(3 * HOUR)),
        ..succeeded(finished)
    };
    let f = figures(
        30,
        &[cause(HOUR), cause(90 * MIN)],
        &[IncidentFact {
            started_at: at(2 * HOUR),
            resolved_at: at(3 * HOUR),
        }],
    );
    assert_eq!((f.attempted, f.failed_changes), (2, 2));
    assert_eq!(f.change_failure_rate, Some(1.0));
    // Both fail from the incident's start to its resolution.
    assert_eq!(f.recovery_time_median_seconds, Some(3600.0));
    assert_eq!(f.incidents_resolved, 1);
    assert_eq!(f.mttr_mean_seconds, Some(3600.0));
}

#[test]
fn mttr_is_the_mean_with_the_median_beside_it() {
    let incident = |minutes: i64| IncidentFact {
        started_at: at(0),
        resolved_at: at(minutes * MIN),
    };
    let f = figures(30, &[], &[incident(10), incident(20), incident(90)]);
    assert_eq!(f.mttr_mean_seconds, Some(40.0 * 60.0));
    assert_eq!(f.mttr_median_seconds, Some(20.0 * 60.0));
    // Deployments are still no data.
    assert_eq!(f.change_failure_rate, None);
}

#[test]
fn rework_counts_rollbacks_and_fixes_of_incidents() {
    let fix = DeploymentFact {
        fixes_incident: true,
        ..succeeded(2 * HOUR)
    };
    let rollback = DeploymentFact {
        is_rollback: true,
        ..succeeded(3 * HOUR)
    };
    let both = DeploymentFact {
        is_rollback: true,
        fixes_incident: true,
        ..succeeded(4 * HOUR)
    };
    let f = figures(30, &[fix, rollback, both, succeeded(HOUR)], &[]);
    assert_eq!(f.reworked, 3);
    assert_eq!(f.rework_rate, Some(0.75));
}

#[test]
fn deployment_time_is_over_attempted_and_judged_against_ten_minutes() {
    let took = |minutes: i64, status| DeploymentFact {
        started_at: at(HOUR - minutes * MIN),
        ..deployment(status, HOUR)
    };
    let f = figures(
        30,
        &[
            took(4, DeploymentStatus::Succeeded),
            took(16, DeploymentStatus::Failed),
            took(99, DeploymentStatus::Cancelled),
        ],
        &[],
    );
    assert_eq!(f.deployment_time_median_seconds, Some(10.0 * 60.0));
    // Exactly 10 minutes is not under 10.
    assert_eq!(f.targets.deployment_time, Some(false));
}

#[test]
fn success_rate_target_is_strictly_above_95_percent() {
    let mut d: Vec<_> = (0..19).map(|i| succeeded(HOUR + i * MIN)).collect();
    d.push(failed(3 * HOUR));
    let f = figures(30, &d, &[]);
    assert_eq!(f.success_rate, Some(0.95));
    assert_eq!(f.targets.success_rate, Some(false));
    d.push(succeeded(4 * HOUR));
    assert_eq!(figures(30, &d, &[]).targets.success_rate, Some(true));
}

#[test]
fn frequency_levels_at_their_edges() {
    let window = 28 * DAY_MS;
    assert_eq!(Level::of_frequency(28, window), Level::Elite);
    assert_eq!(Level::of_frequency(27, window), Level::High);
    assert_eq!(Level::of_frequency(4, window), Level::High);
    assert_eq!(Level::of_frequency(3, window), Level::Medium);
    // One per 30 days exactly is Medium; a window a millisecond longer is Low.
    assert_eq!(Level::of_frequency(1, 30 * DAY_MS), Level::Medium);
    assert_eq!(Level::of_frequency(1, 30 * DAY_MS + 1), Level::Low);
    assert_eq!(Level::of_frequency(0, window), Level::Low);
    assert_eq!(Level::of_frequency(1, DAY_MS), Level::Elite);
}

#[test]
fn lead_time_levels_at_their_edges() {
    let day = DAY_MS as f64;
    assert_eq!(Level::of_lead_time(day - 1.0), Level::Elite);
    assert_eq!(Level::of_lead_time(day), Level::High);
    assert_eq!(Level::of_lead_time(day * 7.0 - 0.5), Level::High);
    assert_eq!(Level::of_lead_time(day * 7.0), Level::Medium);
    assert_eq!(Level::of_lead_time(day * 30.0), Level::Low);
}

#[test]
fn change_failure_levels_at_their_edges() {
    assert_eq!(Level::of_change_failure(5, 100), Level::Elite);
    assert_eq!(Level::of_change_failure(6, 100), Level::High);
    assert_eq!(Level::of_change_failure(1, 10), Level::High);
    assert_eq!(Level::of_change_failure(3, 20), Level::Medium);
    assert_eq!(Level::of_change_failure(16, 100), Level::Low);
    assert_eq!(Level::of_change_failure(0, 1), Level::Elite);
}

#[test]
fn recovery_levels_at_their_edges() {
    let hour = HOUR as f64;
    assert_eq!(Level::of_recovery(hour - 0.5), Level::Elite);
    assert_eq!(Level::of_recovery(hour), Level::High);
    assert_eq!(Level::of_recovery(24.0 * hour), Level::Medium);
    assert_eq!(Level::of_recovery(7.0 * 24.0 * hour), Level::Low);
}

#[test]
fn windows_are_read_with_clear_errors() {
    let now = at(100 * DAY_MS);
    let default = Window::parse(None, None, now).unwrap();
    assert_eq!(default.length(), 30 * DAY_MS);
    assert_eq!(default.to, now);
    // A day as "to" includes that day.
    let days = Window::parse(Some("2026-01-01"), Some("2026-01-07"), now).unwrap();
    assert_eq!(days.length(), 7 * DAY_MS);
    let backwards = Window::parse(Some("2026-02-01"), Some("2026-01-01"), now).unwrap_err();
    assert_eq!(backwards.0[0].field, "to");
    let long = Window::parse(Some("2020-01-01"), Some("2026-01-01"), now).unwrap_err();
    assert!(long.0[0].message.contains("5 years"), "{long}");
    let both = Window::parse(Some("yesterday"), Some("soon"), now).unwrap_err();
    let fields: Vec<_> = both.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["from", "to"]);
    let five_years = Window {
        from: at(0),
        to: at(MAX_WINDOW_MS),
    };
    assert!(five_years.check().is_ok());
}

#[test]
fn buckets_tile_the_window_and_place_each_moment() {
    let w = Window {
        from: at(0),
        to: at(17 * DAY_MS),
    };
    let buckets = w.buckets(Bucket::Week);
    assert_eq!(buckets.len(), 3);
    assert_eq!(buckets[2].length(), 3 * DAY_MS);
    assert_eq!(buckets[0].to, buckets[1].from);
    assert_eq!(w.bucket_of(Bucket::Week, at(WEEK_MS - 1)), Some(0));
    assert_eq!(w.bucket_of(Bucket::Week, at(WEEK_MS)), Some(1));
    assert_eq!(w.bucket_of(Bucket::Week, at(17 * DAY_MS)), None);
    assert_eq!(w.bucket_of(Bucket::Week, at(-1)), None);
    assert_eq!(w.previous().to, w.from);
    assert_eq!(w.previous().length(), w.length());
}

#[test]
fn a_deployment_finishing_on_the_window_edge_belongs_to_the_next_window() {
    let w = window(1);
    assert!(w.contains(at(0)));
    assert!(!w.contains(at(DAY_MS)));
}

#[test]
fn presets_name_the_last_days_and_calendar_quarters() {
    // 2026-12-06T09:00:00Z
    let now = Timestamp(1_796_547_600_000);
    assert_eq!(Window::preset("90d", now).unwrap().length(), 90 * DAY_MS);
    let quarter = Window::preset("quarter", now).unwrap();
    assert_eq!(
        quarter.from.to_rfc3339().unwrap(),
        "2026-10-01T00:00:00.000Z"
    );
    assert_eq!(quarter.to, now);
    let last = Window::preset("last-quarter", now).unwrap();
    assert_eq!(last.from.to_rfc3339().unwrap(), "2026-07-01T00:00:00.000Z");
    assert_eq!(last.to.to_rfc3339().unwrap(), "2026-10-01T00:00:00.000Z");
    // January looks back into the previous year.
    let january = Timestamp(1_767_225_600_000 + 5 * DAY_MS);
    let last = Window::preset("last-quarter", january).unwrap();
    assert_eq!(last.from.to_rfc3339().unwrap(), "2025-10-01T00:00:00.000Z");
    assert_eq!(Window::preset("fortnight", now).unwrap_err().field, "range");
}
