//! The `incidents`, `incident_timeline`, `incident_timeline_edits`, `incident_links`,
//! `incident_checks`, `postmortems` and `action_items` tables.

use sqlx::FromRow;

use super::super::{
    storage::{stored, Pool, Tx},
    StorageError,
};
use crate::{
    domain::{
        incidents::{postmortem::PostmortemStatus, IncidentStatus, Severity},
        Timestamp,
    },
    model::Recorder,
    on_pool, on_tx,
};

/// An incident's row, with its service's and environment's names and its post-mortem's status.
#[derive(Clone, Debug, FromRow)]
pub struct Row {
    pub id: i64,
    pub service_id: i64,
    pub environment_id: i64,
    pub service: String,
    pub environment: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub commander: String,
    pub description: String,
    pub declared_by_kind: String,
    pub declared_by: String,
    pub started_at: Timestamp,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub postmortem_status: Option<String>,
}

impl Row {
    pub fn severity(&self) -> Result<Severity, StorageError> {
        stored(Severity::parse("severity", &self.severity))
    }

    pub fn status(&self) -> Result<IncidentStatus, StorageError> {
        stored(IncidentStatus::parse("status", &self.status))
    }

    pub fn postmortem_status(&self) -> Result<Option<PostmortemStatus>, StorageError> {
        self.postmortem_status
            .as_deref()
            .map(|s| stored(PostmortemStatus::parse("status", s)))
            .transpose()
    }
}

const SELECT: &str = "SELECT i.id, i.service_id, i.environment_id, sv.name AS service, \
    e.name AS environment, i.title, i.severity, i.status, i.commander, i.description, \
    i.declared_by_kind, i.declared_by, i.started_at, i.detected_at, i.resolved_at, \
    p.status AS postmortem_status \
    FROM incidents i JOIN services sv ON sv.id = i.service_id \
    JOIN environments e ON e.id = i.environment_id \
    LEFT JOIN postmortems p ON p.incident_id = i.id";

/// An incident to insert.
#[derive(Debug)]
pub struct NewRow<'a> {
    pub service_id: i64,
    pub environment_id: i64,
    pub title: &'a str,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub commander: &'a str,
    pub description: &'a str,
    pub declared_by: &'a Recorder,
    pub started_at: Timestamp,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub now: Timestamp,
}

pub async fn insert(tx: &mut Tx, row: &NewRow<'_>) -> Result<i64, StorageError> {
    const SQL: &str =
        "INSERT INTO incidents (service_id, environment_id, title, severity, status, \
        commander, description, declared_by_kind, declared_by, started_at, detected_at, \
        resolved_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
        RETURNING id";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(row.service_id)
            .bind(row.environment_id)
            .bind(row.title)
            .bind(row.severity.as_str())
            .bind(row.status.as_str())
            .bind(row.commander)
            .bind(row.description)
            .bind(&row.declared_by.kind)
            .bind(&row.declared_by.name)
            .bind(row.started_at)
            .bind(row.detected_at)
            .bind(row.resolved_at)
            .bind(row.now)
            .fetch_one(conn)
            .await
    })?)
}

pub async fn find(pool: Pool<'_>, id: i64) -> Result<Option<Row>, StorageError> {
    let sql = format!("{SELECT} WHERE i.id = $1");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?)
}

/// [`find`] inside `tx`, so a change reads what it changes.
pub async fn find_in(tx: &mut Tx, id: i64) -> Result<Option<Row>, StorageError> {
    let sql = format!("{SELECT} WHERE i.id = $1");
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(&sql).bind(id).fetch_optional(conn).await
    })?)
}

/// The list's filter, checked.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// A status, or `open` for any but resolved.
    pub status: Option<String>,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub resolved_from: Option<Timestamp>,
    pub resolved_to: Option<Timestamp>,
    pub tier: Option<String>,
    pub postmortem_due: bool,
}

/// What "a post-mortem is due" means in SQL: resolved SEV1/SEV2 without a published one.
const DUE: &str = "(i.status = 'resolved' AND i.severity IN ('SEV1', 'SEV2') \
    AND (p.status IS NULL OR p.status <> 'published'))";

