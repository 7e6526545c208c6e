//! Verifying a ledger: every run bundle checks out, and the chain is linear and unbroken.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use soc2_bundle::{bagit, verify_bundle, TrustedKey, VerifyOptions};
use soc2_evidence_core::RunManifest;

use crate::archive::read_data;
use crate::error::io_err;
use crate::layout::{
    parse_run_key, run_key, RunRecord, RUNS_PREFIX, RUN_RECORD_FILE, RUN_RECORD_FORMAT,
};
use crate::rotation::{key_in_force, load_rotations, KeyRotation};
use crate::{LedgerError, LedgerStorage};

/// One run that verified, with what it says about itself.
#[derive(Debug, Clone)]
pub struct VerifiedRun {
    /// Sequence number.
    pub seq: u64,
    /// Its object key.
    pub key: String,
    /// SHA-256 (hex) of its zip.
    pub sha256: String,
    /// The zip, copied into the cache directory.
    pub file: PathBuf,
    /// Its `ledger/run.json`.
    pub record: RunRecord,
    /// Its `run.json`.
    pub manifest: RunManifest,
    /// Fingerprint of its signer.
    pub signer: String,
    /// Its RFC 3161 time-stamp, when the bundle carries one.
    pub timestamp: Option<soc2_bundle::timestamp::TokenInfo>,
    /// Whether the time-stamp was verified against a trusted TSA CA.
    pub timestamp_trusted: bool,
}

impl VerifiedRun {
    /// When the run is proven to have collected: its time-stamp's time when that was verified
    /// against a trusted TSA CA, else the collecting machine's clock (its record).
    pub fn collected_at(&self) -> chrono::DateTime<chrono::Utc> {
        match &self.timestamp {
            Some(t) if self.timestamp_trusted => t.gen_time,
            _ => self.record.collected_at,
        }
    }
}

/// What `ledger verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerReport {
    /// The ledger location.
    pub location: String,
    /// Runs found.
    pub runs: u64,
    /// Runs that verified.
    pub verified: u64,
    /// Key rotations found (and verified).
    pub rotations: u64,
    /// Every problem, each naming the run or object.
    pub problems: Vec<String>,
}

impl LedgerReport {
    /// True when every run verified and the chain is unbroken.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.runs > 0 && self.verified == self.runs
    }
}

impl std::fmt::Display for LedgerReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_ok() {
            writeln!(
                f,
                "ledger {}: OK: {} run(s) verified, chain linear and unbroken, {} key rotation(s)",
                self.location, self.runs, self.rotations
            )
        } else {
            writeln!(
                f,
                "ledger {}: FAILED: {} of {} run(s) verified",
                self.location, self.verified, self.runs
            )?;
            if self.runs == 0 {
                writeln!(f, "  - the ledger holds no run")?;
            }
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
            Ok(())
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Fetches run `seq` into `cache` and returns its file, digest and bytes.
pub(crate) async fn fetch_run(
    storage: &dyn LedgerStorage,
    seq: u64,
    cache: &Path,
) -> Result<(PathBuf, String, bytes::Bytes), LedgerError> {
    let key = run_key(seq);
    let bytes = storage
        .get(&key)
        .await?
        .ok_or_else(|| LedgerError::Verification {
            location: storage.location(),
            message: format!("run {seq} ({key}) is missing"),
        })?;
    let file = cache.join(format!("{seq:06}.zip"));
    std::fs::create_dir_all(cache).map_err(io_err(cache))?;
    std::fs::write(&file, &bytes).map_err(io_err(&file))?;
    Ok((file, sha256_hex(&bytes), bytes))
}

/// Checks one fetched run against `trust` and, when `link` is given, its chain link (the
/// previous run's digest, `None` for the first run); problems name the run.
pub(crate) fn check_run(
    seq: u64,
    file: &Path,
    sha256: &str,
    bytes: &[u8],
    trust: &TrustedKey,
    link: Option<Option<&str>>,
    tsa_ca: Option<&Path>,
) -> Result<VerifiedRun, Vec<String>> {
    let key = run_key(seq);
    let name = format!("run {seq} ({key})");
    let opts = VerifyOptions {
        tsa_ca: tsa_ca.map(Path::to_path_buf),
        ..VerifyOptions::default()
    };
    let report = match verify_bundle(file, trust, &opts) {
        Ok(r) => r,
        Err(e) => return Err(vec![format!("{name}: cannot be read: {e}")]),
    };
    let mut problems: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{name}: does not verify: {p}"))
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let chained = bagit::bag_info_value(&report.bag_info, bagit::LABEL_PREVIOUS);
    match (link, chained) {
        (Some(Some(p)), Some(c)) if p != c => problems.push(format!(
            "{name}: chained to {c}, but run {} is {p}: a fork, or a replaced run",
            seq - 1
        )),
        (Some(None), Some(c)) => {
            problems.push(format!("{name}: chained to {c}, but it is the first run"))
        }
        (Some(Some(_)), None) => problems.push(format!(
            "{name}: not chained to run {}: a fork or a foreign bundle",
            seq - 1
        )),
        _ => {}
    }
    let record: Option<RunRecord> = match read_data(bytes, &key, RUN_RECORD_FILE) {
        Ok(Some(b)) => match serde_json::from_slice::<RunRecord>(&b) {
            Ok(r) if r.format == RUN_RECORD_FORMAT => Some(r),
            Ok(r) => {
                problems.push(format!(
                    "{name}: {RUN_RECORD_FILE} has format {:?}",
                    r.format
                ));
                None
            }
            Err(e) => {
                problems.push(format!("{name}: {RUN_RECORD_FILE} is malformed: {e}"));
                None
            }
        },
        Ok(None) => {
            problems.push(format!(
                "{name}: has no {RUN_RECORD_FILE}: a bundle that is not a ledger run"
            ));
            None
        }
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            None
        }
    };
    if let Some(r) = &record {
        if r.seq != seq {
            problems.push(format!(
                "{name}: its record says it is run {}: reordered or renamed",
                r.seq
            ));
        }
        if r.previous_sha256.as_deref() != chained {
            problems.push(format!(
                "{name}: its record and bag-info.txt name different previous runs"
            ));
        }
    }
    let manifest = match read_data(bytes, &key, "run.json") {
        Ok(Some(b)) => serde_json::from_slice::<RunManifest>(&b)
            .map_err(|e| problems.push(format!("{name}: run.json is malformed: {e}")))
            .ok(),
        Ok(None) => {
            problems.push(format!("{name}: has no run.json"));
            None
        }
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            None
        }
    };
    match (record, manifest) {
        (Some(record), Some(manifest)) if problems.is_empty() => Ok(VerifiedRun {
            seq,
            key,
            sha256: sha256.to_string(),
            file: file.to_path_buf(),
            record,
            manifest,
            signer: report.signer_fingerprint.unwrap_or_default(),
            timestamp: report.timestamp,
            timestamp_trusted: report.timestamp_trusted,
        }),
        _ => Err(problems),
    }
}

