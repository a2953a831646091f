//! Reading the facts the metrics are computed from: each deployment (a week of the window at a
//! time) and each incident in the window, with what PRODUCT.md's formulas need of their links
//! worked out in SQL.

use futures_util::TryStreamExt;
use sqlx::FromRow;

use super::super::{storage::Pool, StorageError};
use crate::{
    domain::{
        deployments::DeploymentStatus,
        metrics::{window::WEEK_MS, DeploymentFact, IncidentFact, Window},
        Timestamp,
    },
    on_pool,
};

/// An environment the metrics count, with its service.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ScopeRow {
    pub environment_id: i64,
    pub service_id: i64,
    pub service: String,
    pub environment: String,
    pub tier: String,
}

const SCOPE: &str = "SELECT e.id AS environment_id, s.id AS service_id, s.name AS service, \
    e.name AS environment, e.tier FROM environments e JOIN services s ON s.id = e.service_id";

/// Every environment in scope: `service`'s (or every service's) environments named
/// `environment`, or, without one, those of the production tier. Also whether the named
/// service exists, so an unknown name is refused rather than answered with "no data".
pub async fn scope(
    pool: Pool<'_>,
    service: Option<&str>,
    environment: Option<&str>,
) -> Result<Vec<ScopeRow>, StorageError> {
    let sql = format!(
        "{SCOPE} WHERE ($1 IS NULL OR s.name = $1) \
         AND (($2 IS NULL AND e.tier = 'production') OR e.name = $2) ORDER BY s.name, e.id"
    );
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(service)
            .bind(environment)
            .fetch_all(pool)
            .await
    })?)
}

/// Every environment of every service, whatever its tier.
pub async fn every_environment(pool: Pool<'_>) -> Result<Vec<ScopeRow>, StorageError> {
    let sql = format!("{SCOPE} ORDER BY s.name, e.name");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql).fetch_all(pool).await
    })?)
}

/// How many deployments each environment has had so far, by status:
/// `(environment_id, status, count)`.
pub async fn deployment_counts(pool: Pool<'_>) -> Result<Vec<(i64, String, i64)>, StorageError> {
    const SQL: &str = "SELECT environment_id, status, COUNT(*) FROM deployments \
        GROUP BY environment_id, status";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).fetch_all(pool).await
    })?)
}

/// How many operations each environment has run so far, by action and status:
/// `(environment_id, action, status, count)`.
pub async fn operation_counts(
    pool: Pool<'_>,
) -> Result<Vec<(i64, String, String, i64)>, StorageError> {
    const SQL: &str = "SELECT environment_id, action, status, COUNT(*) FROM operations \
        GROUP BY environment_id, action, status";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).fetch_all(pool).await
    })?)
}

pub async fn service_exists(pool: Pool<'_>, name: &str) -> Result<bool, StorageError> {
    let found: Option<i64> = on_pool!(pool, |pool| {
        sqlx::query_scalar("SELECT id FROM services WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
    })?;
    Ok(found.is_some())
}

pub async fn environment_exists(pool: Pool<'_>, name: &str) -> Result<bool, StorageError> {
    let found: Option<i64> = on_pool!(pool, |pool| {
        sqlx::query_scalar("SELECT id FROM environments WHERE name = $1 LIMIT 1")
            .bind(name)
            .fetch_optional(pool)
            .await
    })?;
    Ok(found.is_some())
}

/// Where a fact happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub service_id: i64,
    pub environment_id: i64,
}

/// One deployment fact as the engine writes it into JSON, in [`FACT_COLUMNS`]' order.
#[derive(serde::Deserialize)]
struct DeploymentRow {
    service_id: i64,
    environment_id: i64,
    status: DeploymentStatus,
    #[serde(deserialize_with = "flag")]
    is_rollback: bool,
    #[serde(deserialize_with = "flag")]
    rolled_back: bool,
    started_at: i64,
    finished_at: i64,
    commit_at: Option<i64>,
    #[serde(deserialize_with = "flag")]
    fixes_incident: bool,
    cause_started: Option<i64>,
    cause_resolved: Option<i64>,
    next_success: Option<i64>,
}

/// The deployment facts. A failed change's restoration looks past the window's end: a
/// failure in the window counts as restored whenever it was.
pub const DEPLOYMENTS: &str = "SELECT d.service_id, d.environment_id, d.status, d.is_rollback, \
    (d.rolled_back_at IS NOT NULL) AS rolled_back, d.started_at, d.finished_at, d.commit_at, \
    EXISTS (SELECT 1 FROM incident_links l WHERE l.deployment_id = d.id AND l.kind = 'fix') AS fixes_incident, \
    (SELECT MIN(i.started_at) FROM incident_links l JOIN incidents i ON i.id = l.incident_id \
        WHERE l.deployment_id = d.id AND l.kind = 'cause') AS cause_started, \
    (SELECT MIN(i.resolved_at) FROM incident_links l JOIN incidents i ON i.id = l.incident_id \
        WHERE l.deployment_id = d.id AND l.kind = 'cause') AS cause_resolved, \
    CASE WHEN d.status = 'failed' OR d.rolled_back_at IS NOT NULL \
        OR EXISTS (SELECT 1 FROM incident_links l WHERE l.deployment_id = d.id AND l.kind = 'cause') \
    THEN (SELECT MIN(n.finished_at) FROM deployments n \
        WHERE n.service_id = d.service_id AND n.environment_id = d.environment_id \
        AND n.status = 'succeeded' AND n.finished_at > d.finished_at) END AS next_success \
    FROM deployments d WHERE d.status <> 'running' AND d.finished_at >= ";

