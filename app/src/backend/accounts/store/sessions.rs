//! Login sessions: tower-sessions' records, kept in the application's own database.
//!
//! The store is ours rather than `tower-sessions-sqlx-store` because Switchyard must list a
//! user's sessions and end them (on deactivation, on a password change, from the account
//! page), so the user and login details live in columns beside the opaque data. Session ids
//! are stored only as SHA-256 digests; that digest is also the handle the account page uses to
//! name a session, so no page ever shows another session's cookie value.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use tower_sessions::{
    cookie::time::OffsetDateTime,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};

use crate::backend::{
    secrets::digest,
    storage::{unless_outage, Pool, Tx},
    Database, StorageError,
};
use crate::{
    domain::{Role, Timestamp},
    on_pool, on_tx,
};

/// The key under which a session holds its [`Login`].
pub const LOGIN_KEY: &str = "login";

/// What a session knows about the login that created it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub user_id: i64,
    pub logged_in_at: Timestamp,
    /// Refreshed at most once a minute; each refresh saves the session and so pushes back its
    /// idle expiry.
    pub last_seen_at: Timestamp,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The digest a session id is stored and named by.
pub fn handle_of(id: &Id) -> String {
    digest(&id.to_string())
}

/// tower-sessions' store on Switchyard's database.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Database,
}

impl DbSessionStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn backend(error: impl Into<StorageError>) -> session_store::Error {
    session_store::Error::Backend(error.into().for_session_store())
}

fn to_timestamp(moment: OffsetDateTime) -> Timestamp {
    Timestamp(i64::try_from(moment.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
}

/// The columns a record's data fills in, besides the data itself.
struct Columns {
    data: String,
    user_id: Option<i64>,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    client_address: Option<String>,
    user_agent: Option<String>,
}

impl Columns {
    fn of(record: &Record, now: Timestamp) -> Result<Self, session_store::Error> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let login: Option<Login> = record
            .data
            .get(LOGIN_KEY)
            .map(|value| serde_json::from_value(value.clone()))
            .transpose()
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        Ok(match login {
            Some(login) => Self {
                data,
                user_id: Some(login.user_id),
                created_at: login.logged_in_at,
                last_seen_at: login.last_seen_at,
                client_address: login.client_address,
                user_agent: login.user_agent,
            },
            None => Self {
                data,
                user_id: None,
                created_at: now,
                last_seen_at: now,
                client_address: None,
                user_agent: None,
            },
        })
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        const SQL: &str = "INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at, expires_at, client_address, user_agent) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id_hash) DO NOTHING";
        let columns = Columns::of(record, Timestamp::now())?;
        // A 128-bit random id collides practically never; if it does, draw another.
        loop {
            record.id = Id::default();
            let inserted = on_pool!(self.db.writer(), |pool| {
                sqlx::query(SQL)
                    .bind(handle_of(&record.id))
                    .bind(columns.user_id)
                    .bind(&columns.data)
                    .bind(columns.created_at)
                    .bind(columns.last_seen_at)
                    .bind(to_timestamp(record.expiry_date))
                    .bind(&columns.client_address)
                    .bind(&columns.user_agent)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })
            .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
        }
    }

    /// Updates a session that exists. A session ended meanwhile (by logout elsewhere or a
    /// deactivation) stays ended: saving never brings it back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        const SQL: &str =
            "UPDATE sessions SET data = $2, user_id = $3, last_seen_at = $4, expires_at = $5 \
            WHERE id_hash = $1";
        let columns = Columns::of(record, Timestamp::now())?;
        let saved = on_pool!(self.db.writer(), |pool| {
            sqlx::query(SQL)
                .bind(handle_of(&record.id))
                .bind(&columns.data)
                .bind(columns.user_id)
                .bind(columns.last_seen_at)
                .bind(to_timestamp(record.expiry_date))
                .execute(pool)
                .await
                .map(drop)
        });
        // An update only moves the last-seen time (logging in creates a session), and
        // tower-sessions answers a failed save with an empty 500: the page was read, so it
        // should be shown.
        unless_outage(saved.map_err(StorageError::from), "a session's activity").map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        const SQL: &str =
            "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2";
        let row: Option<(String, Timestamp)> = on_pool!(self.db.reader(), |pool| {
            sqlx::query_as(SQL)
                .bind(handle_of(id))
                .bind(Timestamp::now())
                .fetch_optional(pool)
                .await
        })
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires_at.millis()) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        on_pool!(self.db.writer(), |pool| {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(handle_of(id))
                .execute(pool)
                .await
                .map(drop)
        })
        .map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        delete_expired(&self.db, Timestamp::now())
            .await
            .map(drop)
            .map_err(backend)
    }
}

/// Deletes sessions idle past their expiry; returns how many.
pub async fn delete_expired(db: &Database, now: Timestamp) -> Result<u64, StorageError> {
    Ok(on_pool!(db.writer(), |pool| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?)
}

/// A session as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct SessionInfo {
    /// The id's digest: names the session without revealing it.
    pub handle: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

/// A user's live sessions, most recently used first.
pub async fn list_for_user(
    pool: Pool<'_>,
    user_id: i64,
    now: Timestamp,
) -> Result<Vec<SessionInfo>, StorageError> {
    const SQL: &str = "SELECT id_hash AS handle, created_at, last_seen_at, expires_at, client_address, user_agent \
        FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC";
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as::<_, SessionInfo>(SQL)
            .bind(user_id)
            .bind(now)
            .fetch_all(pool)
            .await
    })?)
}

/// Ends a user's sessions, except the one named `keep`; returns how many ended.
pub async fn end_for_user(
    tx: &mut Tx,
    user_id: i64,
    keep: Option<&str>,
) -> Result<u64, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?)
}

/// Ends one of a user's sessions by its handle; returns whether it existed.
pub async fn end_one(tx: &mut Tx, user_id: i64, handle: &str) -> Result<bool, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash = $2")
            .bind(user_id)
            .bind(handle)
            .execute(conn)
            .await
            .map(|r| r.rows_affected() == 1)
    })?)
}

/// Whether the session named by `handle` is still `user_id`'s, unexpired, begun after
/// `logged_in_after`, and its user active with `role` (see `identity::still_current`).
pub async fn still_current(
    pool: Pool<'_>,
    handle: &str,
    user_id: i64,
    role: Role,
    now: Timestamp,
    logged_in_after: Timestamp,
) -> Result<bool, StorageError> {
    let count: i64 = on_pool!(pool, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND u.id = $2 AND u.active AND u.role = $3 \
             AND s.expires_at > $4 AND s.created_at > $5",
        )
        .bind(handle)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now)
        .bind(logged_in_after)
        .fetch_one(pool)
        .await
    })?;
    Ok(count == 1)
}
