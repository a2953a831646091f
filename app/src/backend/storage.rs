//! The database: SQLite (embedded, the default) or PostgreSQL (for several replicas).
//!
//! Every query is written once, in the SQL both engines understand (`$1` placeholders,
//! standard types), and run through [`on_pool!`], which expands the same sqlx code once per
//! engine so that each is type-checked against its own driver. Only the migrations, which
//! are DDL, exist twice: `migrations/sqlite` and `migrations/postgres`.

use std::{str::FromStr, time::Duration};

use serde::Serialize;

use crate::error::Outage;
use sqlx::{
    migrate::{MigrateDatabase, MigrateError, Migrator},
    postgres::{PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
    Postgres, Sqlite, Transaction,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a connection waits for a locked SQLite database before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite allows one writer at a time; readers work beside it thanks to WAL.
const SQLITE_READERS: u32 = 4;
const POSTGRES_CONNECTIONS: u32 = 10;
/// How long a request waits for a pooled connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database engine is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[derive(utoipa::ToSchema)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a database URL names, if it is one Switchyard supports.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unsupported database URL {0}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("SQLite needs a file; in-memory databases would lose every record at exit")]
    InMemorySqlite,
    #[error("cannot create the database folder {path}: {source}")]
    CreateFolder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] MigrateError),
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
    #[error("the operating system gave no random bytes: {0}")]
    Random(String),
    #[error("the database holds a value Switchyard cannot read: {0}")]
    Corrupt(String),
    #[error("session store failed: {0}")]
    Session(String),
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    /// A failure passed on as text (a batch's one failure told to each of its items, a step
    /// that answered with an application error), still saying whether it was an outage.
    #[error("{message}")]
    Restated {
        message: String,
        outage: Option<Outage>,
    },
}

impl From<crate::error::AppError> for StorageError {
    fn from(error: crate::error::AppError) -> Self {
        use crate::error::AppError;
        let (message, outage) = match error {
            AppError::Unavailable { outage, detail } => (detail, Some(outage)),
            AppError::Internal { detail, .. } => (detail, None),
            other => (other.to_string(), None),
        };
        StorageError::Restated { message, outage }
    }
}

impl StorageError {
    /// Whether this is the database being away or full rather than a fault in Switchyard:
    /// such a request is answered 503 and succeeds again once the condition passes.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StorageError::Timeout(_) => Some(Outage::Unreachable),
            StorageError::Restated { outage, .. } => *outage,
            StorageError::Query(error) => outage_of(error),
            StorageError::Session(message) => message.strip_prefix(SESSION_OUTAGE).map(|rest| {
                if rest.starts_with(DISK_FULL) {
                    Outage::DiskFull
                } else {
                    Outage::Unreachable
                }
            }),
            _ => None,
        }
    }

    /// The message a session store reports this error with: tower-sessions passes store
    /// errors on as text alone, so an outage is marked in it to be told apart again.
    pub fn for_session_store(&self) -> String {
        match self.outage() {
            Some(Outage::DiskFull) => format!("{SESSION_OUTAGE}{DISK_FULL}{self}"),
            Some(Outage::Unreachable) => format!("{SESSION_OUTAGE}{self}"),
            None => self.to_string(),
        }
    }
}

/// Lets a bookkeeping write (when a token or a session was last used) give way to an outage:
/// a read must not fail because its note of activity cannot be saved while the database is
/// away or full. Other errors pass on.
pub fn unless_outage(result: Result<(), StorageError>, what: &str) -> Result<(), StorageError> {
    match result {
        Err(error) if error.outage().is_some() => {
            tracing::warn!(%error, "{what} not saved during a database outage");
            Ok(())
        }
        result => result,
    }
}

const SESSION_OUTAGE: &str = "database unavailable: ";
const DISK_FULL: &str = "disk full: ";

/// Classifies a driver error: lost or refused connections, an exhausted pool, a server
/// shutting down or out of resources (PostgreSQL SQLSTATE classes 08, 53 and 57P), a full
/// disk or failing I/O (SQLite's primary result codes, below its extended ones).
fn outage_of(error: &sqlx::Error) -> Option<Outage> {
    const SQLITE_IOERR: i32 = 10;
    const SQLITE_FULL: i32 = 13;
    const SQLITE_CANTOPEN: i32 = 14;
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Some(Outage::Unreachable),
        sqlx::Error::Database(database) => {
            let code = database.code()?;
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                match code.parse::<i32>().ok()? & 0xff {
                    SQLITE_FULL => Some(Outage::DiskFull),
                    SQLITE_IOERR | SQLITE_CANTOPEN => Some(Outage::Unreachable),
                    _ => None,
                }
            } else if code == "53100" {
                Some(Outage::DiskFull)
            } else if ["08", "53", "57P"]
                .iter()
                .any(|class| code.starts_with(class))
            {
                Some(Outage::Unreachable)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A connection pool for one engine, borrowed for a query. See [`on_pool!`].
#[derive(Clone, Copy, Debug)]
pub enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

/// Runs the same sqlx code against whichever engine `$pool` (a [`Pool`]) holds; the body is
/// compiled once per engine, so it must be SQL both understand.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$conn:ident| $body:expr) => {
        match $pool {
            $crate::backend::storage::Pool::Sqlite($conn) => $body,
            $crate::backend::storage::Pool::Postgres($conn) => $body,
        }
    };
}

