//! PostgreSQL: `pg_dump --format=custom` of a snapshot that a repeatable-read transaction
//! exports and counts; restored by `pg_restore` in one transaction.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
};

use sqlx::{PgConnection, PgPool};

use super::{files, BackupError, Snapshot, NEWEST_MIGRATION};
use crate::backend::{storage, Database, StorageError};

/// Dumps the database into `DIR/STEM.pgdump`.
pub(super) async fn back_up(
    pool: &PgPool,
    url: &str,
    dir: &Path,
    stem: &str,
) -> Result<(PathBuf, Snapshot), BackupError> {
    let file = dir.join(format!("{stem}.pgdump"));
    let part = files::part_of(&file);
    let mut tx = pool.begin().await.map_err(StorageError::from)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(StorageError::from)?;
    // pg_dump reads the very snapshot counted here, for as long as this transaction lasts.
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await
        .map_err(StorageError::from)?;
    let tables = count_rows(&mut tx).await?;
    let migration: Option<i64> = sqlx::query_scalar(NEWEST_MIGRATION)
        .fetch_one(&mut *tx)
        .await
        .map_err(StorageError::from)?;
    run(
        "pg_dump",
        &[
            "--format=custom",
            &format!("--snapshot={snapshot}"),
            &format!("--file={}", part.display()),
        ],
        Some(url),
    )
    .await?;
    tx.rollback().await.map_err(StorageError::from)?;
    tokio::fs::rename(&part, &file)
        .await
        .map_err(BackupError::io(&file))?;
    Ok((
        file,
        Snapshot {
            migration: migration.unwrap_or(0),
            tables,
        },
    ))
}

/// Checks that the file is a dump `pg_restore` can read.
pub(super) async fn verify(file: &Path) -> Result<(), BackupError> {
    run("pg_restore", &["--list", &file.display().to_string()], None).await
}

/// Restores the dump into the database `url` names (created if missing); returns its rows
/// per table.
pub(super) async fn restore(
    file: &Path,
    url: &str,
    force: bool,
) -> Result<BTreeMap<String, i64>, BackupError> {
    let Database::Postgres(pool) = Database::connect(url).await? else {
        return Err(BackupError::Invalid("not a PostgreSQL URL".to_owned()));
    };
    let mut conn = pool.acquire().await.map_err(StorageError::from)?;
    let before = count_rows(&mut conn).await?;
    if !force && before.values().any(|&rows| rows > 0) {
        return Err(BackupError::NotEmpty {
            url: storage::redact_url(url),
        });
    }
    // `--clean` drops the tables the dump holds (an empty, migrated schema included) first;
    // one transaction, so a failure leaves the database as it was.
    run(
        "pg_restore",
        &[
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            &file.display().to_string(),
        ],
        Some(url),
    )
    .await?;
    let tables = count_rows(&mut conn).await?;
    drop(conn);
    pool.close().await;
    Ok(tables)
}

/// Rows per table of the current schema, the migration history left out.
async fn count_rows(conn: &mut PgConnection) -> Result<BTreeMap<String, i64>, BackupError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations' ORDER BY tablename",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(StorageError::from)?;
    Ok(count_each!(conn, names))
}

/// Runs a PostgreSQL client tool, with the database `url` (its password in `PGPASSWORD`,
/// not on a command line every user can read).
async fn run(tool: &'static str, args: &[&str], url: Option<&str>) -> Result<(), BackupError> {
    let mut command = tokio::process::Command::new(tool);
    command
        .args(args)
        .arg("--no-password")
        // A backup cut off by a stop must not go on writing behind the server's back.
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = url {
        let (url, password) = without_password(url);
        command.arg(format!("--dbname={url}"));
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
    }
    let output = command.output().await.map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            BackupError::ToolMissing { tool }
        } else {
            BackupError::Io {
                path: tool.to_owned(),
                source: error,
            }
        }
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(BackupError::Tool {
        tool,
        status: output.status.to_string(),
        stderr: stderr.trim().chars().take(2000).collect(),
    })
}

/// A `postgres://user:password@host/db` URL without its password, and the password
/// (percent-decoded).
fn without_password(url: &str) -> (String, Option<String>) {
    match storage::password_span(url) {
        Some((before, password, after)) => (
            format!("{before}{after}"),
            Some(
                percent_encoding::percent_decode_str(password)
                    .decode_utf8_lossy()
                    .into_owned(),
            ),
        ),
        None => (url.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            without_password("postgres://sy:p%40ss:w@db.internal:5432/switchyard?sslmode=require"),
            (
                "postgres://sy@db.internal:5432/switchyard?sslmode=require".to_owned(),
                Some("p@ss:w".to_owned())
            )
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".to_owned(), None)
        );
        assert_eq!(
            without_password("postgresql://127.0.0.1/x"),
            ("postgresql://127.0.0.1/x".to_owned(), None)
        );
    }
}
