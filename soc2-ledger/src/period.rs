//! `period`: one run directory for a period, assembled from a verified ledger.
//!
//! Event populations become the union over runs, deduplicated by subject id (the latest
//! run's copy kept). State populations keep every distinct version of each record, with a
//! sidecar saying over which runs it was observed. The checks then run over the whole
//! period and over every observed version of state (see `soc2_evidence_core::ledger`).

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use soc2_bundle::TrustedKey;
use soc2_evidence_core::ledger::{
    EventWindow, LedgerCollection, LedgerPeriod, PeriodEpoch, PeriodRun, VersionSpan, COLLECTIONS,
    LEDGER_INSTANCE, PERIOD_FILE, PERIOD_FORMAT, VERSIONS_DIR,
};
use soc2_evidence_core::{
    write_atomic, AuditPeriod, CollectorRun, CollectorStatus, Coverage, EvidenceStore,
    FindingCounts, PopulationMode, Provenance, Registry, RunContribution, RunManifest, RunStatus,
    EFFECTIVE_CONFIG_FILE,
};

use crate::archive::{extract_data, read_tag};
use crate::error::io_err;
use crate::verify::{verify_ledger, LedgerReport, VerifiedRun};
use crate::{LedgerError, LedgerStorage};

/// What `period` did.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodSummary {
    /// The assembled run directory.
    pub out: PathBuf,
    /// The period.
    pub period: AuditPeriod,
    /// Runs in the ledger.
    pub runs_in_ledger: u64,
    /// Runs the period was assembled from.
    pub runs_used: u64,
    /// Of those, the runs whose collection time is proven by an RFC 3161 time-stamp verified
    /// against the trusted TSA CA (`tsa_ca`); the others' times are the machine's clock.
    pub runs_timestamped: u64,
    /// Whether the signatures were checked against a pinned key (`--pubkey`), rather than
    /// against the key the ledger's first run carries.
    pub key_pinned: bool,
    /// Populations written, as `instance/population`, with their record counts.
    pub populations: BTreeMap<String, u64>,
    /// Populations that are not complete for the period, with why.
    pub incomplete: BTreeMap<String, String>,
    /// Finding counts.
    pub findings: FindingCounts,
}

/// The outcome: assembled, or the ledger did not verify (nothing was assembled).
#[derive(Debug)]
pub enum PeriodOutcome {
    /// The period was assembled.
    Assembled(PeriodSummary),
    /// A run bundle or the chain failed verification; `out` was not written.
    Broken(LedgerReport),
}

