//! Who recent sessions belong to, for a few seconds. A page view would otherwise read the
//! session and its user from the database on every request, and on SQLite each read is a
//! hand-off to a database thread and back: the largest cost of rendering a page.
//!
//! What ends or weakens a session forgets it here at once (logout, a new login, deactivation,
//! a role or password change, ended sessions), so in the process that made the change it
//! takes effect on the next request; another replica serving the same database sees it within
//! [`CALLER_CACHE_TTL`]. API tokens are not cached: CI calls are few, and a token revoked from
//! the command line (another process) must stop at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use crate::backend::Principal;
use crate::domain::Timestamp;

/// How long a resolved session is trusted without asking the database again.
pub const CALLER_CACHE_TTL: Duration = Duration::from_secs(5);

/// The cache, by session id; cheap to clone, one per process.
#[derive(Clone, Debug, Default)]
pub struct Callers {
    sessions: Arc<Mutex<HashMap<String, Remembered>>>,
}

#[derive(Clone, Debug)]
struct Remembered {
    principal: Principal,
    until: Timestamp,
}

impl Callers {
    /// The principal remembered for a session, if it is still fresh at `now`.
    pub fn get(&self, session_id: &str, now: Timestamp) -> Option<Principal> {
        let mut sessions = self.lock();
        match sessions.get(session_id) {
            Some(entry) if entry.until > now => Some(entry.principal.clone()),
            Some(_) => {
                sessions.remove(session_id);
                None
            }
            None => None,
        }
    }

    /// Remembers a session's principal until `now` + the TTL, or until the session's lifetime
    /// ends if that is sooner.
    pub fn put(
        &self,
        session_id: String,
        principal: Principal,
        now: Timestamp,
        ends_at: Timestamp,
    ) {
        let until = ends_at.min(now.plus(CALLER_CACHE_TTL));
        let mut sessions = self.lock();
        // Expired entries go when the map grows, so it holds about a TTL's worth of sessions.
        if sessions.len() >= 1024 {
            sessions.retain(|_, entry| entry.until > now);
        }
        sessions.insert(session_id, Remembered { principal, until });
    }

    /// Forgets one session (it ended).
    pub fn forget_session(&self, session_id: &str) {
        self.lock().remove(session_id);
    }

    /// Forgets every session of a user (deactivated, role or password changed, sessions ended).
    pub fn forget_user(&self, user_id: i64) {
        self.lock().retain(
            |_, entry| !matches!(entry.principal, Principal::User { id, .. } if id == user_id),
        );
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Remembered>> {
        // A panic while holding this lock leaves nothing half-written worth refusing over.
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn user(id: i64) -> Principal {
        Principal::User {
            id,
            username: format!("u{id}"),
            display_name: String::new(),
            role: Role::Engineer,
            session: format!("h{id}"),
        }
    }

    #[test]
    fn entries_last_the_ttl_or_until_the_session_ends() {
        let callers = Callers::default();
        let now = Timestamp(1_000_000);
        let far = now.plus(Duration::from_secs(3600));
        callers.put("s1".into(), user(1), now, far);
        assert_eq!(
            callers.get("s1", now.plus(Duration::from_secs(4))),
            Some(user(1))
        );
        assert_eq!(callers.get("s1", now.plus(CALLER_CACHE_TTL)), None);

        let soon = now.plus(Duration::from_secs(1));
        callers.put("s2".into(), user(2), now, soon);
        assert_eq!(
            callers.get("s2", soon),
            None,
            "not past the session's lifetime"
        );
    }

    #[test]
    fn what_ends_a_session_forgets_it() {
        let callers = Callers::default();
        let now = Timestamp(1_000_000);
        let far = now.plus(Duration::from_secs(3600));
        callers.put("a".into(), user(1), now, far);
        callers.put("b".into(), user(1), now, far);
        callers.put("c".into(), user(2), now, far);
        callers.forget_session("a");
        assert_eq!(callers.get("a", now), None);
        assert!(callers.get("b", now).is_some());
        callers.forget_user(1);
        assert_eq!(callers.get("b", now), None);
        assert!(callers.get("c", now).is_some(), "other users stay");
    }
}
