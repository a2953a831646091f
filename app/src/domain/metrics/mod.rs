//! The delivery metrics of PRODUCT.md, exactly as it defines them: the four DORA keys, rework
//! rate and the guide's KPIs, each with its DORA level or target. Pure: the backend hands over
//! one [`DeploymentFact`] per deployment and one [`IncidentFact`] per incident, a [`Tally`]
//! folds them in one pass (so a long history never sits in memory) and [`Tally::figures`]
//! turns it into [`Figures`].

pub mod exposition;
mod stats;
#[cfg(test)]
mod tests;
pub mod window;

use serde::{Deserialize, Serialize};

pub use window::{Bucket, Window};

use self::{
    stats::{mean, median, p90, ratio},
    window::{DAY_MS, MONTH_MS, WEEK_MS},
};
use super::{deployments::DeploymentStatus, Timestamp};

const HOUR_MS: i64 = 3_600_000;

/// What the metrics need to know of one finished deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeploymentFact {
    pub status: DeploymentStatus,
    pub is_rollback: bool,
    pub rolled_back: bool,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub commit_at: Option<Timestamp>,
    /// Linked to an incident as its fix.
    pub fixes_incident: bool,
    /// Of the incidents linked to it as their cause: the earliest start and the earliest
    /// resolution (`None` when none is linked, or none is resolved).
    pub cause_started: Option<Timestamp>,
    pub cause_resolved: Option<Timestamp>,
    /// The `finished_at` of the next succeeded deployment in its environment, whenever that was.
    pub next_success: Option<Timestamp>,
}

impl DeploymentFact {
    pub fn is_attempted(&self) -> bool {
        matches!(
            self.status,
            DeploymentStatus::Succeeded | DeploymentStatus::Failed
        )
    }

    /// Failed, or later rolled back, or linked to an incident as its cause.
    pub fn is_failed_change(&self) -> bool {
        self.is_attempted()
            && (self.status == DeploymentStatus::Failed
                || self.rolled_back
                || self.cause_started.is_some())
    }

    /// When the failure it caused was over: the earlier of the next success in its
    /// environment and the resolution of an incident it caused.
    pub fn restored_at(&self) -> Option<Timestamp> {
        match (self.next_success, self.cause_resolved) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long its failure lasted, in milliseconds, or `None` while not restored. The
    /// failure starts when the deployment finished, unless the earliest incident it caused
    /// started later (and before the restoration): then there.
    pub fn recovery_millis(&self) -> Option<i64> {
        let restored = self.restored_at()?;
        let start = match self.cause_started {
            Some(started) if started > self.finished_at && started < restored => started,
            _ => self.finished_at,
        };
        // An incident resolved before the deployment finished is a link made in error; it
        // counts as restored at once rather than as a negative time.
        Some((restored.0 - start.0).max(0))
    }
}

/// What the metrics need to know of one resolved incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncidentFact {
    pub started_at: Timestamp,
    pub resolved_at: Timestamp,
}

/// The running counts and samples of one window; add facts in any order.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    attempted: u64,
    succeeded: u64,
    failed: u64,
    cancelled: u64,
    failed_changes: u64,
    not_yet_restored: u64,
    rolled_back: u64,
    reworked: u64,
    lead_times: Vec<i64>,
    recoveries: Vec<i64>,
    durations: Vec<i64>,
    rollback_durations: Vec<i64>,
    incident_durations: Vec<i64>,
}