/// Assembles `period` from the ledger into the new directory `out`, after verifying every
/// run against `pinned` (or, without one, the key the first run was signed with).
/// `registry` rebuilds the checks from the last run's saved config.
pub async fn assemble_period(
    storage: &dyn LedgerStorage,
    pinned: Option<&TrustedKey>,
    period: AuditPeriod,
    out: &Path,
    registry: &Registry,
    tsa_ca: Option<&Path>,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<PeriodOutcome, LedgerError> {
    prepare_out(out)?;
    let cache = tempfile::tempdir().map_err(io_err(Path::new("temporary directory")))?;
    let key_pinned = pinned.is_some();
    let trust = match pinned {
        Some(k) => k.clone(),
        None => first_signer(storage, cache.path()).await?,
    };
    progress("verifying the ledger");
    let bundles = cache.path().join("bundles");
    let (report, runs) = verify_ledger(storage, &trust, &bundles, tsa_ca, &|done, total| {
        progress(&format!("verified {done}/{total} runs"))
    })
    .await?;
    if !report.is_ok() {
        return Ok(PeriodOutcome::Broken(report));
    }
    let start = period.start_utc();
    let end = period.end_exclusive_utc();
    // State is observed by runs inside the period; the first run after it still carries
    // the period's last events.
    let first_after = runs.iter().find(|r| r.collected_at() >= end).map(|r| r.seq);
    let used: Vec<&VerifiedRun> = runs
        .iter()
        .filter(|r| {
            (r.collected_at() >= start && r.collected_at() < end) || Some(r.seq) == first_after
        })
        .collect();
    if used.is_empty() {
        return Err(LedgerError::Location {
            location: storage.location(),
            message: format!(
                "no run of the ledger collected in {period} (runs cover {} .. {})",
                runs.first()
                    .map(|r| r.collected_at().to_rfc3339())
                    .unwrap_or_default(),
                runs.last()
                    .map(|r| r.collected_at().to_rfc3339())
                    .unwrap_or_default()
            ),
        });
    }
    let mut asm = Assembly::new(cache.path().join("spill"))?;
    let total = used.len();
    for (i, run) in used.iter().enumerate() {
        progress(&format!("assembling run {} ({}/{total})", run.seq, i + 1));
        let is_epoch = run.collected_at() < end;
        asm.add_run(run, is_epoch, cache.path())?;
    }
    let last = used
        .iter()
        .rev()
        .find(|r| r.collected_at() < end)
        .copied()
        .unwrap_or(used[used.len() - 1]);
    progress("writing the period");
    let summary_pops = asm.write(out, &period, storage, &used, last)?;

    // Checks: the last run's config, marked as an assembled period.
    let last_dir = cache.path().join("config-of-last");
    let bytes = fs::read(&last.file).map_err(io_err(&last.file))?;
    extract_data(&bytes, &last.key, &last_dir, |rel| {
        rel == EFFECTIVE_CONFIG_FILE
    })?;
    let cfg_path = last_dir.join(EFFECTIVE_CONFIG_FILE);
    let mut config: serde_json::Value =
        serde_json::from_slice(&fs::read(&cfg_path).map_err(io_err(&cfg_path))?).map_err(|e| {
            LedgerError::Malformed {
                location: storage.location(),
                key: last.key.clone(),
                message: format!("{EFFECTIVE_CONFIG_FILE}: {e}"),
            }
        })?;
    config["assembled_period"] = serde_json::Value::Bool(true);
    let max_gap_days = config
        .get("ledger")
        .and_then(|l| l.get("max_gap_days"))
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::from(soc2_evidence_core::ledger::DEFAULT_MAX_GAP_DAYS));
    let mut cfg_bytes = serde_json::to_vec_pretty(&config).map_err(|e| LedgerError::Malformed {
        location: storage.location(),
        key: last.key.clone(),
        message: e.to_string(),
    })?;
    cfg_bytes.push(b'\n');
    let path = out.join(EFFECTIVE_CONFIG_FILE);
    write_atomic(&path, &cfg_bytes).map_err(io_err(&path))?;

    let descriptor = LedgerPeriod {
        format: PERIOD_FORMAT.into(),
        ledger: storage.location(),
        runs: used
            .iter()
            .map(|r| PeriodRun {
                seq: r.seq,
                sha256: r.sha256.clone(),
                collected_at: r.collected_at(),
                signer: r.signer.clone(),
                clock_at: r.record.collected_at,
                timestamped_at: r.timestamp.as_ref().map(|t| t.gen_time),
                timestamp_verified: r.timestamp_trusted,
            })
            .collect(),
        epochs: used
            .iter()
            .filter(|r| r.collected_at() < end)
            .map(|r| PeriodEpoch {
                seq: r.seq,
                at: r.collected_at(),
            })
            .collect(),
        max_gap_days: u32::try_from(max_gap_days).unwrap_or(u32::MAX),
    };
    write_json(&out.join(PERIOD_FILE), &descriptor)?;

    progress("running the checks over every observed version");
    let run_config = registry
        .load_effective(out)
        .map_err(|e| LedgerError::Malformed {
            location: storage.location(),
            key: last.key.clone(),
            message: e.to_string(),
        })?;
    let store = EvidenceStore::open(out)?;
    let findings =
        soc2_evidence_core::write_findings(&store, &run_config.checks()).map_err(|e| {
            LedgerError::Io {
                path: out.join("findings.jsonl"),
                source: std::io::Error::other(e.to_string()),
            }
        })?;
    let mut manifest = store.manifest().clone();
    manifest.findings = findings;
    manifest.status = RunStatus::Complete;
    write_json(&out.join("run.json"), &manifest)?;
    Ok(PeriodOutcome::Assembled(PeriodSummary {
        out: out.to_path_buf(),
        period,
        runs_in_ledger: report.runs,
        runs_used: used.len() as u64,
        runs_timestamped: used.iter().filter(|r| r.timestamp_trusted).count() as u64,
        key_pinned,
        populations: summary_pops.0,
        incomplete: summary_pops.1,
        findings,
    }))
}

