//! The delivery metrics: which environments and window a request means, one streamed pass over
//! the facts in it (the window, its predecessor, its buckets and its services folded at once),
//! and the Metrics page's cards, charts and table, worded and drawn here so the browser only
//! shows them.

mod charts;
pub mod prometheus;
pub mod store;
mod view;

use std::{collections::BTreeMap, num::NonZeroUsize, sync::LazyLock};

use tokio::sync::Semaphore;

use super::{incidents, Caller, Database};
use crate::{
    domain::{
        metrics::{Bucket, Figures, Tally, Window},
        Action, FieldError, FieldErrors, Timestamp,
    },
    error::AppError,
    model::{
        ActionItemFilter, IncidentFilter, MetricsQuery, MetricsReport, MetricsSeries, MetricsView,
    },
};

/// The figures of one window: `GET /api/v1/metrics`.
pub async fn figures(
    db: &Database,
    caller: &Caller,
    query: &MetricsQuery,
) -> Result<Figures, AppError> {
    caller.authorize(Action::Read)?;
    let request = Request::read(db, query, Timestamp::now()).await?;
    let tallies = request.tally(db, Plan::default()).await?;
    Ok(tallies.current.figures(request.window))
}

/// The same figures per bucket: `GET /api/v1/metrics/series`.
pub async fn series(
    db: &Database,
    caller: &Caller,
    query: &MetricsQuery,
) -> Result<MetricsSeries, AppError> {
    caller.authorize(Action::Read)?;
    let request = Request::read(db, query, Timestamp::now()).await?;
    let plan = Plan {
        buckets: true,
        ..Plan::default()
    };
    let tallies = request.tally(db, plan).await?;
    let points = request
        .window
        .buckets(request.bucket)
        .into_iter()
        .zip(tallies.buckets)
        .map(|(window, tally)| tally.figures(window))
        .collect();
    Ok(MetricsSeries {
        bucket: request.bucket,
        points,
    })
}

/// Everything the Metrics page shows.
pub async fn view(
    db: &Database,
    caller: &Caller,
    query: &MetricsQuery,
) -> Result<MetricsView, AppError> {
    caller.authorize(Action::Read)?;
    let request = Request::read(db, query, Timestamp::now()).await?;
    let plan = Plan {
        previous: true,
        buckets: true,
        services: true,
        ..Plan::default()
    };
    let tallies = request.tally(db, plan).await?;
    Ok(view::build(&request, tallies))
}

/// The printable report: the page's figures, the incidents resolved in the window (with their
/// post-mortems) in the same scope, and every open action item, overdue first.
pub async fn report(
    db: &Database,
    caller: &Caller,
    query: &MetricsQuery,
) -> Result<MetricsReport, AppError> {
    let view = view(db, caller, query).await?;
    let time = |t: Timestamp| t.to_rfc3339();
    let incidents = IncidentFilter {
        status: Some("resolved".into()),
        service: query.service.clone(),
        environment: query.environment.clone(),
        resolved_from: time(view.figures.from),
        resolved_to: time(view.figures.to),
        tier: query
            .environment
            .as_deref()
            .is_none_or(|e| e.trim().is_empty())
            .then(|| "production".into()),
        ..IncidentFilter::default()
    };
    let open = ActionItemFilter {
        status: Some("open".into()),
        ..ActionItemFilter::default()
    };
    Ok(MetricsReport {
        incidents: incidents::list(db, caller, &incidents).await?,
        action_items: incidents::postmortems::action_items(db, caller, &open).await?,
        made_at: Timestamp::now().to_string(),
        view,
    })
}

/// A checked request: its window, the buckets of its trend and the environments it counts.
pub(crate) struct Request {
    pub window: Window,
    pub bucket: Bucket,
    pub service: Option<String>,
    pub environment: Option<String>,
    pub scope: Vec<store::ScopeRow>,
}

