//! The `login_attempts` table: what the brute-force throttle counts. An attempt is recorded
//! before its password is checked, so guesses sent in parallel count against each other.

use crate::backend::{storage::Tx, Database, StorageError};
use crate::{
    domain::{accounts::throttle, Timestamp},
    on_pool, on_tx,
};

/// The longest username stored: attempts record whatever was typed.
const MAX_USERNAME_LEN: usize = 200;

/// Recent attempts that have not succeeded: for this username from this address (an unknown
/// address counts as one), and from this address for any username.
#[derive(Debug, Default)]
pub struct RecentFailures {
    pub for_pair: Vec<Timestamp>,
    pub from_address: Vec<Timestamp>,
}

/// Records an attempt for `username` unless `refuse`, given the failures within the throttle's
/// window and the time, returns a wait; returns the new attempt's id, or the wait.
///
/// Counting and recording happen in one transaction that concurrent admissions wait for, and
/// the time is read once it is their turn, so of guesses sent in parallel no more get through
/// than the throttle allows. A refused attempt is not recorded: waiting out the throttle
/// does not extend it.
pub async fn admit<W>(
    db: &Database,
    username: &str,
    client_address: Option<&str>,
    refuse: impl FnOnce(&RecentFailures, Timestamp) -> Option<W>,
) -> Result<Result<i64, W>, StorageError> {
    const RECENT: &str =
        "SELECT at, username = $2 AND client_address IS NOT DISTINCT FROM $3 AS for_pair, \
        client_address = $3 AS from_address \
        FROM login_attempts \
        WHERE NOT succeeded AND at > $1 AND (username = $2 OR client_address = $3)";
    const RECORD: &str =
        "INSERT INTO login_attempts (at, username, client_address) VALUES ($1, $2, $3) RETURNING id";
    let username: String = username.chars().take(MAX_USERNAME_LEN).collect();
    let mut tx = db.begin().await?;
    // SQLite's single writer already serializes; PostgreSQL needs the table lock, which
    // readers of other tables never wait for and which only logins take.
    if let Tx::Postgres(tx) = &mut tx {
        sqlx::query("LOCK TABLE login_attempts IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut **tx)
            .await?;
    }
    let now = Timestamp::now();
    let since = now.minus(throttle::WINDOW);
    let rows: Vec<(Timestamp, Option<bool>, Option<bool>)> = on_tx!(&mut tx, |conn| {
        sqlx::query_as(RECENT)
            .bind(since)
            .bind(&username)
            .bind(client_address)
            .fetch_all(conn)
            .await
    })?;
    let failures = RecentFailures {
        for_pair: rows
            .iter()
            .filter(|r| r.1 == Some(true))
            .map(|r| r.0)
            .collect(),
        from_address: rows
            .iter()
            .filter(|r| r.2 == Some(true))
            .map(|r| r.0)
            .collect(),
    };
    if let Some(wait) = refuse(&failures, now) {
        return Ok(Err(wait));
    }
    let id = on_tx!(&mut tx, |conn| {
        sqlx::query_scalar::<_, i64>(RECORD)
            .bind(now)
            .bind(&username)
            .bind(client_address)
            .fetch_one(conn)
            .await
    })?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Marks an attempt as succeeded, with the failures before it for the same username from the
/// same address: the user proved who they are, so their typos no longer count.
pub async fn mark_succeeded(db: &Database, id: i64) -> Result<(), StorageError> {
    on_pool!(db.writer(), |pool| {
        sqlx::query(
            "UPDATE login_attempts SET succeeded = TRUE WHERE NOT succeeded \
             AND username = (SELECT username FROM login_attempts WHERE id = $1) \
             AND client_address IS NOT DISTINCT FROM \
                 (SELECT client_address FROM login_attempts WHERE id = $1)",
        )
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Clears the failed attempts for `username`, from every address: an admin vouched for the
/// user. Returns how many were cleared.
pub async fn clear(tx: &mut Tx, username: &str) -> Result<u64, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE login_attempts SET succeeded = TRUE WHERE username = $1 AND NOT succeeded",
        )
        .bind(username)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?)
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
