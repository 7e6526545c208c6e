//! Building a bundle: list the run directory, stream every file through SHA-256 and the zip
//! writer, add the BagIt tag files and the signature, then fsync and rename into place.
//!
//! Two threads share the work: a reader thread reads and hashes files in order and hands 1 MiB
//! chunks over a bounded channel (so memory stays flat) to the zip thread, which compresses,
//! computes CRC-32 and writes. The output does not depend on thread timing.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::bagit::{self, BAGIT, BAGIT_TXT, BAG_INFO, MANIFEST, SIGNATURE, TAGMANIFEST, TIMESTAMP};
use crate::error::BundleError;
use crate::hash::{is_sha256_hex, sha256_file, sha256_hex, CHUNK};
use crate::keys::SigningKey;
use crate::metadata::{BundleMetadata, BundleOptions, BundleSummary, Compression};

/// Entries at or above this size get ZIP64 extra fields.
const ZIP64_THRESHOLD: u64 = 0xFFFF_FFFF;
/// Chunks in flight between the reader and the zip thread.
const CHANNEL_DEPTH: usize = 4;

/// One payload file found in the run directory.
#[derive(Debug)]
struct PayloadFile {
    /// Path relative to the run directory, `/`-separated.
    rel: String,
    abs: PathBuf,
    size: u64,
}

/// Builds a signed bundle of `run_dir` at `out`.
///
/// Refuses a run directory whose `run.json` is missing or not `"status": "complete"`, that
/// contains symbolic links, special files, or names BagIt tools cannot round-trip. The archive
/// is written beside `out` under a temporary name and renamed only once complete and synced, so
/// an interrupted build never leaves a file at `out`.
pub fn build_bundle(
    run_dir: &Path,
    key: &SigningKey,
    meta: &BundleMetadata,
    out: &Path,
    opts: &BundleOptions,
) -> Result<BundleSummary, BundleError> {
    check_run_json(run_dir)?;
    check_metadata(meta)?;
    let files = list_payload(run_dir)?;
    check_output_location(run_dir, out)?;

    let root = meta.bundle_id();
    let file_name = out.file_name().ok_or_else(|| {
        BundleError::InvalidMetadata(format!("{}: not a file path", out.display()))
    })?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".partial-{}", std::process::id()));
    let tmp = TempFile {
        path: parent.join(tmp_name),
        keep: false,
    };

    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp.path)
        .map_err(|e| BundleError::io(&tmp.path, e))?;
    let zip_err = |e: zip::result::ZipError| BundleError::Zip {
        path: tmp.path.clone(),
        detail: e.to_string(),
    };
    let io_err = |e: std::io::Error| BundleError::io(&tmp.path, e);

    let mut zip = ZipWriter::new(BufWriter::with_capacity(CHUNK, file));
    let (method, level) = match opts.compression {
        Compression::Stored => (CompressionMethod::Stored, None),
        Compression::Deflated { level } => (
            CompressionMethod::Deflated,
            Some(i64::from(level.clamp(1, 9))),
        ),
    };
    let base = SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(level)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);

    // Payload: streamed, hashed on the reader thread, compressed and written here.
    let digests = write_payload(&mut zip, &files, &root, base, &tmp.path)?;

    let payload_bytes: u64 = files.iter().map(|f| f.size).sum();
    let manifest_paths: Vec<String> = files.iter().map(|f| format!("data/{}", f.rel)).collect();
    let manifest = bagit::render_manifest(
        digests
            .iter()
            .map(String::as_str)
            .zip(manifest_paths.iter().map(String::as_str)),
    );
    let bag_info = bagit::render_bag_info(&bag_info_fields(
        meta,
        &root,
        key,
        payload_bytes,
        files.len(),
    ));
    let tagmanifest = bagit::render_manifest([
        (sha256_hex(BAGIT_TXT.as_bytes()).as_str(), BAGIT),
        (sha256_hex(bag_info.as_bytes()).as_str(), BAG_INFO),
        (sha256_hex(manifest.as_bytes()).as_str(), MANIFEST),
    ]);
    let signature = key.sign_armored(tagmanifest.as_bytes())?;
    // Asked for before anything else is written: a TSA that fails leaves nothing at `out`.
    let timestamp = match &opts.timestamper {
        Some(tsa) => {
            let query = crate::timestamp::request(tagmanifest.as_bytes());
            let response = tsa.timestamp(&query.der)?;
            let info = crate::timestamp::check_response(&response, &query)?;
            Some((response, info))
        }
        None => None,
    };

    for (name, body) in [
        (BAGIT, BAGIT_TXT),
        (BAG_INFO, bag_info.as_str()),
        (MANIFEST, manifest.as_str()),
        (TAGMANIFEST, tagmanifest.as_str()),
        (SIGNATURE, signature.as_str()),
    ] {
        zip.start_file(format!("{root}/{name}"), base)
            .map_err(zip_err)?;
        zip.write_all(body.as_bytes()).map_err(io_err)?;
    }
    if let Some((token, _)) = &timestamp {
        zip.start_file(format!("{root}/{TIMESTAMP}"), base)
            .map_err(zip_err)?;
        zip.write_all(token).map_err(io_err)?;
    }

    let buf = zip.finish().map_err(zip_err)?;
    let file = buf.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)?;
    drop(file);
    let sha256 = sha256_file(&tmp.path)?;
    fs::rename(&tmp.path, out).map_err(|e| BundleError::io(out, e))?;
    let mut tmp = tmp;
    tmp.keep = true;
    // Make the rename durable; not all platforms can open a directory, so this is best effort.
    if let Ok(d) = File::open(&parent) {
        let _ = d.sync_all();
    }

    Ok(BundleSummary {
        path: out.to_path_buf(),
        sha256,
        root,
        files: files.len() as u64,
        payload_bytes,
        fingerprint: key.fingerprint(),
        timestamp: timestamp.map(|(_, info)| info),
    })
}