impl Request {
    /// Reads `query`; every field that is wrong is named at once, before anything is computed.
    async fn read(db: &Database, query: &MetricsQuery, now: Timestamp) -> Result<Self, AppError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (service, environment) = (given(&query.service), given(&query.environment));
        let mut errors = Vec::new();
        let custom = given(&query.from).is_some() || given(&query.to).is_some();
        let window = match given(&query.range).filter(|r| r != "custom" && !custom) {
            Some(range) => Window::preset(&range, now).map_err(FieldErrors::from),
            None => Window::parse(query.from.as_deref(), query.to.as_deref(), now),
        }
        .map_err(|e| errors.extend(e.0))
        .ok();
        let bucket = given(&query.bucket)
            .map(|b| Bucket::parse("bucket", &b))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let pool = db.reader();
        if let Some(name) = &service {
            if !store::service_exists(pool, name).await? {
                errors.push(FieldError::new(
                    "service",
                    format!("There is no service named {name}; pick one from Services, or leave it empty for all."),
                ));
            }
        }
        if let Some(name) = &environment {
            if !store::environment_exists(pool, name).await? {
                errors.push(FieldError::new(
                    "environment",
                    format!("No service has an environment named {name}; leave it empty for every production environment."),
                ));
            }
        }
        let (Some(window), true) = (window, errors.is_empty()) else {
            return Err(FieldErrors(errors).into());
        };
        let scope = store::scope(pool, service.as_deref(), environment.as_deref()).await?;
        if let (Some(service), Some(environment), true) = (&service, &environment, scope.is_empty())
        {
            return Err(FieldError::new(
                "environment",
                format!("Service {service} has no environment named {environment}."),
            )
            .into());
        }
        Ok(Self {
            window,
            bucket: bucket.unwrap_or_else(|| Bucket::for_window(window)),
            service,
            environment,
            scope,
        })
    }

    /// One pass over the deployments and incidents of the window (and of the one before it,
    /// when the plan compares), adding each to every tally it belongs to.
    async fn tally(&self, db: &Database, plan: Plan) -> Result<Tallies, AppError> {
        let _turn = PASSES.acquire().await.ok();
        let window = self.window;
        let previous = window.previous();
        let span = Window {
            from: if plan.previous {
                previous.from
            } else {
                window.from
            },
            to: window.to,
        };
        let environments: Vec<i64> = self.scope.iter().map(|s| s.environment_id).collect();
        let mut tallies = Tallies {
            buckets: if plan.buckets {
                vec![Tally::default(); window.buckets(self.bucket).len()]
            } else {
                Vec::new()
            },
            ..Tallies::default()
        };
        let bucket = self.bucket;
        store::each_deployment(db.reader(), &environments, span, |place, fact| {
            tallies.each(plan, window, bucket, place, fact.finished_at, |t| {
                t.add_deployment(&fact)
            });
        })
        .await?;
        store::each_incident(db.reader(), &environments, span, |place, fact| {
            tallies.each(plan, window, bucket, place, fact.resolved_at, |t| {
                t.add_incident(&fact)
            });
        })
        .await?;
        Ok(tallies)
    }
}

/// Passes take turns, as many at once as there are cores. A pass is CPU work, here and in
/// SQLite's reader threads, so more at once finish no sooner and each holds its window's
/// facts and tallies meanwhile: 16 Metrics pages at once over 1,000,000 deployments peaked
/// at 81 MB before (README, Benchmarks). Never closed, so a turn always comes.
static PASSES: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, NonZeroUsize::get))
});

/// What a pass folds besides the window itself.
#[derive(Clone, Copy, Debug, Default)]
struct Plan {
    previous: bool,
    buckets: bool,
    services: bool,
    environments: bool,
}

#[derive(Default)]
pub(crate) struct Tallies {
    pub current: Tally,
    pub previous: Tally,
    pub buckets: Vec<Tally>,
    pub services: BTreeMap<i64, Tally>,
    pub environments: BTreeMap<i64, Tally>,
}

impl Tallies {
    /// Applies `add` to each tally a fact at `at` belongs to.
    fn each(
        &mut self,
        plan: Plan,
        window: Window,
        bucket: Bucket,
        place: store::Place,
        at: Timestamp,
        add: impl Fn(&mut Tally),
    ) {
        if !window.contains(at) {
            if plan.previous {
                add(&mut self.previous);
            }
            return;
        }
        add(&mut self.current);
        if plan.buckets {
            if let Some(i) = window.bucket_of(bucket, at) {
                add(&mut self.buckets[i]);
            }
        }
        if plan.services {
            add(self.services.entry(place.service_id).or_default());
        }
        if plan.environments {
            add(self.environments.entry(place.environment_id).or_default());
        }
    }
}
