//! The Metrics page worded: cards with their levels, targets and trends, the charts with their
//! text alternatives, and the services side by side. Every number links to the list of
//! records it was computed from.

use super::{
    charts::{self, Axis, Series, Target},
    Request, Tallies,
};
use crate::{
    components::url::encode,
    domain::{
        metrics::{describe_fraction, describe_frequency, describe_seconds, Figures, Key, Window},
        Timestamp,
    },
    model::{Chart, MetricCard, MetricsView, ServiceCell, ServiceRow, Trend},
};

pub(super) fn build(request: &Request, tallies: Tallies) -> MetricsView {
    let window = request.window;
    let figures = tallies.current.figures(window);
    let previous = tallies.previous.figures(window.previous());
    let links = Links::new(request);
    let buckets = window.buckets(request.bucket);
    let points: Vec<Figures> = buckets
        .iter()
        .zip(tallies.buckets)
        .map(|(bucket, tally)| tally.figures(*bucket))
        .collect();
    let services = request
        .scope
        .iter()
        .map(|s| (s.service_id, s.service.as_str()))
        .collect::<std::collections::BTreeMap<_, _>>();
    let services = tallies
        .services
        .into_iter()
        .filter_map(|(id, tally)| Some((services.get(&id)?.to_string(), tally.figures(window))))
        .map(|(service, figures)| service_row(request, service, &figures))
        .collect();
    let previous_label = format!("previous {}", describe_days(window));
    MetricsView {
        scope: describe_scope(request),
        dora: dora_cards(&figures, &previous, &previous_label, &links),
        kpis: kpi_cards(&figures, &previous, &previous_label, &links),
        unrestored: (figures.not_yet_restored > 0).then(|| {
            format!(
                "{} failed change{} not yet restored: left out of the recovery time until they are.",
                figures.not_yet_restored,
                plural(figures.not_yet_restored)
            )
        }),
        charts: charts(&buckets, &points, &figures),
        services,
        figures,
    }
}

/// Links to the Deployments and Incidents lists, narrowed to what a figure counts.
struct Links {
    deployments: String,
    incidents: String,
}

impl Links {
    fn new(request: &Request) -> Self {
        let mut scope = String::new();
        for (key, value) in [
            ("service", &request.service),
            ("environment", &request.environment),
        ] {
            if let Some(value) = value {
                scope.push_str(&format!("&{key}={}", encode(value)));
            }
        }
        if request.environment.is_none() {
            scope.push_str("&tier=production");
        }
        let time = |t: Timestamp| encode(&t.to_rfc3339().unwrap_or_default());
        let (from, to) = (time(request.window.from), time(request.window.to));
        Self {
            deployments: format!("/deployments?finished_from={from}&finished_to={to}{scope}"),
            incidents: format!(
                "/incidents?status=resolved&resolved_from={from}&resolved_to={to}{scope}"
            ),
        }
    }

    fn deployments(&self, status: Option<&str>) -> String {
        match status {
            Some(status) => format!("{}&status={status}", self.deployments),
            None => self.deployments.clone(),
        }
    }
}

/// Which figure a card shows, and how it is worded.
type Reading = fn(&Figures) -> Option<f64>;
type Show = fn(f64) -> String;

/// What a card shows, before it is worded.
struct Spec {
    key: Option<Key>,
    title: &'static str,
    value: Reading,
    show: Show,
    detail: String,
    met: Option<bool>,
    formula: &'static str,
    judged_by: &'static str,
    higher_is_better: bool,
    href: String,
}

fn card(spec: Spec, figures: &Figures, previous: &Figures, previous_label: &str) -> MetricCard {
    let (now, before) = ((spec.value)(figures), (spec.value)(previous));
    let show = |v: Option<f64>| v.map_or_else(|| "no data".to_owned(), spec.show);
    let trend = trend(now, before, spec.show, spec.higher_is_better);
    MetricCard {
        title: spec.title.to_owned(),
        value: show(now),
        detail: spec.detail,
        level: spec.key.and_then(|key| key.level(&figures.levels)),
        met: spec.met,
        formula: spec.formula.to_owned(),
        judged_by: spec.judged_by.to_owned(),
        previous: format!("{previous_label}: {}", show(before)),
        trend,
        href: spec.href,
    }
}

