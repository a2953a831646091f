//! The `checklist_templates`, `releases`, `release_items`, `release_signoffs` and
//! `freeze_windows` tables.

use sqlx::FromRow;

use super::super::{
    storage::{stored, Pool, Tx},
    StorageError,
};
use crate::{
    domain::{
        catalog::Tier,
        releases::{
            checklist::{ChecklistItem, TemplateKind},
            freeze::FreezeRule,
            ReleaseStatus,
        },
        Role, Timestamp,
    },
    model::{GateOverride, Recorder, ReleaseFilter, SignOff},
    on_pool, on_tx,
};

/// A service's saved checklist of `kind`: (revision, items, saved by, saved at).
pub async fn template(
    pool: Pool<'_>,
    service_id: i64,
    kind: TemplateKind,
) -> Result<Option<SavedTemplate>, StorageError> {
    let row: Option<TemplateRow> = on_pool!(pool, |pool| {
        sqlx::query_as(TEMPLATE)
            .bind(service_id)
            .bind(kind.as_str())
            .fetch_optional(pool)
            .await
    })?;
    row.map(saved).transpose()
}

/// [`template`], read inside `tx` (a release opened as part of another change).
pub async fn template_in(
    tx: &mut Tx,
    service_id: i64,
    kind: TemplateKind,
) -> Result<Option<SavedTemplate>, StorageError> {
    let row: Option<TemplateRow> = on_tx!(tx, |conn| {
        sqlx::query_as(TEMPLATE)
            .bind(service_id)
            .bind(kind.as_str())
            .fetch_optional(conn)
            .await
    })?;
    row.map(saved).transpose()
}

/// A saved checklist: (revision, items, saved by, saved at).
pub type SavedTemplate = (i64, Vec<ChecklistItem>, String, Timestamp);
type TemplateRow = (i64, String, String, Timestamp);
const TEMPLATE: &str = "SELECT revision, items, updated_by, updated_at FROM checklist_templates \
    WHERE service_id = $1 AND kind = $2";

fn saved((revision, items, by, at): TemplateRow) -> Result<SavedTemplate, StorageError> {
    Ok((revision, decode(&items)?, by, at))
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, StorageError> {
    serde_json::from_str(json).map_err(|e| StorageError::Corrupt(e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Saves a service's checklist of `kind` as its next revision (1 for the first edit);
/// returns the revision.
pub async fn save_template(
    tx: &mut Tx,
    service_id: i64,
    kind: TemplateKind,
    items: &[ChecklistItem],
    by: &str,
    now: Timestamp,
) -> Result<i64, StorageError> {
    const SQL: &str = "INSERT INTO checklist_templates \
        (service_id, kind, revision, items, updated_by, updated_at) VALUES ($1, $2, 1, $3, $4, $5) \
        ON CONFLICT (service_id, kind) DO UPDATE SET revision = checklist_templates.revision + 1, \
        items = excluded.items, updated_by = excluded.updated_by, updated_at = excluded.updated_at \
        RETURNING revision";
    let items = encode(&items)?;
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(service_id)
            .bind(kind.as_str())
            .bind(&items)
            .bind(by)
            .bind(now)
            .fetch_one(conn)
            .await
    })?)
}

/// A release to insert.
#[derive(Debug)]
pub struct NewRow<'a> {
    pub service_id: i64,
    pub environment_id: i64,
    pub version: &'a str,
    pub commit_sha: Option<&'a str>,
    pub summary: &'a str,
    pub url: Option<&'a str>,
    pub template_revision: i64,
    pub opened_by: &'a Recorder,
    pub now: Timestamp,
}