/// An open write transaction on either engine. Storage functions that take one add their
/// statements to it; the caller commits once, so a change and its audit entry land together
/// or not at all. Dropping it uncommitted rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// Makes every statement in the transaction permanent.
    pub async fn commit(self) -> Result<(), StorageError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Runs the same sqlx code on the connection inside a [`Tx`] (`&mut Tx`), once per engine,
/// like [`on_pool!`].
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::backend::storage::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::backend::storage::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// A value read back from the database, where a CHECK constraint keeps it valid: a parse
/// failure means the database was changed behind Switchyard's back.
pub fn stored<T>(parsed: Result<T, crate::domain::FieldError>) -> Result<T, StorageError> {
    parsed.map_err(|e| StorageError::Corrupt(format!("{}: {}", e.field, e.message)))
}

/// Escapes `%`, `_` and `\` so text matches literally inside a `LIKE … ESCAPE '\'` pattern.
pub fn escape_like(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            if matches!(c, '%' | '_' | '\\') {
                out.push('\\');
            }
            out.push(c);
            out
        })
}

/// Whether an error is a unique constraint refusing a duplicate, on either engine.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// The application's database.
#[derive(Clone, Debug)]
pub enum Database {
    /// One writer connection, so write transactions never meet SQLite's read-then-write
    /// `SQLITE_BUSY` trap, and a few read-only connections beside it.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

impl Database {
    /// Opens the database a URL names, creating it if missing (a SQLite file and its folder,
    /// or a PostgreSQL database when the user may create one).
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        match Engine::from_url(url) {
            Some(Engine::Sqlite) => connect_sqlite(url).await,
            Some(Engine::Postgres) => connect_postgres(url).await,
            None => Err(StorageError::UnsupportedUrl(redact_url(url))),
        }
    }

    /// Brings the schema up to date. PostgreSQL replicas starting together are safe: sqlx
    /// holds an advisory lock while it migrates.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        match self {
            Self::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self {
            Self::Sqlite { .. } => Engine::Sqlite,
            Self::Postgres(_) => Engine::Postgres,
        }
    }

    /// The pool for queries that only read.
    pub fn reader(&self) -> Pool<'_> {
        match self {
            Self::Sqlite { reader, .. } => Pool::Sqlite(reader),
            Self::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    /// The pool for queries and transactions that write.
    pub fn writer(&self) -> Pool<'_> {
        match self {
            Self::Sqlite { writer, .. } => Pool::Sqlite(writer),
            Self::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, StorageError> {
        Ok(match self {
            Self::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Checks that the database answers a query, within `limit`.
    pub async fn ping(&self, limit: Duration) -> Result<(), StorageError> {
        let query = async {
            on_pool!(self.reader(), |pool| {
                sqlx::query("SELECT 1").execute(pool).await.map(drop)
            })
        };
        match tokio::time::timeout(limit, query).await {
            Ok(result) => result.map_err(StorageError::from),
            Err(_) => Err(StorageError::Timeout(limit)),
        }
    }

    /// The newest migration applied successfully, if any.
    pub async fn schema_version(&self) -> Result<Option<i64>, StorageError> {
        const SQL: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        let version = on_pool!(self.reader(), |pool| {
            sqlx::query_scalar::<_, Option<i64>>(SQL)
                .fetch_one(pool)
                .await
        })?;
        Ok(version)
    }

    /// Closes every connection; used at shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        match self {
            Self::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// The newest migration this Switchyard knows for `engine`: a database (or a backup) at a
/// later one comes from a newer version.
pub fn newest_migration(engine: Engine) -> i64 {
    let migrator = match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Whether a connection handed back to its pool may be used again. One still inside a
/// transaction is closed instead, which rolls that back: when a write fails so that the
/// transaction cannot be rolled back normally (SQLite on a full disk does this), sqlx keeps
/// counting it open and would nest the next transaction in a savepoint that never commits —
/// writes acknowledged and then lost. Found by the full-disk test.
fn released_clean(connection: &mut impl sqlx::Connection) -> Result<bool, sqlx::Error> {
    let clean = !connection.is_in_transaction();
    if !clean {
        tracing::warn!("closed a database connection left inside a failed transaction");
    }
    Ok(clean)
}

async fn connect_sqlite(url: &str) -> Result<Database, StorageError> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StorageError::InMemorySqlite);
    }
    let connect_error = connect_error(url);
    let options = SqliteConnectOptions::from_str(url)
        .map_err(connect_error)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a deployment the API acknowledged survives a power cut.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let file = options.get_filename().to_path_buf();
    if let Some(folder) = file.parent().filter(|f| !f.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(folder)
            .await
            .map_err(|source| StorageError::CreateFolder {
                path: folder.display().to_string(),
                source,
            })?;
    }
    // The writer opens (and creates) the file first, so readers find it in WAL mode.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_release(|connection, _| Box::pin(std::future::ready(released_clean(connection))))
        .connect_with(options.clone())
        .await
        .map_err(connect_error)?;
    let reader = SqlitePoolOptions::new()
        .max_connections(SQLITE_READERS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.read_only(true))
        .await
        .map_err(connect_error)?;
    Ok(Database::Sqlite { writer, reader })
}

async fn connect_postgres(url: &str) -> Result<Database, StorageError> {
    let connect = || {
        PgPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_release(|connection, _| Box::pin(std::future::ready(released_clean(connection))))
            .connect(url)
    };
    let pool = match connect().await {
        // A fresh server has no database yet: create it, as SQLite creates its file.
        Err(error) if is_missing_database(&error) => {
            sqlx::Postgres::create_database(url)
                .await
                .map_err(connect_error(url))?;
            connect().await
        }
        result => result,
    };
    pool.map(Database::Postgres).map_err(connect_error(url))
}

/// Wraps a driver error from opening `url`, with the password redacted.
fn connect_error(url: &str) -> impl Fn(sqlx::Error) -> StorageError + Copy + '_ {
    move |source| StorageError::Connect {
        url: redact_url(url),
        source,
    }
}

/// PostgreSQL's `invalid_catalog_name`: the database in the URL does not exist.
fn is_missing_database(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "3D000")
}

/// A database URL with any password replaced, safe for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match password_span(url) {
        Some((before, _password, after)) => format!("{before}:***{after}"),
        None => url.to_owned(),
    }
}

