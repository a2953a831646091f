//! The `deployments` table.

use sqlx::FromRow;

use super::super::{
    storage::{escape_like, stored, Pool, Tx},
    StorageError,
};
use crate::{
    domain::{
        catalog::{SlotColor, Strategy, Tier},
        deployments::{DeploymentStatus, Finish, NewDeployment, Source},
        paging::Cursor,
        Timestamp,
    },
    model::{Deployment, Recorder},
    on_pool, on_tx,
};

/// The environment a deployment goes to, as the table refers to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub service_id: i64,
    pub environment_id: i64,
    pub strategy: Strategy,
}

/// The ids and strategy of `service`'s environment `environment`.
pub async fn target(
    pool: Pool<'_>,
    service: &str,
    environment: &str,
) -> Result<Option<Target>, StorageError> {
    const SQL: &str = "SELECT e.service_id, e.id, e.strategy FROM environments e \
        JOIN services s ON s.id = e.service_id WHERE s.name = $1 AND e.name = $2";
    let row: Option<(i64, i64, String)> = on_pool!(pool, |pool| {
        sqlx::query_as(SQL)
            .bind(service)
            .bind(environment)
            .fetch_optional(pool)
            .await
    })?;
    row.map(|(service_id, environment_id, strategy)| {
        Ok(Target {
            service_id,
            environment_id,
            strategy: stored(Strategy::parse("strategy", &strategy))?,
        })
    })
    .transpose()
}

/// The id of the service called `name`.
pub async fn service_id(pool: Pool<'_>, name: &str) -> Result<Option<i64>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar("SELECT id FROM services WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
    })?)
}

/// Everything a new row holds beyond what was reported.
#[derive(Clone, Debug)]
pub struct Insert<'a> {
    pub deployment: &'a NewDeployment,
    pub target: Target,
    pub strategy: Strategy,
    pub slot: Option<SlotColor>,
    pub recorded_by: &'a Recorder,
    pub source: Source,
    pub external_id: Option<&'a str>,
    pub now: Timestamp,
}

/// Inserts a deployment; returns its id.
pub async fn insert(tx: &mut Tx, row: &Insert<'_>) -> Result<i64, StorageError> {
    const SQL: &str = "INSERT INTO deployments (service_id, environment_id, version, commit_sha, \
        commit_at, strategy, slot, started_at, finished_at, status, is_rollback, recorded_by_kind, \
        recorded_by, source, notes, url, external_id, created_at) \
        VALUES ($1, $2, $3, $4, COALESCE($5, (SELECT MIN(c.committed_at) FROM commits c \
            WHERE c.sha >= $4 AND c.sha < ($4 || 'g') AND c.committed_at <= $8)), \
            $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
        RETURNING id";
    let d = row.deployment;
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(row.target.service_id)
            .bind(row.target.environment_id)
            .bind(d.version.as_str())
            .bind(d.commit_sha.as_ref().map(|sha| sha.as_str()))
            .bind(d.commit_at)
            .bind(row.strategy.as_str())
            .bind(row.slot.map(SlotColor::as_str))
            .bind(d.started_at)
            .bind(d.finished_at)
            .bind(d.status.as_str())
            .bind(d.is_rollback)
            .bind(&row.recorded_by.kind)
            .bind(&row.recorded_by.name)
            .bind(row.source.as_str())
            .bind(&d.notes)
            .bind(&d.url)
            .bind(row.external_id)
            .bind(row.now)
            .fetch_one(conn)
            .await
    })?)
}

/// Remembers when `sha` was committed, keeping the earliest time it was ever reported with.
pub async fn remember_commit(
    tx: &mut Tx,
    sha: &str,
    committed_at: Timestamp,
    now: Timestamp,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO commits (sha, committed_at, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha) DO UPDATE SET committed_at = CASE \
             WHEN excluded.committed_at < commits.committed_at THEN excluded.committed_at \
             ELSE commits.committed_at END",
        )
        .bind(sha)
        .bind(committed_at)
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Gives the deployments of commit `sha` that have no commit time yet the one now known (if
/// it is not after they started); returns how many.
pub async fn fill_commit_time(
    tx: &mut Tx,
    sha: &str,
    committed_at: Timestamp,
) -> Result<u64, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE deployments SET commit_at = $2 \
             WHERE commit_sha = $1 AND commit_at IS NULL AND started_at >= $2",
        )
        .bind(sha)
        .bind(committed_at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?)
}