/// The key the ledger's first run was signed with, for a period assembled without a pinned
/// key: the chain then proves the runs belong together, not who made them.
async fn first_signer(
    storage: &dyn LedgerStorage,
    cache: &Path,
) -> Result<TrustedKey, LedgerError> {
    let (_, _, bytes) = crate::verify::fetch_run(storage, 1, &cache.join("first")).await?;
    let sig = read_tag(
        &bytes,
        &crate::layout::run_key(1),
        soc2_bundle::bagit::SIGNATURE,
    )?
    .ok_or_else(|| LedgerError::Verification {
        location: storage.location(),
        message: "run 1 has no signature".into(),
    })?;
    let sig = ssh_key::SshSig::from_pem(&sig).map_err(|e| LedgerError::Verification {
        location: storage.location(),
        message: format!("run 1: its signature is unreadable: {e}"),
    })?;
    let line = ssh_key::PublicKey::from(sig.public_key().clone())
        .to_openssh()
        .map_err(|e| LedgerError::Verification {
            location: storage.location(),
            message: format!("run 1: {e}"),
        })?;
    Ok(TrustedKey::from_openssh(&line)?)
}

fn prepare_out(out: &Path) -> Result<(), LedgerError> {
    if out.exists() {
        let mut entries = fs::read_dir(out).map_err(io_err(out))?;
        if entries.next().is_some() {
            return Err(LedgerError::Location {
                location: out.display().to_string(),
                message: "the output directory is not empty: choose a new one so no evidence is overwritten".into(),
            });
        }
    }
    fs::create_dir_all(out).map_err(io_err(out))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), LedgerError> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).map_err(io_err(p))?;
    }
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| LedgerError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes).map_err(io_err(path))
}

/// Where one subject's lines (all the records a run held for it) sit in a spill file.
#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
    lines: u32,
}

/// A version still being observed: where it is, its content hash, first and last run,
/// first and last time seen.
type OpenVersion = (Slot, [u8; 32], u64, u64, DateTime<Utc>, DateTime<Utc>);

/// One assembled population while runs are added.
struct Pop {
    instance: String,
    name: String,
    mode: PopulationMode,
    spill: BufWriter<File>,
    spill_path: PathBuf,
    spill_len: u64,
    // Events: subject → latest copy; order of first sight.
    events: HashMap<String, Slot>,
    order: Vec<String>,
    // State: subject → its open version; closed versions in order.
    open: HashMap<String, OpenVersion>,
    closed: Vec<(String, Slot, VersionSpan)>,
    // The last run that observed it, and its time.
    last_obs: Option<(u64, DateTime<Utc>)>,
    template: Option<Provenance>,
    contributions: Vec<RunContribution>,
    windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    notes: Vec<String>,
    pages: u64,
    received: u64,
    digest: Sha256,
}

struct Assembly {
    spill_dir: PathBuf,
    pops: BTreeMap<(String, String), Pop>,
    collections: Vec<LedgerCollection>,
    instances: BTreeMap<String, (String, Vec<CollectorRun>)>,
    organization: Option<String>,
}

impl Assembly {
    fn new(spill_dir: PathBuf) -> Result<Self, LedgerError> {
        fs::create_dir_all(&spill_dir).map_err(io_err(&spill_dir))?;
        Ok(Self {
            spill_dir,
            pops: BTreeMap::new(),
            collections: Vec::new(),
            instances: BTreeMap::new(),
            organization: None,
        })
    }

    fn pop(
        &mut self,
        instance: &str,
        name: &str,
        mode: PopulationMode,
    ) -> Result<&mut Pop, LedgerError> {
        let key = (instance.to_string(), name.to_string());
        if !self.pops.contains_key(&key) {
            let spill_path = self.spill_dir.join(format!("{instance}--{name}.jsonl"));
            let file = File::create(&spill_path).map_err(io_err(&spill_path))?;
            self.pops.insert(
                key.clone(),
                Pop {
                    instance: instance.to_string(),
                    name: name.to_string(),
                    mode,
                    spill: BufWriter::new(file),
                    spill_path,
                    spill_len: 0,
                    events: HashMap::new(),
                    order: Vec::new(),
                    open: HashMap::new(),
                    closed: Vec::new(),
                    last_obs: None,
                    template: None,
                    contributions: Vec::new(),
                    windows: Vec::new(),
                    notes: Vec::new(),
                    pages: 0,
                    received: 0,
                    digest: Sha256::new(),
                },
            );
        }
        self.pops
            .get_mut(&key)
            .ok_or_else(|| LedgerError::Malformed {
                location: String::new(),
                key: format!("{instance}/{name}"),
                message: "population vanished".into(),
            })
    }

