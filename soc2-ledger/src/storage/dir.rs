//! A ledger in a local directory.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use fs4::fs_std::FileExt;

use super::{LedgerLock, LedgerStorage};
use crate::error::io_err;
use crate::LedgerError;

const LOCK_FILE: &str = ".lock";
const TMP_DIR: &str = ".tmp";

/// A ledger in a local directory: each object a file, written to a temporary file, synced and
/// then hard-linked into place (which fails if the name exists, so nothing is replaced).
/// The writer lock is an advisory lock on `.lock`, which the OS releases if the holder dies.
#[derive(Debug, Clone)]
pub struct DirStorage {
    root: PathBuf,
}

impl DirStorage {
    /// Opens (creating if needed) the ledger directory `root`.
    pub fn open(root: &Path) -> Result<Self, LedgerError> {
        fs::create_dir_all(root).map_err(io_err(root))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The ledger directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, LedgerError> {
        // Keys are ours (`runs/000001.zip`); refuse anything that could leave the root.
        if key.is_empty()
            || key.starts_with('/')
            || key
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
            || key.contains('\\')
        {
            return Err(LedgerError::Malformed {
                location: self.location(),
                key: key.to_string(),
                message: "not a valid ledger key".into(),
            });
        }
        Ok(self.root.join(key))
    }
}

struct DirLock {
    _file: File,
}

impl LedgerLock for DirLock {}

#[async_trait]
impl LedgerStorage for DirStorage {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError> {
        let dir = self.root.join(prefix.trim_end_matches('/'));
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            keys.push(format!("{}/{name}", prefix.trim_end_matches('/')));
        }
        keys.sort();
        Ok(keys)
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, LedgerError> {
        let path = self.path(key)?;
        match fs::read(&path) {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    async fn put_new(
        &self,
        key: &str,
        body: Bytes,
        retain_until: Option<DateTime<Utc>>,
    ) -> Result<(), LedgerError> {
        if retain_until.is_some() {
            return Err(LedgerError::Location {
                location: self.location(),
                message: "a directory ledger cannot keep objects under retention; \
                          [ledger] object_lock_days needs an s3:// ledger with Object Lock"
                    .into(),
            });
        }
        let path = self.path(key)?;
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let tmp_dir = self.root.join(TMP_DIR);
        fs::create_dir_all(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
        tmp.write_all(&body).map_err(io_err(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
        // A hard link never replaces an existing name: the no-overwrite rename.
        match fs::hard_link(tmp.path(), &path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(LedgerError::AlreadyExists {
                    location: self.location(),
                    key: key.to_string(),
                })
            }
            Err(e) => return Err(io_err(&path)(e)),
        }
        drop(tmp);
        if let Ok(d) = File::open(&parent) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    async fn lock(&self, holder: &str) -> Result<Box<dyn LedgerLock>, LedgerError> {
        let path = self.root.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        let locked = FileExt::try_lock_exclusive(&file).map_err(io_err(&path))?;
        if !locked {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            return Err(LedgerError::Locked {
                location: self.location(),
                holder: if holder.trim().is_empty() {
                    "unknown holder".into()
                } else {
                    holder.trim().to_string()
                },
                lock_file: path.display().to_string(),
            });
        }
        file.set_len(0).map_err(io_err(&path))?;
        file.write_all(holder.as_bytes()).map_err(io_err(&path))?;
        Ok(Box::new(DirLock { _file: file }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_new_never_replaces_and_the_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::open(dir.path()).unwrap();
        s.put_new("runs/000001.zip", Bytes::from_static(b"one"), None)
            .await
            .unwrap();
        let again = s
            .put_new("runs/000001.zip", Bytes::from_static(b"two"), None)
            .await;
        assert!(
            matches!(again, Err(LedgerError::AlreadyExists { .. })),
            "{again:?}"
        );
        assert_eq!(s.get("runs/000001.zip").await.unwrap().unwrap(), "one");
        assert_eq!(s.list("runs/").await.unwrap(), vec!["runs/000001.zip"]);
        assert!(s.get("runs/000002.zip").await.unwrap().is_none());
        assert!(s.get("../x").await.is_err());

        let held = s.lock("pid 1").await.unwrap();
        match s.lock("pid 2").await {
            Err(LedgerError::Locked { holder, .. }) => assert_eq!(holder, "pid 1"),
            other => panic!("{:?}", other.err()),
        }
        drop(held);
        assert!(s.lock("pid 3").await.is_ok());
    }
}
