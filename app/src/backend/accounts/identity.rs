//! Who is calling, and may they do that: the one place both server functions and REST
//! handlers ask. The HTTP layer resolves the caller once per request ([`resolve`]) and keeps it
//! in the request's extensions; handlers then call [`Caller::authorize`] with the action they
//! are about to perform.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::backend::{
    accounts::callers::Callers,
    accounts::store::sessions::{self, handle_of, Login, LOGIN_KEY},
    accounts::store::tokens,
    accounts::store::users,
    audit::{Actor, Origin},
    AppState, StorageError,
};
use crate::{
    domain::{Action, Role, Timestamp},
    error::AppError,
    pages::accounts::session::CurrentUser,
};

/// How often a session's last use is written back: each write also extends its idle expiry,
/// so a minute of precision saves a database write on almost every request.
const LAST_SEEN_PRECISION: Duration = Duration::from_secs(60);

/// An authenticated user or API token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    User {
        id: i64,
        username: String,
        display_name: String,
        role: Role,
        /// The digest of the session id this request came with.
        session: String,
    },
    Token {
        id: i64,
        name: String,
        role: Role,
    },
    /// Switchyard's own command line, run by whoever holds the server's configuration (and
    /// so its database): it has every right.
    System {
        name: String,
    },
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::User { role, .. } | Principal::Token { role, .. } => *role,
            Principal::System { .. } => Role::Admin,
        }
    }

    /// The principal as the audit log names it.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::User { username, .. } => Actor::User(username.clone()),
            Principal::Token { name, .. } => Actor::Token(name.clone()),
            Principal::System { name } => Actor::System(name.clone()),
        }
    }
}

/// Everything known about who sent a request.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub principal: Option<Principal>,
    pub origin: Origin,
}

impl Caller {
    /// The command line, acting with every right.
    pub fn command_line() -> Self {
        Self {
            principal: Some(Principal::System {
                name: "command line".to_owned(),
            }),
            origin: Origin::default(),
        }
    }

    /// The principal, if it may do `action`: `Unauthenticated` for nobody, `Forbidden` for a
    /// role too weak.
    pub fn authorize(&self, action: Action) -> Result<&Principal, AppError> {
        let principal = self.principal.as_ref().ok_or(AppError::Unauthenticated)?;
        let role = principal.role();
        if role.may(action) {
            Ok(principal)
        } else {
            Err(AppError::Forbidden {
                role,
                action: action.describe().to_owned(),
            })
        }
    }

    /// The caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        self.principal
            .as_ref()
            .map_or(Actor::Anonymous, Principal::actor)
    }

    /// What the page header shows about the caller.
    pub fn current_user(&self) -> Option<CurrentUser> {
        self.principal.as_ref().map(|principal| match principal {
            Principal::User {
                username,
                display_name,
                role,
                ..
            } => CurrentUser {
                name: username.clone(),
                display_name: display_name.clone(),
                role: *role,
                is_token: false,
            },
            Principal::Token { name, role, .. } => CurrentUser {
                name: name.clone(),
                display_name: name.clone(),
                role: *role,
                is_token: true,
            },
            Principal::System { name } => CurrentUser {
                name: name.clone(),
                display_name: name.clone(),
                role: Role::Admin,
                is_token: false,
            },
        })
    }
}

/// Finds who sent a request: a bearer token (REST only, decided by the caller of this
/// function) wins over a session. An unknown, revoked or expired token, or a session that
/// is too old, or belongs to a deactivated user, yields no principal. A dead session is
/// flushed, so its cookie is removed.
/// Whether `principal` may still act: its session neither ended (logout, deactivation,
/// password change) nor past its idle or absolute limit, its user active with the same role;
/// its token neither revoked nor expired. A long-lived answer (a live stream) asks this every
/// few seconds, since it never passes through [`resolve`] again.
pub async fn still_current(
    state: &AppState,
    principal: &Principal,
    now: Timestamp,
) -> Result<bool, StorageError> {
    match principal {
        Principal::User {
            id, role, session, ..
        } => {
            let logged_in_after = now.minus(state.auth.session_lifetime);
            sessions::still_current(state.db.reader(), session, *id, *role, now, logged_in_after)
                .await
        }
        Principal::Token { id, role, .. } => {
            tokens::still_current(state.db.reader(), *id, *role, now).await
        }
        Principal::System { .. } => Ok(true),
    }
}

pub async fn resolve(
    state: &AppState,
    session: Option<&Session>,
    bearer: Option<&str>,
    now: Timestamp,
) -> Result<Option<Principal>, StorageError> {
    if let Some(token) = bearer {
        return Ok(tokens::authenticate(&state.db, token, now)
            .await?
            .map(|token| Principal::Token {
                id: token.id,
                name: token.name,
                role: token.role,
            }));
    }
    let Some(session) = session else {
        return Ok(None);
    };
    // The cookie's id, known without loading the session.
    let id = session.id().map(|id| id.to_string());
    if let Some(principal) = id.as_deref().and_then(|id| state.callers.get(id, now)) {
        return Ok(Some(principal));
    }
    let login: Option<Login> = session
        .get(LOGIN_KEY)
        .await
        .map_err(|e| StorageError::Session(e.to_string()))?;
    let Some(mut login) = login else {
        return Ok(None);
    };
    let user = users::find(state.db.reader(), login.user_id).await?;
    let too_old = now.since(login.logged_in_at) >= state.auth.session_lifetime;
    let (Some(user), false) = (user.filter(|user| user.active), too_old) else {
        end_session(&state.callers, session).await?;
        return Ok(None);
    };
    if now.since(login.last_seen_at) >= LAST_SEEN_PRECISION {
        login.last_seen_at = now;
        session
            .insert(LOGIN_KEY, &login)
            .await
            .map_err(|e| StorageError::Session(e.to_string()))?;
    }
    let handle = session.id().map(|id| handle_of(&id)).unwrap_or_default();
    let principal = Principal::User {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        session: handle,
    };
    if let Some(id) = id {
        let ends_at = login.logged_in_at.plus(state.auth.session_lifetime);
        state.callers.put(id, principal.clone(), now, ends_at);
    }
    Ok(Some(principal))
}

/// Deletes a session on the server and removes its cookie; this process forgets it at once.
pub async fn end_session(callers: &Callers, session: &Session) -> Result<(), StorageError> {
    if let Some(id) = session.id() {
        callers.forget_session(&id.to_string());
    }
    session
        .flush()
        .await
        .map_err(|e| StorageError::Session(e.to_string()))
}

/// Handlers take the caller as an extractor; the identifying middleware put it there. Without
/// it (a route outside that middleware) the caller is nobody, which fails safe.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}
