//! `switchyard backup` and `switchyard restore`: the operator's side of
//! `app::backend::backups`, with what happened in one line each.

use std::{path::Path, time::Instant};

use app::backend::{backups, Database};

use crate::config::Config;

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Takes a backup into `dir` and says where, how big, and how many rows.
pub async fn backup(config: &Config, dir: &Path) -> CliResult {
    let started = Instant::now();
    let db = Database::connect(&config.database_url).await?;
    let taken = backups::back_up(
        &db,
        &config.database_url,
        dir,
        app::domain::Timestamp::now(),
    )
    .await;
    db.close().await;
    let taken = taken?;
    let rows: i64 = taken.manifest.tables.values().sum();
    println!(
        "backed up {rows} rows in {} tables (schema {}) to {} ({} bytes) in {:.1} s",
        taken.manifest.tables.len(),
        taken.manifest.migration,
        taken.file.display(),
        taken.manifest.bytes,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Checks a backup, and unless `verify_only` restores it into the configured database.
pub async fn restore(config: &Config, file: &Path, verify_only: bool, force: bool) -> CliResult {
    let started = Instant::now();
    if verify_only {
        let (manifest, data) = backups::verify(file).await?;
        let rows: i64 = manifest.tables.values().sum();
        println!(
            "{} is sound: {} backup taken {} by Switchyard {}, schema {}, {rows} rows in {} tables",
            data.display(),
            manifest.engine,
            manifest.taken_at,
            manifest.switchyard,
            manifest.migration,
            manifest.tables.len()
        );
        return Ok(());
    }
    let restored = backups::restore(file, &config.database_url, force).await?;
    for (table, rows) in &restored.tables {
        println!("{table:<28} {rows:>10}");
    }
    let rows: i64 = restored.tables.values().sum();
    println!(
        "restored {rows} rows in {} tables from the backup taken {}, migrated from schema {} to {}, in {:.1} s",
        restored.tables.len(),
        restored.manifest.taken_at,
        restored.manifest.migration,
        restored.migration,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Exports the configured database into `file` and says what it holds.
pub async fn export(config: &Config, file: &Path) -> CliResult {
    let started = Instant::now();
    let db = Database::connect(&config.database_url).await?;
    let exported = backups::export(&db, file, app::domain::Timestamp::now()).await;
    db.close().await;
    let header = exported?;
    let rows: i64 = header.tables.values().sum();
    let bytes = tokio::fs::metadata(file).await?.len();
    println!(
        "exported {rows} rows in {} tables (schema {}) to {} ({bytes} bytes) in {:.1} s",
        header.tables.len(),
        header.migration,
        file.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Imports `file` into the configured database and prints the rows per table.
pub async fn import(config: &Config, file: &Path) -> CliResult {
    let started = Instant::now();
    let imported = backups::import(file, &config.database_url).await?;
    for (table, rows) in &imported.tables {
        println!("{table:<28} {rows:>10}");
    }
    let rows: i64 = imported.tables.values().sum();
    println!(
        "imported {rows} rows in {} tables, exported from {} at {}, in {:.1} s",
        imported.tables.len(),
        imported.header.engine,
        imported.header.taken_at,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