/// Incidents matching `filter`: open ones first, worst severity first, then newest.
pub async fn list(pool: Pool<'_>, filter: &Filter, limit: i64) -> Result<Vec<Row>, StorageError> {
    const TRIAGE: &str = "CASE WHEN i.status = 'resolved' THEN 1 ELSE 0 END, i.severity, \
        i.started_at DESC, i.id DESC";
    select(pool, filter, None, TRIAGE, limit).await
}

/// Incidents matching `filter` declared before incident `before` (all when `None`), newest
/// first: an export's pages, each an index seek from the last id of the one before.
pub async fn page(
    pool: Pool<'_>,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Row>, StorageError> {
    select(pool, filter, before, "i.id DESC", limit).await
}

async fn select(
    pool: Pool<'_>,
    filter: &Filter,
    before: Option<i64>,
    order: &str,
    limit: i64,
) -> Result<Vec<Row>, StorageError> {
    let sql = format!(
        "{SELECT} WHERE ($1 IS NULL OR i.status = $1 OR ($1 = 'open' AND i.status <> 'resolved')) \
         AND ($2 IS NULL OR i.severity = $2) AND ($3 IS NULL OR sv.name = $3) \
         AND ($4 IS NULL OR e.name = $4) AND ($5 IS NULL OR i.started_at >= $5) \
         AND ($6 IS NULL OR i.started_at < $6) AND ($7 = FALSE OR {DUE}) \
         AND ($9 IS NULL OR i.resolved_at >= $9) AND ($10 IS NULL OR i.resolved_at < $10) \
         AND ($11 IS NULL OR e.tier = $11) AND ($12 IS NULL OR i.id < $12) \
         ORDER BY {order} LIMIT $8"
    );
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(filter.status.as_deref())
            .bind(filter.severity.as_deref())
            .bind(filter.service.as_deref())
            .bind(filter.environment.as_deref())
            .bind(filter.from)
            .bind(filter.to)
            .bind(filter.postmortem_due)
            .bind(limit)
            .bind(filter.resolved_from)
            .bind(filter.resolved_to)
            .bind(filter.tier.as_deref())
            .bind(before)
            .fetch_all(pool)
            .await
    })?)
}

/// Writes an incident's changeable fields as `row` holds them.
pub async fn update(tx: &mut Tx, row: &Row) -> Result<(), StorageError> {
    const SQL: &str = "UPDATE incidents SET title = $2, severity = $3, status = $4, \
        commander = $5, description = $6, detected_at = $7, resolved_at = $8 WHERE id = $1";
    on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(row.id)
            .bind(&row.title)
            .bind(&row.severity)
            .bind(&row.status)
            .bind(&row.commander)
            .bind(&row.description)
            .bind(row.detected_at)
            .bind(row.resolved_at)
            .execute(conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// Open incidents of environment `environment_id`: (id, started_at).
pub async fn open_in(
    pool: Pool<'_>,
    environment_id: i64,
) -> Result<Vec<(i64, Timestamp)>, StorageError> {
    const SQL: &str = "SELECT id, started_at FROM incidents \
        WHERE environment_id = $1 AND status <> 'resolved'";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL)
            .bind(environment_id)
            .fetch_all(pool)
            .await
    })?)
}

/// Whether `username` names a user: `Some(active)`, or `None`.
pub async fn user_active(pool: Pool<'_>, username: &str) -> Result<Option<bool>, StorageError> {
    const SQL: &str = "SELECT active FROM users WHERE username = $1";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar(SQL)
            .bind(username)
            .fetch_optional(pool)
            .await
    })?)
}

/// A timeline entry to write.
#[derive(Debug)]
pub struct NewEntry<'a> {
    pub incident_id: i64,
    pub at: Timestamp,
    pub kind: &'a str,
    pub author: &'a Recorder,
    pub text: &'a str,
    pub operation_id: Option<i64>,
    pub action: Option<&'a str>,
    /// Set for Switchyard's own entries: written once per incident.
    pub source: Option<&'a str>,
}