/// The columns of [`DEPLOYMENTS`], in [`DeploymentRow`]'s order.
const FACT_COLUMNS: &str = "service_id, environment_id, status, is_rollback, rolled_back, \
    started_at, finished_at, commit_at, fixes_incident, cause_started, cause_resolved, next_success";

/// How much of the window one query reads.
const SLICE_MS: i64 = WEEK_MS;

/// Calls `visit` with each deployment of `environments` that finished in `window`, and where
/// it ran.
///
/// The window is read a week at a time, each week's facts folded by the engine into one JSON
/// array: sqlx's SQLite driver hands every row from its worker thread to the caller across a
/// channel, which cost three times the query itself for a 90-day window (README, Benchmarks),
/// while one row per week costs little more than the query. A week also bounds the memory a
/// busy history needs.
pub async fn each_deployment(
    pool: Pool<'_>,
    environments: &[i64],
    window: Window,
    mut visit: impl FnMut(Place, DeploymentFact),
) -> Result<(), StorageError> {
    if environments.is_empty() {
        return Ok(());
    }
    let select = match pool {
        Pool::Sqlite(_) => format!("SELECT json_group_array(json_array({FACT_COLUMNS}))"),
        Pool::Postgres(_) => format!("SELECT json_agg(json_build_array({FACT_COLUMNS}))::text"),
    };
    let opening = format!("{select} FROM ({DEPLOYMENTS}");
    let mut from = window.from;
    while from < window.to {
        let to = Timestamp(from.millis().saturating_add(SLICE_MS)).min(window.to);
        // PostgreSQL aggregates no rows into NULL, SQLite into `[]`.
        let json: Option<String> = on_pool!(pool, |pool| {
            let mut query = sqlx::QueryBuilder::new(&opening);
            query.push_bind(from.millis());
            query.push(" AND d.finished_at < ").push_bind(to.millis());
            in_list(&mut query, " AND d.environment_id IN (", environments);
            query.push(") AS facts");
            query.build_query_scalar().fetch_one(pool).await
        })?;
        let rows: Vec<DeploymentRow> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
            .map_err(|e| StorageError::Corrupt(format!("deployment facts: {e}")))?;
        for row in rows {
            let place = Place {
                service_id: row.service_id,
                environment_id: row.environment_id,
            };
            visit(place, row.into());
        }
        from = to;
    }
    Ok(())
}

impl From<DeploymentRow> for DeploymentFact {
    fn from(row: DeploymentRow) -> Self {
        let at = |millis: Option<i64>| millis.map(Timestamp);
        DeploymentFact {
            status: row.status,
            is_rollback: row.is_rollback,
            rolled_back: row.rolled_back,
            started_at: Timestamp(row.started_at),
            finished_at: Timestamp(row.finished_at),
            commit_at: at(row.commit_at),
            fixes_incident: row.fixes_incident,
            cause_started: at(row.cause_started),
            cause_resolved: at(row.cause_resolved),
            next_success: at(row.next_success),
        }
    }
}

/// A truth value in the engines' JSON: SQLite writes `0` or `1`, PostgreSQL `false` or `true`.
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a boolean, 0 or 1")
        }
        fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<bool, E> {
            Ok(value)
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<bool, E> {
            match value {
                0 | 1 => Ok(value == 1),
                _ => Err(E::invalid_value(
                    serde::de::Unexpected::Unsigned(value),
                    &self,
                )),
            }
        }
    }
    deserializer.deserialize_any(Flag)
}

/// Appends `opening` (ending in `IN (`), a placeholder per id, and the closing parenthesis.
fn in_list<'a, DB: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<'a, DB>,
    opening: &str,
    ids: &'a [i64],
) where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    query.push(opening);
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
}

/// Calls `visit` with each incident of `environments` resolved in `window`, and where it was.
pub async fn each_incident(
    pool: Pool<'_>,
    environments: &[i64],
    window: Window,
    mut visit: impl FnMut(Place, IncidentFact),
) -> Result<(), StorageError> {
    if environments.is_empty() {
        return Ok(());
    }
    on_pool!(pool, |pool| {
        let mut query = sqlx::QueryBuilder::new(
            "SELECT i.service_id, i.environment_id, i.started_at, i.resolved_at FROM incidents i \
             WHERE i.resolved_at >= ",
        );
        query.push_bind(window.from.millis());
        query
            .push(" AND i.resolved_at < ")
            .push_bind(window.to.millis());
        in_list(&mut query, " AND i.environment_id IN (", environments);
        let mut rows = query
            .build_query_as::<(i64, i64, Timestamp, Timestamp)>()
            .fetch(pool);
        while let Some((service_id, environment_id, started_at, resolved_at)) =
            rows.try_next().await?
        {
            visit(
                Place {
                    service_id,
                    environment_id,
                },
                IncidentFact {
                    started_at,
                    resolved_at,
                },
            );
        }
    });
    Ok(())
}
