//! One module per page.

mod account;
mod admin;
pub mod deployments;
mod environment;
mod forbidden;
mod login;
mod not_found;
mod overview;
mod planned;
mod setup;

pub use account::AccountPage;
pub use admin::{AuditPage, ServicesPage, TokensPage, UsersPage};
pub use deployments::{DeploymentPage, DeploymentsPage, RecordDeploymentPage};
pub use environment::EnvironmentPage;
pub use forbidden::Forbidden;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use overview::Overview;
pub use planned::{Planned, PlannedPage};
pub use setup::SetupPage;
