//! The `operations`, `operation_steps` and `operation_log` tables, and the environment state
//! operations change.

use sqlx::FromRow;

use super::super::{
    storage::{stored, Pool, Tx},
    StorageError,
};
use crate::{
    domain::{
        catalog::SlotColor,
        operations::{redact, Ending, LogStream, OperationAction, OperationStatus, StepStatus},
        Timestamp,
    },
    model::{LogLine, Operation, OperationStep},
    on_pool, on_tx,
};

/// A new operation row.
#[derive(Clone, Debug)]
pub struct NewOperation<'a> {
    pub environment_id: i64,
    pub action: OperationAction,
    pub version: Option<&'a str>,
    pub target_slot: Option<SlotColor>,
    pub canary_weight: Option<u8>,
    pub base_revision: i64,
    pub requested_by_kind: &'a str,
    pub requested_by: &'a str,
    pub runner: &'a str,
    /// The closed gate an admin passed, and the reason they gave.
    pub overridden: Option<(&'a str, &'a str)>,
    pub now: Timestamp,
}

/// Holds the environment's row until `tx` ends, if it is still at `revision`: a request made
/// on an older view of the state finds nothing to hold. On PostgreSQL a concurrent operation
/// ending (which raises the revision) makes this wait, then see the new revision.
pub async fn hold_revision(
    tx: &mut Tx,
    environment_id: i64,
    revision: i64,
) -> Result<bool, StorageError> {
    let affected = on_tx!(tx, |conn| {
        sqlx::query("UPDATE environments SET revision = revision WHERE id = $1 AND revision = $2")
            .bind(environment_id)
            .bind(revision)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// Inserts a running operation. A unique violation means another one runs in the environment
/// (the `operations_one_running` index is the lock).
pub async fn insert(tx: &mut Tx, op: &NewOperation<'_>) -> Result<i64, StorageError> {
    const SQL: &str = "INSERT INTO operations (environment_id, action, status, version, target_slot, \
        canary_weight, base_revision, requested_by_kind, requested_by, runner, heartbeat_at, started_at, \
        overridden_gate, override_reason) \
        VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(op.environment_id)
            .bind(op.action.as_str())
            .bind(op.version)
            .bind(op.target_slot.map(SlotColor::as_str))
            .bind(op.canary_weight.map(i64::from))
            .bind(op.base_revision)
            .bind(op.requested_by_kind)
            .bind(op.requested_by)
            .bind(op.runner)
            .bind(op.now)
            .bind(op.overridden.map(|(gate, _)| gate))
            .bind(op.overridden.map(|(_, reason)| reason))
            .fetch_one(conn)
            .await
    })?)
}

/// Lists the planned steps, all pending.
pub async fn insert_steps(tx: &mut Tx, id: i64, names: &[String]) -> Result<(), StorageError> {
    for (position, name) in names.iter().enumerate() {
        on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO operation_steps (operation_id, position, name, status) VALUES ($1, $2, $3, 'pending')",
            )
            .bind(id)
            .bind(position as i64)
            .bind(name)
            .execute(conn)
            .await
            .map(drop)
        })?;
    }
    Ok(())
}

/// Links the operation to the deployment it records.
pub async fn set_deployment(tx: &mut Tx, id: i64, deployment_id: i64) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE operations SET deployment_id = $2 WHERE id = $1")
            .bind(id)
            .bind(deployment_id)
            .execute(conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// The operation running in an environment: who started what, when.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Running {
    pub id: i64,
    pub action: String,
    pub requested_by: String,
    pub started_at: Timestamp,
}

pub async fn running(pool: Pool<'_>, environment_id: i64) -> Result<Option<Running>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(
            "SELECT id, action, requested_by, started_at FROM operations WHERE environment_id = $1 AND status = 'running'",
        )
        .bind(environment_id)
        .fetch_optional(pool)
        .await
    })?)
}