impl Tally {
    /// Counts a deployment that finished in the window.
    pub fn add_deployment(&mut self, d: &DeploymentFact) {
        match d.status {
            DeploymentStatus::Succeeded => self.succeeded += 1,
            DeploymentStatus::Failed => self.failed += 1,
            DeploymentStatus::Cancelled => self.cancelled += 1,
            DeploymentStatus::Running => {}
        }
        if !d.is_attempted() {
            return;
        }
        self.attempted += 1;
        self.durations.push(d.finished_at.0 - d.started_at.0);
        if d.rolled_back {
            self.rolled_back += 1;
        }
        if d.is_rollback || d.fixes_incident {
            self.reworked += 1;
        }
        if d.status == DeploymentStatus::Succeeded {
            if let Some(commit_at) = d.commit_at {
                self.lead_times.push(d.finished_at.0 - commit_at.0);
            }
            if d.is_rollback {
                self.rollback_durations
                    .push(d.finished_at.0 - d.started_at.0);
            }
        }
        if d.is_failed_change() {
            self.failed_changes += 1;
            match d.recovery_millis() {
                Some(recovery) => self.recoveries.push(recovery),
                None => self.not_yet_restored += 1,
            }
        }
    }

    /// Counts an incident resolved in the window.
    pub fn add_incident(&mut self, i: &IncidentFact) {
        self.incident_durations
            .push((i.resolved_at.0 - i.started_at.0).max(0));
    }

    /// The figures of `window`, from what was added.
    pub fn figures(mut self, window: Window) -> Figures {
        let seconds = |ms: Option<f64>| ms.map(|ms| ms / 1000.0);
        // An empty window has no frequency to speak of: "no data", not 0.
        let per_day = (self.attempted > 0).then(|| self.succeeded as f64 / window.days());
        let lead_time_median = median(&mut self.lead_times);
        let recovery_median = median(&mut self.recoveries);
        let levels = Levels {
            deployment_frequency: (self.attempted > 0)
                .then(|| Level::of_frequency(self.succeeded, window.length())),
            lead_time: lead_time_median.map(Level::of_lead_time),
            change_failure_rate: (self.attempted > 0)
                .then(|| Level::of_change_failure(self.failed_changes, self.attempted)),
            recovery_time: recovery_median.map(Level::of_recovery),
        };
        let deployment_time = median(&mut self.durations);
        let rollback_recovery = median(&mut self.rollback_durations);
        let targets = Targets {
            success_rate: (self.attempted > 0).then(|| self.succeeded * 100 > 95 * self.attempted),
            rollback_rate: (self.succeeded > 0)
                .then(|| self.rolled_back * 100 < 5 * self.succeeded),
            deployment_time: deployment_time.map(|ms| ms < 10.0 * 60_000.0),
            rollback_recovery: rollback_recovery.map(|ms| ms < 5.0 * 60_000.0),
        };
        Figures {
            from: window.from,
            to: window.to,
            attempted: self.attempted,
            succeeded: self.succeeded,
            failed: self.failed,
            cancelled: self.cancelled,
            failed_changes: self.failed_changes,
            not_yet_restored: self.not_yet_restored,
            rolled_back: self.rolled_back,
            reworked: self.reworked,
            with_commit_time: self.lead_times.len() as u64,
            rollbacks: self.rollback_durations.len() as u64,
            incidents_resolved: self.incident_durations.len() as u64,
            deployment_frequency_per_day: per_day,
            deployment_frequency_per_week: per_day.map(|d| d * 7.0),
            lead_time_median_seconds: seconds(lead_time_median),
            lead_time_p90_seconds: seconds(p90(&mut self.lead_times)),
            change_failure_rate: ratio(self.failed_changes, self.attempted),
            recovery_time_median_seconds: seconds(recovery_median),
            mttr_mean_seconds: seconds(mean(&self.incident_durations)),
            mttr_median_seconds: seconds(median(&mut self.incident_durations)),
            rework_rate: ratio(self.reworked, self.attempted),
            success_rate: ratio(self.succeeded, self.attempted),
            rollback_rate: ratio(self.rolled_back, self.succeeded),
            deployment_time_median_seconds: seconds(deployment_time),
            rollback_recovery_median_seconds: seconds(rollback_recovery),
            levels,
            targets,
        }
    }
}

