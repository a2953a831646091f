//! The files of a backup: checksums, the manifest beside the data, and writing both so that a
//! half-written backup never carries a final name.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::{BackupError, Manifest};

/// The SHA-256 (lowercase hex) and size of a file.
pub(super) async fn digest(path: &Path) -> Result<(String, u64), BackupError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(BackupError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = file
            .read(&mut buffer)
            .await
            .map_err(BackupError::io(path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        bytes += read as u64;
    }
    Ok((format!("{:x}", hasher.finalize()), bytes))
}

/// The names of the files in `dir` that are backups or their manifests (`switchyard-…`, never
/// a `.….part` still being written).
pub(super) async fn list(dir: &Path) -> Result<Vec<String>, BackupError> {
    let mut entries = tokio::fs::read_dir(dir)
        .await
        .map_err(BackupError::io(dir))?;
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(BackupError::io(dir))? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(crate::domain::backups::PREFIX) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A path's file name, as text.
pub(super) fn name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes the manifest next to its data, under a temporary name first.
pub(super) async fn write_manifest(path: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|error| BackupError::Invalid(error.to_string()))?;
    let part = part_of(path);
    tokio::fs::write(&part, text + "\n")
        .await
        .map_err(BackupError::io(&part))?;
    tokio::fs::rename(&part, path)
        .await
        .map_err(BackupError::io(path))
}

/// `.NAME.part` beside `NAME`: where a file is written before it gets its name.
pub(super) fn part_of(path: &Path) -> PathBuf {
    path.with_file_name(format!(".{}.part", name(path)))
}

/// The manifest of the backup at `path` (its data file or its manifest) and its data file,
/// whose size and checksum match.
pub(super) async fn checked(path: &Path) -> Result<(Manifest, PathBuf), BackupError> {
    let file_name = name(path);
    let stem = file_name.split('.').next().unwrap_or_default();
    let manifest_path = path.with_file_name(format!("{stem}.json"));
    let text = tokio::fs::read_to_string(&manifest_path)
        .await
        .map_err(|source| BackupError::Invalid(format!(
            "cannot read the backup's manifest {}: {source}; a backup is its data file and the NAME.json beside it",
            manifest_path.display()
        )))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|error| {
        BackupError::Invalid(format!(
            "{} is not a Switchyard backup manifest: {error}",
            manifest_path.display()
        ))
    })?;
    if manifest.file.contains('/') || manifest.file.starts_with('.') {
        return Err(BackupError::Invalid(format!(
            "the manifest names the data file {:?}; it must be a file beside it",
            manifest.file
        )));
    }
    let file = path.with_file_name(&manifest.file);
    let (sha256, bytes) = digest(&file).await?;
    if sha256 != manifest.sha256 || bytes != manifest.bytes {
        return Err(BackupError::Invalid(format!(
            "{} is damaged: its checksum or size differs from the manifest's ({bytes} bytes, SHA-256 {sha256}; expected {} bytes, {}); use another backup",
            file.display(),
            manifest.bytes,
            manifest.sha256
        )));
    }
    Ok((manifest, file))
}
