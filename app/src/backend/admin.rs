//! What admins do: manage users and API tokens, and read the audit log. Each function checks
//! the caller's rights itself and audits its change in the same transaction.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    accounts::{debug_without_secrets, parse_role_field, user_summary},
    api_tokens::{self, ApiToken, NewToken, TokenRef, TOKEN_PREFIX},
    audit::{self, Entry},
    callers::Callers,
    identity::Caller,
    passwords,
    secrets::new_secret,
    sessions,
    storage::is_unique_violation,
    users::{self, User},
    Database, StorageError,
};
pub use crate::model::CreatedToken;
use crate::{
    domain::{
        token::{parse_token_lifetime, parse_token_name},
        Action, FieldError, Password, Timestamp,
    },
    error::AppError,
};

/// Every user, for the admin page.
pub async fn list_users(db: &Database, caller: &Caller) -> Result<Vec<User>, AppError> {
    caller.authorize(Action::ManageUsers)?;
    users::list(db.reader()).await.map_err(|e| caller.fail(e))
}

/// An admin's change to a user: role and whether the account is active.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UserUpdate {
    pub id: i64,
    pub role: String,
    pub active: bool,
}

/// Changes a user's role or active flag. Deactivating ends every session of theirs at once;
/// the last active admin can be neither demoted nor deactivated.
pub async fn update_user(
    db: &Database,
    callers: &Callers,
    caller: &Caller,
    update: &UserUpdate,
) -> Result<User, AppError> {
    caller.authorize(Action::ManageUsers)?;
    let role = parse_role_field(&update.role)?;
    let fail = |e| caller.fail(e);
    let mut tx = db.begin().await.map_err(fail)?;
    users::lock_active_admins(&mut tx).await.map_err(fail)?;
    let before = users::find_in(&mut tx, update.id)
        .await
        .map_err(fail)?
        .ok_or_else(|| no_such_user(update.id))?;
    let stays_admin = role == crate::domain::Role::Admin && update.active;
    if before.role == crate::domain::Role::Admin && before.active && !stays_admin {
        let others = users::other_active_admins(&mut tx, before.id)
            .await
            .map_err(fail)?;
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
    users::update(&mut tx, before.id, role, update.active, now)
        .await
        .map_err(fail)?;
    if !update.active {
        sessions::end_for_user(&mut tx, before.id, None)
            .await
            .map_err(fail)?;
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
    audit::record(&mut tx, entry, now).await.map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    callers.forget_user(after.id);
    Ok(after)
}

fn no_such_user(id: i64) -> AppError {
    AppError::NotFound(format!(
        "There is no user with id {id}. Reload the user list to see who exists."
    ))
}

/// An admin's new password for a user. Its `Debug` hides the password.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct PasswordReset {
    pub id: i64,
    pub password: String,
}

/// Sets a user's password; their sessions end, so the new password takes effect at once.
pub async fn reset_password(
    db: &Database,
    callers: &Callers,
    caller: &Caller,
    reset: &PasswordReset,
) -> Result<(), AppError> {
    caller.authorize(Action::ManageUsers)?;
    let password = Password::parse_new(&reset.password, "password")?;
    let fail = |e| caller.fail(e);
    let hash = passwords::hash(&password).await.map_err(fail)?;
    let mut tx = db.begin().await.map_err(fail)?;
    let user = users::find_in(&mut tx, reset.id)
        .await
        .map_err(fail)?
        .ok_or_else(|| no_such_user(reset.id))?;
    let now = Timestamp::now();
    users::set_password_hash(&mut tx, user.id, &hash, now)
        .await
        .map_err(fail)?;
    let ended = sessions::end_for_user(&mut tx, user.id, None)
        .await
        .map_err(fail)?;
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "user.password_reset",
        object: format!("user:{}", user.username),
        before: None,
        after: Some(json!({ "sessions_ended": ended })),
    };
    audit::record(&mut tx, entry, now).await.map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    callers.forget_user(user.id);
    Ok(())
}

/// Every API token, for the admin page.
pub async fn list_tokens(db: &Database, caller: &Caller) -> Result<Vec<ApiToken>, AppError> {
    caller.authorize(Action::ManageTokens)?;
    api_tokens::list(db.reader())
        .await
        .map_err(|e| caller.fail(e))
}

/// A new token's details as the admin page or the command line give them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewTokenInput {
    pub name: String,
    pub role: String,
    /// `90d`, `12h`, a number of days, or empty for no expiry.
    #[serde(default)]
    pub expires: String,
}

/// Creates an API token; its secret is returned once and only its digest is kept.
pub async fn create_token(
    db: &Database,
    caller: &Caller,
    input: &NewTokenInput,
) -> Result<CreatedToken, AppError> {
    caller.authorize(Action::ManageTokens)?;
    let name = parse_token_name(&input.name)?;
    let role = parse_role_field(&input.role)?;
    let lifetime: Option<Duration> = parse_token_lifetime(&input.expires)?;
    let fail = |e| caller.fail(e);
    let secret = new_secret(TOKEN_PREFIX).map_err(fail)?;
    let now = Timestamp::now();
    let created_by = caller.actor();
    let new_token = NewToken {
        name: &name,
        role,
        secret: &secret,
        created_by: created_by.name(),
        expires_at: lifetime.map(|lifetime| now.plus(lifetime)),
    };
    let mut tx = db.begin().await.map_err(fail)?;
    let token = match api_tokens::insert(&mut tx, &new_token, now).await {
        Ok(token) => token,
        Err(StorageError::Query(error)) if is_unique_violation(&error) => {
            return Err(AppError::Conflict(FieldError::new(
                "name",
                format!("An active token is already named {name}; revoke it first or choose another name."),
            )))
        }
        Err(error) => return Err(fail(error)),
    };
    let entry = Entry {
        actor: &created_by,
        origin: &caller.origin,
        action: "token.created",
        object: format!("token:{}", token.name),
        before: None,
        after: Some(token_summary(&token)),
    };
    audit::record(&mut tx, entry, now).await.map_err(fail)?;
    tx.commit().await.map_err(fail)?;
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
    let fail = |e| caller.fail(e);
    let now = Timestamp::now();
    let mut tx = db.begin().await.map_err(fail)?;
    let token = api_tokens::revoke(&mut tx, which, now)
        .await
        .map_err(fail)?
        .ok_or_else(|| {
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
    audit::record(&mut tx, entry, now).await.map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    Ok(token)
}

/// How many audit entries a page shows.
pub const AUDIT_PAGE_SIZE: i64 = 50;

/// A page of the audit log, newest first.
pub async fn audit_log(
    db: &Database,
    caller: &Caller,
    filter: &audit::Filter,
) -> Result<Vec<audit::Row>, AppError> {
    caller.authorize(Action::ReadAuditLog)?;
    audit::list(db.reader(), filter, AUDIT_PAGE_SIZE)
        .await
        .map_err(|e| caller.fail(e))
}

debug_without_secrets!(PasswordReset { id });