/// Removes the temporary archive unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

enum Msg {
    Data(Vec<u8>),
    End { digest: String },
    Failed(BundleError),
}

fn write_payload<W: Write + std::io::Seek>(
    zip: &mut ZipWriter<W>,
    files: &[PayloadFile],
    root: &str,
    base: SimpleFileOptions,
    tmp: &Path,
) -> Result<Vec<String>, BundleError> {
    let (tx, rx) = mpsc::sync_channel::<Msg>(CHANNEL_DEPTH);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|s| {
        s.spawn(move || read_and_hash(files, &tx, &free_rx));
        let result = consume(zip, files, root, base, tmp, &rx, &free_tx);
        drop(rx); // unblocks the reader if we stopped early
        result
    })
}

/// Reader thread: reads each file in order, hashes it and sends its chunks.
fn read_and_hash(
    files: &[PayloadFile],
    tx: &mpsc::SyncSender<Msg>,
    free: &mpsc::Receiver<Vec<u8>>,
) {
    for f in files {
        let mut file = match File::open(&f.abs) {
            Ok(h) => h,
            Err(e) => {
                let _ = tx.send(Msg::Failed(BundleError::io(&f.abs, e)));
                return;
            }
        };
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        loop {
            let mut buf = free.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
            buf.resize(CHUNK, 0);
            let n = match file.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Msg::Failed(BundleError::io(&f.abs, e)));
                    return;
                }
            };
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > f.size {
                break;
            }
            buf.truncate(n);
            hasher.update(&buf);
            if tx.send(Msg::Data(buf)).is_err() {
                return;
            }
        }
        if total != f.size {
            let _ = tx.send(Msg::Failed(BundleError::FileChanged {
                path: f.abs.clone(),
                expected: f.size,
                actual: total,
            }));
            return;
        }
        let digest = hex::encode(hasher.finalize());
        if tx.send(Msg::End { digest }).is_err() {
            return;
        }
    }
}

/// Zip thread: one entry per file, in order.
fn consume<W: Write + std::io::Seek>(
    zip: &mut ZipWriter<W>,
    files: &[PayloadFile],
    root: &str,
    base: SimpleFileOptions,
    tmp: &Path,
    rx: &mpsc::Receiver<Msg>,
    free: &mpsc::Sender<Vec<u8>>,
) -> Result<Vec<String>, BundleError> {
    let mut digests = Vec::with_capacity(files.len());
    for f in files {
        let opts = base.large_file(f.size >= ZIP64_THRESHOLD);
        zip.start_file(format!("{root}/data/{}", f.rel), opts)
            .map_err(|e| BundleError::Zip {
                path: tmp.to_path_buf(),
                detail: format!("{}: {e}", f.rel),
            })?;
        loop {
            match rx.recv() {
                Ok(Msg::Data(buf)) => {
                    zip.write_all(&buf).map_err(|e| BundleError::io(tmp, e))?;
                    let _ = free.send(buf);
                }
                Ok(Msg::End { digest }) => {
                    digests.push(digest);
                    break;
                }
                Ok(Msg::Failed(e)) => return Err(e),
                Err(_) => {
                    return Err(BundleError::Zip {
                        path: tmp.to_path_buf(),
                        detail: "the reader thread stopped unexpectedly".into(),
                    })
                }
            }
        }
    }
    Ok(digests)
}