/// The sequence numbers in the ledger, and a problem for every foreign object in `runs/`.
pub(crate) async fn run_seqs(
    storage: &dyn LedgerStorage,
) -> Result<(Vec<u64>, Vec<String>), LedgerError> {
    let mut seqs = Vec::new();
    let mut problems = Vec::new();
    for key in storage.list(RUNS_PREFIX).await? {
        match parse_run_key(&key) {
            Some(s) => seqs.push(s),
            None => problems.push(format!(
                "{key}: a foreign object among the runs (run bundles are named runs/NNNNNN.zip)"
            )),
        }
    }
    seqs.sort_unstable();
    Ok((seqs, problems))
}

/// The problems with a sequence of run numbers: each must be 1, 2, 3, ... with none missing.
pub(crate) fn gaps(seqs: &[u64]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected = 1;
    for &s in seqs {
        if s > expected {
            problems.push(if s - expected == 1 {
                format!(
                    "run {expected} is missing (run {s} follows run {})",
                    expected - 1
                )
            } else {
                format!("runs {expected} to {} are missing", s - 1)
            });
        }
        expected = s + 1;
    }
    problems
}

/// The trusted key for run `seq`: the one the rotations put in force, or the pinned key.
pub(crate) fn trust_for(
    rotations: &[KeyRotation],
    seq: u64,
    pinned: &TrustedKey,
) -> Result<TrustedKey, LedgerError> {
    match key_in_force(rotations, seq) {
        Some(k) => Ok(TrustedKey::from_openssh(k)?),
        None => Ok(pinned.clone()),
    }
}

/// Verifies every run of the ledger against `pinned` (the key the ledger started with; an
/// allowed_signers file may pin several) and the key rotations since. Returns the report and
/// the runs that verified, copied into `cache`. `progress(done, total)` is called per run.
pub async fn verify_ledger(
    storage: &dyn LedgerStorage,
    pinned: &TrustedKey,
    cache: &Path,
    tsa_ca: Option<&Path>,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<(LedgerReport, Vec<VerifiedRun>), LedgerError> {
    let (rotations, mut problems) = load_rotations(storage).await?;
    if let Some(first) = rotations.first() {
        let first_key = TrustedKey::from_openssh(&first.old_key)?;
        let pinned_fps = pinned.fingerprints();
        if !first_key
            .fingerprints()
            .iter()
            .any(|f| pinned_fps.contains(f))
        {
            problems.push(format!(
                "the ledger's first key ({}) is not the pinned key ({}): pin the key the ledger started with",
                first_key.fingerprints().join(", "),
                pinned_fps.join(", ")
            ));
        }
    }
    let (seqs, foreign) = run_seqs(storage).await?;
    problems.extend(foreign);
    problems.extend(gaps(&seqs));
    let mut verified = Vec::new();
    let mut previous: Option<(u64, String)> = None;
    let total = seqs.len() as u64;
    for (i, &seq) in seqs.iter().enumerate() {
        let (file, sha, bytes) = fetch_run(storage, seq, cache).await?;
        let trust = trust_for(&rotations, seq, pinned)?;
        // The link is checked against the run just before in number; a missing one was
        // already reported.
        let prev = previous
            .as_ref()
            .filter(|(p, _)| *p + 1 == seq)
            .map(|(_, s)| s.as_str());
        // A run whose predecessor is missing was reported as a gap; its link is not checked.
        let link = if seq == 1 { Some(None) } else { prev.map(Some) };
        match check_run(seq, &file, &sha, &bytes, &trust, link, tsa_ca) {
            Ok(run) => verified.push(run),
            Err(p) => problems.extend(p),
        }
        previous = Some((seq, sha));
        progress(i as u64 + 1, total);
    }
    let report = LedgerReport {
        location: storage.location(),
        runs: total,
        verified: verified.len() as u64,
        rotations: rotations.len() as u64,
        problems,
    };
    Ok((report, verified))
}