/// Inserts an open release with its checklist; `None` when one of that version is open there
/// already (nothing is written then). The database decides, so two requests opening the same
/// release at once open it once.
pub async fn insert(
    tx: &mut Tx,
    row: &NewRow<'_>,
    items: &[ChecklistItem],
) -> Result<Option<i64>, StorageError> {
    const SQL: &str = "INSERT INTO releases (service_id, environment_id, version, commit_sha, \
        summary, url, status, template_revision, opened_by_kind, opened_by, opened_at) \
        VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id";
    let id: Option<i64> = on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(row.service_id)
            .bind(row.environment_id)
            .bind(row.version)
            .bind(row.commit_sha)
            .bind(row.summary)
            .bind(row.url)
            .bind(row.template_revision)
            .bind(&row.opened_by.kind)
            .bind(&row.opened_by.name)
            .bind(row.now)
            .fetch_optional(conn)
            .await
    })?;
    let Some(id) = id else { return Ok(None) };
    const ITEM: &str = "INSERT INTO release_items (release_id, position, key, group_name, title, \
        description, role, required, evidence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    for (position, item) in items.iter().enumerate() {
        on_tx!(tx, |conn| {
            sqlx::query(ITEM)
                .bind(id)
                .bind(position as i64)
                .bind(&item.key)
                .bind(&item.group)
                .bind(&item.title)
                .bind(&item.description)
                .bind(item.role.as_str())
                .bind(item.required)
                .bind(item.evidence)
                .execute(conn)
                .await
                .map(drop)
        })?;
    }
    Ok(Some(id))
}

/// The open release of `version` in environment `environment_id`.
pub async fn open_release(
    pool: Pool<'_>,
    environment_id: i64,
    version: &str,
) -> Result<Option<i64>, StorageError> {
    const SQL: &str =
        "SELECT id FROM releases WHERE environment_id = $1 AND version = $2 AND status = 'open'";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar(SQL)
            .bind(environment_id)
            .bind(version)
            .fetch_optional(pool)
            .await
    })?)
}

/// A release's row, with its service's and environment's names.
#[derive(Debug, FromRow)]
pub struct Row {
    pub id: i64,
    pub environment_id: i64,
    pub service: String,
    pub environment: String,
    pub tier: String,
    pub version: String,
    pub commit_sha: Option<String>,
    pub summary: String,
    pub url: Option<String>,
    pub status: String,
    pub template_revision: i64,
    pub opened_by_kind: String,
    pub opened_by: String,
    pub opened_at: Timestamp,
    pub ended_by: Option<String>,
    pub ended_at: Option<Timestamp>,
    pub end_reason: Option<String>,
    /// Items, signed items, required items without a sign-off.
    pub total: i64,
    pub signed: i64,
    pub required_left: i64,
}

impl Row {
    pub fn status(&self) -> Result<ReleaseStatus, StorageError> {
        stored(ReleaseStatus::parse("status", &self.status))
    }

    pub fn tier(&self) -> Result<Tier, StorageError> {
        stored(Tier::parse("tier", &self.tier))
    }
}

const SIGNED: &str = "EXISTS (SELECT 1 FROM release_signoffs s WHERE s.release_id = i.release_id \
    AND s.item_key = i.key AND s.withdrawn_at IS NULL)";

fn select() -> String {
    format!(
        "SELECT r.id, r.environment_id, sv.name AS service, e.name AS environment, e.tier, \
         r.version, r.commit_sha, r.summary, r.url, r.status, r.template_revision, \
         r.opened_by_kind, r.opened_by, r.opened_at, r.ended_by, r.ended_at, r.end_reason, \
         (SELECT COUNT(*) FROM release_items i WHERE i.release_id = r.id) AS total, \
         (SELECT COUNT(*) FROM release_items i WHERE i.release_id = r.id AND {SIGNED}) AS signed, \
         (SELECT COUNT(*) FROM release_items i WHERE i.release_id = r.id AND i.required \
            AND NOT {SIGNED}) AS required_left \
         FROM releases r JOIN environments e ON e.id = r.environment_id \
         JOIN services sv ON sv.id = r.service_id"
    )
}

