//! SHA-256 helpers.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::BundleError;

/// Size of the read buffer used when streaming files.
pub(crate) const CHUNK: usize = 1 << 20;

/// SHA-256 of a file's content in lowercase hex, read in 1 MiB chunks (flat memory).
///
/// Use it to compute the chain link for the next bundle's
/// [`previous_bundle_sha256`](crate::BundleMetadata::previous_bundle_sha256).
pub fn sha256_file(path: &Path) -> Result<String, BundleError> {
    let mut f = File::open(path).map_err(|e| BundleError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = f.read(&mut buf).map_err(|e| BundleError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Lowercase hex SHA-256 of a byte slice.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Whether `s` is a lowercase hex SHA-256 digest.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
