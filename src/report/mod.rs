//! The auditor's report, written into a run directory before it is bundled:
//! `report/index.html` (self-contained, opens from `file://`), one CSV per population, and the
//! results as OSCAL Assessment Results (`report/oscal/assessment-results.json`, see [`oscal`]).
//!
//! The report is derived only from the run directory and the signer's fingerprint — no clock,
//! no randomness — so bundling the same run twice gives byte-identical archives.
//!
//! ```no_run
//! use soc2_evidence::report::{write_report, ReportOptions};
//! let summary = write_report("evidence".as_ref(), &ReportOptions {
//!     signer_fingerprint: Some("SHA256:…".into()),
//!     previous: None,
//! }).unwrap();
//! println!("{} populations, index at {}", summary.csv_files.len(), summary.index.display());
//! ```

mod changes;
mod csv;
mod html;
pub mod oscal;
mod runs;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub use changes::{PreviousBundle, CHANGES_JSON};
pub use csv::{csv_cell, population_to_csv};
pub(crate) use csv::{population_columns, population_row};
pub use html::escape_html;
use soc2_evidence_core::{CollectorStatus, EvidenceStore, Finding, StoreError};

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The run directory could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of a population or of `findings.jsonl` is not valid JSON.
    #[error("{}:{line}: {message}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The parser's message.
        message: String,
    },
}

/// Options for [`write_report`].
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The signer's key fingerprint (`SHA256:…`), shown in the header.
    pub signer_fingerprint: Option<String>,
    /// The previous bundle: adds the "changes since the previous bundle" section and
    /// `report/changes-since-previous.json`.
    pub previous: Option<PreviousBundle>,
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// The HTML page.
    pub index: PathBuf,
    /// The CSV files, relative to the run directory.
    pub csv_files: Vec<String>,
}

/// Name of the report directory inside a run directory.
pub const REPORT_DIR: &str = "report";

/// Writes `report/index.html`, `report/<collector>-<population>.csv` and
/// `report/oscal/assessment-results.json` into `run_dir`,
/// replacing an earlier report.
pub fn write_report(run_dir: &Path, options: &ReportOptions) -> Result<ReportSummary, ReportError> {
    let store = EvidenceStore::open(run_dir)?;
    let manifest = store.manifest().clone();
    let report_dir = run_dir.join(REPORT_DIR);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    if report_dir.exists() {
        fs::remove_dir_all(&report_dir).map_err(io(&report_dir))?;
    }
    fs::create_dir_all(&report_dir).map_err(io(&report_dir))?;

    let provenance = read_provenance(&store, &manifest);
    let mut populations = Vec::new();
    let mut csv_files = Vec::new();
    for c in &manifest.collectors {
        if c.status != CollectorStatus::Ok {
            continue;
        }
        for population in c.records.keys() {
            let jsonl = EvidenceStore::population_file(&c.name, population);
            let csv_name = format!("{}-{}.csv", c.name, population);
            population_to_csv(&run_dir.join(&jsonl), &report_dir.join(&csv_name))?;
            csv_files.push(format!("{REPORT_DIR}/{csv_name}"));
            populations.push((c.name.clone(), population.clone(), jsonl, csv_name));
        }
    }

    let findings = read_findings(&run_dir.join("findings.jsonl"))?;
    let page = html::render(&html::PageInput {
        manifest: &manifest,
        findings: &findings,
        provenance: &provenance,
        populations: &populations,
        signer_fingerprint: options.signer_fingerprint.as_deref(),
        previous: options.previous.as_ref(),
        ledger: store.ledger_period(),
    });
    let oscal = run_dir.join(oscal::OSCAL_FILE);
    let doc = oscal::from_parts(run_dir, &manifest, &findings, &provenance)?;
    if let Some(parent) = oscal.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let json = serde_json::to_vec_pretty(&doc)
        .map_err(|e| std::io::Error::other(e.to_string()))
        .map_err(io(&oscal))?;
    fs::write(&oscal, json).map_err(io(&oscal))?;
    if let Some(previous) = &options.previous {
        let path = report_dir.join(CHANGES_JSON);
        let json = serde_json::to_vec_pretty(&previous.diff)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .map_err(io(&path))?;
        fs::write(&path, json).map_err(io(&path))?;
    }
    let index = report_dir.join("index.html");
    fs::write(&index, page).map_err(io(&index))?;
    Ok(ReportSummary { index, csv_files })
}

/// Each collector's parsed `provenance.json`, where it has one.
fn read_provenance(
    store: &EvidenceStore,
    manifest: &soc2_evidence_core::RunManifest,
) -> BTreeMap<String, serde_json::Value> {
    manifest
        .collectors
        .iter()
        .filter_map(|c| Some((c.name.clone(), store.provenance(&c.name).ok()?)))
        .collect()
}

fn read_findings(path: &Path) -> Result<Vec<Finding>, ReportError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ReportError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| ReportError::Malformed {
                path: path.to_path_buf(),
                line: i as u64 + 1,
                message: e.to_string(),
            })
        })
        .collect()
}
