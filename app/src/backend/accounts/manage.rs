//! What admins do: manage users and API tokens, and read the audit log. Each function checks
//! the caller's rights itself and audits its change in the same transaction.

use secrecy::ExposeSecret;
use serde_json::json;

use crate::backend::{
    accounts::callers::Callers,
    accounts::identity::Caller,
    accounts::passwords,
    accounts::store::login_attempts,
    accounts::store::sessions,
    accounts::store::tokens::{self, ApiToken, NewToken, TokenRef, TOKEN_PREFIX},
    accounts::store::users::{self, User},
    accounts::user_summary,
    audit::{self, Entry},
    secrets::new_secret,
    storage::is_unique_violation,
    Database, StorageError,
};
use crate::domain::accounts::input::parse_role_field;
pub use crate::{
    domain::accounts::input::{NewTokenInput, PasswordReset, UserUpdate},
    model::CreatedToken,
};
use crate::{
    domain::{Action, FieldError, Password, Timestamp},
    error::AppError,
};

/// Every user, for the admin page.
pub async fn list_users(db: &Database, caller: &Caller) -> Result<Vec<User>, AppError> {
    caller.authorize(Action::ManageUsers)?;
    Ok(users::list(db.reader()).await?)
}

/// Changes a user's role or active flag. Deactivating ends every session of theirs at once
/// and revokes the API tokens they created; the last active admin can be neither demoted nor
/// deactivated.
pub async fn update_user(
    db: &Database,
    callers: &Callers,
    caller: &Caller,
    update: &UserUpdate,
) -> Result<User, AppError> {
    caller.authorize(Action::ManageUsers)?;
    let role = parse_role_field(&update.role)?;
    let mut tx = db.begin().await?;
    users::lock_active_admins(&mut tx).await?;
    let before = users::find_in(&mut tx, update.id)
        .await?
        .ok_or_else(|| no_such_user(update.id))?;
    let stays_admin = role == crate::domain::Role::Admin && update.active;
    if before.role == crate::domain::Role::Admin && before.active && !stays_admin {
        let others = users::other_active_admins(&mut tx, before.id).await?;
        if others == 0 {
            return Err(FieldError::new(
                "role",
                format!(
                    "{} is the last active admin; make someone else an admin first.",
                    before.username
                ),
            )
            .into());
        }
    }
    let now = Timestamp::now();
    users::update(&mut tx, before.id, role, update.active, now).await?;
    let mut revoked = Vec::new();
    if !update.active {
        sessions::end_for_user(&mut tx, before.id, None).await?;
        revoked = tokens::revoke_created_by(&mut tx, &before.username, now).await?;
    }
    for token in &revoked {
        let entry = Entry {
            actor: &caller.actor(),
            origin: &caller.origin,
            action: "token.revoked",
            object: format!("token:{}", token.name),
            before: None,
            after: Some(json!({
                "token": token_summary(token),
                "why": format!("its creator {} was deactivated", before.username),
            })),
        };
        audit::record(&mut tx, entry, now).await?;
    }
    let after = User {
        role,
        active: update.active,
        ..before.clone()
    };
    let action = match (before.active, after.active) {
        (true, false) => "user.deactivated",
        (false, true) => "user.reactivated",
        _ => "user.role_changed",
    };
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action,
        object: format!("user:{}", before.username),
        before: Some(user_summary(&before)),
        after: Some(user_summary(&after)),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    callers.forget_user(after.id);
    Ok(after)
}

fn no_such_user(id: i64) -> AppError {
    AppError::NotFound(format!(
        "There is no user with id {id}. Reload the user list to see who exists."
    ))
}