/// How a figure moved since the previous window, judged on the figures as shown: "2.8/day,
/// previous 2.8/day · worse" would contradict what the reader sees, so a change below the
/// shown precision is no change.
fn trend(
    now: Option<f64>,
    before: Option<f64>,
    show: Show,
    higher_is_better: bool,
) -> Option<Trend> {
    let (now, before) = (now?, before?);
    Some(if show(now) == show(before) {
        Trend::Same
    } else if (now > before) == higher_is_better {
        Trend::Better
    } else {
        Trend::Worse
    })
}

fn dora_cards(f: &Figures, previous: &Figures, label: &str, links: &Links) -> Vec<MetricCard> {
    Key::ALL
        .into_iter()
        .map(|key| {
            let (value, show, detail, href): (Reading, Show, _, _) =
                match key {
                    Key::DeploymentFrequency => (
                        |f| f.deployment_frequency_per_day,
                        describe_frequency,
                        format!("{} succeeded of {} attempted", f.succeeded, f.attempted),
                        links.deployments(Some("succeeded")),
                    ),
                    Key::LeadTime => (
                        |f| f.lead_time_median_seconds,
                        describe_seconds,
                        format!(
                            "p90 {}; from {} of {} succeeded deployments (the others carry no commit time)",
                            f.lead_time_p90_seconds.map_or("no data".into(), describe_seconds),
                            f.with_commit_time,
                            f.succeeded
                        ),
                        links.deployments(Some("succeeded")),
                    ),
                    Key::ChangeFailureRate => (
                        |f| f.change_failure_rate,
                        describe_fraction,
                        format!("{} failed change{} of {} attempted", f.failed_changes, plural(f.failed_changes), f.attempted),
                        links.deployments(None),
                    ),
                    Key::RecoveryTime => (
                        |f| f.recovery_time_median_seconds,
                        describe_seconds,
                        format!(
                            "median of {} restored failed change{}{}",
                            f.failed_changes - f.not_yet_restored,
                            plural(f.failed_changes - f.not_yet_restored),
                            if f.not_yet_restored > 0 {
                                format!("; {} not yet restored", f.not_yet_restored)
                            } else {
                                String::new()
                            }
                        ),
                        links.deployments(None),
                    ),
                };
            let spec = Spec {
                key: Some(key),
                title: key.title(),
                value,
                show,
                detail,
                met: None,
                formula: key.formula(),
                judged_by: key.thresholds(),
                higher_is_better: key.higher_is_better(),
                href,
            };
            card(spec, f, previous, label)
        })
        .collect()
}

