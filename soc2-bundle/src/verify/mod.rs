//! Verifying a bundle without extracting it: every entry is streamed through SHA-256 with a
//! size-limited reader, then the BagIt manifests, `bag-info.txt`, the SSHSIG signature and the
//! chain link are checked. Every problem is collected, not only the first.

mod limits;
mod report;
mod zipread;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

pub use limits::Limits;
pub use report::{Problem, VerifyReport};

use crate::bagit::{self, BAGIT, BAGIT_TXT, BAG_INFO, MANIFEST, SIGNATURE, TAGMANIFEST, TIMESTAMP};
use crate::error::BundleError;
use crate::hash::{is_sha256_hex, sha256_file};
use crate::keys::{SigCheck, TrustedKey};
use zipread::{CdEntry, ParseError};

/// Verification settings.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Resource limits for untrusted archives.
    pub limits: Limits,
    /// The previous bundle: when given, `bag-info.txt`'s `Previous-Bundle-SHA256` must equal
    /// its SHA-256.
    pub previous: Option<PathBuf>,
    /// Worker threads for hashing entries (0 = one per available core).
    pub threads: usize,
    /// The trusted TSA CA certificates (PEM): when given, the bundle must carry an RFC 3161
    /// time-stamp over its tag manifest that verifies against them.
    pub tsa_ca: Option<PathBuf>,
}

/// Tag files the bag must contain, relative to its top-level folder.
const REQUIRED_TAGS: [&str; 5] = [BAGIT, BAG_INFO, MANIFEST, TAGMANIFEST, SIGNATURE];

/// What streaming one entry produced.
enum Streamed {
    Ok {
        sha256: String,
        size: u64,
        content: Option<Vec<u8>>,
    },
    Problem(Problem),
}