/// The metrics of one window. Counts are always numbers; rates are fractions (0–1) and
/// durations seconds, `null` where there is nothing to compute them from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Figures {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Deployments that ended `succeeded` or `failed` (cancelled ones are not attempted).
    pub attempted: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Attempted deployments that failed, were later rolled back, or caused an incident.
    pub failed_changes: u64,
    /// Failed changes with no restoration yet: counted, left out of the recovery median.
    pub not_yet_restored: u64,
    /// Attempted deployments later rolled back.
    pub rolled_back: u64,
    /// Attempted deployments that are rollbacks or the fix of an incident.
    pub reworked: u64,
    /// Succeeded deployments carrying a commit time: the lead time's sample.
    pub with_commit_time: u64,
    /// Succeeded rollback deployments: the recovery time's sample.
    pub rollbacks: u64,
    pub incidents_resolved: u64,
    pub deployment_frequency_per_day: Option<f64>,
    pub deployment_frequency_per_week: Option<f64>,
    pub lead_time_median_seconds: Option<f64>,
    pub lead_time_p90_seconds: Option<f64>,
    pub change_failure_rate: Option<f64>,
    pub recovery_time_median_seconds: Option<f64>,
    pub mttr_mean_seconds: Option<f64>,
    pub mttr_median_seconds: Option<f64>,
    pub rework_rate: Option<f64>,
    pub success_rate: Option<f64>,
    pub rollback_rate: Option<f64>,
    pub deployment_time_median_seconds: Option<f64>,
    /// The guide's "recovery time": how long a succeeded rollback took.
    pub rollback_recovery_median_seconds: Option<f64>,
    pub levels: Levels,
    /// Whether each of the guide's KPIs meets its target.
    pub targets: Targets,
}

/// The DORA level of each key, `null` without data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Levels {
    pub deployment_frequency: Option<Level>,
    pub lead_time: Option<Level>,
    pub change_failure_rate: Option<Level>,
    pub recovery_time: Option<Level>,
}

/// The guide's KPI targets: success rate > 95%, rollback rate < 5%, deployment time < 10 min,
/// recovery time < 5 min; `null` without data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Targets {
    pub success_rate: Option<bool>,
    pub rollback_rate: Option<bool>,
    pub deployment_time: Option<bool>,
    pub rollback_recovery: Option<bool>,
}

crate::word_enum! {
    /// A DORA performance level (2023 State of DevOps thresholds).
    Level, "level" {
        Elite = "elite",
        High = "high",
        Medium = "medium",
        Low = "low",
    }
}

impl Level {
    /// Elite ≥ 1/day, High ≥ 1/week, Medium ≥ 1/month, else Low; compared in integers, so a
    /// count exactly on a threshold lands on the right side of it.
    pub fn of_frequency(succeeded: u64, window_ms: i64) -> Self {
        let at_least_one_per =
            |period: i64| i128::from(succeeded) * i128::from(period) >= i128::from(window_ms);
        if at_least_one_per(DAY_MS) {
            Level::Elite
        } else if at_least_one_per(WEEK_MS) {
            Level::High
        } else if at_least_one_per(MONTH_MS) {
            Level::Medium
        } else {
            Level::Low
        }
    }

    /// Elite < 1 day, High < 1 week, Medium < 1 month, else Low.
    pub fn of_lead_time(median_ms: f64) -> Self {
        Self::below(median_ms, [DAY_MS, WEEK_MS, MONTH_MS])
    }

    /// Elite ≤ 5%, High ≤ 10%, Medium ≤ 15%, else Low.
    pub fn of_change_failure(failed_changes: u64, attempted: u64) -> Self {
        let at_most = |percent: u64| failed_changes * 100 <= percent * attempted;
        if at_most(5) {
            Level::Elite
        } else if at_most(10) {
            Level::High
        } else if at_most(15) {
            Level::Medium
        } else {
            Level::Low
        }
    }

    /// Elite < 1 hour, High < 1 day, Medium < 1 week, else Low.
    pub fn of_recovery(median_ms: f64) -> Self {
        Self::below(median_ms, [HOUR_MS, DAY_MS, WEEK_MS])
    }