/// A GitHub environment without a match, as stored.
#[derive(Clone, Debug, FromRow)]
pub struct GithubEnvironmentRow {
    pub service: String,
    pub name: String,
    pub repository: String,
    pub maps_to: Option<String>,
    pub ignored: bool,
    pub events: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

const GITHUB_ENVIRONMENT: &str = "SELECT service, name, repository, maps_to, ignored, events, \
    first_seen, last_seen FROM github_environments";

pub async fn github_environment(
    pool: Pool<'_>,
    service: &str,
    name: &str,
) -> Result<Option<GithubEnvironmentRow>, StorageError> {
    let sql = format!("{GITHUB_ENVIRONMENT} WHERE service = $1 AND name = $2");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(service)
            .bind(name)
            .fetch_optional(pool)
            .await
    })?)
}

/// Every GitHub environment without a match: those waiting for a decision first, then the
/// most recently seen.
pub async fn github_environments(
    pool: Pool<'_>,
) -> Result<Vec<GithubEnvironmentRow>, StorageError> {
    let sql = format!(
        "{GITHUB_ENVIRONMENT} ORDER BY CASE WHEN maps_to IS NULL AND NOT ignored THEN 0 ELSE 1 END, \
         last_seen DESC, service, name"
    );
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql).fetch_all(pool).await
    })?)
}

/// Counts an event of a GitHub environment, listing it the first time.
pub async fn saw_github_environment(
    tx: &mut Tx,
    service: &str,
    name: &str,
    repository: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO github_environments (service, name, repository, events, first_seen, \
             last_seen) VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT (service, name) DO UPDATE \
             SET events = github_environments.events + 1, last_seen = $4, repository = $3",
        )
        .bind(service)
        .bind(name)
        .bind(repository)
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Records an admin's decision; false when no such environment is listed.
pub async fn decide_github_environment(
    tx: &mut Tx,
    service: &str,
    name: &str,
    (maps_to, ignored): (Option<&str>, bool),
) -> Result<bool, StorageError> {
    let affected = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE github_environments SET maps_to = $3, ignored = $4 \
             WHERE service = $1 AND name = $2",
        )
        .bind(service)
        .bind(name)
        .bind(maps_to)
        .bind(ignored)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// The names of `service`'s environments, for a mapping's choices.
pub async fn environment_names(pool: Pool<'_>, service: &str) -> Result<Vec<String>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar(
            "SELECT e.name FROM environments e JOIN services s ON s.id = e.service_id \
             WHERE s.name = $1 ORDER BY e.name",
        )
        .bind(service)
        .fetch_all(pool)
        .await
    })?)
}

