//! The accounts' tables: users, API tokens, sessions (the store tower-sessions uses) and login
//! attempts (what the throttle counts).

pub mod login_attempts;
pub mod sessions;
pub mod tokens;
pub mod users;
