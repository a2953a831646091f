//! The `audit_log` table: appended to, read by filter, never changed (the migration's
//! triggers refuse updates and deletes).

use super::{Entry, Filter, Row};
use crate::{
    backend::{
        storage::{escape_like, Pool, Tx},
        StorageError,
    },
    domain::Timestamp,
    on_pool, on_tx,
};

/// The longest object name stored: a failed login records what was typed, which may be
/// anything.
const MAX_OBJECT_LEN: usize = 200;

/// Appends an entry inside `tx`.
pub async fn insert(tx: &mut Tx, entry: Entry<'_>, now: Timestamp) -> Result<(), StorageError> {
    let object: String = entry.object.chars().take(MAX_OBJECT_LEN).collect();
    let before = entry.before.map(|v| v.to_string());
    let after = entry.after.map(|v| v.to_string());
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_kind, actor, action, object, before, after, client_address, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(now)
        .bind(entry.actor.kind())
        .bind(entry.actor.name())
        .bind(entry.action)
        .bind(&object)
        .bind(&before)
        .bind(&after)
        .bind(&entry.origin.client_address)
        .bind(&entry.origin.request_id)
        .execute(conn)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// The newest entries matching `filter`, at most `limit`.
pub async fn list(pool: Pool<'_>, filter: &Filter, limit: i64) -> Result<Vec<Row>, StorageError> {
    let action_pattern = filter.action.as_ref().map(|action| {
        if action.ends_with('.') {
            format!("{}%", escape_like(action))
        } else {
            escape_like(action)
        }
    });
    let object_pattern = filter
        .object
        .as_ref()
        .map(|o| format!("%{}%", escape_like(o)));
    // Each condition is switched off by a NULL parameter, so one statement serves every
    // filter combination on both engines.
    const SQL: &str = "SELECT id, at, actor_kind, actor, action, object, before, after, client_address, request_id \
        FROM audit_log \
        WHERE ($1 IS NULL OR actor = $1) \
          AND ($2 IS NULL OR action LIKE $2 ESCAPE '\\') \
          AND ($3 IS NULL OR object LIKE $3 ESCAPE '\\') \
          AND ($4 IS NULL OR at >= $4) \
          AND ($5 IS NULL OR at < $5) \
          AND ($6 IS NULL OR id < $6) \
        ORDER BY id DESC LIMIT $7";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as::<_, Row>(SQL)
            .bind(&filter.actor)
            .bind(&action_pattern)
            .bind(&object_pattern)
            .bind(filter.from)
            .bind(filter.to)
            .bind(filter.before_id)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}
