//! Services and environments in the browser: the Services page (every service with what is
//! live in its environments), one service's page, and the admin page that sets them up.

mod admin;
mod service;
mod services;

pub use admin::CatalogAdminPage;
pub use service::ServicePage;
pub use services::ServicesPage;
