//! The `login_attempts` table: what the brute-force throttle counts. An attempt is recorded
//! before its password is checked, so guesses sent in parallel count against each other.

use super::{Database, StorageError};
use crate::{domain::Timestamp, on_pool};

/// The longest username stored: attempts record whatever was typed.
const MAX_USERNAME_LEN: usize = 200;

/// Records an attempt that has not succeeded (yet); returns its id.
pub async fn record(
    db: &Database,
    username: &str,
    client_address: Option<&str>,
    now: Timestamp,
) -> Result<i64, StorageError> {
    let username: String = username.chars().take(MAX_USERNAME_LEN).collect();
    Ok(on_pool!(db.writer(), |pool| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO login_attempts (at, username, client_address) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(now)
        .bind(&username)
        .bind(client_address)
        .fetch_one(pool)
        .await
    })?)
}

/// Times of attempts since `since` that have not succeeded, other than `except`: for the
/// account, and from the address.
pub async fn unsuccessful_since(
    db: &Database,
    username: &str,
    client_address: Option<&str>,
    since: Timestamp,
    except: i64,
) -> Result<(Vec<Timestamp>, Vec<Timestamp>), StorageError> {
    const SQL: &str =
        "SELECT at, username = $2 AS for_account, client_address = $3 AS from_address \
        FROM login_attempts \
        WHERE NOT succeeded AND at > $1 AND id <> $4 AND (username = $2 OR client_address = $3)";
    let username: String = username.chars().take(MAX_USERNAME_LEN).collect();
    let rows: Vec<(Timestamp, Option<bool>, Option<bool>)> = on_pool!(db.writer(), |pool| {
        sqlx::query_as(SQL)
            .bind(since)
            .bind(&username)
            .bind(client_address)
            .bind(except)
            .fetch_all(pool)
            .await
    })?;
    let for_account = rows
        .iter()
        .filter(|r| r.1 == Some(true))
        .map(|r| r.0)
        .collect();
    let from_address = rows
        .iter()
        .filter(|r| r.2 == Some(true))
        .map(|r| r.0)
        .collect();
    Ok((for_account, from_address))
}

/// Marks an attempt as succeeded (it no longer counts) or, for a refused one, forgets it
/// (waiting out the throttle must not extend it).
pub async fn settle(db: &Database, id: i64, succeeded: bool) -> Result<(), StorageError> {
    let sql = if succeeded {
        "UPDATE login_attempts SET succeeded = TRUE WHERE id = $1"
    } else {
        "DELETE FROM login_attempts WHERE id = $1"
    };
    on_pool!(db.writer(), |pool| {
        sqlx::query(sql).bind(id).execute(pool).await.map(drop)
    })?;
    Ok(())
}

/// Deletes attempts older than `before`, which no longer count; returns how many.
pub async fn delete_older_than(db: &Database, before: Timestamp) -> Result<u64, StorageError> {
    Ok(on_pool!(db.writer(), |pool| {
        sqlx::query("DELETE FROM login_attempts WHERE at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?)
}
