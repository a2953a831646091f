//! The database layer on both engines: connecting, migrating, SQLite's durability settings,
//! and what happens when migrations or connections fail.

use app::{
    backend::{storage::Pool, Database, StorageError},
    on_pool,
};
use server::Application;

use crate::{
    helpers::{admin_execute, postgres_admin_url, test_config, Engine, TestDb},
    on_both_engines,
};

on_both_engines!(
    migrations_apply_once_and_report_their_version,
    failing_migration_stops_startup,
);

async fn migrations_apply_once_and_report_their_version(engine: Engine) {
    let test_db = TestDb::new(engine).await;
    let db = Database::connect(&test_db.url).await.expect("connects");
    assert_eq!(
        db.schema_version().await.ok(),
        None,
        "no migrations table yet"
    );

    db.migrate().await.expect("first migration");
    db.migrate().await.expect("migrating again changes nothing");

    assert_eq!(
        db.schema_version().await.expect("version"),
        Some(crate::helpers::latest_migration())
    );
    let tables: i64 = on_pool!(db.reader(), |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM settings")
            .fetch_one(pool)
            .await
    })
    .expect("settings table exists");
    assert_eq!(tables, 0);
    db.close().await;
}

async fn failing_migration_stops_startup(engine: Engine) {
    let test_db = TestDb::new(engine).await;
    // A table in the way makes the first migration's CREATE TABLE fail.
    let db = Database::connect(&test_db.url).await.expect("connects");
    on_pool!(db.writer(), |pool| {
        sqlx::query("CREATE TABLE settings (unrelated INTEGER)")
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
    .expect("table created");
    db.close().await;

    let result = Application::build(&test_config(&test_db)).await;

    let error = result.expect_err("startup must stop").to_string();
    assert!(error.contains("migration"), "{error}");
}

#[tokio::test]
async fn sqlite_is_durable_and_enforces_foreign_keys() {
    let test_db = TestDb::new(Engine::Sqlite).await;
    let db = Database::connect(&test_db.url).await.expect("connects");
    let Pool::Sqlite(writer) = db.writer() else {
        panic!("expected SQLite");
    };
    let pragma = |name: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("PRAGMA {name}"))
            .fetch_one(writer)
            .await
            .expect(name)
    };
    let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(writer)
        .await
        .expect("journal_mode");
    assert_eq!(journal_mode, "wal");
    assert_eq!(pragma("synchronous").await, 2, "FULL");
    assert_eq!(pragma("foreign_keys").await, 1);
    assert_eq!(pragma("busy_timeout").await, 5000);
    db.close().await;
}

/// Many writers at once, each reading before it writes inside a transaction: with one writer
/// connection none of them can meet SQLITE_BUSY, so every one commits.
#[tokio::test]
async fn concurrent_read_then_write_transactions_all_commit_on_sqlite() {
    let test_db = TestDb::new(Engine::Sqlite).await;
    let db = Database::connect(&test_db.url).await.expect("connects");
    db.migrate().await.expect("migrates");

    let writers = (0..32).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            let Pool::Sqlite(writer) = db.writer() else {
                unreachable!("SQLite test");
            };
            let mut tx = writer.begin().await?;
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                .bind(format!("writer-{i}"))
                .bind(count.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("task").expect("transaction commits");
    }

    let rows: i64 = on_pool!(db.reader(), |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM settings")
            .fetch_one(pool)
            .await
    })
    .expect("count");
    assert_eq!(rows, 32);
    db.close().await;
}

#[tokio::test]
async fn missing_postgres_database_is_created() {
    let test_db = TestDb::new(Engine::Postgres).await;
    let name = test_db.postgres_name().expect("postgres").to_owned();
    admin_execute(&format!("DROP DATABASE {name}")).await;

    let db = Database::connect(&test_db.url)
        .await
        .expect("creates the database");
    db.migrate().await.expect("migrates");

    assert_eq!(
        db.schema_version().await.expect("version"),
        Some(crate::helpers::latest_migration())
    );
    db.close().await;
}

#[tokio::test]
async fn unsupported_url_is_refused() {
    let error = Database::connect("mysql://root@127.0.0.1/switchyard")
        .await
        .expect_err("MySQL is not supported");
    assert!(matches!(error, StorageError::UnsupportedUrl(_)), "{error}");
}

#[tokio::test]
async fn in_memory_sqlite_is_refused() {
    let error = Database::connect("sqlite::memory:")
        .await
        .expect_err("in-memory refused");
    assert!(matches!(error, StorageError::InMemorySqlite), "{error}");
}

#[tokio::test]
async fn unreachable_postgres_fails_without_leaking_the_password() {
    let admin = postgres_admin_url();
    assert!(admin.starts_with("postgres://"));
    // Port 1 on loopback: nothing listens there.
    let error = Database::connect("postgres://switchyard:hunter2hunter2@127.0.0.1:1/switchyard")
        .await
        .expect_err("nothing listens on port 1");
    let message = error.to_string();
    assert!(matches!(error, StorageError::Connect { .. }), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(message.contains("switchyard:***@127.0.0.1:1"), "{message}");
}
