//! Idempotency keys: a create sent again with the same `Idempotency-Key` (a retried CI step)
//! answers with what the first one made instead of making another. The key is remembered in
//! the transaction that creates the resource, so either both exist or neither does.

use sha2::{Digest, Sha256};

use super::{storage::Tx, Database, StorageError};
use crate::{domain::FieldError, error::AppError, on_pool, on_tx};

/// A resource made by a create call, and whether an idempotency key replayed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Made<T> {
    pub value: T,
    pub replayed: bool,
}

/// How long a key is remembered: a retry after that makes a new resource.
pub const KEY_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 200;

/// A key as one caller sent it with one request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// Whose key it is (`user:alice`, `token:ci`): two callers' keys never collide.
    scope: String,
    key: String,
    /// A digest of the request, so the same key with another body is told apart.
    request_hash: String,
}

impl IdempotencyKey {
    /// A key for `scope` and the request `body` (any serializable form of it).
    pub fn new(scope: String, key: &str, body: &impl serde::Serialize) -> Result<Self, FieldError> {
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.is_ascii() {
            return Err(FieldError::new(
                "Idempotency-Key",
                format!("Send an Idempotency-Key of 1 to {MAX_KEY_LEN} ASCII characters."),
            ));
        }
        // serde_json orders object keys, so the digest does not depend on member order.
        let canonical = serde_json::to_vec(body).unwrap_or_default();
        Ok(Self {
            scope,
            key: key.to_owned(),
            request_hash: format!("{:x}", Sha256::digest(&canonical)),
        })
    }
}

/// A resource made by an earlier request with the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Earlier(pub i64);

/// What the key says about this request: new (go ahead), or the resource made before. A key
/// used before with another body, or for another kind of resource, is a conflict.
pub async fn check(
    tx: &mut Tx,
    key: &IdempotencyKey,
    resource: &str,
) -> Result<Option<Earlier>, CheckError> {
    let row: Option<(String, String, i64)> = on_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT request_hash, resource, resource_id FROM idempotency_keys WHERE scope = $1 AND key = $2",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .fetch_optional(conn)
        .await
    })?;
    match row {
        None => Ok(None),
        Some((hash, kind, id)) if hash == key.request_hash && kind == resource => {
            Ok(Some(Earlier(id)))
        }
        Some(_) => Err(CheckError::Reused),
    }
}

/// The same, outside a transaction: for the request that lost a race to the key.
pub async fn check_committed(
    db: &Database,
    key: &IdempotencyKey,
    resource: &str,
) -> Result<Option<Earlier>, CheckError> {
    let mut tx = db.begin().await?;
    check(&mut tx, key, resource).await
}

/// Remembers that `key` made resource `id`. When a concurrent request with the same key got
/// there first, this fails with a unique violation ([`is_race`]); roll back and
/// [`check_committed`].
pub async fn remember(
    tx: &mut Tx,
    key: &IdempotencyKey,
    resource: &str,
    id: i64,
    now: crate::domain::Timestamp,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, resource, resource_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .bind(&key.request_hash)
        .bind(resource)
        .bind(id)
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Whether `remember` failed because another request holds the key now.
pub fn is_race(error: &StorageError) -> bool {
    matches!(error, StorageError::Query(e) if super::storage::is_unique_violation(e))
}

/// Forgets keys older than `before`: retries come within minutes, not days.
pub async fn delete_older_than(
    db: &Database,
    before: crate::domain::Timestamp,
) -> Result<u64, StorageError> {
    Ok(on_pool!(db.writer(), |pool| {
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?)
}

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("the key was used before with another request")]
    Reused,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The error the caller sees.
impl From<CheckError> for AppError {
    fn from(error: CheckError) -> Self {
        match error {
            CheckError::Reused => AppError::Conflict(FieldError::new(
                "Idempotency-Key",
                "This Idempotency-Key was already used with a different request; use a new key for a new request.",
            )),
            CheckError::Storage(error) => AppError::from(error),
        }
    }
}

impl From<sqlx::Error> for CheckError {
    fn from(error: sqlx::Error) -> Self {
        CheckError::Storage(error.into())
    }
}

/// What [`begin`] and [`commit`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Created {
    pub id: i64,
    /// The key had made this resource before; nothing new was written.
    pub replayed: bool,
}

/// How a create goes on after [`begin`].
#[derive(Debug)]
pub enum Begun {
    /// The key made such a resource before: answer with it, write nothing.
    Replay(Created),
    /// Insert the resource in this transaction, then [`commit`].
    Fresh(Tx),
}

/// Starts creating one `resource`: a transaction, unless `key` made one before.
pub async fn begin(
    db: &Database,
    key: Option<&IdempotencyKey>,
    resource: &str,
) -> Result<Begun, AppError> {
    let mut tx = db.begin().await?;
    if let Some(key) = key {
        let earlier = check(&mut tx, key, resource).await?;
        if let Some(Earlier(id)) = earlier {
            return Ok(Begun::Replay(Created { id, replayed: true }));
        }
    }
    Ok(Begun::Fresh(tx))
}

/// Remembers `key` for the resource `id` inserted in `tx`, and commits. Of concurrent
/// requests with one key, one commits and the others answer with its resource.
pub async fn commit(
    db: &Database,
    mut tx: Tx,
    key: Option<&IdempotencyKey>,
    resource: &str,
    id: i64,
) -> Result<Created, AppError> {
    if let Some(key) = key {
        let now = crate::domain::Timestamp::now();
        if let Err(error) = remember(&mut tx, key, resource, id, now).await {
            if !is_race(&error) {
                return Err(AppError::from(error));
            }
            // Another request with this key committed first: undo ours, answer with theirs.
            drop(tx);
            let earlier = check_committed(db, key, resource).await?;
            return match earlier {
                Some(Earlier(id)) => Ok(Created { id, replayed: true }),
                None => Err(AppError::from(error)),
            };
        }
    }
    tx.commit().await?;
    Ok(Created {
        id,
        replayed: false,
    })
}

/// The key a request carries, for `caller`: `None` when it sent none.
pub fn key_for(
    caller: &super::Caller,
    header: Option<&str>,
    body: &impl serde::Serialize,
) -> Result<Option<IdempotencyKey>, AppError> {
    let Some(header) = header else {
        return Ok(None);
    };
    let actor = caller.actor();
    let scope = format!("{}:{}", actor.kind(), actor.name());
    Ok(Some(IdempotencyKey::new(scope, header, body)?))
}
