//! Packing an export as one `.tar.gz`, writing a new private file, and the plaintext
//! archives older versions left in DATA/exports (swept by retention, deleted when their
//! customer is erased; nothing writes there any more).

use crate::ExportFile;
use std::path::{Path, PathBuf};

/// Writes the files under a top directory named after the archive; mode 0600, refuses
/// to overwrite.
pub fn write_tar_gz(files: &[ExportFile], out: &Path) -> std::io::Result<u64> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let top = out
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| {
            n.trim_end_matches(".tar.gz")
                .trim_end_matches(".tgz")
                .to_string()
        })
        .unwrap_or_else(|| "export".into());
    let bytes = tar_gz_bytes(files, &top)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    Ok(bytes.len() as u64)
}

/// The archive in memory, every file under the directory `top`.
pub(crate) fn tar_gz_bytes(files: &[ExportFile], top: &str) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let now = sealdesk_model::Timestamp::now().0.max(0) as u64;
    for f in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(f.bytes.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(now);
        header.set_cksum();
        tar.append_data(&mut header, format!("{top}/{}", f.path), &f.bytes[..])?;
    }
    tar.into_inner()?.finish()
}

/// Writes `bytes` to a new file (mode 0600, never overwriting), synced.
pub(crate) fn write_new_file(out: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Plaintext archives in DATA/exports, written by versions before exports were sealed.
pub(crate) fn legacy_exports(data_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(exports_dir(data_dir))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// The legacy archives of one customer: they were named `<customer id>-<time>…`.
pub(crate) fn legacy_exports_of(
    data_dir: &Path,
    customer: &sealdesk_model::CustomerId,
) -> Vec<PathBuf> {
    let prefix = format!("{customer}-");
    legacy_exports(data_dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect()
}

/// Where older versions wrote exports in plaintext.
pub fn exports_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("exports")
}