/// Ends a running deployment; false when it was not running any more (someone else ended it
/// first), which leaves it untouched.
pub async fn finish(tx: &mut Tx, id: i64, finish: Finish) -> Result<bool, StorageError> {
    let affected = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE deployments SET status = $2, finished_at = $3 WHERE id = $1 AND status = 'running'",
        )
        .bind(id)
        .bind(finish.status.as_str())
        .bind(finish.finished_at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// Appends a paragraph to a deployment's notes.
pub async fn append_note(tx: &mut Tx, id: i64, paragraph: &str) -> Result<bool, StorageError> {
    let affected = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE deployments SET notes = CASE WHEN notes = '' THEN $2 ELSE notes || $3 END WHERE id = $1",
        )
        .bind(id)
        .bind(paragraph)
        .bind(format!("\n\n{paragraph}"))
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// A succeeded deployment recorded (not run by an operation) puts its version in place: on
/// the slot it names (blue-green), or as the environment's current version (rolling, canary),
/// unless a deployment that reached that place later is already there. A change counts in
/// the environment's revision, so a switch confirmed on the old state is refused. Returns
/// whether anything changed.
pub async fn place(
    tx: &mut Tx,
    deployment_id: i64,
    environment_id: i64,
    slot: Option<SlotColor>,
    version: &str,
    finished_at: Timestamp,
) -> Result<bool, StorageError> {
    // A later deployment of the same place: ended after this one, or still running and
    // started after it (an operation's deploy to idle, say).
    const LATER: &str = "SELECT 1 FROM deployments n WHERE n.environment_id = $1 AND n.id <> $2 \
        AND n.status IN ('succeeded', 'running') AND COALESCE(n.finished_at, n.started_at) > $3";
    let changed = match slot {
        Some(color) => {
            let sql = format!(
                "UPDATE slots SET version = $4, deployment_id = $2 \
                 WHERE environment_id = $1 AND color = $5 AND NOT EXISTS ({LATER} AND n.slot = $5)"
            );
            on_tx!(tx, |conn| {
                sqlx::query(&sql)
                    .bind(environment_id)
                    .bind(deployment_id)
                    .bind(finished_at)
                    .bind(version)
                    .bind(color.as_str())
                    .execute(conn)
                    .await
                    .map(|r| r.rows_affected())
            })?
        }
        None => {
            let sql = format!(
                "UPDATE environments SET current_version = $4, current_deployment_id = $2 \
                 WHERE id = $1 AND live_slot IS NULL AND NOT EXISTS ({LATER})"
            );
            on_tx!(tx, |conn| {
                sqlx::query(&sql)
                    .bind(environment_id)
                    .bind(deployment_id)
                    .bind(finished_at)
                    .bind(version)
                    .execute(conn)
                    .await
                    .map(|r| r.rows_affected())
            })?
        }
    };
    if changed > 0 {
        on_tx!(tx, |conn| {
            sqlx::query("UPDATE environments SET revision = revision + 1 WHERE id = $1")
                .bind(environment_id)
                .execute(conn)
                .await
                .map(drop)
        })?;
    }
    Ok(changed > 0)
}

/// Marks the deployment a succeeded rollback replaced: the newest succeeded deployment of
/// another version in the same environment that finished before the rollback started and
/// is not marked yet. Returns its id, if there was one.
pub async fn mark_replaced(
    tx: &mut Tx,
    rollback_id: i64,
    environment_id: i64,
    version: &str,
    rollback_started_at: Timestamp,
    at: Timestamp,
) -> Result<Option<i64>, StorageError> {
    const FIND: &str = "SELECT id FROM deployments \
        WHERE environment_id = $1 AND id <> $2 AND status = 'succeeded' AND version <> $3 \
          AND rolled_back_at IS NULL AND finished_at <= $4 \
        ORDER BY finished_at DESC, id DESC LIMIT 1";
    let replaced: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(FIND)
            .bind(environment_id)
            .bind(rollback_id)
            .bind(version)
            .bind(rollback_started_at)
            .fetch_optional(conn)
            .await
    })?;
    if let Some(id) = replaced {
        on_tx!(tx, |conn| {
            sqlx::query("UPDATE deployments SET rolled_back_at = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(conn)
                .await
                .map(drop)
        })?;
    }
    Ok(replaced)
}

#[derive(Debug, FromRow)]
struct Row {
    id: i64,
    service: String,
    environment: String,
    version: String,
    commit_sha: Option<String>,
    commit_at: Option<Timestamp>,
    strategy: String,
    slot: Option<String>,
    started_at: Timestamp,
    finished_at: Option<Timestamp>,
    status: String,
    is_rollback: bool,
    rolled_back_at: Option<Timestamp>,
    recorded_by_kind: String,
    recorded_by: String,
    source: String,
    notes: String,
    url: Option<String>,
    created_at: Timestamp,
    superseded_by: Option<i64>,
}

impl TryFrom<Row> for Deployment {
    type Error = StorageError;

    fn try_from(row: Row) -> Result<Self, StorageError> {
        Ok(Deployment {
            id: row.id,
            service: row.service,
            environment: row.environment,
            version: row.version,
            commit_sha: row.commit_sha,
            commit_at: row.commit_at,
            strategy: stored(Strategy::parse("strategy", &row.strategy))?,
            slot: row
                .slot
                .map(|slot| stored(SlotColor::parse("slot", &slot)))
                .transpose()?,
            started_at: row.started_at,
            finished_at: row.finished_at,
            status: stored(DeploymentStatus::parse("status", &row.status))?,
            is_rollback: row.is_rollback,
            rolled_back_at: row.rolled_back_at,
            recorded_by: Recorder {
                kind: row.recorded_by_kind,
                name: row.recorded_by,
            },
            source: stored(Source::parse("source", &row.source))?,
            notes: row.notes,
            url: row.url,
            created_at: row.created_at,
            superseded_by: row.superseded_by,
        })
    }
}

