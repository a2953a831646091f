//! Backing up the database while it serves, and restoring a backup into an empty database.
//!
//! SQLite: `VACUUM INTO` on a read-only connection writes a consistent snapshot while the
//! writer goes on (never a copy of a live WAL file), then the snapshot is checked, counted and
//! gzipped. PostgreSQL: `pg_dump --format=custom` (compressed) reads a snapshot exported from
//! a repeatable-read transaction that also counts the rows, so the manifest describes exactly
//! what was dumped. Beside each backup, `NAME.json` holds its [`Manifest`]; a restore checks
//! it first. A backup restores into the engine it came from; `export` moves between engines.

/// Rows per table (a `BTreeMap<String, i64>`) of the tables `$names` names, counted through
/// `$conn`, a `&mut` connection of either engine; `?` carries a failed count out. A macro, as
/// the same sqlx calls compile once per engine.
macro_rules! count_each {
    ($conn:expr, $names:expr) => {{
        let mut counts = std::collections::BTreeMap::new();
        for name in $names {
            let name: String = name;
            let sql = format!(
                "SELECT COUNT(*) FROM {}",
                $crate::backend::backups::quoted(&name)
            );
            let rows: i64 = sqlx::query_scalar(&sql)
                .fetch_one(&mut *$conn)
                .await
                .map_err(StorageError::from)?;
            counts.insert(name, rows);
        }
        counts
    }};
}

/// `"name"`, with any `"` doubled: a table or column name in SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

mod export;
mod files;
mod postgres;
mod sqlite;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use chrono::DateTime;

pub use crate::domain::backups::Manifest;
use crate::{
    backend::{storage, Database, Engine, StorageError},
    domain::{backups, Timestamp},
};
pub use export::{export, import, Imported};

/// What can go wrong backing up or restoring; each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{tool} is not installed; install the PostgreSQL client tools (Debian: apt install postgresql-client) of the server's major version")]
    ToolMissing { tool: &'static str },
    #[error("{tool} failed ({status}): {stderr}")]
    Tool {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("the database at {url} holds data already; restore into an empty database, or pass --force to replace what it holds")]
    NotEmpty { url: String },
}

impl BackupError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A backup just taken: its data file and what its manifest says.
#[derive(Debug)]
pub struct Taken {
    pub file: PathBuf,
    pub manifest: Manifest,
}

/// Backs up the database at `url` (opened as `db`) into `dir`, creating it if needed.
pub async fn back_up(
    db: &Database,
    url: &str,
    dir: &Path,
    now: Timestamp,
) -> Result<Taken, BackupError> {
    let now = DateTime::from_timestamp_millis(now.millis())
        .ok_or_else(|| BackupError::Invalid(format!("the clock reads {now}")))?;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(BackupError::io(dir))?;
    let stem = backups::stem(now.naive_utc());
    let (file, snapshot) = match db {
        Database::Sqlite { reader, .. } => sqlite::back_up(reader, dir, &stem).await?,
        Database::Postgres(pool) => postgres::back_up(pool, url, dir, &stem).await?,
    };
    let (sha256, bytes) = files::digest(&file).await?;
    let manifest = Manifest {
        file: files::name(&file),
        taken_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        engine: engine_name(db.engine()).to_owned(),
        migration: snapshot.migration,
        switchyard: env!("CARGO_PKG_VERSION").to_owned(),
        tables: snapshot.tables,
        sha256,
        bytes,
    };
    files::write_manifest(&dir.join(format!("{stem}.json")), &manifest).await?;
    Ok(Taken { file, manifest })
}

