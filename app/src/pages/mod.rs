//! The pages, one folder per feature (each holds that feature's pages and the server functions
//! they call), and the few pages that belong to none: the Overview, 403, 404 and the sections
//! still to come.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod deployments;
mod forbidden;
pub mod incidents;
mod not_found;
pub mod operations;
mod overview;
mod planned;
pub mod releases;

pub use forbidden::Forbidden;
pub use not_found::NotFound;
pub use overview::Overview;
pub use planned::{Planned, PlannedPage};