const SELECT: &str = "SELECT d.id, s.name AS service, e.name AS environment, d.version, \
    d.commit_sha, d.commit_at, d.strategy, d.slot, d.started_at, d.finished_at, d.status, \
    d.is_rollback, d.rolled_back_at, d.recorded_by_kind, d.recorded_by, d.source, d.notes, d.url, \
    d.created_at, (SELECT n.id FROM deployments n WHERE d.status = 'running' \
        AND n.environment_id = d.environment_id AND n.status <> 'running' \
        AND (n.slot = d.slot OR (n.slot IS NULL AND d.slot IS NULL)) \
        AND n.started_at > d.started_at ORDER BY n.started_at, n.id LIMIT 1) AS superseded_by \
    FROM deployments d JOIN services s ON s.id = d.service_id \
    JOIN environments e ON e.id = d.environment_id";

/// The deployment with `id`.
pub async fn find(pool: Pool<'_>, id: i64) -> Result<Option<Deployment>, StorageError> {
    let sql = format!("{SELECT} WHERE d.id = $1");
    let row: Option<Row> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?;
    row.map(TryInto::try_into).transpose()
}

/// The deployment with `id`, inside a transaction.
pub async fn find_in(tx: &mut Tx, id: i64) -> Result<Option<Deployment>, StorageError> {
    let sql = format!("{SELECT} WHERE d.id = $1");
    let row: Option<Row> = on_tx!(tx, |conn| {
        sqlx::query_as(&sql).bind(id).fetch_optional(conn).await
    })?;
    row.map(TryInto::try_into).transpose()
}

/// The deployment a sender knows by `external_id`, inside a transaction.
pub async fn find_external(
    tx: &mut Tx,
    source: Source,
    external_id: &str,
) -> Result<Option<Deployment>, StorageError> {
    let sql = format!("{SELECT} WHERE d.source = $1 AND d.external_id = $2");
    let row: Option<Row> = on_tx!(tx, |conn| {
        sqlx::query_as(&sql)
            .bind(source.as_str())
            .bind(external_id)
            .fetch_optional(conn)
            .await
    })?;
    row.map(TryInto::try_into).transpose()
}

/// What a list selects, with names already resolved to ids.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub service_id: Option<i64>,
    pub environment_id: Option<i64>,
    /// An environment name without a service: that name in every service.
    pub environment_name: Option<String>,
    pub status: Option<DeploymentStatus>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub finished_from: Option<Timestamp>,
    pub finished_to: Option<Timestamp>,
    pub tier: Option<Tier>,
    pub prefix: Option<String>,
    pub after: Option<Cursor>,
    pub limit: u32,
}

