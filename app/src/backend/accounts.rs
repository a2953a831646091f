//! Logging in and out, the first-run setup, and what users do to their own accounts. Every
//! function here checks the caller's rights itself and writes its audit entry in the same
//! transaction as its change; server functions, REST handlers and the command line all come
//! through here.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;

use super::{
    audit::{self, Actor, Entry},
    callers::Callers,
    identity::{end_session, Caller, Principal},
    login_attempts, passwords,
    secrets::{digest, new_secret},
    sessions::{self, Login, SessionInfo, LOGIN_KEY},
    storage::{is_unique_violation, Tx},
    users::{self, NewUser, User},
    AppState, Database, StorageError,
};
use crate::{
    domain::{throttle, Action, DisplayName, FieldError, Password, Role, Timestamp, Username},
    error::AppError,
    on_pool, on_tx,
};

/// How long a first-run setup link works.
pub const SETUP_LINK_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// What a login form or `POST /api/v1/session` sends. Its `Debug` hides the password.
#[derive(Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Checks credentials and, if they match an active user, starts a fresh session for them
/// (a new id: whatever session the request came with is ended, so none can be fixed in
/// advance). Failed attempts are audited, and counted by the throttle.
pub async fn log_in(
    state: &AppState,
    caller: &Caller,
    session: &Session,
    credentials: &Credentials,
    user_agent: Option<String>,
) -> Result<User, AppError> {
    let typed = credentials.username.trim().to_lowercase();
    if typed.is_empty() {
        return Err(FieldError::new("username", "Enter your username.").into());
    }
    if credentials.password.is_empty() {
        return Err(FieldError::new("password", "Enter your password.").into());
    }
    let now = Timestamp::now();
    let fail = |e| caller.fail(e);
    let attempt_id = admit_attempt(&state.db, caller, &typed).await?;
    let stored = users::credentials(state.db.reader(), &typed)
        .await
        .map_err(fail)?;
    let attempt = Password::attempt(&credentials.password);
    let matches = passwords::verify(&attempt, stored.as_ref().map(|c| c.password_hash.as_str()))
        .await
        .map_err(fail)?;
    let user = match stored.map(|c| c.user()).transpose().map_err(fail)? {
        Some(user) if matches && user.active => user,
        _ => {
            let mut tx = state.db.begin().await.map_err(fail)?;
            let entry = Entry {
                actor: &Actor::Anonymous,
                origin: &caller.origin,
                action: "session.login_failed",
                object: format!("user:{typed}"),
                before: None,
                after: None,
            };
            audit::record(&mut tx, entry, now).await.map_err(fail)?;
            tx.commit().await.map_err(fail)?;
            return Err(AppError::WrongCredentials);
        }
    };

    login_attempts::mark_succeeded(&state.db, attempt_id)
        .await
        .map_err(fail)?;
    // The audit row first: a login that cannot be recorded does not happen.
    let mut tx = state.db.begin().await.map_err(fail)?;
    let entry = Entry {
        actor: &Actor::User(user.username.clone()),
        origin: &caller.origin,
        action: "session.login",
        object: format!("user:{}", user.username),
        before: None,
        after: None,
    };
    audit::record(&mut tx, entry, now).await.map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    end_session(&state.callers, session).await.map_err(fail)?;
    let login = Login {
        user_id: user.id,
        logged_in_at: now,
        last_seen_at: now,
        client_address: caller.origin.client_address.clone(),
        user_agent: user_agent.map(|agent| agent.chars().take(300).collect()),
    };
    session
        .insert(LOGIN_KEY, &login)
        .await
        .map_err(|e| fail(StorageError::Session(e.to_string())))?;
    Ok(user)
}

