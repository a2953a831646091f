//! SQLite: a snapshot by `VACUUM INTO`, checked and counted, then gzipped; restored by
//! unpacking beside the target and renaming it into place.

use std::{
    collections::BTreeMap,
    io,
    path::{Path, PathBuf},
    str::FromStr,
};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool},
    ConnectOptions, Connection, SqliteConnection,
};

use super::{files, BackupError, Manifest, Snapshot, NEWEST_MIGRATION};
use crate::backend::StorageError;

/// Writes the snapshot (a read-only connection is enough: the writer is never held up) and
/// packs it as `DIR/STEM.sqlite.gz`.
pub(super) async fn back_up(
    reader: &SqlitePool,
    dir: &Path,
    stem: &str,
) -> Result<(PathBuf, Snapshot), BackupError> {
    let copy = dir.join(format!(".{stem}.sqlite.part"));
    remove_if_present(&copy).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(text(&copy)?)
        .execute(reader)
        .await
        .map_err(StorageError::from)?;
    let packed = async {
        let snapshot = inspect(&copy).await?;
        let file = dir.join(format!("{stem}.sqlite.gz"));
        pack(&copy, &file).await?;
        Ok((file, snapshot))
    }
    .await;
    remove_if_present(&copy).await?;
    packed
}

/// Unpacks the backup into a scratch file and checks it holds what the manifest counts.
pub(super) async fn verify(file: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let scratch = std::env::temp_dir().join(format!(
        "switchyard-verify-{}-{}",
        std::process::id(),
        files::name(file).trim_end_matches(".gz")
    ));
    let checked = async {
        unpack(file, &scratch).await?;
        let snapshot = inspect(&scratch).await?;
        if snapshot.tables != manifest.tables || snapshot.migration != manifest.migration {
            return Err(BackupError::Invalid(format!(
                "{} holds other rows than its manifest counts: {:?} at schema {}, against {:?} at {}; use another backup",
                file.display(),
                snapshot.tables,
                snapshot.migration,
                manifest.tables,
                manifest.migration
            )));
        }
        Ok(())
    }
    .await;
    remove_if_present(&scratch).await?;
    checked
}

/// Puts the backup in place of the database file `url` names; returns its rows per table.
pub(super) async fn restore(
    file: &Path,
    url: &str,
    force: bool,
) -> Result<BTreeMap<String, i64>, BackupError> {
    let options = SqliteConnectOptions::from_str(url).map_err(StorageError::from)?;
    let target = options.get_filename().to_path_buf();
    if !force && holds_data(&target).await? {
        return Err(BackupError::NotEmpty {
            url: url.to_owned(),
        });
    }
    if let Some(folder) = target.parent().filter(|f| !f.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(folder)
            .await
            .map_err(BackupError::io(folder))?;
    }
    let part = files::part_of(&target);
    unpack(file, &part).await?;
    let snapshot = match inspect(&part).await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            remove_if_present(&part).await?;
            return Err(error);
        }
    };
    // The old database's journal must not be replayed onto the restored file.
    for suffix in ["-wal", "-shm"] {
        let mut journal = target.clone().into_os_string();
        journal.push(suffix);
        remove_if_present(Path::new(&journal)).await?;
    }
    tokio::fs::rename(&part, &target)
        .await
        .map_err(BackupError::io(&target))?;
    Ok(snapshot.tables)
}

/// Checks a database file's integrity and counts its rows; leaves it in rollback-journal
/// mode, so the file alone is the whole database.
async fn inspect(path: &Path) -> Result<Snapshot, BackupError> {
    let mut conn = open(path).await?;
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(StorageError::from)?;
    if integrity != ["ok"] {
        return Err(BackupError::Invalid(format!(
            "{} fails SQLite's integrity check: {}",
            path.display(),
            integrity.join("; ")
        )));
    }
    let tables = count_rows(&mut conn).await?;
    let migration: Option<i64> = sqlx::query_scalar(NEWEST_MIGRATION)
        .fetch_one(&mut conn)
        .await
        .map_err(StorageError::from)?;
    conn.close().await.map_err(StorageError::from)?;
    Ok(Snapshot {
        migration: migration.unwrap_or(0),
        tables,
    })
}

/// Whether a database file exists and any of its tables has a row.
async fn holds_data(path: &Path) -> Result<bool, BackupError> {
    if !tokio::fs::try_exists(path)
        .await
        .map_err(BackupError::io(path))?
    {
        return Ok(false);
    }
    let mut conn = open(path).await?;
    let tables = count_rows(&mut conn).await?;
    conn.close().await.map_err(StorageError::from)?;
    Ok(tables.values().any(|&rows| rows > 0))
}

async fn open(path: &Path) -> Result<SqliteConnection, BackupError> {
    Ok(SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await
        .map_err(StorageError::from)?)
}

/// Rows per table, the migration history left out.
async fn count_rows(conn: &mut SqliteConnection) -> Result<BTreeMap<String, i64>, BackupError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(StorageError::from)?;
    Ok(count_each!(conn, names))
}

/// Gzips `from` into `to` (under a temporary name until complete and on disk).
async fn pack(from: &Path, to: &Path) -> Result<(), BackupError> {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    blocking(move || {
        let part = files::part_of(&to);
        let mut input = std::fs::File::open(&from).map_err(BackupError::io(&from))?;
        let output = std::fs::File::create(&part).map_err(BackupError::io(&part))?;
        let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::default());
        io::copy(&mut input, &mut encoder).map_err(BackupError::io(&part))?;
        let output = encoder.finish().map_err(BackupError::io(&part))?;
        output.sync_all().map_err(BackupError::io(&part))?;
        std::fs::rename(&part, &to).map_err(BackupError::io(&to))
    })
    .await
}

/// Un-gzips `from` into `to`.
async fn unpack(from: &Path, to: &Path) -> Result<(), BackupError> {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    blocking(move || {
        let input = std::fs::File::open(&from).map_err(BackupError::io(&from))?;
        let mut decoder = flate2::read::GzDecoder::new(io::BufReader::new(input));
        let mut output = std::fs::File::create(&to).map_err(BackupError::io(&to))?;
        io::copy(&mut decoder, &mut output).map_err(|source| {
            BackupError::Invalid(format!("{} does not unpack: {source}", from.display()))
        })?;
        output.sync_all().map_err(BackupError::io(&to))
    })
    .await
}

async fn blocking(
    work: impl FnOnce() -> Result<(), BackupError> + Send + 'static,
) -> Result<(), BackupError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| BackupError::Invalid(format!("the file work stopped: {error}")))?
}

async fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match tokio::fs::remove_file(path).await {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(BackupError::io(path)(error)),
        _ => Ok(()),
    }
}

fn text(path: &Path) -> Result<&str, BackupError> {
    path.to_str().ok_or_else(|| {
        BackupError::Invalid(format!(
            "{} is not valid UTF-8; choose a backup folder with a plain name",
            path.display()
        ))
    })
}