    fn below(ms: f64, [elite, high, medium]: [i64; 3]) -> Self {
        // Medians are whole or half milliseconds: exact in an f64.
        if ms < elite as f64 {
            Level::Elite
        } else if ms < high as f64 {
            Level::High
        } else if ms < medium as f64 {
            Level::Medium
        } else {
            Level::Low
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Elite => "Elite",
            Level::High => "High",
            Level::Medium => "Medium",
            Level::Low => "Low",
        }
    }
}

/// One of the four DORA keys, with the thresholds its level is judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    DeploymentFrequency,
    LeadTime,
    ChangeFailureRate,
    RecoveryTime,
}

impl Key {
    pub const ALL: [Key; 4] = [
        Key::DeploymentFrequency,
        Key::LeadTime,
        Key::ChangeFailureRate,
        Key::RecoveryTime,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Key::DeploymentFrequency => "Deployment frequency",
            Key::LeadTime => "Lead time for changes",
            Key::ChangeFailureRate => "Change failure rate",
            Key::RecoveryTime => "Failed deployment recovery time",
        }
    }

    /// The formula, in PRODUCT.md's words.
    pub fn formula(self) -> &'static str {
        match self {
            Key::DeploymentFrequency => "succeeded deployments ÷ days in window",
            Key::LeadTime => "median of (finished − commit time) over succeeded deployments with a commit time; p90 beside it",
            Key::ChangeFailureRate => "failed changes (failed, later rolled back, or the cause of an incident) ÷ deployments attempted",
            Key::RecoveryTime => "median of (restored − failure start) over failed changes; restored = next success in the environment or the caused incident's resolution, whichever is first",
        }
    }

    pub fn thresholds(self) -> &'static str {
        match self {
            Key::DeploymentFrequency => {
                "Elite ≥ 1/day · High ≥ 1/week · Medium ≥ 1/month · Low below"
            }
            Key::LeadTime => "Elite < 1 day · High < 1 week · Medium < 1 month · Low beyond",
            Key::ChangeFailureRate => "Elite ≤ 5% · High ≤ 10% · Medium ≤ 15% · Low above",
            Key::RecoveryTime => "Elite < 1 hour · High < 1 day · Medium < 1 week · Low beyond",
        }
    }

    pub fn level(self, levels: &Levels) -> Option<Level> {
        match self {
            Key::DeploymentFrequency => levels.deployment_frequency,
            Key::LeadTime => levels.lead_time,
            Key::ChangeFailureRate => levels.change_failure_rate,
            Key::RecoveryTime => levels.recovery_time,
        }
    }

    /// The figure itself, in its unit (per day, seconds or a fraction).
    pub fn value(self, figures: &Figures) -> Option<f64> {
        match self {
            Key::DeploymentFrequency => figures.deployment_frequency_per_day,
            Key::LeadTime => figures.lead_time_median_seconds,
            Key::ChangeFailureRate => figures.change_failure_rate,
            Key::RecoveryTime => figures.recovery_time_median_seconds,
        }
    }

    /// Whether a larger value is better (only frequency); for the trend's arrow.
    pub fn higher_is_better(self) -> bool {
        self == Key::DeploymentFrequency
    }
}

/// A duration in seconds in the unit a reader expects: "45 s", "12 min", "3.5 h", "2.1 days".
pub fn describe_seconds(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.0} s")
    } else if seconds < 3_600.0 {
        format!("{:.1} min", seconds / 60.0)
    } else if seconds < 86_400.0 {
        format!("{:.1} h", seconds / 3_600.0)
    } else {
        format!("{:.1} days", seconds / 86_400.0)
    }
}

/// A fraction as a percentage with one decimal: "4.2%".
pub fn describe_fraction(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// A per-day frequency in the unit that reads best: "3.2/day", "2.5/week", "0.8/month".
pub fn describe_frequency(per_day: f64) -> String {
    if per_day >= 1.0 {
        format!("{per_day:.1}/day")
    } else if per_day * 7.0 >= 1.0 {
        format!("{:.1}/week", per_day * 7.0)
    } else {
        format!("{:.1}/month", per_day * 30.0)
    }
}
