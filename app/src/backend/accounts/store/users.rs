//! The `users` table.

use sqlx::FromRow;

use crate::backend::{
    storage::{Pool, Tx},
    StorageError,
};
pub use crate::model::User;
use crate::{
    domain::{DisplayName, Role, Timestamp, Username},
    on_pool, on_tx,
};

#[derive(Debug, FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    active: bool,
    created_at: Timestamp,
}

impl TryFrom<UserRow> for User {
    type Error = StorageError;

    fn try_from(row: UserRow) -> Result<Self, StorageError> {
        Ok(User {
            role: parse_role(&row.role)?,
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            active: row.active,
            created_at: row.created_at,
        })
    }
}

/// A role read back from the database, where a CHECK constraint keeps it valid.
pub(super) fn parse_role(stored: &str) -> Result<Role, StorageError> {
    stored
        .parse()
        .map_err(|e: crate::domain::accounts::role::UnknownRole| {
            StorageError::Corrupt(e.to_string())
        })
}

const COLUMNS: &str = "id, username, display_name, role, active, created_at";

/// A user about to be created.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub display_name: DisplayName,
    pub role: Role,
    pub password_hash: String,
}

/// Inserts a user; a taken username is a unique violation the caller turns into a message.
pub async fn insert(tx: &mut Tx, user: &NewUser, now: Timestamp) -> Result<User, StorageError> {
    let sql = format!(
        "INSERT INTO users (username, display_name, role, password_hash, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, TRUE, $5, $5) RETURNING {COLUMNS}"
    );
    let row = on_tx!(tx, |conn| {
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(user.username.as_str())
            .bind(user.display_name.as_str())
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(now)
            .fetch_one(conn)
            .await
    })?;
    row.try_into()
}

/// A user and the hash to check a login against.
#[derive(Debug, FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    user: UserRow,
    pub password_hash: String,
}

impl Credentials {
    pub fn user(self) -> Result<User, StorageError> {
        self.user.try_into()
    }
}

/// The user with this username, with their password hash.
pub async fn credentials(
    pool: Pool<'_>,
    username: &str,
) -> Result<Option<Credentials>, StorageError> {
    let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE username = $1");
    Ok(on_pool!(pool, |pool| {
        sqlx::query_as::<_, Credentials>(&sql)
            .bind(username)
            .fetch_optional(pool)
            .await
    })?)
}

/// The password hash of user `id` (to check a current password).
pub async fn password_hash(pool: Pool<'_>, id: i64) -> Result<Option<String>, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?)
}

/// Reads one user by id.
fn find_sql() -> String {
    format!("SELECT {COLUMNS} FROM users WHERE id = $1")
}

/// The user with this id.
pub async fn find(pool: Pool<'_>, id: i64) -> Result<Option<User>, StorageError> {
    let sql = find_sql();
    let row = on_pool!(pool, |pool| {
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    row.map(User::try_from).transpose()
}

/// The user with this id, read inside a transaction (the "before" of a change).
pub async fn find_in(tx: &mut Tx, id: i64) -> Result<Option<User>, StorageError> {
    let sql = find_sql();
    let row = on_tx!(tx, |conn| {
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(id)
            .fetch_optional(conn)
            .await
    })?;
    row.map(User::try_from).transpose()
}

/// Every user, by username.
pub async fn list(pool: Pool<'_>) -> Result<Vec<User>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
    let rows = on_pool!(pool, |pool| {
        sqlx::query_as::<_, UserRow>(&sql).fetch_all(pool).await
    })?;
    rows.into_iter().map(User::try_from).collect()
}

/// How many users exist; zero means the first-run setup is open.
pub async fn count(pool: Pool<'_>) -> Result<i64, StorageError> {
    Ok(on_pool!(pool, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await
    })?)
}

/// How many users exist, inside a transaction.
pub async fn count_in(tx: &mut Tx) -> Result<i64, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(conn)
            .await
    })?)
}

/// Locks the active admins' rows until `tx` ends, so two admins demoting each other at once
/// cannot both see "another admin remains". PostgreSQL needs the lock; SQLite's single writer
/// connection already runs write transactions one at a time.
pub async fn lock_active_admins(tx: &mut Tx) -> Result<(), StorageError> {
    if let Tx::Postgres(tx) = tx {
        sqlx::query("SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE")
            .fetch_all(&mut **tx)
            .await?;
    }
    Ok(())
}

/// How many active admins exist besides user `id`: the last one may not be demoted or
/// deactivated, or nobody could manage users any more.
pub async fn other_active_admins(tx: &mut Tx, id: i64) -> Result<i64, StorageError> {
    Ok(on_tx!(tx, |conn| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active AND id <> $1",
        )
        .bind(id)
        .fetch_one(conn)
        .await
    })?)
}

/// Sets a user's role and active flag.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    role: Role,
    active: bool,
    now: Timestamp,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE users SET role = $1, active = $2, updated_at = $3 WHERE id = $4")
            .bind(role.as_str())
            .bind(active)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// Replaces a user's password hash.
pub async fn set_password_hash(
    tx: &mut Tx,
    id: i64,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(id)
            .execute(conn)
            .await
            .map(drop)
    })?;
    Ok(())
}