/// A step starts (recovery steps are added as they start) or ends.
pub async fn set_step(
    pool: Pool<'_>,
    id: i64,
    position: i64,
    name: &str,
    status: StepStatus,
    now: Timestamp,
) -> Result<(), StorageError> {
    const SQL: &str =
        "INSERT INTO operation_steps (operation_id, position, name, status, started_at) \
        VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (operation_id, position) DO UPDATE SET status = $4, \
          started_at = COALESCE(operation_steps.started_at, $5), \
          finished_at = CASE WHEN $4 IN ('running', 'pending') THEN NULL ELSE $5 END";
    on_pool!(pool, |pool| {
        sqlx::query(SQL)
            .bind(id)
            .bind(position)
            .bind(name)
            .bind(status.as_str())
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// Appends log lines, in one transaction. Every line reaches the database here, so this is
/// where URLs in them lose their credentials.
pub async fn append_log(tx: &mut Tx, id: i64, lines: &[LogLine]) -> Result<(), StorageError> {
    for line in lines {
        on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO operation_log (operation_id, seq, at, stream, line) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(line.seq)
            .bind(line.at)
            .bind(line.stream.as_str())
            .bind(redact::credentials(&line.line))
            .execute(conn)
            .await
            .map(drop)
        })?;
    }
    Ok(())
}

/// The number after the last log line of an operation.
pub async fn next_seq(pool: Pool<'_>, id: i64) -> Result<i64, StorageError> {
    let last: Option<i64> = on_pool!(pool, |pool| {
        sqlx::query_scalar("SELECT MAX(seq) FROM operation_log WHERE operation_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
    })?;
    Ok(last.map_or(0, |seq| seq + 1))
}

/// Says the operations `runner` runs are alive.
pub async fn heartbeat(pool: Pool<'_>, runner: &str, now: Timestamp) -> Result<(), StorageError> {
    on_pool!(pool, |pool| {
        sqlx::query(
            "UPDATE operations SET heartbeat_at = $2 WHERE runner = $1 AND status = 'running'",
        )
        .bind(runner)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Running operations nobody runs any more: their runner stopped beating before `stale`, or
/// is `gone` (this process's own, at shutdown), or any at all (`every`, SQLite at startup).
pub async fn orphans(
    pool: Pool<'_>,
    stale: Timestamp,
    gone: Option<&str>,
    every: bool,
) -> Result<Vec<(i64, i64)>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(
            "SELECT id, environment_id FROM operations WHERE status = 'running' \
             AND ($3 OR heartbeat_at < $1 OR runner = $2)",
        )
        .bind(stale)
        .bind(gone)
        .bind(every)
        .fetch_all(pool)
        .await
    })?)
}

/// Ends a running operation; false when it was not running any more. Like the log, the
/// error is shown to every viewer, so URLs in it lose their credentials.
pub async fn finish(
    tx: &mut Tx,
    id: i64,
    status: OperationStatus,
    error: Option<&str>,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let affected = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE operations SET status = $2, error = $3, finished_at = $4 WHERE id = $1 AND status = 'running'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(error.map(redact::credentials))
        .bind(now)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE operation_steps SET status = 'failed', finished_at = $2 WHERE operation_id = $1 AND status = 'running'",
        )
        .bind(id)
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
    })?;
    Ok(affected == 1)
}

/// Applies what an operation changed to its environment, and counts the operation in the
/// revision.
/// `deployment_id` is the operation's deployment: what the new versions were shipped by.
pub async fn apply(
    tx: &mut Tx,
    environment_id: i64,
    ending: &Ending,
    deployment_id: Option<i64>,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE environments SET revision = revision + 1, live_slot = COALESCE($2, live_slot) WHERE id = $1",
        )
        .bind(environment_id)
        .bind(ending.live.map(SlotColor::as_str))
        .execute(conn)
        .await
        .map(drop)
    })?;
    if let Some((color, version)) = &ending.slot_version {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE slots SET version = $3, deployment_id = $4 WHERE environment_id = $1 AND color = $2",
            )
            .bind(environment_id)
            .bind(color.as_str())
            .bind(version.as_ref().map(|v| v.as_str()))
            .bind(version.as_ref().and(deployment_id))
                .execute(conn)
                .await
                .map(drop)
        })?;
    }
    if let Some(version) = &ending.current_version {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE environments SET current_version = $2, current_deployment_id = $3 WHERE id = $1",
            )
            .bind(environment_id)
            .bind(version.as_ref().map(|v| v.as_str()))
            .bind(version.as_ref().and(deployment_id))
                .execute(conn)
                .await
                .map(drop)
        })?;
    }
    if let Some(canary) = &ending.canary {
        on_tx!(tx, |conn| {
            sqlx::query(
                "UPDATE environments SET canary_version = $2, canary_weight = $3 WHERE id = $1",
            )
            .bind(environment_id)
            .bind(canary.as_ref().map(|c| c.version.as_str()))
            .bind(canary.as_ref().map(|c| i64::from(c.weight)))
            .execute(conn)
            .await
            .map(drop)
        })?;
    }
    Ok(())
}

/// The newest version that an operation put live in the environment, other than `current`
/// and not rolled back: what a rollback puts back. Only operations count: records from forms,
/// tokens and webhooks are what people and CI say happened, and a rollback must not deploy a
/// version someone merely wrote down (finding 2 of the security review).
pub async fn previous_version(
    pool: Pool<'_>,
    environment_id: i64,
    current: Option<&str>,
) -> Result<Option<String>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar(
            "SELECT version FROM deployments WHERE environment_id = $1 AND status = 'succeeded' \
             AND source = 'operation' AND rolled_back_at IS NULL AND ($2 IS NULL OR version <> $2) \
             ORDER BY finished_at DESC, id DESC LIMIT 1",
        )
        .bind(environment_id)
        .bind(current)
        .fetch_optional(pool)
        .await
    })?)
}