/// One page of deployments matching `selection`, newest start first. Keyset paging on
/// (started_at, id) walks an index from the cursor, so a page deep in the history costs what
/// the first one does.
pub async fn list(pool: Pool<'_>, selection: &Selection) -> Result<Vec<Deployment>, StorageError> {
    // Each engine's prefix index (see the search migration) needs its own form; the ESCAPE
    // clause only when it is needed, as it keeps SQLite from using the index.
    let prefix = selection.prefix.as_ref().map(|prefix| {
        let escaped = escape_like(prefix);
        let escape = if escaped == *prefix {
            ""
        } else {
            " ESCAPE '\\'"
        };
        (format!("{escaped}%"), escape)
    });
    let version = match pool {
        Pool::Sqlite(_) => "d.version",
        Pool::Postgres(_) => "lower(d.version)",
    };
    // The same conditions for both engines; QueryBuilder numbers each engine's placeholders.
    let rows: Vec<Row> = on_pool!(pool, |pool| {
        let mut query = sqlx::QueryBuilder::new(SELECT);
        let mut clause = " WHERE ";
        let mut next = |query: &mut sqlx::QueryBuilder<'_, _>, condition: &str| {
            query.push(clause).push(condition);
            clause = " AND ";
        };
        if let Some(id) = selection.environment_id {
            next(&mut query, "d.environment_id = ");
            query.push_bind(id);
        } else if let Some(id) = selection.service_id {
            next(&mut query, "d.service_id = ");
            query.push_bind(id);
        }
        // Several environments (by name or tier): `+` keeps SQLite from reading each one's
        // rows by start time and sorting them together, again for every page; walking the
        // start-time index from the cursor and filtering keeps a page as cheap as the first.
        // The finish window's `+` likewise leaves the (environment, finish) index to the
        // metrics, which would otherwise sort the whole window for every page.
        if let Some(name) = &selection.environment_name {
            next(
                &mut query,
                "+d.environment_id IN (SELECT id FROM environments WHERE name = ",
            );
            query.push_bind(name.as_str()).push(")");
        }
        if let Some(status) = selection.status {
            next(&mut query, "d.status = ");
            query.push_bind(status.as_str());
        }
        if let Some(from) = selection.from {
            next(&mut query, "d.started_at >= ");
            query.push_bind(from.millis());
        }
        if let Some(to) = selection.to {
            next(&mut query, "d.started_at < ");
            query.push_bind(to.millis());
        }
        if let Some(from) = selection.finished_from {
            next(&mut query, "+d.finished_at >= ");
            query.push_bind(from.millis());
        }
        if let Some(to) = selection.finished_to {
            next(&mut query, "+d.finished_at < ");
            query.push_bind(to.millis());
        }
        if let Some(tier) = selection.tier {
            next(
                &mut query,
                "+d.environment_id IN (SELECT id FROM environments WHERE tier = ",
            );
            query.push_bind(tier.as_str()).push(")");
        }
        if let Some((pattern, escape)) = &prefix {
            next(&mut query, "(");
            query
                .push(version)
                .push(" LIKE ")
                .push_bind(pattern.as_str())
                .push(escape);
            query
                .push(" OR d.commit_sha LIKE ")
                .push_bind(pattern.as_str())
                .push(escape)
                .push(")");
        }
        if let Some(after) = selection.after {
            next(&mut query, "(d.started_at, d.id) < (");
            query
                .push_bind(after.started_at.millis())
                .push(", ")
                .push_bind(after.id)
                .push(")");
        }
        query.push(" ORDER BY d.started_at DESC, d.id DESC LIMIT ");
        query.push_bind(i64::from(selection.limit));
        query.build_query_as().fetch_all(pool).await
    })?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// The newest deployment of each environment that has one.
pub async fn latest_per_environment(pool: Pool<'_>) -> Result<Vec<Deployment>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE d.id IN (SELECT (SELECT l.id FROM deployments l WHERE l.environment_id = x.id \
         ORDER BY l.started_at DESC, l.id DESC LIMIT 1) FROM environments x)"
    );
    let rows: Vec<Row> = on_pool!(pool, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// How many deployments run in each environment that has some: (environment id, count).
pub async fn running_counts(pool: Pool<'_>) -> Result<Vec<(i64, i64)>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(
            "SELECT d.environment_id, COUNT(*) FROM deployments d WHERE d.status = 'running' \
             AND NOT EXISTS (SELECT 1 FROM deployments n WHERE n.environment_id = d.environment_id \
                 AND n.status <> 'running' AND (n.slot = d.slot OR (n.slot IS NULL AND d.slot IS NULL)) \
                 AND n.started_at > d.started_at) \
             GROUP BY d.environment_id",
        )
        .fetch_all(pool)
        .await
    })?)
}

/// The environment of deployment `id`.
pub async fn environment_id(tx: &mut Tx, id: i64) -> Result<Option<i64>, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT environment_id FROM deployments WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await
    })?)
}

/// The deployments operations opened in an environment that still run: (id, version, slot).
pub async fn running_from_operations(
    tx: &mut Tx,
    environment_id: i64,
) -> Result<Vec<(i64, String, Option<String>)>, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT id, version, slot FROM deployments \
             WHERE environment_id = $1 AND status = 'running' AND source = 'operation' ORDER BY id",
        )
        .bind(environment_id)
        .fetch_all(conn)
        .await
    })?)
}