/// Release `id`.
pub async fn find(pool: Pool<'_>, id: i64) -> Result<Option<Row>, StorageError> {
    let sql = format!("{} WHERE r.id = $1", select());
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?)
}

/// Releases matching `filter`: open ones first, then newest first; at most `limit`.
pub async fn list(
    pool: Pool<'_>,
    filter: &ReleaseFilter,
    limit: i64,
) -> Result<Vec<Row>, StorageError> {
    let sql = format!(
        "{} WHERE ($1 IS NULL OR sv.name = $1) AND ($2 IS NULL OR e.name = $2) \
         AND ($3 IS NULL OR r.status = $3) \
         ORDER BY CASE WHEN r.status = 'open' THEN 0 ELSE 1 END, r.opened_at DESC, r.id DESC \
         LIMIT $4",
        select()
    );
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(filter.service.as_deref())
            .bind(filter.environment.as_deref())
            .bind(filter.status.as_deref())
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

#[derive(Debug, FromRow)]
struct ItemRow {
    key: String,
    group_name: String,
    title: String,
    description: String,
    role: String,
    required: bool,
    evidence: bool,
}

/// Release `id`'s checklist, in order.
pub async fn items(pool: Pool<'_>, id: i64) -> Result<Vec<ChecklistItem>, StorageError> {
    const SQL: &str = "SELECT key, group_name, title, description, role, required, evidence \
        FROM release_items WHERE release_id = $1 ORDER BY position";
    let rows: Vec<ItemRow> = on_pool!(pool, |pool| sqlx::query_as(SQL)
        .bind(id)
        .fetch_all(pool)
        .await)?;
    rows.into_iter()
        .map(|row| {
            Ok(ChecklistItem {
                role: row
                    .role
                    .parse::<Role>()
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                key: row.key,
                group: row.group_name,
                title: row.title,
                description: row.description,
                required: row.required,
                evidence: row.evidence,
            })
        })
        .collect()
}

#[derive(Debug, FromRow)]
struct SignOffRow {
    id: i64,
    item_key: String,
    signed_by_kind: String,
    signed_by: String,
    signed_at: Timestamp,
    note: String,
    evidence_url: Option<String>,
    withdrawn_by: Option<String>,
    withdrawn_at: Option<Timestamp>,
}

const SIGNOFF_COLUMNS: &str = "id, item_key, signed_by_kind, signed_by, signed_at, note, \
    evidence_url, withdrawn_by, withdrawn_at";

impl From<SignOffRow> for (String, SignOff) {
    fn from(row: SignOffRow) -> Self {
        (
            row.item_key,
            SignOff {
                id: row.id,
                signed_by: Recorder {
                    kind: row.signed_by_kind,
                    name: row.signed_by,
                },
                signed_at: row.signed_at,
                note: row.note,
                evidence_url: row.evidence_url,
                withdrawn_by: row.withdrawn_by,
                withdrawn_at: row.withdrawn_at,
            },
        )
    }
}

/// Every sign-off of release `id`, oldest first, with its item's key.
pub async fn signoffs(pool: Pool<'_>, id: i64) -> Result<Vec<(String, SignOff)>, StorageError> {
    let sql =
        format!("SELECT {SIGNOFF_COLUMNS} FROM release_signoffs WHERE release_id = $1 ORDER BY id");
    let rows: Vec<SignOffRow> = on_pool!(pool, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The sign-off in force on an item.
pub async fn active_signoff(
    pool: Pool<'_>,
    release_id: i64,
    key: &str,
) -> Result<Option<SignOff>, StorageError> {
    let sql = format!(
        "SELECT {SIGNOFF_COLUMNS} FROM release_signoffs \
         WHERE release_id = $1 AND item_key = $2 AND withdrawn_at IS NULL"
    );
    let row: Option<SignOffRow> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(release_id)
            .bind(key)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(|row| <(String, SignOff)>::from(row).1))
}

/// A sign-off to insert.
#[derive(Debug)]
pub struct NewSignOffRow<'a> {
    pub release_id: i64,
    pub key: &'a str,
    pub by: &'a Recorder,
    pub note: &'a str,
    pub evidence_url: Option<&'a str>,
    pub now: Timestamp,
}

/// Signs an item; `None` when it is signed already (someone was quicker), and nothing is
/// written. The unique index over sign-offs in force decides between simultaneous signers.
pub async fn sign(tx: &mut Tx, row: &NewSignOffRow<'_>) -> Result<Option<i64>, StorageError> {
    const SQL: &str = "INSERT INTO release_signoffs (release_id, item_key, signed_by_kind, \
        signed_by, signed_at, note, evidence_url) VALUES ($1, $2, $3, $4, $5, $6, $7) \
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(row.release_id)
            .bind(row.key)
            .bind(&row.by.kind)
            .bind(&row.by.name)
            .bind(row.now)
            .bind(row.note)
            .bind(row.evidence_url)
            .fetch_optional(conn)
            .await
    })?)
}

