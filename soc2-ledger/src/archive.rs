//! Reading run bundles: one file, or the run directory, out of a verified zip.

use std::io::{Cursor, Read};
use std::path::Path;

use crate::error::io_err;
use crate::LedgerError;

fn malformed(key: &str, message: impl Into<String>) -> LedgerError {
    LedgerError::Malformed {
        location: "bundle".into(),
        key: key.to_string(),
        message: message.into(),
    }
}

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn open<'a>(bytes: &'a [u8], key: &str) -> Result<(Archive<'a>, String), LedgerError> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| malformed(key, format!("not a zip: {e}")))?;
    let root = archive
        .file_names()
        .next()
        .and_then(|n| n.split('/').next())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| malformed(key, "an empty bundle"))?
        .to_string();
    Ok((archive, root))
}

/// One tag file of a bundle (`bag-info.txt`), or `None`.
pub(crate) fn read_tag(
    bytes: &[u8],
    key: &str,
    name: &str,
) -> Result<Option<Vec<u8>>, LedgerError> {
    let (mut archive, root) = open(bytes, key)?;
    read(&mut archive, key, &format!("{root}/{name}"))
}

/// One file of a bundle's run directory (`run.json`, `ledger/run.json`), or `None`.
pub(crate) fn read_data(
    bytes: &[u8],
    key: &str,
    rel: &str,
) -> Result<Option<Vec<u8>>, LedgerError> {
    let (mut archive, root) = open(bytes, key)?;
    read(&mut archive, key, &format!("{root}/data/{rel}"))
}

fn read(archive: &mut Archive<'_>, key: &str, name: &str) -> Result<Option<Vec<u8>>, LedgerError> {
    let mut file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(malformed(key, format!("{name}: {e}"))),
    };
    let mut out = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
    file.read_to_end(&mut out)
        .map_err(|e| malformed(key, format!("{name}: {e}")))?;
    Ok(Some(out))
}

/// Writes the run directory's files for which `keep(relative path)` holds into `dest`.
/// Only for bundles that verified: names were checked safe there, and are checked again.
pub(crate) fn extract_data(
    bytes: &[u8],
    key: &str,
    dest: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<(), LedgerError> {
    let (mut archive, root) = open(bytes, key)?;
    let prefix = format!("{root}/data/");
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| malformed(key, e.to_string()))?;
        let name = file.name().to_string();
        let Some(rel) = name.strip_prefix(&prefix) else {
            continue;
        };
        if file.is_dir() || rel.is_empty() || !keep(rel) {
            continue;
        }
        if rel
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
            || rel.contains('\\')
        {
            return Err(malformed(key, format!("unsafe entry name {name:?}")));
        }
        let path = dest.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let mut out = std::fs::File::create(&path).map_err(io_err(&path))?;
        std::io::copy(&mut file, &mut out).map_err(io_err(&path))?;
    }
    Ok(())
}