    fn add_run(
        &mut self,
        run: &VerifiedRun,
        is_epoch: bool,
        cache: &Path,
    ) -> Result<(), LedgerError> {
        let dir = cache.join(format!("run-{:06}", run.seq));
        let bytes = fs::read(&run.file).map_err(io_err(&run.file))?;
        extract_data(&bytes, &run.key, &dir, |_| true)?;
        drop(bytes);
        let manifest = &run.manifest;
        if manifest.organization.is_some() {
            self.organization = manifest.organization.clone();
        }
        let at = run.collected_at();
        for c in &manifest.collectors {
            let window = c.window.unwrap_or(manifest.period);
            let status = serde_json::to_value(c.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let mut record = LedgerCollection {
                seq: run.seq,
                bundle_sha256: run.sha256.clone(),
                instance: c.name.clone(),
                collector_type: c.collector_type.clone(),
                status,
                error: c.error.clone(),
                collected_at: at,
                window_start: window.start(),
                window_end: window.end(),
                events: Vec::new(),
            };
            let entry = self
                .instances
                .entry(c.name.clone())
                .or_insert_with(|| (c.collector_type.clone(), Vec::new()));
            entry.1.push(c.clone());
            if c.status != CollectorStatus::Ok {
                self.collections.push(record);
                continue;
            }
            let prov_path = dir.join(&c.name).join("provenance.json");
            let provs: Vec<Provenance> = fs::read(&prov_path)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| serde_json::from_value(v["populations"].clone()).ok())
                .unwrap_or_default();
            for prov in provs {
                let mode = prov.mode.unwrap_or(PopulationMode::Events);
                if mode == PopulationMode::State && !is_epoch {
                    continue;
                }
                let file = dir.join(&c.name).join(format!("{}.jsonl", prov.population));
                if !file.is_file() {
                    continue;
                }
                let window_from = window.start_utc();
                let from = match &prov.covers {
                    Some(cov) if cov.from > window_from => cov.from,
                    _ => window_from,
                };
                let incomplete = if prov.complete || prov.covers.is_some() {
                    None
                } else {
                    Some(
                        prov.notes
                            .last()
                            .cloned()
                            .unwrap_or_else(|| "the collector did not vouch for it".into()),
                    )
                };
                if mode == PopulationMode::Events {
                    record.events.push(EventWindow {
                        population: prov.population.clone(),
                        from,
                        until: at,
                        incomplete: incomplete.clone(),
                        retention: prov
                            .covers
                            .as_ref()
                            .filter(|cov| cov.from > window_from)
                            .map(|cov| cov.reason.clone()),
                    });
                }
                let pop = self.pop(&c.name, &prov.population, mode)?;
                pop.pages += prov.pages;
                pop.received += prov.records_received;
                pop.digest.update(prov.response_sha256.as_bytes());
                let count = pop.add_file(&file, run.seq, at, mode, incomplete.is_some())?;
                if let Some(why) = &incomplete {
                    pop.notes.push(format!(
                        "run {}: {} was incomplete ({why}){}",
                        run.seq,
                        prov.population,
                        if mode == PopulationMode::State {
                            "; its snapshot is not used"
                        } else {
                            ""
                        }
                    ));
                } else if mode == PopulationMode::Events {
                    pop.windows.push((from, at));
                }
                pop.contributions.push(RunContribution {
                    seq: run.seq,
                    bundle_sha256: run.sha256.clone(),
                    collected_at: at,
                    window: (mode == PopulationMode::Events)
                        .then(|| Coverage::new(from, at, "the run's window")),
                    records: count,
                });
                pop.template = Some(prov);
            }
            self.collections.push(record);
        }
        fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(())
    }

