//! The `api_tokens` table: named bearer tokens with a role and an optional expiry, for CI
//! pipelines and scripts. Only a digest of each token is stored.

use std::time::Duration;

use sqlx::FromRow;

use crate::backend::{
    accounts::store::users::parse_role,
    secrets::digest,
    storage::{unless_outage, Pool, Tx},
    Database, StorageError,
};
pub use crate::model::ApiToken;
use crate::{
    domain::{Role, Timestamp},
    on_pool, on_tx,
};

/// What every token starts with, so scanners and people recognise a leaked one.
pub const TOKEN_PREFIX: &str = "sy_";

/// How often a token's last use is written: an API client may call many times a second.
const LAST_USED_PRECISION: Duration = Duration::from_secs(60);

#[derive(FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    role: String,
    created_by: String,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    last_used_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StorageError;

    fn try_from(row: TokenRow) -> Result<Self, StorageError> {
        Ok(ApiToken {
            role: parse_role(&row.role)?,
            id: row.id,
            name: row.name,
            created_by: row.created_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

const COLUMNS: &str =
    "id, name, role, created_by, created_at, expires_at, last_used_at, revoked_at";

/// A token about to be stored. Its `Debug` hides the secret.
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub secret: &'a str,
    pub created_by: &'a str,
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for NewToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Stores a token's digest; an active token with the same name is a unique violation.
pub async fn insert(
    tx: &mut Tx,
    token: &NewToken<'_>,
    now: Timestamp,
) -> Result<ApiToken, StorageError> {
    let sql = format!(
        "INSERT INTO api_tokens (name, role, token_hash, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let row = on_tx!(tx, |conn| {
        sqlx::query_as::<_, TokenRow>(&sql)
            .bind(token.name)
            .bind(token.role.as_str())
            .bind(digest(token.secret))
            .bind(token.created_by)
            .bind(now)
            .bind(token.expires_at)
            .fetch_one(conn)
            .await
    })?;
    row.try_into()
}

/// The live token a secret belongs to (not revoked, not expired), noting its use.
pub async fn authenticate(
    db: &Database,
    secret: &str,
    now: Timestamp,
) -> Result<Option<ApiToken>, StorageError> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $2)"
    );
    let row = on_pool!(db.reader(), |pool| {
        sqlx::query_as::<_, TokenRow>(&sql)
            .bind(digest(secret))
            .bind(now)
            .fetch_optional(pool)
            .await
    })?;
    let Some(token) = row.map(ApiToken::try_from).transpose()? else {
        return Ok(None);
    };
    let stale = token
        .last_used_at
        .is_none_or(|used| now.since(used) >= LAST_USED_PRECISION);
    if stale {
        let noted = on_pool!(db.writer(), |pool| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(token.id)
                .execute(pool)
                .await
                .map(drop)
        });
        unless_outage(noted.map_err(StorageError::from), "a token's last use")?;
    }
    Ok(Some(token))
}

/// Every token, active ones first, newest first.
pub async fn list(pool: Pool<'_>) -> Result<Vec<ApiToken>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_tokens ORDER BY (revoked_at IS NULL) DESC, created_at DESC, id DESC"
    );
    let rows = on_pool!(pool, |pool| {
        sqlx::query_as::<_, TokenRow>(&sql).fetch_all(pool).await
    })?;
    rows.into_iter().map(ApiToken::try_from).collect()
}

/// Which token to revoke.
#[derive(Clone, Copy, Debug)]
pub enum TokenRef<'a> {
    Id(i64),
    /// The active token with this name.
    Name(&'a str),
}

/// Revokes an active token; returns it, now revoked, or `None` if there is no such active
/// token.
pub async fn revoke(
    tx: &mut Tx,
    which: TokenRef<'_>,
    now: Timestamp,
) -> Result<Option<ApiToken>, StorageError> {
    let (id, name) = match which {
        TokenRef::Id(id) => (Some(id), None),
        TokenRef::Name(name) => (None, Some(name)),
    };
    let sql = format!(
        "UPDATE api_tokens SET revoked_at = $1 \
         WHERE revoked_at IS NULL AND ($2 IS NULL OR id = $2) AND ($3 IS NULL OR name = $3) \
         RETURNING {COLUMNS}"
    );
    let row = on_tx!(tx, |conn| {
        sqlx::query_as::<_, TokenRow>(&sql)
            .bind(now)
            .bind(id)
            .bind(name)
            .fetch_optional(conn)
            .await
    })?;
    row.map(ApiToken::try_from).transpose()
}

/// Revokes every active token `username` created: a deactivated user's tokens must not keep
/// acting for them (finding 3 of the security review).
pub async fn revoke_created_by(
    tx: &mut Tx,
    username: &str,
    now: Timestamp,
) -> Result<Vec<ApiToken>, StorageError> {
    let sql = format!(
        "UPDATE api_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND created_by = $2 \
         RETURNING {COLUMNS}"
    );
    let rows = on_tx!(tx, |conn| {
        sqlx::query_as::<_, TokenRow>(&sql)
            .bind(now)
            .bind(username)
            .fetch_all(conn)
            .await
    })?;
    rows.into_iter().map(ApiToken::try_from).collect()
}

/// Whether token `id` still has `role` and is neither revoked nor expired.
pub async fn still_current(
    pool: Pool<'_>,
    id: i64,
    role: Role,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let count: i64 = on_pool!(pool, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_tokens WHERE id = $1 AND role = $2 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(id)
        .bind(role.as_str())
        .bind(now)
        .fetch_one(pool)
        .await
    })?;
    Ok(count == 1)
}