fn kpi_cards(f: &Figures, previous: &Figures, label: &str, links: &Links) -> Vec<MetricCard> {
    let specs = [
        Spec {
            key: None,
            title: "Deployment rework rate",
            value: |f| f.rework_rate,
            show: describe_fraction,
            detail: format!("{} of {} attempted were rollbacks or fixed an incident", f.reworked, f.attempted),
            met: None,
            formula: "attempted deployments that are rollbacks or an incident's fix ÷ deployments attempted",
            judged_by: "No target: lower means less unplanned work",
            higher_is_better: false,
            href: links.deployments(None),
        },
        Spec {
            key: None,
            title: "MTTR (incidents)",
            value: |f| f.mttr_mean_seconds,
            show: describe_seconds,
            detail: format!(
                "median {}; over {} incident{} resolved",
                f.mttr_median_seconds.map_or("no data".into(), describe_seconds),
                f.incidents_resolved,
                plural(f.incidents_resolved)
            ),
            met: None,
            formula: "mean of (resolved − started) over incidents resolved in the window; median beside it",
            judged_by: "Guide's RTO: < 1 h for SEV1/SEV2, < 4 h for SEV3/SEV4",
            higher_is_better: false,
            href: links.incidents.clone(),
        },
        Spec {
            key: None,
            title: "Success rate",
            value: |f| f.success_rate,
            show: describe_fraction,
            detail: format!("{} succeeded of {} attempted", f.succeeded, f.attempted),
            met: f.targets.success_rate,
            formula: "succeeded ÷ attempted",
            judged_by: "Guide's target: > 95%",
            higher_is_better: true,
            href: links.deployments(None),
        },
        Spec {
            key: None,
            title: "Rollback rate",
            value: |f| f.rollback_rate,
            show: describe_fraction,
            detail: format!("{} rolled back of {} succeeded", f.rolled_back, f.succeeded),
            met: f.targets.rollback_rate,
            formula: "attempted deployments later rolled back ÷ succeeded",
            judged_by: "Guide's target: < 5%",
            higher_is_better: false,
            href: links.deployments(None),
        },
        Spec {
            key: None,
            title: "Deployment time",
            value: |f| f.deployment_time_median_seconds,
            show: describe_seconds,
            detail: format!("median over {} attempted", f.attempted),
            met: f.targets.deployment_time,
            formula: "median of (finished − started) over attempted deployments",
            judged_by: "Guide's target: < 10 min",
            higher_is_better: false,
            href: links.deployments(None),
        },
        Spec {
            key: None,
            title: "Recovery time (rollbacks)",
            value: |f| f.rollback_recovery_median_seconds,
            show: describe_seconds,
            detail: format!("median over {} succeeded rollback{}", f.rollbacks, plural(f.rollbacks)),
            met: f.targets.rollback_recovery,
            formula: "median of (finished − started) over succeeded rollback deployments",
            judged_by: "Guide's target: < 5 min",
            higher_is_better: false,
            href: links.deployments(Some("succeeded")),
        },
    ];
    specs
        .into_iter()
        .map(|spec| card(spec, f, previous, label))
        .collect()
}