/// Records a password attempt for `username` and lets it through, or refuses it with the wait
/// when too many recent attempts failed. Recorded before the password is checked, so parallel
/// guesses count against each other; the caller marks it succeeded when the password matches.
async fn admit_attempt(db: &Database, caller: &Caller, username: &str) -> Result<i64, AppError> {
    let refuse = |recent: &login_attempts::RecentFailures, now| {
        [&recent.for_account, &recent.from_address]
            .iter()
            .filter_map(|failures| throttle::retry_after(failures, now))
            .max()
    };
    let address = caller.origin.client_address.as_deref();
    login_attempts::admit(db, username, address, refuse)
        .await
        .map_err(|e| caller.fail(e))?
        .map_err(|wait| AppError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        })
}

/// Ends the caller's session on the server. Logging out without a session is not an error:
/// the outcome the caller wants already holds.
pub async fn log_out(state: &AppState, caller: &Caller, session: &Session) -> Result<(), AppError> {
    let fail = |e| caller.fail(e);
    if let Some(Principal::User { username, .. }) = &caller.principal {
        let mut tx = state.db.begin().await.map_err(fail)?;
        let entry = Entry {
            actor: &caller.actor(),
            origin: &caller.origin,
            action: "session.logout",
            object: format!("user:{username}"),
            before: None,
            after: None,
        };
        audit::record(&mut tx, entry, Timestamp::now())
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
    }
    end_session(&state.callers, session).await.map_err(fail)
}

/// A new user's details as a form or the API sends them. Its `Debug` hides the password.
#[derive(Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewUserInput {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub role: String,
    pub password: String,
}

impl NewUserInput {
    /// Checks every field (but the role, where `forced_role` decides it); the first problem
    /// found is reported at its field.
    fn parse(
        &self,
        forced_role: Option<Role>,
    ) -> Result<(Username, DisplayName, Role, Password), AppError> {
        let username = Username::parse(&self.username)?;
        let display_name = DisplayName::parse(&self.display_name, &username)?;
        let role = match forced_role {
            Some(role) => role,
            None => parse_role_field(&self.role)?,
        };
        let password = Password::parse_new(&self.password, "password")?;
        Ok((username, display_name, role, password))
    }
}

/// A role typed into a form or a JSON body.
pub(super) fn parse_role_field(input: &str) -> Result<Role, FieldError> {
    input
        .trim()
        .parse::<Role>()
        .map_err(|e| FieldError::new("role", e.to_string()))
}

/// Checks a new user's fields and hashes the password: the slow part, done before any
/// transaction opens so the single SQLite writer is never held through Argon2.
async fn prepare_user(
    caller: &Caller,
    input: &NewUserInput,
    forced_role: Option<Role>,
) -> Result<NewUser, AppError> {
    let (username, display_name, role, password) = input.parse(forced_role)?;
    let password_hash = passwords::hash(&password)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(NewUser {
        username,
        display_name,
        role,
        password_hash,
    })
}

/// Inserts a prepared user and audits it, inside `tx`. A taken username is reported at its
/// field.
async fn insert_user(
    tx: &mut Tx,
    caller: &Caller,
    new_user: &NewUser,
    now: Timestamp,
) -> Result<User, AppError> {
    let user = match users::insert(tx, new_user, now).await {
        Ok(user) => user,
        Err(StorageError::Query(error)) if is_unique_violation(&error) => {
            return Err(AppError::Conflict(FieldError::new(
                "username",
                format!(
                    "The username {} is taken; choose another.",
                    new_user.username
                ),
            )))
        }
        Err(error) => return Err(caller.fail(error)),
    };
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "user.created",
        object: format!("user:{}", user.username),
        before: None,
        after: Some(user_summary(&user)),
    };
    audit::record(tx, entry, now)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(user)
}

/// What the audit log keeps of a user (never the password hash).
pub(super) fn user_summary(user: &User) -> serde_json::Value {
    json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
    })
}

