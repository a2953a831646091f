//! Accounts: users, sessions, API tokens, the login throttle and the first-run setup. This
//! module holds logging in and out, the setup and what users do to their own accounts;
//! `manage` what admins do to users and tokens; `identity` who calls and what they may do.
//! Every use case checks the caller's rights itself and writes its audit entry in the same
//! transaction as its change; server functions, REST handlers and the command line all come
//! through here.

pub mod callers;
pub mod identity;
pub mod manage;
pub mod passwords;
pub mod store;

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::json;
use tower_sessions::Session;

use self::{
    callers::Callers,
    identity::{end_session, Caller, Principal},
    store::{
        login_attempts,
        sessions::{self, Login, SessionInfo, LOGIN_KEY},
        users::{self, NewUser, User},
    },
};
use super::{
    audit::{self, Actor, Entry, Origin},
    secrets::{digest, new_secret},
    storage::{is_unique_violation, Tx},
    AppState, Database, StorageError,
};
pub use crate::domain::accounts::input::{Credentials, NewUserInput, PasswordChange};
use crate::{
    domain::{accounts::throttle, Action, FieldError, Password, Role, Timestamp},
    error::AppError,
    on_pool, on_tx,
};

/// How long a first-run setup link works.
pub const SETUP_LINK_LIFETIME: Duration = Duration::from_secs(60 * 60);

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
    if credentials.password.expose_secret().is_empty() {
        return Err(FieldError::new("password", "Enter your password.").into());
    }
    let now = Timestamp::now();
    let attempt_id = admit_attempt(&state.db, caller, &typed).await?;
    let stored = users::credentials(state.db.reader(), &typed).await?;
    let attempt = Password::attempt(credentials.password.expose_secret());
    let matches =
        passwords::verify(&attempt, stored.as_ref().map(|c| c.password_hash.as_str())).await?;
    let user = match stored.map(|c| c.user()).transpose()? {
        Some(user) if matches && user.active => user,
        _ => {
            let mut tx = state.db.begin().await?;
            let entry = Entry {
                actor: &Actor::Anonymous,
                origin: &caller.origin,
                action: "session.login_failed",
                object: format!("user:{typed}"),
                before: None,
                after: None,
            };
            audit::record(&mut tx, entry, now).await?;
            tx.commit().await?;
            return Err(AppError::WrongCredentials);
        }
    };

    login_attempts::mark_succeeded(&state.db, attempt_id).await?;
    // The audit row first: a login that cannot be recorded does not happen.
    let mut tx = state.db.begin().await?;
    let entry = Entry {
        actor: &Actor::User(user.username.clone()),
        origin: &caller.origin,
        action: "session.login",
        object: format!("user:{}", user.username),
        before: None,
        after: None,
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    end_session(&state.callers, session).await?;
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
        .map_err(|e| StorageError::Session(e.to_string()))?;
    Ok(user)
}

/// Records a password attempt for `username` and lets it through, or refuses it with the wait
/// when too many recent attempts failed. Recorded before the password is checked, so parallel
/// guesses count against each other; the caller marks it succeeded when the password matches.
async fn admit_attempt(db: &Database, caller: &Caller, username: &str) -> Result<i64, AppError> {
    let refuse = |recent: &login_attempts::RecentFailures, now| {
        [
            (&recent.for_pair, throttle::PAIR_FAILURES),
            (&recent.from_address, throttle::ADDRESS_FAILURES),
        ]
        .into_iter()
        .filter_map(|(failures, free)| throttle::retry_after(failures, free, now))
        .max()
    };
    let address = caller.origin.client_address.as_deref();
    login_attempts::admit(db, username, address, refuse)
        .await?
        .map_err(|wait| AppError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        })
}