    /// Writes every population, its provenance, the ledger's own files and run.json
    /// (status running until the caller finishes it). Returns counts and incompleteness.
    #[allow(clippy::type_complexity)]
    fn write(
        mut self,
        out: &Path,
        period: &AuditPeriod,
        storage: &dyn LedgerStorage,
        used: &[&VerifiedRun],
        last: &VerifiedRun,
    ) -> Result<(BTreeMap<String, u64>, BTreeMap<String, String>), LedgerError> {
        let start = period.start_utc();
        let end = period
            .end_exclusive_utc()
            .min(used[used.len() - 1].collected_at());
        let last_epoch = last.seq;
        let mut counts = BTreeMap::new();
        let mut incomplete = BTreeMap::new();
        let mut provs: BTreeMap<String, Vec<Provenance>> = BTreeMap::new();
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut records: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for pop in self.pops.values_mut() {
            pop.spill.flush().map_err(io_err(&pop.spill_path))?;
            let rel = format!("{}/{}.jsonl", pop.instance, pop.name);
            let path = out.join(&rel);
            fs::create_dir_all(out.join(&pop.instance)).map_err(io_err(out))?;
            let written = pop.write_out(&path, out, last_epoch)?;
            counts.insert(rel.clone(), written);
            files
                .entry(pop.instance.clone())
                .or_default()
                .push(rel.clone());
            records
                .entry(pop.instance.clone())
                .or_default()
                .insert(pop.name.clone(), written);
            let Some(mut prov) = pop.template.clone() else {
                continue;
            };
            prov.records_written = written;
            prov.records_received = pop.received;
            prov.pages = pop.pages;
            prov.source_reported_count = None;
            prov.response_sha256 = hex::encode(pop.digest.clone().finalize());
            prov.retrieval_started = pop
                .contributions
                .first()
                .map(|c| c.collected_at)
                .unwrap_or(start);
            prov.retrieval_finished = pop
                .contributions
                .last()
                .map(|c| c.collected_at)
                .unwrap_or(end);
            prov.runs = pop.contributions.clone();
            prov.cursor = None;
            prov.covers = None;
            prov.incomplete_scopes = Vec::new();
            let mut notes = vec![format!(
                "assembled for {period} from {} ledger run(s) of {}; response_sha256 is the SHA-256 over the runs' own response digests, in run order",
                pop.contributions.len(),
                storage.location()
            )];
            notes.append(&mut pop.notes);
            prov.complete = true;
            if pop.mode == PopulationMode::Events {
                let holes = holes(&mut pop.windows, start, end);
                match holes.as_slice() {
                    [] => notes.push(format!(
                        "the runs' windows cover {} .. {} without a hole",
                        start.to_rfc3339(),
                        end.to_rfc3339()
                    )),
                    // A hole only at the start: the source no longer held it when the
                    // ledger began. Judged as a retention window.
                    [(a, b)] if *a == start => {
                        let why = format!(
                            "no run covers {} .. {}: the source no longer held it when it was collected",
                            a.to_rfc3339(),
                            b.to_rfc3339()
                        );
                        prov.covers = Some(Coverage::new(*b, end, why.clone()));
                        prov.complete = false;
                        incomplete.insert(rel.clone(), why.clone());
                        notes.push(why);
                    }
                    _ => {
                        let why = format!(
                            "the runs' windows leave holes: {}",
                            holes
                                .iter()
                                .map(|(a, b)| format!("{} .. {}", a.to_rfc3339(), b.to_rfc3339()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                        prov.complete = false;
                        incomplete.insert(rel.clone(), why.clone());
                        notes.push(why);
                    }
                }
            } else if pop.contributions.is_empty() {
                prov.complete = false;
                let why = "no complete snapshot in the period".to_string();
                incomplete.insert(rel.clone(), why.clone());
                notes.push(why);
            } else {
                notes.push(format!(
                    "state observed {} time(s); every distinct version kept, with when it was observed, in {VERSIONS_DIR}/{}/{}.jsonl",
                    pop.contributions.len(),
                    pop.instance,
                    pop.name
                ));
            }
            prov.notes = notes;
            provs.entry(pop.instance.clone()).or_default().push(prov);
            let _ = fs::remove_file(&pop.spill_path);
        }
        for (instance, list) in &provs {
            let complete = list.iter().all(|p| p.complete);
            write_json(
                &out.join(instance).join("provenance.json"),
                &serde_json::json!({"collector": instance, "complete": complete, "populations": list}),
            )?;
            files
                .entry(instance.clone())
                .or_default()
                .push(format!("{instance}/provenance.json"));
        }
        // The ledger's own population.
        let coll_rel = COLLECTIONS.at(LEDGER_INSTANCE).file();
        let coll_path = out.join(&coll_rel);
        fs::create_dir_all(out.join(LEDGER_INSTANCE)).map_err(io_err(out))?;
        {
            let f = File::create(&coll_path).map_err(io_err(&coll_path))?;
            let mut w = BufWriter::new(f);
            for c in &self.collections {
                serde_json::to_writer(
                    &mut w,
                    &serde_json::json!({
                        "kind": <LedgerCollection as soc2_evidence_core::Evidence>::KIND,
                        "schema_version": <LedgerCollection as soc2_evidence_core::Evidence>::SCHEMA_VERSION,
                        "subject_id": soc2_evidence_core::Evidence::subject_id(c),
                        "data": c,
                    }),
                )
                .map_err(|e| LedgerError::Io {
                    path: coll_path.clone(),
                    source: std::io::Error::other(e),
                })?;
                w.write_all(b"\n").map_err(io_err(&coll_path))?;
            }
            w.flush().map_err(io_err(&coll_path))?;
        }
        let now = used[used.len() - 1].collected_at();
        let mut ledger_prov = soc2_evidence_core::ProvenanceRecorder::from_spec(
            &COLLECTIONS.spec(),
            LEDGER_INSTANCE,
            env!("CARGO_PKG_VERSION"),
        );
        ledger_prov.note(format!(
            "one record per ledger run and collector, read from the verified run bundles of {}",
            storage.location()
        ));
        let mut lp = ledger_prov.finish(true);
        lp.records_written = self.collections.len() as u64;
        lp.records_received = self.collections.len() as u64;
        lp.retrieval_started = now;
        lp.retrieval_finished = now;
        lp.clock_override = None;
        write_json(
            &out.join(LEDGER_INSTANCE).join("provenance.json"),
            &serde_json::json!({"collector": LEDGER_INSTANCE, "complete": true, "populations": [lp]}),
        )?;
        counts.insert(coll_rel.clone(), self.collections.len() as u64);

        // run.json: one entry per instance, ok when it contributed a successful run.
        let mut collectors = Vec::new();
        for (name, (ty, runs)) in &self.instances {
            let ok = runs.iter().any(|r| r.status == CollectorStatus::Ok);
            collectors.push(CollectorRun {
                name: name.clone(),
                collector_type: ty.clone(),
                status: if ok {
                    CollectorStatus::Ok
                } else {
                    CollectorStatus::Failed
                },
                error: (!ok).then(|| format!("no successful run of {name} in the period")),
                records: records.get(name).cloned().unwrap_or_default(),
                files: files.get(name).cloned().unwrap_or_default(),
                started_at: runs.first().map(|r| r.started_at).unwrap_or(now),
                finished_at: runs.last().map(|r| r.finished_at).unwrap_or(now),
                window: None,
            });
        }
        collectors.push(CollectorRun {
            name: LEDGER_INSTANCE.into(),
            collector_type: LEDGER_INSTANCE.into(),
            status: CollectorStatus::Ok,
            error: None,
            records: [(
                COLLECTIONS.name().to_string(),
                self.collections.len() as u64,
            )]
            .into(),
            files: vec![coll_rel, format!("{LEDGER_INSTANCE}/provenance.json")],
            started_at: now,
            finished_at: now,
            window: None,
        });
        let mut manifest = RunManifest::start(*period, self.organization.clone());
        manifest.started_at = last.collected_at();
        manifest.finished_at = Some(now);
        manifest.clock_override = None;
        manifest.collectors = collectors;
        write_json(&out.join("run.json"), &manifest)?;
        Ok((counts, incomplete))
    }
}

/// The parts of `start..end` no span covers; sorts `spans`.
fn holes(
    spans: &mut [(DateTime<Utc>, DateTime<Utc>)],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    spans.sort();
    let mut cursor = start;
    let mut out = Vec::new();
    for &(a, b) in spans.iter() {
        if a > cursor && cursor < end {
            out.push((cursor, a.min(end)));
        }
        cursor = cursor.max(b);
    }
    if cursor < end {
        out.push((cursor, end));
    }
    out
}

impl Pop {
    fn append(&mut self, line: &[u8], lines: u32) -> Result<Slot, LedgerError> {
        let slot = Slot {
            offset: self.spill_len,
            len: u32::try_from(line.len()).map_err(|_| LedgerError::Malformed {
                location: String::new(),
                key: format!("{}/{}", self.instance, self.name),
                message: "one subject's records exceed 4 GiB".into(),
            })?,
            lines,
        };
        self.spill
            .write_all(line)
            .map_err(io_err(&self.spill_path))?;
        self.spill_len += line.len() as u64;
        Ok(slot)
    }

    /// Adds one run's population file; returns the records it held.
    fn add_file(
        &mut self,
        file: &Path,
        seq: u64,
        at: DateTime<Utc>,
        mode: PopulationMode,
        incomplete: bool,
    ) -> Result<u64, LedgerError> {
        if mode == PopulationMode::State && incomplete {
            // An incomplete snapshot would make present records look deleted.
            return Ok(0);
        }
        // A subject may have several records (a user's factors): its records in one run are
        // one unit, replaced or versioned together.
        let reader = BufReader::new(File::open(file).map_err(io_err(file))?);
        let mut groups: Vec<(String, Vec<u8>, u32)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut n = 0;
        for (i, line) in reader.split(b'\n').enumerate() {
            let line = line.map_err(io_err(file))?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            n += 1;
            let subject = subject_of(&line).ok_or_else(|| LedgerError::Malformed {
                location: String::new(),
                key: format!("{}:{}", file.display(), i + 1),
                message: "a record without a subject_id".into(),
            })?;
            let g = match index.get(&subject) {
                Some(&g) => g,
                None => {
                    index.insert(subject.clone(), groups.len());
                    groups.push((subject, Vec::new(), 0));
                    groups.len() - 1
                }
            };
            groups[g].1.extend_from_slice(&line);
            groups[g].1.push(b'\n');
            groups[g].2 += 1;
        }
        let seen: HashMap<String, ()> = index.into_keys().map(|k| (k, ())).collect();
        for (subject, chunk, lines) in groups {
            match mode {
                PopulationMode::Events => {
                    let slot = self.append(&chunk, lines)?;
                    if self.events.insert(subject.clone(), slot).is_none() {
                        self.order.push(subject);
                    }
                }
                PopulationMode::State => {
                    let hash: [u8; 32] = Sha256::digest(&chunk).into();
                    match self.open.get_mut(&subject) {
                        Some(v) if v.1 == hash => {
                            v.3 = seq;
                            v.5 = at;
                        }
                        _ => {
                            let slot = self.append(&chunk, lines)?;
                            if let Some(old) = self.open.remove(&subject) {
                                self.close(&subject, old, seq);
                            } else {
                                self.order.push(subject.clone());
                            }
                            self.open.insert(subject, (slot, hash, seq, seq, at, at));
                        }
                    }
                }
            }
        }
        if mode == PopulationMode::State {
            // Records no longer present: their versions end.
            let gone: Vec<String> = self
                .open
                .keys()
                .filter(|s| !seen.contains_key(*s))
                .cloned()
                .collect();
            for s in gone {
                if let Some(old) = self.open.remove(&s) {
                    self.close(&s, old, seq);
                }
            }
            self.last_obs = Some((seq, at));
        }
        Ok(n)
    }

    #[allow(clippy::type_complexity)]
    fn close(
        &mut self,
        subject: &str,
        (slot, _, first, last, from, last_seen): (
            Slot,
            [u8; 32],
            u64,
            u64,
            DateTime<Utc>,
            DateTime<Utc>,
        ),
        next_seq: u64,
    ) {
        self.closed.push((
            subject.to_string(),
            slot,
            VersionSpan {
                subject_id: subject.to_string(),
                first_seq: first,
                last_seq: last,
                until_seq: next_seq.saturating_sub(1).max(last),
                from,
                last_seen,
            },
        ));
    }

    /// Writes the population (and, for state, its version sidecar); returns the lines.
    fn write_out(&mut self, path: &Path, out: &Path, last_epoch: u64) -> Result<u64, LedgerError> {
        let mut spill = File::open(&self.spill_path).map_err(io_err(&self.spill_path))?;
        let mut w = BufWriter::new(File::create(path).map_err(io_err(path))?);
        let mut buf = Vec::new();
        let mut copy = |slot: Slot, w: &mut BufWriter<File>| -> Result<(), LedgerError> {
            buf.resize(slot.len as usize, 0);
            spill
                .seek(SeekFrom::Start(slot.offset))
                .map_err(io_err(&self.spill_path))?;
            spill
                .read_exact(&mut buf)
                .map_err(io_err(&self.spill_path))?;
            w.write_all(&buf).map_err(io_err(path))
        };
        let mut n = 0;
        match self.mode {
            PopulationMode::Events => {
                for s in &self.order {
                    if let Some(slot) = self.events.get(s) {
                        copy(*slot, &mut w)?;
                        n += u64::from(slot.lines);
                    }
                }
            }
            PopulationMode::State => {
                let open: Vec<(String, _)> = self.open.drain().collect();
                for (s, v) in open {
                    let (slot, _, first, last, from, last_seen) = v;
                    self.closed.push((
                        s.clone(),
                        slot,
                        VersionSpan {
                            subject_id: s,
                            first_seq: first,
                            last_seq: last,
                            until_seq: last_epoch.max(last),
                            from,
                            last_seen,
                        },
                    ));
                }
                // Subjects in first-seen order, each one's versions in time order.
                let rank: HashMap<&str, usize> = self
                    .order
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.as_str(), i))
                    .collect();
                let mut closed = std::mem::take(&mut self.closed);
                closed.sort_by_key(|(s, _, span)| {
                    (
                        rank.get(s.as_str()).copied().unwrap_or(usize::MAX),
                        span.first_seq,
                    )
                });
                let side_path = out
                    .join(VERSIONS_DIR)
                    .join(&self.instance)
                    .join(format!("{}.jsonl", self.name));
                if let Some(p) = side_path.parent() {
                    fs::create_dir_all(p).map_err(io_err(p))?;
                }
                let mut side =
                    BufWriter::new(File::create(&side_path).map_err(io_err(&side_path))?);
                for (_, slot, span) in &closed {
                    copy(*slot, &mut w)?;
                    let mut line = serde_json::to_vec(span).map_err(|e| LedgerError::Io {
                        path: side_path.clone(),
                        source: std::io::Error::other(e),
                    })?;
                    line.push(b'\n');
                    // One span per record line: the store walks them side by side.
                    for _ in 0..slot.lines {
                        side.write_all(&line).map_err(io_err(&side_path))?;
                    }
                    n += u64::from(slot.lines);
                }
                side.flush().map_err(io_err(&side_path))?;
            }
        }
        w.flush().map_err(io_err(path))?;
        Ok(n)
    }
}

/// The `subject_id` of a record line, read without parsing the whole record.
fn subject_of(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        subject_id: String,
    }
    serde_json::from_slice::<Head>(line)
        .ok()
        .map(|h| h.subject_id)
}
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn factor(user: &str, factor: &str) -> String {
        format!(
            "{{\"kind\":\"okta.factor\",\"subject_id\":\"{user}\",\"data\":{{\"factor_id\":\"{factor}\"}}}}\n"
        )
    }

    fn spans(out: &Path) -> Vec<VersionSpan> {
        fs::read_to_string(out.join(VERSIONS_DIR).join("okta").join("factors.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// A user with two factors is one subject with two records: runs that see the same two
    /// are one version, not a new version per record per run; a third factor is a change
    /// of that user alone, and every record line has its span in the sidecar.
    #[test]
    fn several_records_of_one_subject_are_one_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut asm = Assembly::new(dir.path().join("spill")).unwrap();
        let t0: DateTime<Utc> = "2026-01-01T23:00:00Z".parse().unwrap();
        let runs = [
            format!(
                "{}{}{}",
                factor("u1", "a"),
                factor("u1", "b"),
                factor("u2", "c")
            ),
            format!(
                "{}{}{}",
                factor("u1", "a"),
                factor("u2", "c"),
                factor("u1", "b")
            ),
            format!(
                "{}{}{}{}",
                factor("u1", "a"),
                factor("u1", "b"),
                factor("u2", "c"),
                factor("u2", "d")
            ),
        ];
        let pop = asm.pop("okta", "factors", PopulationMode::State).unwrap();
        for (i, lines) in runs.iter().enumerate() {
            let file = dir.path().join(format!("run{i}.jsonl"));
            fs::write(&file, lines).unwrap();
            let at = t0 + chrono::Duration::days(i as i64);
            let n = pop
                .add_file(&file, i as u64 + 1, at, PopulationMode::State, false)
                .unwrap();
            assert_eq!(n, lines.lines().count() as u64);
        }
        pop.spill.flush().unwrap();
        let out = dir.path().join("out");
        fs::create_dir_all(&out).unwrap();
        let path = out.join("factors.jsonl");
        let written = pop.write_out(&path, &out, 3).unwrap();
        let body = fs::read_to_string(&path).unwrap();
        // u1: one version (a, b) over runs 1..3; u2: (c) over 1..2, then (c, d) from 3.
        assert_eq!(
            body,
            format!(
                "{}{}{}{}{}",
                factor("u1", "a"),
                factor("u1", "b"),
                factor("u2", "c"),
                factor("u2", "c"),
                factor("u2", "d")
            )
        );
        assert_eq!(written, 5);
        let spans = spans(&out);
        let seqs: Vec<(&str, u64, u64, u64)> = spans
            .iter()
            .map(|s| (s.subject_id.as_str(), s.first_seq, s.last_seq, s.until_seq))
            .collect();
        assert_eq!(
            seqs,
            [
                ("u1", 1, 3, 3),
                ("u1", 1, 3, 3),
                ("u2", 1, 2, 2),
                ("u2", 3, 3, 3),
                ("u2", 3, 3, 3)
            ]
        );
    }
}