fn charts(buckets: &[Window], points: &[Figures], total: &Figures) -> Vec<Chart> {
    let per = if buckets.first().is_some_and(|b| b.length() > 7 * 86_400_000) {
        "month"
    } else {
        "week"
    };
    let series = |name, value: fn(&Figures) -> Option<f64>| Series {
        name,
        values: points.iter().map(value).collect(),
    };
    let range = |points: &[Figures]| match (points.first(), points.last()) {
        (Some(first), Some(last)) => format!("from {} to {}", first.from, last.to),
        _ => String::new(),
    };
    let mut out = Vec::new();

    let outcome = if total.attempted == 0 {
        no_data("No deployment finished in this window.")
    } else {
        let busiest = points.iter().max_by_key(|p| p.attempted);
        let svg = charts::stacked_bars(
            buckets,
            &[
                series("succeeded", |p| Some(p.succeeded as f64)),
                series("failed", |p| Some(p.failed as f64)),
            ],
            &Axis::count(format!("deployments per {per}")),
        );
        drawn(
            svg,
            format!(
                "Deployments per {per} {}: {} succeeded and {} failed in all{}.",
                range(points),
                total.succeeded,
                total.failed,
                busiest.map_or(String::new(), |b| format!(
                    "; the busiest {per} began {} with {}",
                    b.from, b.attempted
                ))
            ),
        )
    };
    out.push(chart(
        "Deployments by outcome",
        "succeeded and failed deployments per bucket, by finish time",
        outcome,
    ));

    let lead = match Unit::of(points.iter().filter_map(|p| p.lead_time_p90_seconds)) {
        None => no_data("No succeeded deployment with a commit time finished in this window."),
        Some(unit) => drawn(
            charts::lines(
                buckets,
                &[
                    unit.series("median", points, |p| p.lead_time_median_seconds),
                    unit.series("p90", points, |p| p.lead_time_p90_seconds),
                ],
                None,
                &unit.axis("lead time"),
            ),
            format!(
                "Median lead time per {per} {}, p90 beside it; over the whole window the median is {} from {} of {} succeeded deployments.",
                range(points),
                total.lead_time_median_seconds.map_or("no data".into(), describe_seconds),
                total.with_commit_time,
                total.succeeded
            ),
        ),
    };
    out.push(chart(
        "Lead time for changes",
        Key::LeadTime.formula(),
        lead,
    ));

    let cfr = if total.attempted == 0 {
        no_data("No deployment was attempted in this window.")
    } else {
        drawn(
            charts::lines(
                buckets,
                &[Series {
                    name: "change failure rate",
                    values: points.iter().map(|p| p.change_failure_rate.map(|r| r * 100.0)).collect(),
                }],
                Some(&Target {
                    value: 5.0,
                    label: "Elite ≤ 5%".into(),
                }),
                &Axis::percent(),
            ),
            format!(
                "Change failure rate per {per} {}; {} over the whole window ({} of {} attempted). The dotted line is DORA's Elite threshold, 5%.",
                range(points),
                total.change_failure_rate.map_or("no data".into(), describe_fraction),
                total.failed_changes,
                total.attempted
            ),
        )
    };
    out.push(chart(
        "Change failure rate",
        Key::ChangeFailureRate.formula(),
        cfr,
    ));

    let highest = points
        .iter()
        .flat_map(|p| [p.recovery_time_median_seconds, p.mttr_mean_seconds])
        .flatten()
        .chain([3_600.0]);
    let recovery = match (total.recovery_time_median_seconds, total.mttr_mean_seconds) {
        (None, None) => {
            no_data("No failed change was restored and no incident resolved in this window.")
        }
        _ => {
            let unit = Unit::of(highest).unwrap_or(Unit::HOURS);
            drawn(
                charts::lines(
                    buckets,
                    &[
                        unit.series("recovery time (median)", points, |p| p.recovery_time_median_seconds),
                        unit.series("MTTR (mean)", points, |p| p.mttr_mean_seconds),
                    ],
                    Some(&Target {
                        value: 3_600.0 / unit.seconds,
                        label: "RTO for SEV1/SEV2: 1 h".into(),
                    }),
                    &unit.axis("time to restore"),
                ),
                format!(
                    "Failed deployment recovery time (median) and incident MTTR (mean) per {per} {}; over the whole window {} and {}. The dotted line is the guide's 1-hour RTO for critical incidents.",
                    range(points),
                    total.recovery_time_median_seconds.map_or("no data".into(), describe_seconds),
                    total.mttr_mean_seconds.map_or("no data".into(), describe_seconds)
                ),
            )
        }
    };
    out.push(chart(
        "Recovery time and MTTR",
        "recovery: median over restored failed changes; MTTR: mean over resolved incidents",
        recovery,
    ));
    out
}

/// A chart's SVG and its text alternative; a drawing that failed leaves the words.
fn drawn(svg: Result<String, String>, description: String) -> (String, String) {
    match svg {
        Ok(svg) => (svg, description),
        Err(error) => {
            tracing::error!(%error, "drawing a metrics chart failed");
            (
                String::new(),
                format!("The chart could not be drawn. {description}"),
            )
        }
    }
}

fn no_data(sentence: &str) -> (String, String) {
    (String::new(), format!("No data: {sentence}"))
}

fn chart(title: &str, formula: &str, (svg, description): (String, String)) -> Chart {
    Chart {
        title: title.to_owned(),
        formula: formula.to_owned(),
        description,
        svg,
    }
}

/// The unit a duration chart's axis reads in.
#[derive(Clone, Copy)]
struct Unit {
    name: &'static str,
    seconds: f64,
}

