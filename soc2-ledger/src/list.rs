//! `ledger list`: the runs, and each collector's window and status.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use soc2_bundle::bagit;
use soc2_evidence_core::RunManifest;

use crate::archive::{read_data, read_tag};
use crate::layout::{parse_run_key, RunRecord, RUNS_PREFIX, RUN_RECORD_FILE};
use crate::{LedgerError, LedgerStorage};

/// One run as listed (not verified: `ledger verify` does that).
#[derive(Debug, Clone, Serialize)]
pub struct RunListing {
    /// Sequence number, from the object name.
    pub seq: u64,
    /// Object key.
    pub key: String,
    /// SHA-256 of the zip.
    pub sha256: String,
    /// When it collected.
    pub collected_at: Option<DateTime<Utc>>,
    /// The signer's fingerprint, as bag-info.txt states it.
    pub signer: Option<String>,
    /// Each collector's part.
    pub collectors: Vec<CollectorListing>,
    /// Why the run could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// One collector in one run.
#[derive(Debug, Clone, Serialize)]
pub struct CollectorListing {
    /// Instance name.
    pub name: String,
    /// `ok`, `failed` or `cancelled`.
    pub status: String,
    /// First day of its window.
    pub window_start: NaiveDate,
    /// Last day of its window.
    pub window_end: NaiveDate,
    /// The error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Lists every run in `runs/`, in order; objects that are not run bundles are listed as
/// unreadable rather than skipped.
pub async fn list_runs(storage: &dyn LedgerStorage) -> Result<Vec<RunListing>, LedgerError> {
    let mut out = Vec::new();
    for key in storage.list(RUNS_PREFIX).await? {
        let seq = parse_run_key(&key).unwrap_or(0);
        let Some(bytes) = storage.get(&key).await? else {
            continue;
        };
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let mut listing = RunListing {
            seq,
            key: key.clone(),
            sha256,
            collected_at: None,
            signer: None,
            collectors: Vec::new(),
            unreadable: None,
        };
        let mut read = || -> Result<(), String> {
            let manifest: RunManifest = serde_json::from_slice(
                &read_data(&bytes, &key, "run.json")
                    .map_err(|e| e.to_string())?
                    .ok_or("no run.json")?,
            )
            .map_err(|e| format!("run.json: {e}"))?;
            let record: Option<RunRecord> = read_data(&bytes, &key, RUN_RECORD_FILE)
                .map_err(|e| e.to_string())?
                .and_then(|b| serde_json::from_slice(&b).ok());
            listing.collected_at = Some(
                record
                    .map(|r| r.collected_at)
                    .unwrap_or(manifest.started_at),
            );
            if let Some(info) =
                read_tag(&bytes, &key, bagit::BAG_INFO).map_err(|e| e.to_string())?
            {
                let text = String::from_utf8_lossy(&info);
                if let Ok(fields) = bagit::parse_bag_info(&text) {
                    listing.signer = bagit::bag_info_value(&fields, bagit::LABEL_FINGERPRINT)
                        .map(str::to_string);
                }
            }
            listing.collectors = manifest
                .collectors
                .iter()
                .map(|c| {
                    let w = c.window.unwrap_or(manifest.period);
                    CollectorListing {
                        name: c.name.clone(),
                        status: serde_json::to_value(c.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        window_start: w.start(),
                        window_end: w.end(),
                        error: c.error.clone(),
                    }
                })
                .collect();
            Ok(())
        };
        let result = read();
        if let Err(why) = result {
            listing.unreadable = Some(why);
        }
        out.push(listing);
    }
    Ok(out)
}