/// Clears a user's failed logins from every address, so a throttle that someone else's
/// guesses caused stops holding them up; returns how many were cleared.
pub async fn clear_login_failures(
    db: &Database,
    caller: &Caller,
    id: i64,
) -> Result<u64, AppError> {
    caller.authorize(Action::ManageUsers)?;
    let mut tx = db.begin().await?;
    let user = users::find_in(&mut tx, id)
        .await?
        .ok_or_else(|| no_such_user(id))?;
    let cleared = login_attempts::clear(&mut tx, &user.username).await?;
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "user.login_failures_cleared",
        object: format!("user:{}", user.username),
        before: None,
        after: Some(json!({ "cleared": cleared })),
    };
    audit::record(&mut tx, entry, Timestamp::now()).await?;
    tx.commit().await?;
    Ok(cleared)
}

/// Sets a user's password; their sessions end, so the new password takes effect at once.
pub async fn reset_password(
    db: &Database,
    callers: &Callers,
    caller: &Caller,
    reset: &PasswordReset,
) -> Result<(), AppError> {
    caller.authorize(Action::ManageUsers)?;
    let password = Password::parse_new(reset.password.expose_secret(), "password")?;
    let hash = passwords::hash(&password).await?;
    let mut tx = db.begin().await?;
    let user = users::find_in(&mut tx, reset.id)
        .await?
        .ok_or_else(|| no_such_user(reset.id))?;
    let now = Timestamp::now();
    users::set_password_hash(&mut tx, user.id, &hash, now).await?;
    let ended = sessions::end_for_user(&mut tx, user.id, None).await?;
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "user.password_reset",
        object: format!("user:{}", user.username),
        before: None,
        after: Some(json!({ "sessions_ended": ended })),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    callers.forget_user(user.id);
    Ok(())
}

/// Every API token, for the admin page.
pub async fn list_tokens(db: &Database, caller: &Caller) -> Result<Vec<ApiToken>, AppError> {
    caller.authorize(Action::ManageTokens)?;
    Ok(tokens::list(db.reader()).await?)
}

/// Creates an API token; its secret is returned once and only its digest is kept.
pub async fn create_token(
    db: &Database,
    caller: &Caller,
    input: &NewTokenInput,
) -> Result<CreatedToken, AppError> {
    caller.authorize(Action::ManageTokens)?;
    let (name, role, lifetime) = input.parse()?;
    let secret = new_secret(TOKEN_PREFIX)?;
    let now = Timestamp::now();
    let created_by = caller.actor();
    let new_token = NewToken {
        name: &name,
        role,
        secret: &secret,
        created_by: created_by.name(),
        expires_at: lifetime.map(|lifetime| now.plus(lifetime)),
    };
    let mut tx = db.begin().await?;
    let token = match tokens::insert(&mut tx, &new_token, now).await {
        Ok(token) => token,
        Err(StorageError::Query(error)) if is_unique_violation(&error) => {
            return Err(AppError::Conflict(FieldError::new(
                "name",
                format!("An active token is already named {name}; revoke it first or choose another name."),
            )))
        }
        Err(error) => return Err(AppError::from(error)),
    };
    let entry = Entry {
        actor: &created_by,
        origin: &caller.origin,
        action: "token.created",
        object: format!("token:{}", token.name),
        before: None,
        after: Some(token_summary(&token)),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(CreatedToken { token, secret })
}

fn token_summary(token: &ApiToken) -> serde_json::Value {
    json!({
        "name": token.name,
        "role": token.role,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    })
}

/// Revokes an active token; requests using it fail from the next one on.
pub async fn revoke_token(
    db: &Database,
    caller: &Caller,
    which: TokenRef<'_>,
) -> Result<ApiToken, AppError> {
    caller.authorize(Action::ManageTokens)?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let token = tokens::revoke(&mut tx, which, now).await?.ok_or_else(|| {
        AppError::NotFound(match which {
            TokenRef::Id(id) => {
                format!("There is no active token with id {id}; it may be revoked already.")
            }
            TokenRef::Name(name) => {
                format!("There is no active token named {name}; it may be revoked already.")
            }
        })
    })?;
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "token.revoked",
        object: format!("token:{}", token.name),
        before: None,
        after: Some(token_summary(&token)),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(token)
}