/// Verifies `zip` against the pinned key `trust`.
///
/// Returns `Err` only when the zip file itself cannot be read (missing, unreadable, I/O error);
/// every problem with its content is listed in the returned report — check
/// [`VerifyReport::is_ok`].
pub fn verify_bundle(
    zip: &Path,
    trust: &TrustedKey,
    opts: &VerifyOptions,
) -> Result<VerifyReport, BundleError> {
    let io_err = |e: io::Error| BundleError::io(zip, e);
    let mut report = VerifyReport {
        bundle: zip.to_path_buf(),
        root: None,
        entries: 0,
        payload_files: 0,
        payload_bytes: 0,
        signer_fingerprint: None,
        bag_info: Vec::new(),
        problems: Vec::new(),
        timestamp: None,
        timestamp_trusted: false,
    };
    let limits = opts.limits;
    let mut file = File::open(zip).map_err(io_err)?;
    let max_cd = limits
        .max_entries
        .saturating_mul(46 + 3 * 65535)
        .min(1 << 32);
    let cd = match zipread::read_central_directory(&mut file, limits.max_entries, max_cd) {
        Ok(cd) => cd,
        Err(ParseError::Io(e)) => return Err(io_err(e)),
        Err(ParseError::Malformed(detail)) => {
            report.problems.push(Problem::NotAZip { detail });
            return Ok(report);
        }
        Err(ParseError::TooManyEntries(count)) => {
            report.problems.push(Problem::TooManyEntries {
                count,
                limit: limits.max_entries,
            });
            return Ok(report);
        }
    };
    drop(file);
    report.entries = cd.entries.len() as u64;

    let total: u64 = cd
        .entries
        .iter()
        .fold(0u64, |a, e| a.saturating_add(e.size));
    if total > limits.max_total_uncompressed {
        report.problems.push(Problem::TooLarge {
            total,
            limit: limits.max_total_uncompressed,
        });
        return Ok(report);
    }

    let root = find_root(&cd.entries);
    report.root = root.clone();
    let prefix = root.as_ref().map(|r| format!("{r}/")).unwrap_or_default();

    // Entry-level checks; collect the entries that are safe to stream.
    let mut seen = HashSet::new();
    let mut to_stream: Vec<(usize, bool)> = Vec::new(); // (index, is tag file)
    let mut present: BTreeMap<String, usize> = BTreeMap::new(); // bag-relative path -> index
    let mut overlap_check: Vec<(u64, usize)> = Vec::new();
    for (i, e) in cd.entries.iter().enumerate() {
        let display = String::from_utf8_lossy(&e.name).into_owned();
        if !seen.insert(e.name.clone()) {
            report
                .problems
                .push(Problem::DuplicateEntry { entry: display });
            continue;
        }
        let Ok(name) = std::str::from_utf8(&e.name) else {
            report
                .problems
                .push(Problem::NonUtf8Name { entry: display });
            continue;
        };
        if let Some(p) = name_problem(name) {
            report.problems.push(p);
            continue;
        }
        if e.is_symlink() {
            report.problems.push(Problem::Symlink { entry: display });
            continue;
        }
        if e.is_encrypted() {
            report.problems.push(Problem::Encrypted { entry: display });
            continue;
        }
        if e.method != 0 && e.method != 8 {
            report.problems.push(Problem::UnsupportedCompression {
                entry: display,
                method: e.method,
            });
            continue;
        }
        if e.size >= limits.ratio_min_size {
            let ratio = e.size / e.compressed_size.max(1);
            if ratio > limits.max_compression_ratio {
                report.problems.push(Problem::CompressionRatio {
                    entry: display,
                    ratio,
                    limit: limits.max_compression_ratio,
                });
                continue;
            }
        }
        let Some(rel) = name.strip_prefix(&prefix).filter(|_| !prefix.is_empty()) else {
            report
                .problems
                .push(Problem::OutsideRoot { entry: display });
            continue;
        };
        if e.is_dir() {
            if e.size != 0 {
                report.problems.push(Problem::CorruptEntry {
                    entry: display,
                    detail: "directory entry with content".into(),
                });
            }
            continue;
        }
        overlap_check.push((e.local_header_offset, i));
        let is_tag = !rel.starts_with("data/");
        if is_tag {
            if !REQUIRED_TAGS.contains(&rel) && rel != TIMESTAMP {
                report.problems.push(Problem::ExtraFile { entry: display });
                continue;
            }
            if e.size > limits.max_tag_file_bytes {
                report.problems.push(Problem::TagFileTooLarge {
                    entry: display,
                    size: e.size,
                });
                continue;
            }
        }
        present.insert(rel.to_string(), i);
        to_stream.push((i, is_tag));
    }
    // Entries whose data ranges overlap (a classic zip-bomb construction) are corrupt.
    overlap_check.sort_unstable();
    let mut overlapping = HashSet::new();
    for w in overlap_check.windows(2) {
        let (off, i) = w[0];
        let e = &cd.entries[i];
        let min_end = off
            .saturating_add(30)
            .saturating_add(e.name.len() as u64)
            .saturating_add(e.compressed_size);
        if min_end > w[1].0 {
            overlapping.insert(w[1].1);
        }
    }

    // Stream entries (in parallel) through SHA-256.
    let results = stream_entries(
        zip,
        &cd,
        &to_stream,
        &overlapping,
        &opts.limits,
        opts.threads,
    )?;
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    let mut tags: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut payload_sizes: BTreeMap<String, u64> = BTreeMap::new();
    for ((i, _), r) in to_stream.iter().zip(results) {
        let name = String::from_utf8_lossy(&cd.entries[*i].name).into_owned();
        let rel = name[prefix.len()..].to_string();
        match r {
            Streamed::Ok {
                sha256,
                size,
                content,
            } => {
                if let Some(c) = content {
                    tags.insert(rel.clone(), c);
                } else {
                    payload_sizes.insert(rel.clone(), size);
                }
                digests.insert(rel, sha256);
            }
            Streamed::Problem(p) => {
                report.problems.push(p);
                present.remove(&rel);
            }
        }
    }

    check_bag(
        &mut report,
        &prefix,
        &present,
        &digests,
        &tags,
        &payload_sizes,
        trust,
        opts,
    )?;
    Ok(report)
}

/// The single top-level folder: the one holding `bagit.txt`, else the first entry's first
/// component.
fn find_root(entries: &[CdEntry]) -> Option<String> {
    let names: Vec<&str> = entries
        .iter()
        .filter_map(|e| std::str::from_utf8(&e.name).ok())
        .collect();
    names
        .iter()
        .find_map(|n| {
            n.strip_suffix("/bagit.txt")
                .filter(|r| !r.is_empty() && !r.contains('/'))
        })
        .or_else(|| {
            names
                .first()
                .and_then(|n| n.split_once('/'))
                .map(|(r, _)| r)
        })
        .filter(|r| name_problem(r).is_none())
        .map(str::to_string)
}

/// Unsafe-name checks for a UTF-8 entry name.
fn name_problem(name: &str) -> Option<Problem> {
    let entry = name.to_string();
    if name.contains('\\') {
        return Some(Problem::Backslash { entry });
    }
    let b = name.as_bytes();
    if name.starts_with('/') || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic()) {
        return Some(Problem::AbsolutePath { entry });
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    if trimmed
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Some(Problem::ParentTraversal { entry });
    }
    if name.chars().any(char::is_control) {
        return Some(Problem::CorruptEntry {
            entry,
            detail: "control character in name".into(),
        });
    }
    None
}

