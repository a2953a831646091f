//! Services and environments in the browser: the admin page that sets them up.

mod services;

pub use services::ServicesPage;