impl Unit {
    const MINUTES: Unit = Unit {
        name: "minutes",
        seconds: 60.0,
    };
    const HOURS: Unit = Unit {
        name: "hours",
        seconds: 3_600.0,
    };
    const DAYS: Unit = Unit {
        name: "days",
        seconds: 86_400.0,
    };

    /// The unit for values up to the largest of `seconds`; `None` when there are none.
    fn of(seconds: impl Iterator<Item = f64>) -> Option<Unit> {
        let highest = seconds.reduce(f64::max)?;
        Some(if highest < 2.0 * 3_600.0 {
            Unit::MINUTES
        } else if highest < 72.0 * 3_600.0 {
            Unit::HOURS
        } else {
            Unit::DAYS
        })
    }

    fn series(
        self,
        name: &'static str,
        points: &[Figures],
        value: fn(&Figures) -> Option<f64>,
    ) -> Series {
        Series {
            name,
            values: points
                .iter()
                .map(|p| value(p).map(|s| s / self.seconds))
                .collect(),
        }
    }

    fn axis(self, what: &str) -> Axis {
        Axis {
            description: format!("{what} ({})", self.name),
            percent: false,
        }
    }
}

fn service_row(request: &Request, service: String, f: &Figures) -> ServiceRow {
    let cells = Key::ALL
        .into_iter()
        .map(|key| ServiceCell {
            value: key.value(f).map_or_else(
                || "no data".to_owned(),
                |v| match key {
                    Key::DeploymentFrequency => describe_frequency(v),
                    Key::ChangeFailureRate => describe_fraction(v),
                    Key::LeadTime | Key::RecoveryTime => describe_seconds(v),
                },
            ),
            level: key.level(&f.levels),
        })
        .collect();
    let time = |t: Timestamp| encode(&t.to_rfc3339().unwrap_or_default());
    let href = format!(
        "/metrics?service={}&from={}&to={}",
        encode(&service),
        time(request.window.from),
        time(request.window.to)
    );
    ServiceRow {
        service,
        cells,
        href,
    }
}

fn describe_scope(request: &Request) -> String {
    let place = match (&request.service, &request.environment) {
        (Some(s), Some(e)) => format!("{s} in {e}"),
        (Some(s), None) => format!("Production environments of {s}"),
        (None, Some(e)) => format!("Every service's {e} environment"),
        (None, None) => "Production environments of every service".to_owned(),
    };
    format!(
        "{place}, {} to {} ({})",
        request.window.from,
        request.window.to,
        describe_days(request.window)
    )
}

/// "30 days", "1.5 days".
fn describe_days(window: Window) -> String {
    let days = window.days();
    if (days - days.round()).abs() < 1e-9 {
        format!("{days:.0} day{}", if days == 1.0 { "" } else { "s" })
    } else {
        format!("{days:.1} days")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_below_the_shown_precision_is_no_change() {
        // 2.84 and 2.76 a day both read "2.8/day".
        assert_eq!(
            trend(Some(2.76), Some(2.84), describe_frequency, true),
            Some(Trend::Same)
        );
        assert_eq!(
            trend(Some(2.9), Some(2.84), describe_frequency, true),
            Some(Trend::Better)
        );
        assert_eq!(
            trend(Some(2.7), Some(2.84), describe_frequency, true),
            Some(Trend::Worse)
        );
        // Lower is better for the change failure rate.
        assert_eq!(
            trend(Some(0.10), Some(0.20), describe_fraction, false),
            Some(Trend::Better)
        );
        assert_eq!(
            trend(Some(0.20), Some(0.10), describe_fraction, false),
            Some(Trend::Worse)
        );
        assert_eq!(
            trend(Some(0.2), Some(0.2), describe_fraction, false),
            Some(Trend::Same)
        );
    }

    #[test]
    fn no_trend_without_both_figures() {
        assert_eq!(trend(None, Some(1.0), describe_frequency, true), None);
        assert_eq!(trend(Some(1.0), None, describe_frequency, true), None);
        assert_eq!(trend(None, None, describe_frequency, true), None);
    }
}
