//! The compiled site the pages load: `hash.txt` in the site root names the content-hashed
//! JavaScript, WASM and CSS files under `pkg/` (cargo-leptos writes it beside the binary,
//! `scripts/lib.sh` copies it into the site). The server reads the names from there at run
//! time, whatever built the binary, and refuses to start when a named file is missing: a page
//! that names files the site does not hold would never work in a browser.

use std::path::{Path, PathBuf};

/// The file in the site root that names the hashed assets.
pub const HASH_FILE: &str = "hash.txt";
/// `output-name` in `[[workspace.metadata.leptos]]`.
pub const OUTPUT_NAME: &str = "switchyard";
/// `site-pkg-dir` in `[[workspace.metadata.leptos]]`.
pub const PKG_DIR: &str = "pkg";

/// The compiled site, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The site root, absolute.
    pub root: PathBuf,
    /// `/pkg/switchyard.<hash>.css`, for pages rendered outside Leptos (the 500 page).
    pub stylesheet: String,
}

/// Why the site cannot be served.
#[derive(Debug, thiserror::Error)]
#[error(
    "the site root {root} does not hold a compiled site ({problem}); build it with \
     scripts/run.sh (or `cargo leptos build --release --split --precompress` and copy \
     hash.txt from beside the binary into the site root), or set site_root"
)]
pub struct SiteError {
    root: String,
    problem: String,
}

impl Site {
    /// Reads `hash.txt` under `root` and checks that every file it names exists.
    pub fn load(root: &Path) -> Result<Self, SiteError> {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let error = |problem: String| SiteError {
            root: root.display().to_string(),
            problem,
        };
        let hash_file = root.join(HASH_FILE);
        let text = std::fs::read_to_string(&hash_file)
            .map_err(|e| error(format!("cannot read {}: {e}", hash_file.display())))?;
        let hashes = parse_hashes(&text);
        let hash_of = |kind: &str| {
            hashes
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, hash)| *hash)
                .ok_or_else(|| error(format!("{HASH_FILE} names no {kind} file")))
        };
        let mut files = vec![
            format!("{OUTPUT_NAME}.{}.js", hash_of("js")?),
            format!("{OUTPUT_NAME}.{}.wasm", hash_of("wasm")?),
            format!("{OUTPUT_NAME}.{}.css", hash_of("css")?),
        ];
        // Present when the WASM is split into lazily loaded chunks.
        if let (Ok(split), Ok(manifest)) = (hash_of("split"), hash_of("manifest")) {
            files.push(format!("__wasm_split.{split}.js"));
            files.push(format!("__wasm_split_manifest.{manifest}.json"));
        }
        if let Some(missing) = files
            .iter()
            .find(|file| !root.join(PKG_DIR).join(file).is_file())
        {
            return Err(error(format!("{PKG_DIR}/{missing} is missing")));
        }
        Ok(Self {
            stylesheet: format!("/{PKG_DIR}/{}", files[2]),
            root,
        })
    }

    /// The hash file's path, for Leptos, which reads the script names from it.
    pub fn hash_file(&self) -> PathBuf {
        self.root.join(HASH_FILE)
    }
}

/// `kind: hash` lines.
fn parse_hashes(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(kind, hash)| (kind.trim(), hash.trim()))
        .filter(|(_, hash)| !hash.is_empty())
        .collect()
}

/// Whether a file name under `pkg/` carries a content hash (`name.<22 characters>.ext`, the
/// base64url MD5 cargo-leptos writes), so its content never changes under that name.
pub fn is_hashed(file_name: &str) -> bool {
    let mut parts = file_name.rsplit('.');
    let (Some(_extension), Some(hash), Some(_stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_with(files: &[&str], hashes: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(dir.path().join(PKG_DIR)).expect("pkg");
        std::fs::write(dir.path().join(HASH_FILE), hashes).expect("hash file");
        for file in files {
            std::fs::write(dir.path().join(PKG_DIR).join(file), "x").expect("file");
        }
        dir
    }

    #[test]
    fn a_complete_site_names_its_stylesheet() {
        let dir = site_with(
            &[
                "switchyard.aaaa.js",
                "switchyard.bbbb.wasm",
                "switchyard.cccc.css",
                "__wasm_split.dddd.js",
                "__wasm_split_manifest.eeee.json",
            ],
            "js: aaaa\nwasm: bbbb\ncss: cccc\nsplit: dddd\nmanifest: eeee\n",
        );
        let site = Site::load(dir.path()).expect("complete");
        assert_eq!(site.stylesheet, "/pkg/switchyard.cccc.css");
        assert_eq!(site.hash_file(), dir.path().join("hash.txt"));
    }

    #[test]
    fn a_missing_file_or_hash_stops_startup_naming_it() {
        let dir = site_with(
            &["switchyard.aaaa.js", "switchyard.cccc.css"],
            "js: aaaa\nwasm: bbbb\ncss: cccc\n",
        );
        let error = Site::load(dir.path())
            .expect_err("wasm missing")
            .to_string();
        assert!(
            error.contains("pkg/switchyard.bbbb.wasm is missing"),
            "{error}"
        );
        assert!(error.contains("scripts/run.sh"), "{error}");

        let dir = site_with(&[], "js: aaaa\n");
        let error = Site::load(dir.path()).expect_err("no wasm").to_string();
        assert!(error.contains("names no wasm file"), "{error}");

        let empty = tempfile::tempdir().expect("temporary folder");
        let error = Site::load(empty.path())
            .expect_err("no hash file")
            .to_string();
        assert!(error.contains("cannot read"), "{error}");
    }

    #[test]
    fn only_content_hashed_names_count_as_hashed() {
        assert!(is_hashed("switchyard.Xy3_-abcdefghijklmnopq.wasm"));
        assert!(is_hashed("__wasm_split.Xy3_-abcdefghijklmnopq.js"));
        assert!(!is_hashed("switchyard.wasm"));
        assert!(!is_hashed("switchyard.css"));
        assert!(!is_hashed("hash.txt"));
        assert!(!is_hashed("switchyard.short.js"));
    }
}
