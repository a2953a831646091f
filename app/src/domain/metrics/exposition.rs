//! Prometheus' text exposition format (version 0.0.4): metric families, each announced once
//! with `# HELP` and `# TYPE`, then its samples. Pure text, so the figures' gauges and the
//! server's HTTP counters are written the same way and tested without a scraper.

use std::fmt::Write;

use super::Figures;

/// The `Content-Type` a scraper expects for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What kind of series a family holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// An exposition being written.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// Starts the family `name`; its samples follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> &mut Self {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
        self
    }

    /// One sample of the current family (`name` carries a histogram's `_bucket`, `_sum` or
    /// `_count` suffix). Infinities are written as Prometheus spells them.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (n, (key, value)) in labels.iter().enumerate() {
                if n > 0 {
                    self.text.push(',');
                }
                let value = value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(self.text, "{key}=\"{value}\"");
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
        self
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// The figures scraped as gauges: name, help, and the figure (none without data, so the
/// sample is left out rather than reported as 0).
type Gauge = (&'static str, &'static str, fn(&Figures) -> Option<f64>);

const GAUGES: [Gauge; 14] = [
    ("switchyard_deployments_attempted", "Deployments that ended succeeded or failed in the window.", |f| Some(f.attempted as f64)),
    ("switchyard_failed_changes", "Attempted deployments that failed, were rolled back, or caused an incident.", |f| Some(f.failed_changes as f64)),
    ("switchyard_failed_changes_not_yet_restored", "Failed changes in the window with no restoration yet.", |f| Some(f.not_yet_restored as f64)),
    ("switchyard_deployment_frequency_per_day", "Attempted deployments per day (DORA deployment frequency).", |f| f.deployment_frequency_per_day),
    ("switchyard_lead_time_median_seconds", "Median time from commit to successful deployment (DORA lead time).", |f| f.lead_time_median_seconds),
    ("switchyard_lead_time_p90_seconds", "90th percentile (nearest rank) of the lead time.", |f| f.lead_time_p90_seconds),
    ("switchyard_change_failure_rate", "Failed changes over attempted deployments, 0 to 1 (DORA change failure rate).", |f| f.change_failure_rate),
    ("switchyard_recovery_time_median_seconds", "Median time to restore a failed change (DORA failed deployment recovery time).", |f| f.recovery_time_median_seconds),
    ("switchyard_mttr_mean_seconds", "Mean time from an incident's start to its resolution, over incidents resolved in the window.", |f| f.mttr_mean_seconds),
    ("switchyard_rework_rate", "Rollbacks and incident fixes over attempted deployments, 0 to 1.", |f| f.rework_rate),
    ("switchyard_success_rate", "Succeeded over attempted deployments, 0 to 1 (target above 0.95).", |f| f.success_rate),
    ("switchyard_rollback_rate", "Attempted deployments later rolled back, 0 to 1 (target below 0.05).", |f| f.rollback_rate),
    ("switchyard_deployment_time_median_seconds", "Median time from a deployment's start to its end (target under 600).", |f| f.deployment_time_median_seconds),
    ("switchyard_rollback_recovery_median_seconds", "Median duration of a succeeded rollback (the guide's recovery time, target under 300).", |f| f.rollback_recovery_median_seconds),
];

/// Each gauge of [`GAUGES`] for every labelled set of figures, one family at a time.
pub fn write_figures(out: &mut Exposition, rows: &[(Vec<(&str, &str)>, Figures)]) {
    for (name, help, figure) in GAUGES {
        out.family(name, Kind::Gauge, help);
        for (labels, figures) in rows {
            if let Some(value) = figure(figures) {
                out.sample(name, labels, value);
            }
        }
    }
}

/// A sample value: integers without a fraction, `+Inf`, `-Inf` and `NaN` as the format names them.
pub fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_announce_themselves_and_samples_escape_their_labels() {
        let mut out = Exposition::default();
        out.family("switchyard_up", Kind::Gauge, "Whether it\nruns.")
            .sample("switchyard_up", &[], 1.0)
            .family("switchyard_things_total", Kind::Counter, "Things.")
            .sample(
                "switchyard_things_total",
                &[("service", "a\"b\\c\nd"), ("status", "ok")],
                2.5,
            );
        assert_eq!(
            out.finish(),
            "# HELP switchyard_up Whether it\\nruns.\n# TYPE switchyard_up gauge\nswitchyard_up 1\n\
             # HELP switchyard_things_total Things.\n# TYPE switchyard_things_total counter\n\
             switchyard_things_total{service=\"a\\\"b\\\\c\\nd\",status=\"ok\"} 2.5\n"
        );
    }

    #[test]
    fn special_values_are_spelt_as_prometheus_reads_them() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(3.0), "3");
    }
}