#[derive(Debug, FromRow)]
struct Row {
    id: i64,
    service: String,
    environment: String,
    action: String,
    status: String,
    version: Option<String>,
    target_slot: Option<String>,
    canary_weight: Option<i64>,
    base_revision: i64,
    requested_by: String,
    deployment_id: Option<i64>,
    started_at: Timestamp,
    finished_at: Option<Timestamp>,
    error: Option<String>,
}

const SELECT: &str = "SELECT o.id, s.name AS service, e.name AS environment, o.action, o.status, \
    o.version, o.target_slot, o.canary_weight, o.base_revision, o.requested_by, o.deployment_id, \
    o.started_at, o.finished_at, o.error \
    FROM operations o JOIN environments e ON e.id = o.environment_id JOIN services s ON s.id = e.service_id";

impl TryFrom<Row> for Operation {
    type Error = StorageError;

    fn try_from(row: Row) -> Result<Self, StorageError> {
        Ok(Operation {
            id: row.id,
            service: row.service,
            environment: row.environment,
            action: stored(OperationAction::parse("action", &row.action))?,
            status: stored(OperationStatus::parse("status", &row.status))?,
            version: row.version,
            target_slot: row
                .target_slot
                .map(|s| stored(SlotColor::parse("target_slot", &s)))
                .transpose()?,
            canary_weight: row.canary_weight.and_then(|w| u8::try_from(w).ok()),
            base_revision: row.base_revision,
            requested_by: row.requested_by,
            deployment_id: row.deployment_id,
            started_at: row.started_at,
            finished_at: row.finished_at,
            error: row.error,
            steps: Vec::new(),
            log: Vec::new(),
        })
    }
}

/// position, name, status, started_at, finished_at
type StepRow = (i64, String, String, Option<Timestamp>, Option<Timestamp>);

/// Operation `id` with its steps and log.
pub async fn get(pool: Pool<'_>, id: i64) -> Result<Option<Operation>, StorageError> {
    let sql = format!("{SELECT} WHERE o.id = $1");
    let row: Option<Row> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?;
    let Some(row) = row else { return Ok(None) };
    let mut operation = Operation::try_from(row)?;
    let steps: Vec<StepRow> = on_pool!(pool, |pool| {
        sqlx::query_as(
            "SELECT position, name, status, started_at, finished_at FROM operation_steps \
                 WHERE operation_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })?;
    operation.steps = steps
        .into_iter()
        .map(|(position, name, status, started_at, finished_at)| {
            Ok(OperationStep {
                position,
                name,
                status: stored(StepStatus::parse("status", &status))?,
                started_at,
                finished_at,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    let lines: Vec<(i64, Timestamp, String, String)> = on_pool!(pool, |pool| {
        sqlx::query_as(
            "SELECT seq, at, stream, line FROM operation_log WHERE operation_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })?;
    operation.log = lines
        .into_iter()
        .map(|(seq, at, stream, line)| {
            Ok(LogLine {
                seq,
                at,
                stream: stored(LogStream::parse("stream", &stream))?,
                line,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(Some(operation))
}

/// The newest operations of an environment, without steps and log.
pub async fn recent(
    pool: Pool<'_>,
    environment_id: i64,
    limit: i64,
) -> Result<Vec<Operation>, StorageError> {
    let sql = format!("{SELECT} WHERE o.environment_id = $1 ORDER BY o.id DESC LIMIT $2");
    let rows: Vec<Row> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(environment_id)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?;
    rows.into_iter().map(Operation::try_from).collect()
}

/// What a live page compares to know whether to reload: the revision, the newest operation,
/// its status and how much it logged.
pub async fn fingerprint(
    pool: Pool<'_>,
    environment_id: i64,
) -> Result<(i64, i64, String, i64), StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(
            "SELECT e.revision, COALESCE(o.id, 0), COALESCE(o.status, ''), \
               (SELECT COUNT(*) FROM operation_log l WHERE l.operation_id = o.id) \
             FROM environments e LEFT JOIN operations o ON o.id = \
               (SELECT MAX(id) FROM operations WHERE environment_id = e.id) \
             WHERE e.id = $1",
        )
        .bind(environment_id)
        .fetch_one(pool)
        .await
    })?)
}

/// The deployment operation `id` records, if any.
pub async fn deployment_of(pool: Pool<'_>, id: i64) -> Result<Option<i64>, StorageError> {
    let deployment: Option<Option<i64>> = on_pool!(pool, |pool| {
        sqlx::query_scalar("SELECT deployment_id FROM operations WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(deployment.flatten())
}