/// Adds an entry; `None` when an entry from the same source is there already.
pub async fn add_entry(tx: &mut Tx, entry: &NewEntry<'_>) -> Result<Option<i64>, StorageError> {
    const SQL: &str = "INSERT INTO incident_timeline (incident_id, at, kind, author_kind, author, \
        text, operation_id, action, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
        ON CONFLICT DO NOTHING RETURNING id";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(entry.incident_id)
            .bind(entry.at)
            .bind(entry.kind)
            .bind(&entry.author.kind)
            .bind(&entry.author.name)
            .bind(entry.text)
            .bind(entry.operation_id)
            .bind(entry.action)
            .bind(entry.source)
            .fetch_optional(conn)
            .await
    })?)
}

/// A timeline entry's row.
#[derive(Clone, Debug, FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub incident_id: i64,
    pub at: Timestamp,
    pub kind: String,
    pub author_kind: String,
    pub author: String,
    pub text: String,
    pub operation_id: Option<i64>,
    pub action: Option<String>,
    pub edited_at: Option<Timestamp>,
}

const ENTRY: &str = "SELECT id, incident_id, at, kind, author_kind, author, text, operation_id, \
    action, edited_at FROM incident_timeline";

/// Incident `id`'s timeline, oldest first.
pub async fn entries(pool: Pool<'_>, id: i64) -> Result<Vec<EntryRow>, StorageError> {
    let sql = format!("{ENTRY} WHERE incident_id = $1 ORDER BY at, id");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_all(pool).await
    })?)
}

pub async fn entry(pool: Pool<'_>, entry_id: i64) -> Result<Option<EntryRow>, StorageError> {
    let sql = format!("{ENTRY} WHERE id = $1");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(entry_id)
            .fetch_optional(pool)
            .await
    })?)
}

/// Earlier texts of incident `id`'s edited entries: (entry, text, replaced at), oldest first.
pub async fn edits(pool: Pool<'_>, id: i64) -> Result<Vec<(i64, String, Timestamp)>, StorageError> {
    const SQL: &str = "SELECT x.entry_id, x.text, x.replaced_at FROM incident_timeline_edits x \
        JOIN incident_timeline t ON t.id = x.entry_id WHERE t.incident_id = $1 ORDER BY x.id";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).bind(id).fetch_all(pool).await
    })?)
}

/// Replaces an entry's text, keeping the old one.
pub async fn edit_entry(
    tx: &mut Tx,
    entry_id: i64,
    old: &str,
    new: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    const KEEP: &str =
        "INSERT INTO incident_timeline_edits (entry_id, text, replaced_at) VALUES ($1, $2, $3)";
    const SQL: &str = "UPDATE incident_timeline SET text = $2, edited_at = $3 WHERE id = $1";
    on_tx!(tx, |conn| {
        sqlx::query(KEEP)
            .bind(entry_id)
            .bind(old)
            .bind(now)
            .execute(conn)
            .await
            .map(drop)
    })?;
    on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(entry_id)
            .bind(new)
            .bind(now)
            .execute(conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// A deployment as links and suggestions show it.
#[derive(Clone, Debug, FromRow)]
pub struct DeploymentRow {
    pub id: i64,
    pub service_id: i64,
    pub environment_id: i64,
    pub version: String,
    pub status: String,
    pub is_rollback: bool,
    pub finished_at: Option<Timestamp>,
    pub recorded_by: String,
}

const DEPLOYMENT: &str = "SELECT d.id, d.service_id, d.environment_id, d.version, d.status, \
    d.is_rollback, d.finished_at, d.recorded_by FROM deployments d";

pub async fn deployment(pool: Pool<'_>, id: i64) -> Result<Option<DeploymentRow>, StorageError> {
    let sql = format!("{DEPLOYMENT} WHERE d.id = $1");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?)
}

/// Deployments of environment `environment_id` that finished in `[from, to]`, newest first.
pub async fn finished_between(
    pool: Pool<'_>,
    environment_id: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<DeploymentRow>, StorageError> {
    let sql = format!(
        "{DEPLOYMENT} WHERE d.environment_id = $1 AND d.finished_at >= $2 AND d.finished_at <= $3 \
         AND d.status <> 'cancelled' ORDER BY d.finished_at DESC, d.id DESC LIMIT 50"
    );
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(environment_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await
    })?)
}

