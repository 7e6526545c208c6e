//! A run to read populations from: a run directory, or the `data/` of a bundle zip.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use soc2_bundle::bagit::parse_manifest;
use soc2_evidence_core::{EvidenceStore, RunManifest};

use super::SampleError;

/// Where a run's files are read from.
#[derive(Debug)]
pub struct RunSource {
    path: PathBuf,
    manifest: RunManifest,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Dir,
    /// The bundle's top directory (`soc2-evidence-<id>`) and its payload manifest.
    Zip {
        root: String,
        payload: Vec<soc2_bundle::bagit::ManifestLine>,
    },
}

/// A population file on disk: the run directory's own file, or a copy taken out of a bundle
/// (deleted when this is dropped).
#[derive(Debug)]
pub struct PopulationFile {
    /// The file to read.
    pub path: PathBuf,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    _temp: Option<tempfile::TempPath>,
}

impl RunSource {
    /// Opens a run directory, or a bundle zip (any path that is a file).
    ///
    /// A bundle's files are checked against its payload manifest as they are read; its
    /// signature is `verify`'s business, so run that first on a bundle you were handed.
    pub fn open(path: &Path) -> Result<RunSource, SampleError> {
        if path.is_dir() {
            let store = EvidenceStore::open(path).map_err(|e| SampleError::Source {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            return Ok(RunSource {
                path: path.to_path_buf(),
                manifest: store.manifest().clone(),
                kind: Kind::Dir,
            });
        }
        let mut archive = open_zip(path)?;
        let root = bundle_root(&mut archive, path)?;
        let text = read_entry(&mut archive, path, &format!("{root}/manifest-sha256.txt"))?;
        let text =
            String::from_utf8(text).map_err(|_| bad(path, "manifest-sha256.txt is not UTF-8"))?;
        let payload = parse_manifest(&text)
            .map_err(|(line, m)| bad(path, &format!("manifest-sha256.txt:{line}: {m}")))?;
        let run_json = read_entry(&mut archive, path, &format!("{root}/data/run.json"))?;
        check_digest(
            path,
            &payload,
            "data/run.json",
            &hex::encode(Sha256::digest(&run_json)),
        )?;
        let manifest: RunManifest = serde_json::from_slice(&run_json)
            .map_err(|e| bad(path, &format!("data/run.json: {e}")))?;
        Ok(RunSource {
            path: path.to_path_buf(),
            manifest,
            kind: Kind::Zip { root, payload },
        })
    }

    /// The run's `run.json`.
    pub fn manifest(&self) -> &RunManifest {
        &self.manifest
    }

    /// The path given to [`open`](Self::open).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every population of the run, as `collector/population`, sorted.
    pub fn populations(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .manifest
            .collectors
            .iter()
            .flat_map(|c| c.records.keys().map(move |p| format!("{}/{p}", c.name)))
            .collect();
        all.sort();
        all
    }

    /// The file of `collector/population`, or [`SampleError::UnknownPopulation`] listing what
    /// the run has.
    pub fn population(&self, name: &str) -> Result<PopulationFile, SampleError> {
        if !self.populations().iter().any(|p| p == name) {
            return Err(SampleError::UnknownPopulation {
                population: name.to_string(),
                source_path: self.path.clone(),
                available: self.populations(),
            });
        }
        self.file(&format!("{name}.jsonl"))
    }

    /// Any file of the run, by its path relative to the run directory (`findings.jsonl`,
    /// `okta/users.jsonl`); out of a bundle, it is checked against the payload manifest.
    pub fn file(&self, rel: &str) -> Result<PopulationFile, SampleError> {
        match &self.kind {
            Kind::Dir => {
                let path = self.path.join(rel);
                let sha256 = sha256_file(&path)?;
                Ok(PopulationFile {
                    path,
                    sha256,
                    _temp: None,
                })
            }
            Kind::Zip { root, payload } => {
                let mut archive = open_zip(&self.path)?;
                let entry = format!("{root}/data/{rel}");
                let mut file = archive.by_name(&entry).map_err(|e| SampleError::Source {
                    path: self.path.clone(),
                    message: format!("{entry}: {e}"),
                })?;
                let mut temp =
                    tempfile::NamedTempFile::new().map_err(|source| SampleError::Io {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let mut hasher = Sha256::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = file.read(&mut buf).map_err(|e| SampleError::Source {
                        path: self.path.clone(),
                        message: format!("{entry}: {e}"),
                    })?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    temp.write_all(&buf[..n])
                        .map_err(|source| SampleError::Io {
                            path: temp.path().to_path_buf(),
                            source,
                        })?;
                }
                let sha256 = hex::encode(hasher.finalize());
                check_digest(&self.path, payload, &format!("data/{rel}"), &sha256)?;
                let temp = temp.into_temp_path();
                Ok(PopulationFile {
                    path: temp.to_path_buf(),
                    sha256,
                    _temp: Some(temp),
                })
            }
        }
    }
}

fn bad(path: &Path, message: &str) -> SampleError {
    SampleError::Source {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<File>, SampleError> {
    let file = File::open(path).map_err(|source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    zip::ZipArchive::new(file).map_err(|e| {
        bad(
            path,
            &format!("neither a run directory nor a bundle zip ({e})"),
        )
    })
}

/// The one top-level directory a bundle has.
fn bundle_root(archive: &mut zip::ZipArchive<File>, path: &Path) -> Result<String, SampleError> {
    let mut root: Option<String> = None;
    for name in archive.file_names() {
        let top = name.split('/').next().unwrap_or_default().to_string();
        match &root {
            None => root = Some(top),
            Some(r) if *r == top => {}
            Some(_) => {
                return Err(bad(
                    path,
                    "a bundle has one top-level directory; this zip has several",
                ))
            }
        }
    }
    root.filter(|r| !r.is_empty())
        .ok_or_else(|| bad(path, "the zip is empty"))
}

fn read_entry(
    archive: &mut zip::ZipArchive<File>,
    path: &Path,
    name: &str,
) -> Result<Vec<u8>, SampleError> {
    let mut file = archive
        .by_name(name)
        .map_err(|e| bad(path, &format!("{name}: {e}")))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)
        .map_err(|e| bad(path, &format!("{name}: {e}")))?;
    Ok(out)
}

/// A bundle file must be listed in the payload manifest with the digest it has.
fn check_digest(
    path: &Path,
    payload: &[soc2_bundle::bagit::ManifestLine],
    rel: &str,
    sha256: &str,
) -> Result<(), SampleError> {
    match payload.iter().find(|l| l.path == rel) {
        Some(line) if line.digest == sha256 => Ok(()),
        Some(_) => Err(bad(
            path,
            &format!(
                "{rel} does not match manifest-sha256.txt; the bundle was changed (run `verify`)"
            ),
        )),
        None => Err(bad(path, &format!("{rel} is not in manifest-sha256.txt"))),
    }
}

fn sha256_file(path: &Path) -> Result<String, SampleError> {
    let mut file = File::open(path).map_err(|source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| SampleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(hasher.finalize()))
}
