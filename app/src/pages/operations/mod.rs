//! Operations in the browser: an environment's state, its operation buttons and the live
//! progress of the newest operation.

mod environment;

pub use environment::{EnvironmentPage, HealthBadge};