/// Ends the caller's session on the server. Logging out without a session is not an error:
/// the outcome the caller wants already holds.
pub async fn log_out(state: &AppState, caller: &Caller, session: &Session) -> Result<(), AppError> {
    if let Some(Principal::User { username, .. }) = &caller.principal {
        let mut tx = state.db.begin().await?;
        let entry = Entry {
            actor: &caller.actor(),
            origin: &caller.origin,
            action: "session.logout",
            object: format!("user:{username}"),
            before: None,
            after: None,
        };
        audit::record(&mut tx, entry, Timestamp::now()).await?;
        tx.commit().await?;
    }
    Ok(end_session(&state.callers, session).await?)
}

/// Checks a new user's fields and hashes the password: the slow part, done before any
/// transaction opens so the single SQLite writer is never held through Argon2.
async fn prepare_user(
    input: &NewUserInput,
    forced_role: Option<Role>,
) -> Result<NewUser, AppError> {
    let (username, display_name, role, password) = input.parse(forced_role)?;
    let password_hash = passwords::hash(&password).await?;
    Ok(NewUser {
        username,
        display_name,
        role,
        password_hash,
    })
}

/// Inserts a prepared user and audits it as done by `actor`, inside `tx`. A taken username is
/// reported at its field.
async fn insert_user(
    tx: &mut Tx,
    actor: &Actor,
    origin: &Origin,
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
        Err(error) => return Err(AppError::from(error)),
    };
    let entry = Entry {
        actor,
        origin,
        action: "user.created",
        object: format!("user:{}", user.username),
        before: None,
        after: Some(user_summary(&user)),
    };
    audit::record(tx, entry, now).await?;
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
    let new_user = prepare_user(input, None).await?;
    let mut tx = db.begin().await?;
    let user = insert_user(
        &mut tx,
        &caller.actor(),
        &caller.origin,
        &new_user,
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
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
    let new_user = prepare_user(input, Some(Role::Admin)).await?;
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    let consumed = on_tx!(&mut tx, |conn| {
        sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(digest(secret))
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(StorageError::from)?;
    let no_users = users::count_in(&mut tx).await? == 0;
    if consumed == 0 || !no_users {
        return Err(FieldError::new(
            "token",
            "This setup link has expired or was already used. Restart Switchyard to print a new one, or log in.",
        )
        .into());
    }
    // Nobody is logged in yet: the first admin creates themself, and the log names them.
    let actor = Actor::User(new_user.username.to_string());
    let user = insert_user(&mut tx, &actor, &caller.origin, &new_user, now).await?;
    tx.commit().await?;
    let credentials = Credentials {
        username: user.username.clone(),
        password: input.password.clone(),
    };
    log_in(state, caller, session, &credentials, user_agent).await
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
    let new_password = change.new_password()?;
    // Argon2 runs before the transaction opens, so the writer is not held through it.
    let stored = users::password_hash(db.reader(), *id).await?;
    // A stolen session must not become a free password oracle: wrong current passwords
    // count like failed logins.
    let attempt_id = admit_attempt(db, caller, username).await?;
    let current = Password::attempt(change.current_password.expose_secret());
    if !passwords::verify(&current, stored.as_deref()).await? {
        return Err(FieldError::new("current_password", "The current password is wrong.").into());
    }
    login_attempts::mark_succeeded(db, attempt_id).await?;
    let hash = passwords::hash(&new_password).await?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    users::set_password_hash(&mut tx, *id, &hash, now).await?;
    let ended = sessions::end_for_user(&mut tx, *id, Some(session)).await?;
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "user.password_changed",
        object: format!("user:{username}"),
        before: None,
        after: Some(json!({ "other_sessions_ended": ended })),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
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
            let list = sessions::list_for_user(db.reader(), *id, Timestamp::now()).await?;
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
    let mut tx = db.begin().await?;
    let ended = match handle {
        Some(handle) => u64::from(sessions::end_one(&mut tx, *id, handle).await?),
        None => sessions::end_for_user(&mut tx, *id, Some(session)).await?,
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
    audit::record(&mut tx, entry, Timestamp::now()).await?;
    tx.commit().await?;
    // The cache knows sessions by id, not by handle: forget all of the user's.
    callers.forget_user(*id);
    Ok(ended)
}

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
