//! What Prometheus scrapes of the delivery metrics: every environment's figures over the last
//! 30 days as gauges (one pass over the window, folded per environment), and every deployment
//! and operation so far as counters by outcome. The server adds its own HTTP series.

use std::collections::BTreeMap;

use super::{store, Plan, Request};
use crate::{
    backend::Database,
    domain::{
        metrics::{
            exposition::{write_figures, Exposition, Kind},
            Bucket, Window,
        },
        Timestamp,
    },
    error::AppError,
};

/// The sliding window the gauges cover, as their `window` label says.
const WINDOW: &str = "30d";

/// Writes the delivery series into `out`, as of `now`. Nobody's role is checked here: the
/// endpoint's own token is (see the server's `http::prometheus`).
pub async fn write(db: &Database, now: Timestamp, out: &mut Exposition) -> Result<(), AppError> {
    let scope = store::every_environment(db.reader()).await?;
    let request = Request {
        window: Window::preset(WINDOW, now)?,
        bucket: Bucket::Week,
        service: None,
        environment: None,
        scope,
    };
    let plan = Plan {
        environments: true,
        ..Plan::default()
    };
    let mut tallies = request.tally(db, plan).await?;
    fn labels(place: &store::ScopeRow) -> Vec<(&str, &str)> {
        vec![
            ("service", place.service.as_str()),
            ("environment", place.environment.as_str()),
            ("tier", place.tier.as_str()),
        ]
    }
    let places: BTreeMap<i64, &store::ScopeRow> = request
        .scope
        .iter()
        .map(|place| (place.environment_id, place))
        .collect();
    let rows: Vec<_> = request
        .scope
        .iter()
        .map(|place| {
            let tally = tallies
                .environments
                .remove(&place.environment_id)
                .unwrap_or_default();
            let mut labels = labels(place);
            labels.push(("window", WINDOW));
            (labels, tally.figures(request.window))
        })
        .collect();
    write_figures(out, &rows);

    let deployments = store::deployment_counts(db.reader()).await?;
    out.family(
        "switchyard_deployments_total",
        Kind::Counter,
        "Deployments recorded so far, by status.",
    );
    for (environment_id, status, count) in &deployments {
        if let Some(place) = places.get(environment_id) {
            let mut labels = labels(place);
            labels.push(("status", status));
            out.sample("switchyard_deployments_total", &labels, *count as f64);
        }
    }
    let operations = store::operation_counts(db.reader()).await?;
    out.family(
        "switchyard_operations_total",
        Kind::Counter,
        "Operations (deploy, switch, rollback, canary) run so far, by action and status.",
    );
    for (environment_id, action, status, count) in &operations {
        if let Some(place) = places.get(environment_id) {
            let mut labels = labels(place);
            labels.push(("action", action));
            labels.push(("status", status));
            out.sample("switchyard_operations_total", &labels, *count as f64);
        }
    }
    Ok(())
}