fn stream_entries(
    zip: &Path,
    cd: &zipread::CentralDirectory,
    todo: &[(usize, bool)],
    overlapping: &HashSet<usize>,
    limits: &Limits,
    threads: usize,
) -> Result<Vec<Streamed>, BundleError> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        threads
    }
    .clamp(1, 16)
    .min(todo.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Streamed>>> = Mutex::new((0..todo.len()).map(|_| None).collect());
    let worker = || -> Result<(), BundleError> {
        let mut file = File::open(zip).map_err(|e| BundleError::io(zip, e))?;
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(i, is_tag)) = todo.get(k) else {
                return Ok(());
            };
            let e = &cd.entries[i];
            let r = if overlapping.contains(&i) {
                Streamed::Problem(Problem::CorruptEntry {
                    entry: String::from_utf8_lossy(&e.name).into_owned(),
                    detail: "data overlaps another entry".into(),
                })
            } else {
                stream_one(&mut file, e, cd.cd_offset, is_tag, limits, &mut buf)
                    .map_err(|err| BundleError::io(zip, err))?
            };
            if let Ok(mut g) = results.lock() {
                g[k] = Some(r);
            }
        }
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
        for h in handles {
            match h.join() {
                Ok(r) => r?,
                Err(_) => {
                    return Err(BundleError::io(
                        zip,
                        io::Error::other("a verification thread panicked"),
                    ))
                }
            }
        }
        Ok(())
    })?;
    let results = results.into_inner().unwrap_or_default();
    Ok(results
        .into_iter()
        .map(|r| {
            r.unwrap_or(Streamed::Problem(Problem::NotAZip {
                detail: "entry was not read".into(),
            }))
        })
        .collect())
}

