//! The pages, one folder per feature (each holds that feature's pages and the server functions
//! they call), and the few pages that belong to none: the Overview, 403 and 404.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod deployments;
mod forbidden;
pub mod incidents;
pub mod metrics;
mod not_found;
pub mod operations;
mod overview;
pub mod releases;

pub use forbidden::Forbidden;
pub use not_found::NotFound;
pub use overview::Overview;
