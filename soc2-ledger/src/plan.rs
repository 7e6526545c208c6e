//! Planning the next incremental run: its number, its chain link, and each collector's window.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Days, NaiveDate, Utc};
use soc2_bundle::{SigningKey, TrustedKey};
use soc2_evidence_core::{AuditPeriod, PreviousRun, RunManifest};

use crate::archive::extract_data;
use crate::layout::{Mark, RunRecord, RUN_RECORD_FORMAT};
use crate::rotation::{key_in_force, load_rotations};
use crate::verify::{check_run, fetch_run, gaps, run_seqs};
use crate::{LedgerError, LedgerStorage};

/// How far back each collector re-reads before its high-water mark. Events seen twice are
/// deduplicated by subject id when a period is assembled.
pub const OVERLAP_DAYS: u64 = 1;

/// The next run of a ledger, ready to collect.
#[derive(Debug)]
pub struct RunPlan {
    /// Its sequence number.
    pub seq: u64,
    /// SHA-256 of the run it chains to (none for the first run).
    pub previous_sha256: Option<String>,
    /// The ledger's first day.
    pub start: NaiveDate,
    /// The whole span this run reads: from the earliest window start to today.
    pub period: AuditPeriod,
    /// Per collector instance: the window it reads, and its previous successful run.
    pub windows: BTreeMap<String, (AuditPeriod, Option<PreviousRun>)>,
    /// Where each collector stood before this run.
    pub marks: BTreeMap<String, Mark>,
    /// When the previous run collected.
    pub previous_at: Option<DateTime<Utc>>,
}

impl RunPlan {
    /// The record this run seals: its marks advance only for collectors that succeeded.
    pub fn record(&self, manifest: &RunManifest) -> RunRecord {
        let mut marks = self.marks.clone();
        for c in &manifest.collectors {
            if c.status == soc2_evidence_core::CollectorStatus::Ok {
                marks.insert(
                    c.name.clone(),
                    Mark {
                        seq: self.seq,
                        at: manifest.started_at,
                        window_end: c.window.map(|w| w.end()).unwrap_or(manifest.period.end()),
                    },
                );
            }
        }
        RunRecord {
            format: RUN_RECORD_FORMAT.into(),
            seq: self.seq,
            previous_sha256: self.previous_sha256.clone(),
            start: self.start,
            collected_at: manifest.started_at,
            marks,
        }
    }
}

fn refuse(storage: &dyn LedgerStorage, message: String) -> LedgerError {
    LedgerError::Verification {
        location: storage.location(),
        message,
    }
}

