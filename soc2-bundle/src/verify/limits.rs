//! Resource limits applied to untrusted archives before anything is decompressed.

use serde::{Deserialize, Serialize};

/// Limits that bound the work verification may do on a hostile archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest total of declared uncompressed sizes (default 256 GiB).
    pub max_total_uncompressed: u64,
    /// Most entries (default 1,000,000).
    pub max_entries: u64,
    /// Highest uncompressed/compressed ratio of one entry (default 1,000; deflate cannot
    /// legitimately exceed ~1,032). Applied to entries of at least `ratio_min_size` bytes.
    pub max_compression_ratio: u64,
    /// Entries smaller than this are exempt from the ratio check (default 1 MiB).
    pub ratio_min_size: u64,
    /// Largest tag file (`manifest-sha256.txt` etc.) held in memory (default 512 MiB).
    pub max_tag_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_total_uncompressed: 256 << 30,
            max_entries: 1_000_000,
            max_compression_ratio: 1_000,
            ratio_min_size: 1 << 20,
            max_tag_file_bytes: 512 << 20,
        }
    }
}
