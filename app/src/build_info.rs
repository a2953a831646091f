//! What was built: shown in the footer and reported by the detailed health check.

/// The release version, from the workspace manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the build came from (`unknown` outside a git checkout).
pub const COMMIT: &str = env!("SWITCHYARD_COMMIT");