/// Plans run N+1 of the ledger for `instances`, signing with `key`.
///
/// The ledger's last run is fetched and verified with the key in force (ours, or the old
/// key of a rotation to ours); so is each collector's last successful run, which is
/// extracted into `cache` for the collector to continue from. A key that is not the
/// ledger's is refused. The first run reads from `since` (or `start`).
pub async fn plan_run(
    storage: &dyn LedgerStorage,
    key: &SigningKey,
    instances: &[String],
    since: Option<NaiveDate>,
    start: Option<NaiveDate>,
    now: DateTime<Utc>,
    cache: &Path,
) -> Result<RunPlan, LedgerError> {
    let today = now.date_naive();
    let (seqs, foreign) = run_seqs(storage).await?;
    let mut broken = foreign;
    broken.extend(gaps(&seqs));
    if !broken.is_empty() {
        return Err(refuse(
            storage,
            format!(
                "refusing to append to a broken ledger: {}; run `soc2-evidence ledger verify`",
                broken.join("; ")
            ),
        ));
    }
    let Some(&latest) = seqs.last() else {
        let start = since.or(start).ok_or_else(|| LedgerError::Location {
            location: storage.location(),
            message:
                "the ledger is empty: give its first day with --since YYYY-MM-DD or [ledger] start"
                    .into(),
        })?;
        let period = AuditPeriod::new(start, today).map_err(|e| LedgerError::Location {
            location: storage.location(),
            message: format!("--since {start} is after today ({today}): {e}"),
        })?;
        return Ok(RunPlan {
            seq: 1,
            previous_sha256: None,
            start,
            period,
            windows: instances
                .iter()
                .map(|i| (i.clone(), (period, None)))
                .collect(),
            marks: BTreeMap::new(),
            previous_at: None,
        });
    };
    let seq = latest + 1;
    let (rotations, rotation_problems) = load_rotations(storage).await?;
    if !rotation_problems.is_empty() {
        return Err(refuse(storage, rotation_problems.join("; ")));
    }
    let ours = key.public_key_openssh();
    let ours_fp = key.fingerprint();
    let fp_of = |k: &str| {
        TrustedKey::from_openssh(k)
            .map(|t| t.fingerprints().join(","))
            .unwrap_or_default()
    };
    // Our key must be the one in force for the next run.
    if let Some(k) = key_in_force(&rotations, seq) {
        if fp_of(k) != ours_fp {
            return Err(LedgerError::Key {
                location: storage.location(),
                message: format!(
                    "this ledger is signed by {} from run {seq} on, not by {ours_fp}; a ledger's key changes only with `soc2-evidence ledger rotate-key`, signed by the old key",
                    fp_of(k)
                ),
            });
        }
    }
    let trust_for = |s: u64| -> Result<TrustedKey, LedgerError> {
        Ok(match key_in_force(&rotations, s) {
            Some(k) => TrustedKey::from_openssh(k)?,
            None => TrustedKey::from_openssh(&ours)?,
        })
    };
    let runs_dir = cache.join("bundles");
    let (file, sha, bytes) = fetch_run(storage, latest, &runs_dir).await?;
    // The whole chain is `ledger verify`'s job; here the last run must be whole and ours.
    let last = match check_run(latest, &file, &sha, &bytes, &trust_for(latest)?, None, None) {
        Ok(r) => r,
        Err(p) => {
            return Err(LedgerError::Key {
                location: storage.location(),
                message: format!(
                    "{} (is {ours_fp} the ledger's key? a ledger whose key changed needs `soc2-evidence ledger rotate-key`, signed by the old key)",
                    p.join("; ")
                ),
            });
        }
    };
    if now < last.record.collected_at {
        return Err(refuse(
            storage,
            format!(
                "the clock says {now}, before the ledger's last run {latest} at {}: refusing to append out of order",
                last.record.collected_at
            ),
        ));
    }
    let marks = last.record.marks.clone();
    let mut windows = BTreeMap::new();
    let mut extracted: BTreeMap<u64, PathBuf> = BTreeMap::new();
    for instance in instances {
        let (from, previous) = match marks.get(instance) {
            Some(m) => {
                let dir = match extracted.get(&m.seq) {
                    Some(d) => d.clone(),
                    None => {
                        let (file, sha, bytes) = fetch_run(storage, m.seq, &runs_dir).await?;
                        // Verified like the last run: a collector must not continue from
                        // evidence nobody vouches for.
                        check_run(m.seq, &file, &sha, &bytes, &trust_for(m.seq)?, None, None)
                            .map_err(|p| refuse(storage, p.join("; ")))?;
                        let dir = cache.join(format!("run-{:06}", m.seq));
                        extract_data(&bytes, &crate::layout::run_key(m.seq), &dir, |_| true)?;
                        extracted.insert(m.seq, dir.clone());
                        dir
                    }
                };
                // The overlap never reaches before the ledger's first day: events from
                // before it would be assembled into a period that starts there.
                let from =
                    m.at.date_naive()
                        .checked_sub_days(Days::new(OVERLAP_DAYS))
                        .unwrap_or(m.at.date_naive())
                        .max(last.record.start);
                (from, Some(PreviousRun::new(dir, instance, m.at, m.seq)))
            }
            None => (last.record.start, None),
        };
        let window =
            AuditPeriod::new(from.min(today), today).map_err(|e| LedgerError::Location {
                location: storage.location(),
                message: e.to_string(),
            })?;
        windows.insert(instance.clone(), (window, previous));
    }
    let earliest = windows
        .values()
        .map(|(w, _)| w.start())
        .min()
        .unwrap_or(today);
    let period = AuditPeriod::new(earliest, today).map_err(|e| LedgerError::Location {
        location: storage.location(),
        message: e.to_string(),
    })?;
    Ok(RunPlan {
        seq,
        previous_sha256: Some(sha),
        start: last.record.start,
        period,
        windows,
        marks,
        previous_at: Some(last.record.collected_at),
    })
}

/// Seals a run: writes its bundle `zip` as run `seq`, never replacing anything, under
/// retention until `retain_until` when asked. Returns the bundle's SHA-256.
pub async fn append_run(
    storage: &dyn LedgerStorage,
    seq: u64,
    zip: &Path,
    retain_until: Option<DateTime<Utc>>,
) -> Result<String, LedgerError> {
    let bytes = std::fs::read(zip).map_err(crate::error::io_err(zip))?;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    storage
        .put_new(&crate::layout::run_key(seq), bytes.into(), retain_until)
        .await?;
    Ok(sha)
}
