//! The database: SQLite (embedded, the default) or PostgreSQL (for several replicas).
//!
//! Every query is written once, in the SQL both engines understand (`$1` placeholders,
//! standard types), and run through [`on_pool!`], which expands the same sqlx code once per
//! engine so that each is type-checked against its own driver. Only the migrations, which
//! are DDL, exist twice: `migrations/sqlite` and `migrations/postgres`.

use std::{str::FromStr, time::Duration};

use serde::Serialize;
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
    #[error("{0}")]
    Batch(String),
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
}