/// A recent deployment, with its service's and environment's names.
#[derive(Clone, Debug, FromRow)]
pub struct RecentRow {
    pub id: i64,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub status: String,
    pub recorded_by: String,
    pub finished_at: Timestamp,
}

/// Deployments (not cancelled) that finished at or after `from`, newest first; at most 30.
pub async fn finished_since(
    pool: Pool<'_>,
    from: Timestamp,
) -> Result<Vec<RecentRow>, StorageError> {
    const SQL: &str = "SELECT d.id, sv.name AS service, e.name AS environment, d.version, \
        d.status, d.recorded_by, d.finished_at FROM deployments d \
        JOIN services sv ON sv.id = d.service_id JOIN environments e ON e.id = d.environment_id \
        WHERE d.finished_at >= $1 AND d.status <> 'cancelled' \
        ORDER BY d.finished_at DESC, d.id DESC LIMIT 30";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).bind(from).fetch_all(pool).await
    })?)
}

/// A link's row, with its deployment.
#[derive(Clone, Debug, FromRow)]
pub struct LinkRow {
    pub deployment_id: i64,
    pub kind: String,
    pub version: String,
    pub is_rollback: bool,
    pub finished_at: Option<Timestamp>,
    pub recorded_by: String,
    pub linked_by: String,
    pub linked_at: Timestamp,
}

pub async fn links(pool: Pool<'_>, id: i64) -> Result<Vec<LinkRow>, StorageError> {
    const SQL: &str = "SELECT l.deployment_id, l.kind, d.version, d.is_rollback, d.finished_at, \
        d.recorded_by, l.linked_by, l.linked_at FROM incident_links l \
        JOIN deployments d ON d.id = l.deployment_id WHERE l.incident_id = $1 \
        ORDER BY l.kind, l.linked_at, l.deployment_id";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).bind(id).fetch_all(pool).await
    })?)
}

/// Links a deployment; false when that link exists already.
pub async fn add_link(
    tx: &mut Tx,
    id: i64,
    deployment_id: i64,
    kind: &str,
    by: &str,
    now: Timestamp,
) -> Result<bool, StorageError> {
    const SQL: &str = "INSERT INTO incident_links (incident_id, deployment_id, kind, linked_by, \
        linked_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
    let done = on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(id)
            .bind(deployment_id)
            .bind(kind)
            .bind(by)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Removes a link; false when there was none.
pub async fn remove_link(
    tx: &mut Tx,
    id: i64,
    deployment_id: i64,
    kind: &str,
) -> Result<bool, StorageError> {
    const SQL: &str =
        "DELETE FROM incident_links WHERE incident_id = $1 AND deployment_id = $2 AND kind = $3";
    let done = on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(id)
            .bind(deployment_id)
            .bind(kind)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Ticked steps: (kind, key, by, at).
pub async fn checks(
    pool: Pool<'_>,
    id: i64,
) -> Result<Vec<(String, String, String, Timestamp)>, StorageError> {
    const SQL: &str =
        "SELECT kind, key, done_by, done_at FROM incident_checks WHERE incident_id = $1";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).bind(id).fetch_all(pool).await
    })?)
}

/// Ticks or unticks a step; false when it already was as asked.
pub async fn set_check(
    tx: &mut Tx,
    id: i64,
    kind: &str,
    key: &str,
    done: Option<(&str, Timestamp)>,
) -> Result<bool, StorageError> {
    const TICK: &str = "INSERT INTO incident_checks (incident_id, kind, key, done_by, done_at) \
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
    const UNTICK: &str =
        "DELETE FROM incident_checks WHERE incident_id = $1 AND kind = $2 AND key = $3";
    let changed = on_tx!(tx, |conn| {
        match done {
            Some((by, at)) => sqlx::query(TICK)
                .bind(id)
                .bind(kind)
                .bind(key)
                .bind(by)
                .bind(at)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()),
            None => sqlx::query(UNTICK)
                .bind(id)
                .bind(kind)
                .bind(key)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()),
        }
    })?;
    Ok(changed == 1)
}

