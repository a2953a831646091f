//! The append-only audit log: every change, who made it, from where. [`record`] writes an
//! entry inside the transaction of the change it describes, so neither lands without the
//! other. Nothing here updates or deletes rows, and the database refuses to (see the
//! migration's triggers).

use serde::{Deserialize, Serialize};

use super::{
    storage::{escape_like, Pool, Tx},
    StorageError,
};
use crate::{domain::Timestamp, on_pool, on_tx};

/// Who did something, as the log names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    User(String),
    Token(String),
    /// Switchyard itself, or its command line.
    System(String),
    /// Nobody logged in (a failed login, the first-run setup).
    Anonymous,
}

impl Actor {
    /// `user`, `token`, `system` or `anonymous`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Token(_) => "token",
            Actor::System(_) => "system",
            Actor::Anonymous => "anonymous",
        }
    }

    /// The name the log records: username, token name, or what Switchyard part acted.
    pub fn name(&self) -> &str {
        match self {
            Actor::User(name) | Actor::Token(name) | Actor::System(name) => name,
            Actor::Anonymous => "anonymous",
        }
    }
}

/// Where a request came from, for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub client_address: Option<String>,
    pub request_id: Option<String>,
}

/// One thing that happened.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub origin: &'a Origin,
    /// `noun.verb`, e.g. `user.created`, `session.login_failed`.
    pub action: &'a str,
    /// What it happened to, e.g. `user:alice`, `token:ci`.
    pub object: String,
    /// A short summary of the object before and after, as JSON.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The longest object name stored: a failed login records what was typed, which may be
/// anything.
const MAX_OBJECT_LEN: usize = 200;

/// Appends an entry inside `tx`.
pub async fn record(tx: &mut Tx, entry: Entry<'_>, now: Timestamp) -> Result<(), StorageError> {
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

pub use crate::model::{AuditEntry as Row, AuditFilter as Filter};

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