/// Creates a user (admins and the command line).
pub async fn create_user(
    db: &Database,
    caller: &Caller,
    input: &NewUserInput,
) -> Result<User, AppError> {
    caller.authorize(Action::ManageUsers)?;
    let new_user = prepare_user(caller, input, None).await?;
    let mut tx = db.begin().await.map_err(|e| caller.fail(e))?;
    let user = insert_user(&mut tx, caller, &new_user, Timestamp::now()).await?;
    tx.commit().await.map_err(|e| caller.fail(e))?;
    Ok(user)
}

/// Opens the first-run setup if no user exists yet: returns a new one-time secret for the
/// setup link (valid for [`SETUP_LINK_LIFETIME`]), or `None` when users exist.
pub async fn open_setup(db: &Database) -> Result<Option<String>, StorageError> {
    if users::count(db.reader()).await? > 0 {
        return Ok(None);
    }
    let secret = new_secret("setup_")?;
    let expires_at = Timestamp::now().plus(SETUP_LINK_LIFETIME);
    on_pool!(db.writer(), |pool| {
        sqlx::query("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)")
            .bind(digest(&secret))
            .bind(expires_at)
            .execute(pool)
            .await
            .map(drop)
    })?;
    Ok(Some(secret))
}

/// Whether a setup link still works, for the setup page to say so before anyone types.
pub async fn setup_link_valid(db: &Database, secret: &str) -> Result<bool, StorageError> {
    if users::count(db.reader()).await? > 0 {
        return Ok(false);
    }
    let found = on_pool!(db.reader(), |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(digest(secret))
        .bind(Timestamp::now())
        .fetch_one(pool)
        .await
    })?;
    Ok(found > 0)
}

/// Creates the first admin through a setup link, which is used up in the same transaction,
/// and logs them in.
pub async fn complete_setup(
    state: &AppState,
    caller: &Caller,
    session: &Session,
    secret: &str,
    input: &NewUserInput,
    user_agent: Option<String>,
) -> Result<User, AppError> {
    let fail = |e| caller.fail(e);
    let new_user = prepare_user(caller, input, Some(Role::Admin)).await?;
    let now = Timestamp::now();
    let mut tx = state.db.begin().await.map_err(fail)?;
    let consumed = on_tx!(&mut tx, |conn| {
        sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(digest(secret))
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(|e| fail(e.into()))?;
    let no_users = users::count_in(&mut tx).await.map_err(fail)? == 0;
    if consumed == 0 || !no_users {
        return Err(FieldError::new(
            "token",
            "This setup link has expired or was already used. Restart Switchyard to print a new one, or log in.",
        )
        .into());
    }
    let user = insert_user(&mut tx, caller, &new_user, now).await?;
    tx.commit().await.map_err(fail)?;
    let credentials = Credentials {
        username: user.username.clone(),
        password: input.password.clone(),
    };
    log_in(state, caller, session, &credentials, user_agent).await
}

/// What the change-password form sends. Its `Debug` hides the passwords.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirmation: String,
}

/// Changes the caller's own password after checking the current one; ends their other
/// sessions, since whoever else held one may be why the password changes.
pub async fn change_own_password(
    db: &Database,
    callers: &Callers,
    caller: &Caller,
    change: &PasswordChange,
) -> Result<(), AppError> {
    let principal = caller.authorize(Action::ManageOwnAccount)?;
    let Principal::User {
        id,
        username,
        session,
        ..
    } = principal
    else {
        return Err(AppError::Invalid(FieldError::new(
            "current_password",
            "Only a user logged in with a password can change it.",
        )));
    };
    let new_password = Password::parse_new(&change.new_password, "new_password")?;
    if change.new_password != change.new_password_confirmation {
        return Err(FieldError::new(
            "new_password_confirmation",
            "The two new passwords differ; type the same password twice.",
        )
        .into());
    }
    let fail = |e| caller.fail(e);
    // Argon2 runs before the transaction opens, so the writer is not held through it.
    let stored = users::password_hash(db.reader(), *id).await.map_err(fail)?;
    // A stolen session must not become a free password oracle: wrong current passwords
    // count like failed logins.
    let attempt_id = admit_attempt(db, caller, username).await?;
    let current = Password::attempt(&change.current_password);
    if !passwords::verify(&current, stored.as_deref())
        .await
        .map_err(fail)?
    {
        return Err(FieldError::new("current_password", "The current password is wrong.").into());
    }
    login_attempts::mark_succeeded(db, attempt_id)
        .await
        .map_err(fail)?;
    let hash = passwords::hash(&new_password).await.map_err(fail)?;
    let now = Timestamp::now();
    let mut tx = db.begin().await.map_err(fail)?;
    users::set_password_hash(&mut tx, *id, &hash, now)
        .await
        .map_err(fail)?;
    let ended = sessions::end_for_user(&mut tx, *id, Some(session))
        .await
        .map_err(fail)?;
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "user.password_changed",
        object: format!("user:{username}"),
        before: None,
        after: Some(json!({ "other_sessions_ended": ended })),
    };
    audit::record(&mut tx, entry, now).await.map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    callers.forget_user(*id);
    Ok(())
}