/// A post-mortem's row.
#[derive(Clone, Debug, FromRow)]
pub struct PostmortemRow {
    pub title: String,
    pub markdown: String,
    pub html: String,
    pub version: i64,
    pub status: String,
    pub updated_by: String,
    pub updated_at: Timestamp,
    pub published_at: Option<Timestamp>,
}

impl PostmortemRow {
    pub fn status(&self) -> Result<PostmortemStatus, StorageError> {
        stored(PostmortemStatus::parse("status", &self.status))
    }
}

const POSTMORTEM: &str = "SELECT title, markdown, html, version, status, updated_by, updated_at, \
    published_at FROM postmortems WHERE incident_id = $1";

pub async fn postmortem(pool: Pool<'_>, id: i64) -> Result<Option<PostmortemRow>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(POSTMORTEM)
            .bind(id)
            .fetch_optional(pool)
            .await
    })?)
}

pub async fn postmortem_in(tx: &mut Tx, id: i64) -> Result<Option<PostmortemRow>, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_as(POSTMORTEM)
            .bind(id)
            .fetch_optional(conn)
            .await
    })?)
}

/// A post-mortem save.
#[derive(Debug)]
pub struct Save<'a> {
    pub incident_id: i64,
    pub title: &'a str,
    pub markdown: &'a str,
    pub html: &'a str,
    pub by: &'a str,
    pub now: Timestamp,
}

/// Saves over version `base` (0: the first save); the new version, or `None` when someone
/// saved another version meanwhile (nothing is written then). The database decides, so two
/// saves from the same base at once keep exactly one.
pub async fn save_postmortem(
    tx: &mut Tx,
    save: &Save<'_>,
    base: i64,
) -> Result<Option<i64>, StorageError> {
    const FIRST: &str = "INSERT INTO postmortems (incident_id, title, markdown, html, version, \
        status, created_by, created_at, updated_by, updated_at) \
        VALUES ($1, $2, $3, $4, 1, 'draft', $5, $6, $5, $6) ON CONFLICT DO NOTHING RETURNING version";
    const NEXT: &str = "UPDATE postmortems SET title = $2, markdown = $3, html = $4, \
        version = version + 1, updated_by = $5, updated_at = $6 \
        WHERE incident_id = $1 AND version = $7 AND status <> 'published' RETURNING version";
    Ok(on_tx!(tx, |conn| {
        let query = sqlx::query_scalar(if base == 0 { FIRST } else { NEXT })
            .bind(save.incident_id)
            .bind(save.title)
            .bind(save.markdown)
            .bind(save.html)
            .bind(save.by)
            .bind(save.now);
        let query = if base == 0 { query } else { query.bind(base) };
        query.fetch_optional(conn).await
    })?)
}

/// Moves a post-mortem from `from` to `to`; false when it was not at `from` any more.
pub async fn set_postmortem_status(
    tx: &mut Tx,
    id: i64,
    from: PostmortemStatus,
    to: PostmortemStatus,
    by: &str,
    now: Timestamp,
) -> Result<bool, StorageError> {
    const SQL: &str = "UPDATE postmortems SET status = $3, updated_by = $4, updated_at = $5, \
        published_at = CASE WHEN $3 = 'published' THEN $5 ELSE published_at END \
        WHERE incident_id = $1 AND status = $2";
    let done = on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(by)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// An action item's row, with its incident's title.
#[derive(Clone, Debug, FromRow)]
pub struct ActionItemRow {
    pub id: i64,
    pub incident_id: i64,
    pub incident_title: String,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub status: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const ACTION_ITEM: &str = "SELECT a.id, a.incident_id, i.title AS incident_title, a.title, \
    a.owner, a.due, a.status, a.created_by, a.created_at, a.updated_at FROM action_items a \
    JOIN incidents i ON i.id = a.incident_id";

/// An action item to insert.
#[derive(Debug)]
pub struct NewActionItem<'a> {
    pub incident_id: i64,
    pub title: &'a str,
    pub owner: &'a str,
    pub due: &'a str,
    pub by: &'a str,
    pub now: Timestamp,
}

pub async fn insert_action_item(
    tx: &mut Tx,
    item: &NewActionItem<'_>,
) -> Result<i64, StorageError> {
    const SQL: &str = "INSERT INTO action_items (incident_id, title, owner, due, status, \
        created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $6) \
        RETURNING id";
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar(SQL)
            .bind(item.incident_id)
            .bind(item.title)
            .bind(item.owner)
            .bind(item.due)
            .bind(item.by)
            .bind(item.now)
            .fetch_one(conn)
            .await
    })?)
}