/// A URL split around its password: `scheme://user`, the password (as written, percent-encoded)
/// and `@host/path…`; `None` when it has none.
pub fn password_span(url: &str) -> Option<(&str, &str, &str)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let at = rest[..rest.find(['/', '?']).unwrap_or(rest.len())].rfind('@')?;
    let colon = rest[..at].find(':')?;
    Some((
        &url[..start + colon],
        &url[start + colon + 1..start + at],
        &url[start + at..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.internal:5432/switchyard"),
            "postgres://app:***@db.internal:5432/switchyard"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact_url("sqlite://data/switchyard.db"),
            "sqlite://data/switchyard.db"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn engine_follows_the_url_scheme() {
        assert_eq!(Engine::from_url("sqlite://data/a.db"), Some(Engine::Sqlite));
        assert_eq!(Engine::from_url("sqlite:a.db"), Some(Engine::Sqlite));
        assert_eq!(Engine::from_url("postgres://u@h/d"), Some(Engine::Postgres));
        assert_eq!(
            Engine::from_url("postgresql://u@h/d"),
            Some(Engine::Postgres)
        );
        assert_eq!(Engine::from_url("mysql://u@h/d"), None);
    }

    #[test]
    fn an_outage_is_told_apart_from_a_fault_and_survives_being_restated() {
        let lost =
            || StorageError::Query(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()));
        assert_eq!(lost().outage(), Some(Outage::Unreachable));
        assert_eq!(
            StorageError::Query(sqlx::Error::PoolTimedOut).outage(),
            Some(Outage::Unreachable)
        );
        assert_eq!(
            StorageError::Timeout(Duration::from_secs(2)).outage(),
            Some(Outage::Unreachable)
        );
        assert_eq!(StorageError::Query(sqlx::Error::RowNotFound).outage(), None);
        assert_eq!(StorageError::Corrupt("role: x".into()).outage(), None);
        // Through a session store's text and back.
        let session = StorageError::Session(lost().for_session_store());
        assert_eq!(session.outage(), Some(Outage::Unreachable));
        assert_eq!(
            StorageError::Session("Decoding failed with: x".into()).outage(),
            None
        );
        // Through an application error and back, keeping the detail for the log.
        let restated = StorageError::from(AppError::from(lost()));
        assert_eq!(restated.outage(), Some(Outage::Unreachable));
        assert!(
            restated.to_string().contains("connection reset"),
            "{restated}"
        );
        let status = AppError::from(lost()).status();
        assert_eq!(status, 503);
        assert_eq!(
            AppError::from(StorageError::Corrupt("x".into())).status(),
            500
        );
    }
}