/// Withdraws sign-off `id` if it is still in force.
pub async fn withdraw(
    tx: &mut Tx,
    id: i64,
    by: &str,
    now: Timestamp,
) -> Result<bool, StorageError> {
    const SQL: &str = "UPDATE release_signoffs SET withdrawn_by = $2, withdrawn_at = $3 \
        WHERE id = $1 AND withdrawn_at IS NULL";
    let done = on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(id)
            .bind(by)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Whether release `id` is open, read inside `tx` so a sign-off and the release's end do not
/// cross (the row is locked on PostgreSQL; SQLite has one writer).
pub async fn is_open(tx: &mut Tx, id: i64) -> Result<Option<bool>, StorageError> {
    let status: Option<String> = match tx {
        Tx::Sqlite(tx) => {
            sqlx::query_scalar("SELECT status FROM releases WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Tx::Postgres(tx) => {
            sqlx::query_scalar("SELECT status FROM releases WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
        }
    };
    Ok(status.map(|s| s == "open"))
}

/// Ends release `id` if it is open.
pub async fn end(
    tx: &mut Tx,
    id: i64,
    status: ReleaseStatus,
    by: &str,
    reason: &str,
    now: Timestamp,
) -> Result<bool, StorageError> {
    const SQL: &str = "UPDATE releases SET status = $2, ended_by = $3, end_reason = $4, \
        ended_at = $5 WHERE id = $1 AND status = 'open'";
    let done = on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(id)
            .bind(status.as_str())
            .bind(by)
            .bind(reason)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// What is live in environment `id` now: the live slot's version, or the current version.
pub async fn live_version(tx: &mut Tx, id: i64) -> Result<Option<String>, StorageError> {
    const SQL: &str =
        "SELECT COALESCE((SELECT s.version FROM slots s WHERE s.environment_id = e.id \
        AND s.color = e.live_slot), e.current_version) FROM environments e WHERE e.id = $1";
    let version: Option<Option<String>> = on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL).bind(id).fetch_optional(conn).await
    })?;
    Ok(version.flatten())
}

/// Open releases of environment `id`: (id, version, opened at).
pub async fn open_in(tx: &mut Tx, id: i64) -> Result<Vec<(i64, String, Timestamp)>, StorageError> {
    const SQL: &str = "SELECT id, version, opened_at FROM releases \
        WHERE environment_id = $1 AND status = 'open' ORDER BY id";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(SQL).bind(id).fetch_all(conn).await
    })?)
}

/// The environment's tier and live slot, read inside `tx`.
pub async fn environment_tier(
    tx: &mut Tx,
    id: i64,
) -> Result<Option<(String, Option<String>)>, StorageError> {
    const SQL: &str = "SELECT tier, live_slot FROM environments WHERE id = $1";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(SQL).bind(id).fetch_optional(conn).await
    })?)
}