pub async fn action_item(pool: Pool<'_>, id: i64) -> Result<Option<ActionItemRow>, StorageError> {
    let sql = format!("{ACTION_ITEM} WHERE a.id = $1");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?)
}

/// The action items' filter, checked.
#[derive(Debug, Default)]
pub struct ActionItemFilter {
    pub status: Option<String>,
    pub owner: Option<String>,
    pub incident_id: Option<i64>,
    /// Open items due before this day (`YYYY-MM-DD`): the overdue ones.
    pub due_before: Option<String>,
}

/// Action items matching `filter`: overdue (earliest due) first, then by due date.
pub async fn action_items(
    pool: Pool<'_>,
    filter: &ActionItemFilter,
    today: &str,
    limit: i64,
) -> Result<Vec<ActionItemRow>, StorageError> {
    let sql = format!(
        "{ACTION_ITEM} WHERE ($1 IS NULL OR a.status = $1) AND ($2 IS NULL OR a.owner = $2) \
         AND ($3 IS NULL OR a.incident_id = $3) \
         AND ($4 IS NULL OR (a.status = 'open' AND a.due < $4)) \
         ORDER BY CASE WHEN a.status = 'open' AND a.due < $5 THEN 0 ELSE 1 END, \
         CASE WHEN a.status = 'open' THEN 0 ELSE 1 END, a.due, a.id LIMIT $6"
    );
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(filter.status.as_deref())
            .bind(filter.owner.as_deref())
            .bind(filter.incident_id)
            .bind(filter.due_before.as_deref())
            .bind(today)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

/// Writes an action item's fields as `row` holds them.
pub async fn update_action_item(
    tx: &mut Tx,
    row: &ActionItemRow,
    now: Timestamp,
) -> Result<(), StorageError> {
    const SQL: &str = "UPDATE action_items SET title = $2, owner = $3, due = $4, status = $5, \
        updated_at = $6 WHERE id = $1";
    on_tx!(tx, |conn| {
        sqlx::query(SQL)
            .bind(row.id)
            .bind(&row.title)
            .bind(&row.owner)
            .bind(&row.due)
            .bind(&row.status)
            .bind(now)
            .execute(conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// How many open action items are past their due day.
pub async fn overdue_count(pool: Pool<'_>, today: &str) -> Result<i64, StorageError> {
    const SQL: &str = "SELECT COUNT(*) FROM action_items WHERE status = 'open' AND due < $1";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar(SQL).bind(today).fetch_one(pool).await
    })?)
}

/// A fingerprint of incident `id` and its timeline, links, checks and post-mortem, for live
/// pages to tell when to re-read.
pub async fn fingerprint(pool: Pool<'_>, id: i64) -> Result<(i64, i64, i64), StorageError> {
    const SQL: &str = "SELECT \
        (SELECT COUNT(*) FROM incident_timeline WHERE incident_id = $1) + \
        (SELECT COUNT(*) FROM incident_timeline_edits x JOIN incident_timeline t ON t.id = x.entry_id \
           WHERE t.incident_id = $1), \
        (SELECT COUNT(*) FROM incident_links WHERE incident_id = $1) * 1000 + \
        (SELECT COUNT(*) FROM incident_checks WHERE incident_id = $1), \
        COALESCE((SELECT version FROM postmortems WHERE incident_id = $1), 0)";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as(SQL).bind(id).fetch_one(pool).await
    })?)
}