/// Streams one entry: `Ok(Streamed)` for content results (including content problems),
/// `Err` only for I/O errors on the zip file.
fn stream_one(
    file: &mut File,
    e: &CdEntry,
    cd_offset: u64,
    is_tag: bool,
    limits: &Limits,
    buf: &mut [u8],
) -> io::Result<Streamed> {
    let entry = String::from_utf8_lossy(&e.name).into_owned();
    let corrupt = |detail: String| {
        Ok(Streamed::Problem(Problem::CorruptEntry {
            entry: entry.clone(),
            detail,
        }))
    };
    let start = match zipread::data_start(file, e) {
        Ok(s) => s,
        Err(ParseError::Io(err)) => return Err(err),
        Err(ParseError::Malformed(d)) => return corrupt(d),
        Err(ParseError::TooManyEntries(_)) => return corrupt("unreadable local header".into()),
    };
    if start
        .checked_add(e.compressed_size)
        .is_none_or(|end| end > cd_offset)
    {
        return corrupt("data extends past the start of the central directory".into());
    }
    file.seek(SeekFrom::Start(start))?;
    let tracked = zipread::TrackedFile {
        inner: BufReader::with_capacity(256 << 10, &mut *file).take(e.compressed_size),
        io_error: None,
    };
    let limit = e.size.saturating_add(1);
    let mut hasher = Sha256::new();
    let mut crc = crc32fast::Hasher::new();
    let mut content = if is_tag {
        Some(Vec::with_capacity(
            e.size.min(limits.max_tag_file_bytes) as usize
        ))
    } else {
        None
    };
    let mut total = 0u64;
    let mut read_all = |r: &mut dyn Read| -> Result<(), io::Error> {
        let mut r = r.take(limit);
        loop {
            let n = match r.read(buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            total += n as u64;
            hasher.update(&buf[..n]);
            crc.update(&buf[..n]);
            if let Some(c) = content.as_mut() {
                c.extend_from_slice(&buf[..n]);
            }
        }
    };
    let (res, io_error) = if e.method == 0 {
        let mut t = tracked;
        let r = read_all(&mut t);
        (r, t.io_error)
    } else {
        let mut d = flate2::read::DeflateDecoder::new_with_buf(tracked, vec![0u8; 64 << 10]);
        let r = read_all(&mut d);
        (r, d.get_ref().io_error)
    };
    if let Err(err) = res {
        if io_error.is_some() && io_error != Some(io::ErrorKind::UnexpectedEof) {
            return Err(err);
        }
        return corrupt(format!("cannot decompress: {err}"));
    }
    if total != e.size {
        return Ok(Streamed::Problem(Problem::SizeMismatch {
            entry,
            declared: e.size,
            actual: total,
        }));
    }
    if crc.finalize() != e.crc32 {
        return corrupt("CRC-32 mismatch".into());
    }
    Ok(Streamed::Ok {
        sha256: hex::encode(hasher.finalize()),
        size: total,
        content,
    })
}

#[allow(clippy::too_many_arguments)]
fn check_bag(
    report: &mut VerifyReport,
    prefix: &str,
    present: &BTreeMap<String, usize>,
    digests: &BTreeMap<String, String>,
    tags: &BTreeMap<String, Vec<u8>>,
    payload_sizes: &BTreeMap<String, u64>,
    trust: &TrustedKey,
    opts: &VerifyOptions,
) -> Result<(), BundleError> {
    let full = |rel: &str| format!("{prefix}{rel}");
    let rejected: HashSet<String> = report.problems.iter().filter_map(entry_of).collect();
    let problems = &mut report.problems;
    for t in REQUIRED_TAGS {
        if !present.contains_key(t) && !rejected.contains(&full(t)) {
            problems.push(Problem::MissingFile { entry: full(t) });
        }
    }
    let text = |name: &str| {
        tags.get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };

    // bagit.txt
    if let Some(b) = text(BAGIT) {
        if b != BAGIT_TXT {
            problems.push(Problem::BagitTxt {
                detail:
                    "expected \"BagIt-Version: 1.0\" and \"Tag-File-Character-Encoding: UTF-8\""
                        .into(),
            });
        }
    }

    // Payload manifest: every data/ file listed, every listed file present and matching.
    let mut listed: HashSet<String> = HashSet::new();
    if let Some(m) = text(MANIFEST) {
        match bagit::parse_manifest(&m) {
            Ok(lines) => {
                for l in lines {
                    if !l.path.starts_with("data/") {
                        problems.push(Problem::ManifestSyntax {
                            entry: full(MANIFEST),
                            line: 0,
                            detail: format!("{}: payload path outside data/", l.path),
                        });
                        continue;
                    }
                    if !listed.insert(l.path.clone()) {
                        problems.push(Problem::ManifestSyntax {
                            entry: full(MANIFEST),
                            line: 0,
                            detail: format!("{}: listed twice", l.path),
                        });
                        continue;
                    }
                    check_digest(
                        problems,
                        &full(&l.path),
                        digests.get(&l.path),
                        present.contains_key(&l.path) || rejected.contains(&full(&l.path)),
                        &l.digest,
                    );
                }
            }
            Err((line, detail)) => problems.push(Problem::ManifestSyntax {
                entry: full(MANIFEST),
                line,
                detail,
            }),
        }
        for rel in payload_sizes.keys() {
            if !listed.contains(rel) {
                problems.push(Problem::ExtraFile { entry: full(rel) });
            }
        }
    }

    // Tag manifest: must cover bagit.txt, bag-info.txt and manifest-sha256.txt.
    if let Some(m) = text(TAGMANIFEST) {
        match bagit::parse_manifest(&m) {
            Ok(lines) => {
                let mut covered = HashSet::new();
                for l in &lines {
                    if !covered.insert(l.path.as_str())
                        || !matches!(l.path.as_str(), BAGIT | BAG_INFO | MANIFEST)
                    {
                        problems.push(Problem::ManifestSyntax {
                            entry: full(TAGMANIFEST),
                            line: 0,
                            detail: format!("{}: unexpected or repeated tag file", l.path),
                        });
                        continue;
                    }
                    check_digest(
                        problems,
                        &full(&l.path),
                        digests.get(&l.path),
                        present.contains_key(&l.path) || rejected.contains(&full(&l.path)),
                        &l.digest,
                    );
                }
                for t in [BAGIT, BAG_INFO, MANIFEST] {
                    if !covered.contains(t) {
                        problems.push(Problem::ManifestSyntax {
                            entry: full(TAGMANIFEST),
                            line: 0,
                            detail: format!("{t} is not covered"),
                        });
                    }
                }
            }
            Err((line, detail)) => problems.push(Problem::ManifestSyntax {
                entry: full(TAGMANIFEST),
                line,
                detail,
            }),
        }
    }

    // bag-info.txt
    let payload_bytes: u64 = payload_sizes.values().sum();
    report.payload_files = payload_sizes.len() as u64;
    report.payload_bytes = payload_bytes;
    if let Some(info) = text(BAG_INFO) {
        match bagit::parse_bag_info(&info) {
            Ok(fields) => {
                for label in [
                    "Source-Organization",
                    "Bagging-Date",
                    bagit::LABEL_OXUM,
                    bagit::LABEL_FINGERPRINT,
                ] {
                    if bagit::bag_info_value(&fields, label).is_none() {
                        problems.push(Problem::BagInfo {
                            detail: format!("missing {label}"),
                        });
                    }
                }
                if let Some(oxum) = bagit::bag_info_value(&fields, bagit::LABEL_OXUM) {
                    let actual = format!("{payload_bytes}.{}", payload_sizes.len());
                    if oxum != actual {
                        problems.push(Problem::PayloadOxum {
                            declared: oxum.to_string(),
                            actual,
                        });
                    }
                }
                report.bag_info = fields;
            }
            Err(detail) => problems.push(Problem::BagInfo { detail }),
        }
    }

    // Signature over the tag manifest, by the pinned key.
    if let (Some(sig), Some(tm)) = (tags.get(SIGNATURE), tags.get(TAGMANIFEST)) {
        match trust.check_signature(sig, tm) {
            Ok(fp) => {
                if let Some(declared) =
                    bagit::bag_info_value(&report.bag_info, bagit::LABEL_FINGERPRINT)
                {
                    if declared != fp {
                        problems.push(Problem::FingerprintMismatch {
                            declared: declared.to_string(),
                            signer: fp.clone(),
                        });
                    }
                }
                report.signer_fingerprint = Some(fp);
            }
            Err(SigCheck::Malformed(d)) => problems.push(Problem::BadSignature {
                detail: format!("not a valid SSHSIG: {d}"),
            }),
            Err(SigCheck::Namespace(namespace)) => {
                problems.push(Problem::WrongNamespace { namespace })
            }
            Err(SigCheck::Untrusted(fingerprint)) => {
                problems.push(Problem::UntrustedSigner { fingerprint })
            }
            Err(SigCheck::Invalid(d)) => problems.push(Problem::BadSignature {
                detail: format!("does not verify: {d}"),
            }),
        }
    }

    // RFC 3161 time-stamp over the tag manifest: optional unless a TSA CA is trusted.
    match (tags.get(TIMESTAMP), tags.get(TAGMANIFEST), &opts.tsa_ca) {
        (None, _, Some(_)) if !rejected.contains(&full(TIMESTAMP)) => {
            problems.push(Problem::TimestampMissing)
        }
        (Some(token), Some(tm), Some(ca)) => {
            let pem = std::fs::read(ca).map_err(|e| BundleError::io(ca, e))?;
            match crate::timestamp::verify_token(token, tm, &pem) {
                Ok(info) => {
                    report.timestamp = Some(info);
                    report.timestamp_trusted = true;
                }
                Err(e) => problems.push(Problem::Timestamp {
                    detail: e.to_string(),
                }),
            }
        }
        (Some(token), Some(tm), None) => match crate::timestamp::inspect_token(token, tm) {
            Ok(info) => report.timestamp = Some(info),
            Err(e) => problems.push(Problem::Timestamp {
                detail: e.to_string(),
            }),
        },
        _ => {}
    }

    // Chain link.
    if let Some(prev) = &opts.previous {
        let actual = sha256_file(prev)?;
        match bagit::bag_info_value(&report.bag_info, bagit::LABEL_PREVIOUS) {
            None => problems.push(Problem::ChainLinkMissing { expected: actual }),
            Some(declared)
                if declared.to_ascii_lowercase() != actual || !is_sha256_hex(&actual) =>
            {
                problems.push(Problem::ChainMismatch {
                    declared: declared.to_string(),
                    actual,
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn check_digest(
    problems: &mut Vec<Problem>,
    entry: &str,
    actual: Option<&String>,
    present: bool,
    expected: &str,
) {
    match actual {
        Some(a) if a == expected => {}
        Some(a) => problems.push(Problem::DigestMismatch {
            entry: entry.to_string(),
            expected: expected.to_string(),
            actual: a.clone(),
        }),
        None if !present => problems.push(Problem::MissingFile {
            entry: entry.to_string(),
        }),
        None => {}
    }
}

/// The entry a problem concerns, if any (so a rejected entry is not also reported missing).
fn entry_of(p: &Problem) -> Option<String> {
    match p {
        Problem::CompressionRatio { entry, .. }
        | Problem::AbsolutePath { entry }
        | Problem::ParentTraversal { entry }
        | Problem::Backslash { entry }
        | Problem::NonUtf8Name { entry }
        | Problem::DuplicateEntry { entry }
        | Problem::Symlink { entry }
        | Problem::Encrypted { entry }
        | Problem::UnsupportedCompression { entry, .. }
        | Problem::SizeMismatch { entry, .. }
        | Problem::CorruptEntry { entry, .. }
        | Problem::OutsideRoot { entry }
        | Problem::ExtraFile { entry }
        | Problem::TagFileTooLarge { entry, .. } => Some(entry.clone()),
        _ => None,
    }
}