/// The caller's own live sessions, and which of them is this one.
pub async fn own_sessions(
    db: &Database,
    caller: &Caller,
) -> Result<(Vec<SessionInfo>, String), AppError> {
    match caller.authorize(Action::ManageOwnAccount)? {
        Principal::User { id, session, .. } => {
            let list = sessions::list_for_user(db.reader(), *id, Timestamp::now())
                .await
                .map_err(|e| caller.fail(e))?;
            Ok((list, session.clone()))
        }
        _ => Ok((Vec::new(), String::new())),
    }
}

/// Ends one of the caller's sessions (by handle), or all but the current one (`None`).
/// Returns how many ended.
pub async fn end_own_sessions(
    db: &Database,
    callers: &Callers,
    caller: &Caller,
    handle: Option<&str>,
) -> Result<u64, AppError> {
    let Principal::User {
        id,
        username,
        session,
        ..
    } = caller.authorize(Action::ManageOwnAccount)?
    else {
        return Ok(0);
    };
    let fail = |e| caller.fail(e);
    let mut tx = db.begin().await.map_err(fail)?;
    let ended = match handle {
        Some(handle) => u64::from(
            sessions::end_one(&mut tx, *id, handle)
                .await
                .map_err(fail)?,
        ),
        None => sessions::end_for_user(&mut tx, *id, Some(session))
            .await
            .map_err(fail)?,
    };
    if ended == 0 && handle.is_some() {
        return Err(AppError::NotFound(
            "That session has already ended. Reload the page to see the current list.".to_owned(),
        ));
    }
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "session.ended",
        object: format!("user:{username}"),
        before: None,
        after: Some(json!({ "sessions_ended": ended })),
    };
    audit::record(&mut tx, entry, Timestamp::now())
        .await
        .map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    // The cache knows sessions by id, not by handle: forget all of the user's.
    callers.forget_user(*id);
    Ok(ended)
}

/// `Debug` for input that carries passwords: names the type and the harmless fields only, so
/// a stray `{:?}` cannot put a password in a log.
macro_rules! debug_without_secrets {
    ($type:ty { $($field:ident),* }) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use debug_without_secrets;

debug_without_secrets!(Credentials { username });
debug_without_secrets!(NewUserInput {
    username,
    display_name,
    role
});
debug_without_secrets!(PasswordChange {});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_passwords() {
        let credentials = Credentials {
            username: "ada".into(),
            password: "hunter2-hunter2".into(),
        };
        let input = NewUserInput {
            username: "ada".into(),
            display_name: String::new(),
            role: "admin".into(),
            password: "hunter2-hunter2".into(),
        };
        for text in [format!("{credentials:?}"), format!("{input:?}")] {
            assert!(text.contains("ada") && !text.contains("hunter2"), "{text}");
        }
    }
}
