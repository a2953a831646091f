//! Records the commit the binary and the browser bundle were built from, so the footer and
//! `/api/v1/health/detailed` can say exactly what is running. Both builds of this crate (server
//! and WASM) run this script, so both render the same footer and hydration never disagrees.
use std::{path::Path, process::Command};

fn main() {
    println!("cargo:rerun-if-env-changed=SWITCHYARD_COMMIT");
    // The migrations are embedded by `sqlx::migrate!`.
    println!("cargo:rerun-if-changed=../migrations");
    // Rebuild when HEAD moves; a missing file would make cargo rerun this on every build.
    for file in ["../.git/HEAD", "../.git/logs/HEAD"] {
        if Path::new(file).exists() {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    let commit = std::env::var("SWITCHYARD_COMMIT")
        .ok()
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SWITCHYARD_COMMIT={commit}");
}

fn git_commit() -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !commit.is_empty()).then_some(commit)
}