/// Gates passed by override for `version` in environment `id`, oldest first.
pub async fn overrides(
    pool: Pool<'_>,
    id: i64,
    version: &str,
) -> Result<Vec<GateOverride>, StorageError> {
    const SQL: &str = "SELECT id, requested_by, started_at, overridden_gate, override_reason \
        FROM operations WHERE environment_id = $1 AND version = $2 \
        AND override_reason IS NOT NULL ORDER BY id";
    let rows: Vec<(i64, String, Timestamp, Option<String>, String)> = on_pool!(pool, |pool| {
        sqlx::query_as(SQL)
            .bind(id)
            .bind(version)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(operation_id, by, at, gate, reason)| GateOverride {
            operation_id,
            by,
            at,
            gate: gate.unwrap_or_default(),
            reason,
        })
        .collect())
}

/// What changes when anyone signs, withdraws or ends release `id`: the live page compares it
/// every second, so a change made by another replica shows too.
pub async fn fingerprint(pool: Pool<'_>, id: i64) -> Result<(String, i64, i64), StorageError> {
    const SQL: &str = "SELECT r.status, \
        (SELECT COUNT(*) FROM release_signoffs s WHERE s.release_id = r.id), \
        (SELECT COUNT(*) FROM release_signoffs s WHERE s.release_id = r.id AND s.withdrawn_at IS NOT NULL) \
        FROM releases r WHERE r.id = $1";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).bind(id).fetch_one(pool).await
    })?)
}

/// Inserts a freeze window; returns its id.
pub async fn insert_freeze(
    tx: &mut Tx,
    environment_id: i64,
    rule: &FreezeRule,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<i64, StorageError> {
    const SQL: &str = "INSERT INTO freeze_windows (environment_id, rule, reason, created_by, \
        created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let rule = encode(rule)?;
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(environment_id)
            .bind(&rule)
            .bind(reason)
            .bind(by)
            .bind(now)
            .fetch_one(conn)
            .await
    })?)
}

/// A stored freeze window: (id, rule, reason, created by, created at).
pub type FreezeRow = (i64, FreezeRule, String, String, Timestamp);

/// Environment `id`'s freeze windows, oldest first.
pub async fn freezes(pool: Pool<'_>, id: i64) -> Result<Vec<FreezeRow>, StorageError> {
    const SQL: &str = "SELECT id, rule, reason, created_by, created_at FROM freeze_windows \
        WHERE environment_id = $1 ORDER BY id";
    let rows: Vec<(i64, String, String, String, Timestamp)> =
        on_pool!(pool, |pool| sqlx::query_as(SQL)
            .bind(id)
            .fetch_all(pool)
            .await)?;
    rows.into_iter()
        .map(|(id, rule, reason, by, at)| Ok((id, decode(&rule)?, reason, by, at)))
        .collect()
}

/// Every freeze window: (environment id, rule, reason).
pub async fn all_freezes(pool: Pool<'_>) -> Result<Vec<(i64, FreezeRule, String)>, StorageError> {
    const SQL: &str = "SELECT environment_id, rule, reason FROM freeze_windows ORDER BY id";
    let rows: Vec<(i64, String, String)> =
        on_pool!(pool, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    rows.into_iter()
        .map(|(id, rule, reason)| Ok((id, decode(&rule)?, reason)))
        .collect()
}

/// Deletes freeze window `id` of environment `environment_id`; returns what it was.
pub async fn delete_freeze(
    tx: &mut Tx,
    environment_id: i64,
    id: i64,
) -> Result<Option<(String, String)>, StorageError> {
    const SQL: &str = "DELETE FROM freeze_windows WHERE id = $1 AND environment_id = $2 \
        RETURNING rule, reason";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(SQL)
            .bind(id)
            .bind(environment_id)
            .fetch_optional(conn)
            .await
    })?)
}