/// Checks a backup (its data file or its manifest) without touching any database: the
/// manifest reads, the checksum matches, this Switchyard knows its schema, and the data
/// itself opens and holds the rows the manifest counts (SQLite), or lists as a dump
/// (`pg_restore --list`). Returns the manifest and the data file.
pub async fn verify(path: &Path) -> Result<(Manifest, PathBuf), BackupError> {
    let (manifest, file) = files::checked(path).await?;
    let engine = engine_of(&manifest)?;
    let ours = storage::newest_migration(engine);
    if manifest.migration > ours {
        return Err(BackupError::Invalid(format!(
            "this backup comes from a newer Switchyard (schema {}, this one knows up to {ours}); restore it with Switchyard {} or newer",
            manifest.migration, manifest.switchyard
        )));
    }
    match engine {
        Engine::Sqlite => sqlite::verify(&file, &manifest).await?,
        Engine::Postgres => postgres::verify(&file).await?,
    }
    Ok((manifest, file))
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Rows per table right after the restore, before migrating (equal to the manifest's).
    pub tables: BTreeMap<String, i64>,
    /// The schema version after migrating forward.
    pub migration: i64,
}

/// Restores the backup at `path` into the database at `url`: checked as [`verify`] does,
/// refused over a database that holds data unless `force`, then migrated forward. The server
/// must not be running on that database meanwhile.
pub async fn restore(path: &Path, url: &str, force: bool) -> Result<Restored, BackupError> {
    let (manifest, file) = verify(path).await?;
    let engine = engine_of(&manifest)?;
    let target = Engine::from_url(url)
        .ok_or_else(|| StorageError::UnsupportedUrl(storage::redact_url(url)))?;
    if target != engine {
        return Err(BackupError::Invalid(format!(
            "this is a {} backup and the database is {}: a backup restores only into the engine it came from; to move to the other engine, `switchyard export` from the old database and `switchyard import` into the new one",
            manifest.engine,
            engine_name(target)
        )));
    }
    let tables = match engine {
        Engine::Sqlite => sqlite::restore(&file, url, force).await?,
        Engine::Postgres => postgres::restore(&file, url, force).await?,
    };
    if tables != manifest.tables {
        return Err(BackupError::Invalid(format!(
            "the restored database does not hold what the manifest counts: {tables:?} against {:?}",
            manifest.tables
        )));
    }
    let db = Database::connect(url).await?;
    let migrated = db.migrate().await;
    let version = db.schema_version().await;
    db.close().await;
    migrated?;
    Ok(Restored {
        manifest,
        tables,
        migration: version?.unwrap_or(0),
    })
}

/// Scheduled backups, as the configuration sets them.
#[derive(Clone, Debug)]
pub struct BackupSettings {
    pub dir: PathBuf,
    pub schedule: backups::Schedule,
    pub retention: backups::Retention,
}

/// Backs up at every scheduled time and prunes by the retention policy after each backup,
/// for as long as the server runs. A failure is logged and the next run tried as usual;
/// the newest backup's age (health, Prometheus) tells someone it went stale.
pub async fn run_schedule(db: Database, url: String, settings: BackupSettings) {
    loop {
        let now = chrono::Utc::now();
        let next = settings.schedule.next_after(now);
        tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
        match back_up(&db, &url, &settings.dir, Timestamp::now()).await {
            Ok(taken) => tracing::info!(
                file = %taken.file.display(),
                bytes = taken.manifest.bytes,
                rows = taken.manifest.tables.values().sum::<i64>(),
                "backed up"
            ),
            Err(error) => {
                tracing::error!(%error, dir = %settings.dir.display(), "the scheduled backup failed");
                continue;
            }
        }
        match prune(&settings, chrono::Utc::now()).await {
            Ok(removed) if removed.is_empty() => {}
            Ok(removed) => tracing::info!(
                ?removed,
                "removed backups the retention policy no longer keeps"
            ),
            Err(error) => tracing::warn!(%error, "cannot prune old backups"),
        }
    }
}

/// Deletes the backups in the folder that the retention policy does not keep on `now`'s
/// local day (data file and manifest); returns the names deleted. Only files named like
/// backups are looked at, and never one still being written.
pub async fn prune(
    settings: &BackupSettings,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, BackupError> {
    let names = files::list(&settings.dir).await?;
    let mut stems: Vec<(String, chrono::NaiveDateTime)> = names
        .iter()
        .filter_map(|name| {
            let taken = backups::taken_at(name)?.and_utc();
            let stem = name.split('.').next()?.to_owned();
            Some((stem, settings.schedule.local(taken)))
        })
        .collect();
    stems.sort();
    stems.dedup();
    let taken: Vec<_> = stems.iter().map(|(_, at)| *at).collect();
    let today = settings.schedule.local(now).date();
    let kept = settings.retention.kept(&taken, today);
    let mut removed = Vec::new();
    for (index, (stem, _)) in stems.iter().enumerate() {
        if kept.contains(&index) {
            continue;
        }
        for name in names.iter().filter(|n| n.split('.').next() == Some(stem)) {
            let path = settings.dir.join(name);
            tokio::fs::remove_file(&path)
                .await
                .map_err(BackupError::io(&path))?;
            removed.push(name.clone());
        }
    }
    Ok(removed)
}

/// How scheduled backups stand, for health, Prometheus and the Admin page.
#[derive(Debug)]
pub struct Report {
    pub freshness: backups::Freshness,
    pub newest_at: Option<chrono::DateTime<chrono::Utc>>,
    pub next_at: chrono::DateTime<chrono::Utc>,
    /// The Admin page's sentence ([`backups::describe`]).
    pub sentence: String,
}

/// How the backups `settings` schedules stand at `now`. A folder that cannot be read counts
/// as holding no backup (the log says why).
pub async fn report(settings: &BackupSettings, now: chrono::DateTime<chrono::Utc>) -> Report {
    let newest = newest(&settings.dir)
        .await
        .inspect_err(|error| tracing::warn!(%error, "cannot read the backup folder"))
        .ok()
        .flatten();
    Report {
        freshness: backups::Freshness::of(newest, now),
        newest_at: newest,
        next_at: settings.schedule.next_after(now),
        sentence: backups::describe(
            &settings.dir.display().to_string(),
            &settings.schedule,
            newest,
            now,
        ),
    }
}

/// The Admin page's view of the backups; for admins.
pub async fn status(
    state: &crate::backend::AppState,
    caller: &crate::backend::Caller,
) -> Result<crate::model::BackupStatus, crate::error::AppError> {
    caller.authorize(crate::domain::Action::ManageUsers)?;
    Ok(match &state.backups {
        None => crate::model::BackupStatus {
            sentence: "Scheduled backups are off: set backup_dir in the configuration (README: Backups), or run switchyard backup from cron.".to_owned(),
            stale: true,
        },
        Some(settings) => {
            let report = report(settings, chrono::Utc::now()).await;
            crate::model::BackupStatus {
                stale: report.freshness != backups::Freshness::Ok,
                sentence: report.sentence,
            }
        }
    })
}

/// When the newest complete backup in `dir` (one with its manifest) was taken; `None` when
/// there is none, or no such folder yet.
pub async fn newest(dir: &Path) -> Result<Option<chrono::DateTime<chrono::Utc>>, BackupError> {
    let names = match files::list(dir).await {
        Err(BackupError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        names => names?,
    };
    Ok(names
        .iter()
        .filter(|name| name.ends_with(".json"))
        .filter_map(|name| backups::taken_at(name))
        .max()
        .map(|at| at.and_utc()))
}

/// A snapshot's schema version and rows per table.
#[derive(Debug)]
struct Snapshot {
    migration: i64,
    tables: BTreeMap<String, i64>,
}

/// A snapshot's schema version. The migration history itself is not counted as data (the
/// table lists leave `_sqlx_migrations` out): a restore rewrites it as it migrates forward.
const NEWEST_MIGRATION: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";

fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    }
}

fn engine_of(manifest: &Manifest) -> Result<Engine, BackupError> {
    match manifest.engine.as_str() {
        "sqlite" => Ok(Engine::Sqlite),
        "postgres" => Ok(Engine::Postgres),
        other => Err(BackupError::Invalid(format!(
            "the manifest names engine {other:?}; expected sqlite or postgres"
        ))),
    }
}
