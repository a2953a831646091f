//! The append-only audit log: every change, who made it, from where. [`record`] writes an
//! entry inside the transaction of the change it describes, so neither lands without the
//! other. Nothing here updates or deletes rows, and the database refuses to (see the
//! migration's triggers).

pub mod store;

use serde::{Deserialize, Serialize};

use super::{storage::Tx, Caller, Database, StorageError};
pub use crate::model::{AuditEntry as Row, AuditFilter as Filter};
use crate::{
    domain::{audit::describe_change, Action, Timestamp},
    error::AppError,
};

/// Who did something, as the log names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    User(String),
    Token(String),
    /// Switchyard itself, or its command line.
    System(String),
    /// Nobody logged in (a failed login, the first-run setup).
    Anonymous,
}

impl Actor {
    /// `user`, `token`, `system` or `anonymous`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::Token(_) => "token",
            Actor::System(_) => "system",
            Actor::Anonymous => "anonymous",
        }
    }

    /// The name the log records: username, token name, or what Switchyard part acted.
    pub fn name(&self) -> &str {
        match self {
            Actor::User(name) | Actor::Token(name) | Actor::System(name) => name,
            Actor::Anonymous => "anonymous",
        }
    }

    /// The actor as records name their author: kind and name.
    pub fn recorder(&self) -> crate::model::Recorder {
        crate::model::Recorder {
            kind: self.kind().to_owned(),
            name: self.name().to_owned(),
        }
    }
}

/// Where a request came from, for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub client_address: Option<String>,
    pub request_id: Option<String>,
}

/// One thing that happened.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub origin: &'a Origin,
    /// `noun.verb`, e.g. `user.created`, `session.login_failed`.
    pub action: &'a str,
    /// What it happened to, e.g. `user:alice`, `token:ci`.
    pub object: String,
    /// A short summary of the object before and after, as JSON.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Records a refused request (finding 8 of the security review): `access.refused` for a role
/// too weak (403), `access.throttled` for too many attempts (429), with who asked, for what
/// and from where, and why when the answer says (`reason`, its error code, e.g.
/// `cross_origin`), so an admin sees someone probing. Failing to write it must not change the
/// answer, so the error is only returned for the caller to log.
pub async fn refusal(
    db: &Database,
    caller: &Caller,
    status: u16,
    reason: Option<&str>,
    request: &str,
) -> Result<(), StorageError> {
    let action = if status == 429 {
        "access.throttled"
    } else {
        "access.refused"
    };
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action,
        object: request.chars().take(300).collect(),
        before: None,
        after: Some(match reason {
            Some(reason) => serde_json::json!({ "status": status, "reason": reason }),
            None => serde_json::json!({ "status": status }),
        }),
    };
    let mut tx = db.begin().await?;
    record(&mut tx, entry, Timestamp::now()).await?;
    tx.commit().await
}

/// Appends an entry inside `tx`, the transaction of the change it describes.
pub async fn record(tx: &mut Tx, entry: Entry<'_>, now: Timestamp) -> Result<(), StorageError> {
    store::insert(tx, entry, now).await
}

/// Audits a change `caller` makes inside `tx`: what the object was (if it existed) and became.
pub async fn change(
    tx: &mut Tx,
    caller: &Caller,
    action: &str,
    object: String,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
    now: Timestamp,
) -> Result<(), StorageError> {
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action,
        object,
        before,
        after: Some(after),
    };
    record(tx, entry, now).await
}

/// Audits something `caller` creates inside `tx`.
pub async fn created(
    tx: &mut Tx,
    caller: &Caller,
    action: &str,
    object: String,
    after: serde_json::Value,
    now: Timestamp,
) -> Result<(), StorageError> {
    change(tx, caller, action, object, None, after, now).await
}

/// How many audit entries a page shows.
pub const PAGE_SIZE: i64 = 50;

/// A page of the audit log, newest first: for admins.
pub async fn log(db: &Database, caller: &Caller, filter: &Filter) -> Result<Vec<Row>, AppError> {
    caller.authorize(Action::ReadAuditLog)?;
    let mut rows = store::list(db.reader(), filter, PAGE_SIZE).await?;
    for row in &mut rows {
        row.change = describe_change(row.before.as_deref(), row.after.as_deref());
    }
    Ok(rows)
}