fn bag_info_fields(
    meta: &BundleMetadata,
    root: &str,
    key: &SigningKey,
    payload_bytes: u64,
    count: usize,
) -> Vec<(String, String)> {
    let mut f = vec![
        ("Source-Organization".to_string(), meta.organization.clone()),
        (
            "External-Identifier".to_string(),
            meta.external_identifier
                .clone()
                .unwrap_or_else(|| root.to_string()),
        ),
        (
            "Bagging-Date".to_string(),
            meta.collected_at
                .date_naive()
                .format("%Y-%m-%d")
                .to_string(),
        ),
        (
            bagit::LABEL_OXUM.to_string(),
            format!("{payload_bytes}.{count}"),
        ),
        (
            "Audit-Period-Start".to_string(),
            meta.period_start.format("%Y-%m-%d").to_string(),
        ),
        (
            "Audit-Period-End".to_string(),
            meta.period_end.format("%Y-%m-%d").to_string(),
        ),
        (
            "Collected-At".to_string(),
            meta.collected_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        (bagit::LABEL_FINGERPRINT.to_string(), key.fingerprint()),
    ];
    if let Some(prev) = &meta.previous_bundle_sha256 {
        f.push((bagit::LABEL_PREVIOUS.to_string(), prev.clone()));
    }
    f.extend(meta.extra_info.iter().cloned());
    f.push((
        "Bag-Software-Agent".to_string(),
        format!("soc2-bundle {}", env!("CARGO_PKG_VERSION")),
    ));
    f
}

fn check_metadata(meta: &BundleMetadata) -> Result<(), BundleError> {
    let bad = |s: &str| s.chars().any(char::is_control);
    if meta.organization.trim().is_empty() || bad(&meta.organization) {
        return Err(BundleError::InvalidMetadata(
            "organization must be non-empty and free of control characters".into(),
        ));
    }
    if let Some(id) = &meta.external_identifier {
        if bad(id) {
            return Err(BundleError::InvalidMetadata(
                "external_identifier must be free of control characters".into(),
            ));
        }
    }
    if meta.period_end < meta.period_start {
        return Err(BundleError::InvalidMetadata(
            "period_end is before period_start".into(),
        ));
    }
    for (label, value) in &meta.extra_info {
        if label.is_empty() || label.contains(':') || bad(label) || bad(value) {
            return Err(BundleError::InvalidMetadata(format!(
                "bag-info line {label:?} must have a label without ':' and no control characters"
            )));
        }
    }
    if let Some(prev) = &meta.previous_bundle_sha256 {
        if !is_sha256_hex(prev) {
            return Err(BundleError::InvalidMetadata(
                "previous_bundle_sha256 must be 64 lowercase hexadecimal digits".into(),
            ));
        }
    }
    Ok(())
}

/// Refuses anything but a finished run.
fn check_run_json(run_dir: &Path) -> Result<(), BundleError> {
    let path = run_dir.join("run.json");
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BundleError::RunJsonMissing { path })
        }
        Err(e) => return Err(BundleError::io(&path, e)),
    };
    if !meta.is_file() {
        return Err(BundleError::RunJsonInvalid {
            path,
            detail: "not a regular file".into(),
        });
    }
    let text = fs::read(&path).map_err(|e| BundleError::io(&path, e))?;
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| BundleError::RunJsonInvalid {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    match v.get("status").and_then(|s| s.as_str()) {
        Some("complete") => Ok(()),
        Some(other) => Err(BundleError::RunIncomplete {
            path,
            status: other.to_string(),
        }),
        None => Err(BundleError::RunJsonInvalid {
            path,
            detail: "no string \"status\" field".into(),
        }),
    }
}

fn check_output_location(run_dir: &Path, out: &Path) -> Result<(), BundleError> {
    let run = fs::canonicalize(run_dir).map_err(|e| BundleError::io(run_dir, e))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = fs::canonicalize(parent).map_err(|e| BundleError::io(parent, e))?;
    if parent.starts_with(&run) {
        return Err(BundleError::OutputInsideRunDir {
            path: out.to_path_buf(),
        });
    }
    Ok(())
}

/// Lists every regular file under `run_dir`, sorted by `/`-joined relative path (byte order).
fn list_payload(run_dir: &Path) -> Result<Vec<PayloadFile>, BundleError> {
    let mut out = Vec::new();
    let mut stack = vec![run_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = fs::read_dir(&dir).map_err(|e| BundleError::io(&dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| BundleError::io(&dir, e))?;
            let abs = entry.path();
            let ft = entry.file_type().map_err(|e| BundleError::io(&abs, e))?;
            if ft.is_symlink() {
                return Err(BundleError::Symlink { path: abs });
            }
            let rel_path = abs.strip_prefix(run_dir).unwrap_or(&abs);
            let mut parts = Vec::new();
            for c in rel_path.components() {
                let Some(s) = c.as_os_str().to_str() else {
                    return Err(BundleError::InvalidPayloadName {
                        path: abs.clone(),
                        reason: "not valid UTF-8".into(),
                    });
                };
                parts.push(s.to_string());
            }
            let rel = parts.join("/");
            if let Some(reason) = bagit::payload_name_problem(&rel) {
                return Err(BundleError::InvalidPayloadName {
                    path: abs,
                    reason: reason.into(),
                });
            }
            if ft.is_dir() {
                stack.push(abs);
            } else if ft.is_file() {
                let size = entry
                    .metadata()
                    .map_err(|e| BundleError::io(&abs, e))?
                    .len();
                out.push(PayloadFile { rel, abs, size });
            } else {
                return Err(BundleError::NotARegularFile { path: abs });
            }
        }
    }
    out.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    Ok(out)
}
