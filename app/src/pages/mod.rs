//! One module per page.

mod not_found;
mod overview;
mod planned;

pub use not_found::NotFound;
pub use overview::Overview;
pub use planned::{Planned, PlannedPage};
