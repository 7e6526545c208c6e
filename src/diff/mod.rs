//! What changed between two runs: "what changed since the last audit".
//!
//! Each side is a run directory or a bundle zip (read through [`RunSource`], so a bundle's
//! files are checked against its manifest). Per population, [`diff_runs`] lists the subject
//! ids added, removed and changed (the subject's records differ in content; key order in the
//! JSON does not count); then the findings whose status changed, and those on one side only.
//! A finding is identified by its check id and subject id.
//!
//! ```
//! # let old = tempfile::tempdir().unwrap();
//! # let new = tempfile::tempdir().unwrap();
//! # soc2_evidence::sample::write_example_run(old.path()).unwrap();
//! # soc2_evidence::sample::write_example_run(new.path()).unwrap();
//! # std::fs::write(new.path().join("hr/people.jsonl"),
//! #     "{\"kind\":\"hr.person\",\"schema_version\":1,\"subject_id\":\"alice\",\"data\":{\"name\":\"Alice\"}}\n").unwrap();
//! use soc2_evidence::diff::diff_runs;
//! use soc2_evidence::sample::RunSource;
//! let diff = diff_runs(&RunSource::open(old.path()).unwrap(), &RunSource::open(new.path()).unwrap()).unwrap();
//! let people = &diff.populations[0];
//! assert_eq!(people.population, "hr/people");
//! assert_eq!(people.removed, ["bob", "carol"]);
//! assert_eq!(people.changed, ["alice"]);
//! assert!(!diff.is_empty());
//! ```

mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};
use soc2_evidence_core::{Finding, FindingStatus};

use crate::sample::{RunSource, SampleError};

/// Why two runs could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A side could not be read (see [`SampleError`]).
    #[error(transparent)]
    Source(#[from] SampleError),
    /// A line of a population or of `findings.jsonl` is not a valid record or finding.
    #[error("{}: {file}:{line}: {message}", .source_path.display())]
    Malformed {
        /// The run directory or bundle.
        source_path: PathBuf,
        /// The file inside the run.
        file: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Which side of a diff something is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Only in the old run.
    Old,
    /// Only in the new run.
    New,
}

/// The changes in one population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationDiff {
    /// `collector/population`.
    pub population: String,
    /// Set when the population exists in one run only; every subject is then added or removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_in: Option<Side>,
    /// Records in the old file.
    pub old_count: u64,
    /// Records in the new file.
    pub new_count: u64,
    /// Subject ids in the new run only, sorted.
    pub added: Vec<String>,
    /// Subject ids in the old run only, sorted.
    pub removed: Vec<String>,
    /// Subject ids in both whose records differ, sorted.
    pub changed: Vec<String>,
}

impl PopulationDiff {
    /// Whether the population is the same on both sides.
    pub fn is_empty(&self) -> bool {
        self.only_in.is_none()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
    }
}

/// A finding whose status differs between the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusChange {
    /// The check.
    pub check_id: String,
    /// The subject.
    pub subject_id: String,
    /// Its status in the old run.
    pub old_status: FindingStatus,
    /// Its status in the new run.
    pub new_status: FindingStatus,
    /// The new run's summary: why it is what it is now.
    pub summary: String,
}

/// A finding present in one run only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OneSided {
    /// The check.
    pub check_id: String,
    /// The subject.
    pub subject_id: String,
    /// Its status.
    pub status: FindingStatus,
    /// Its summary.
    pub summary: String,
}

/// Everything that differs between two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDiff {
    /// The old run, as given.
    pub old: PathBuf,
    /// The new run, as given.
    pub new: PathBuf,
    /// The populations that differ, sorted by name (identical ones are left out).
    pub populations: Vec<PopulationDiff>,
    /// Populations compared in all, identical ones included.
    pub populations_compared: usize,
    /// Findings whose status changed, sorted by check and subject.
    pub status_changed: Vec<StatusChange>,
    /// Findings in the old run only.
    pub only_old: Vec<OneSided>,
    /// Findings in the new run only.
    pub only_new: Vec<OneSided>,
}

impl RunDiff {
    /// Whether the runs hold the same subjects, records and finding statuses.
    pub fn is_empty(&self) -> bool {
        self.populations.is_empty()
            && self.status_changed.is_empty()
            && self.only_old.is_empty()
            && self.only_new.is_empty()
    }
}

/// Compares `old` with `new`. Memory holds one digest per subject and one entry per finding,
/// not the records.
pub fn diff_runs(old: &RunSource, new: &RunSource) -> Result<RunDiff, DiffError> {
    let old_pops: BTreeSet<String> = old.populations().into_iter().collect();
    let new_pops: BTreeSet<String> = new.populations().into_iter().collect();
    let mut populations = Vec::new();
    for name in old_pops.union(&new_pops) {
        let a = if old_pops.contains(name) {
            Some(subjects(old, name)?)
        } else {
            None
        };
        let b = if new_pops.contains(name) {
            Some(subjects(new, name)?)
        } else {
            None
        };
        let d = compare_population(name, a, b);
        if !d.is_empty() {
            populations.push(d);
        }
    }
    let a = findings(old)?;
    let b = findings(new)?;
    let mut status_changed = Vec::new();
    let mut only_old = Vec::new();
    for (key, fa) in &a {
        match b.get(key) {
            Some(fb) if fb.status != fa.status => status_changed.push(StatusChange {
                check_id: key.0.clone(),
                subject_id: key.1.clone(),
                old_status: fa.status,
                new_status: fb.status,
                summary: fb.summary.clone(),
            }),
            Some(_) => {}
            None => only_old.push(one_sided(key, fa)),
        }
    }
    let only_new = b
        .iter()
        .filter(|(k, _)| !a.contains_key(*k))
        .map(|(k, f)| one_sided(k, f))
        .collect();
    Ok(RunDiff {
        old: old.path().to_path_buf(),
        new: new.path().to_path_buf(),
        populations,
        populations_compared: old_pops.union(&new_pops).count(),
        status_changed,
        only_old,
        only_new,
    })
}

fn one_sided(key: &(String, String), f: &Finding) -> OneSided {
    OneSided {
        check_id: key.0.clone(),
        subject_id: key.1.clone(),
        status: f.status,
        summary: f.summary.clone(),
    }
}

/// A population read as subject id → digest of its records, plus the record count.
struct Subjects {
    count: u64,
    digests: BTreeMap<String, [u8; 32]>,
}

fn compare_population(name: &str, old: Option<Subjects>, new: Option<Subjects>) -> PopulationDiff {
    let empty = || Subjects {
        count: 0,
        digests: BTreeMap::new(),
    };
    let only_in = match (&old, &new) {
        (Some(_), None) => Some(Side::Old),
        (None, Some(_)) => Some(Side::New),
        _ => None,
    };
    let old = old.unwrap_or_else(empty);
    let new = new.unwrap_or_else(empty);
    let mut d = PopulationDiff {
        population: name.to_string(),
        only_in,
        old_count: old.count,
        new_count: new.count,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for (id, digest) in &old.digests {
        match new.digests.get(id) {
            None => d.removed.push(id.clone()),
            Some(other) if other != digest => d.changed.push(id.clone()),
            Some(_) => {}
        }
    }
    d.added = new
        .digests
        .keys()
        .filter(|id| !old.digests.contains_key(*id))
        .cloned()
        .collect();
    d
}

/// Reads a population: each subject's digest covers all its records (a user's several MFA
/// factors), in canonical form and in any order, so reordering the file changes nothing.
fn subjects(run: &RunSource, population: &str) -> Result<Subjects, DiffError> {
    let file = run.population(population)?;
    let rel = format!("{population}.jsonl");
    let mut per_subject: BTreeMap<String, Vec<[u8; 32]>> = BTreeMap::new();
    let mut count = 0;
    for item in crate::sample::lines(&file.path)? {
        let (line, text) = item?;
        let malformed = |message: String| DiffError::Malformed {
            source_path: run.path().to_path_buf(),
            file: rel.clone(),
            line,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        let subject = value
            .get("subject_id")
            .and_then(|s| s.as_str())
            .ok_or_else(|| malformed("the record has no string subject_id".into()))?
            .to_string();
        let mut canonical = String::new();
        canonical_json(&value, &mut canonical);
        per_subject
            .entry(subject)
            .or_default()
            .push(Sha256::digest(canonical.as_bytes()).into());
        count += 1;
    }
    let digests = per_subject
        .into_iter()
        .map(|(id, mut records)| {
            records.sort_unstable();
            let mut h = Sha256::new();
            for r in &records {
                h.update(r);
            }
            (id, h.finalize().into())
        })
        .collect();
    Ok(Subjects { count, digests })
}

/// A run's findings by (check id, subject id). A pair that occurs more than once (one
/// subject judged per interval) gets `#2`, `#3`… on later occurrences, in file order.
fn findings(run: &RunSource) -> Result<BTreeMap<(String, String), Finding>, DiffError> {
    let file = run.file("findings.jsonl")?;
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<(String, String), u32> = BTreeMap::new();
    for item in crate::sample::lines(&file.path)? {
        let (line, text) = item?;
        let f: Finding = serde_json::from_str(&text).map_err(|e| DiffError::Malformed {
            source_path: run.path().to_path_buf(),
            file: "findings.jsonl".into(),
            line,
            message: e.to_string(),
        })?;
        let base = (f.check_id.clone(), f.subject_id.clone());
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        let key = if *n == 1 {
            base
        } else {
            (base.0, format!("{}#{n}", base.1))
        };
        out.insert(key, f);
    }
    Ok(out)
}

/// JSON with object keys sorted, so two serialisations of one record compare equal.
fn canonical_json(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical_json(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(people: &[(&str, &str)], findings: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::sample::write_example_run(dir.path()).unwrap();
        let lines: String = people
            .iter()
            .map(|(id, data)| {
                format!(
                    "{{\"kind\":\"hr.person\",\"schema_version\":1,\"subject_id\":\"{id}\",\"data\":{data}}}\n"
                )
            })
            .collect();
        std::fs::write(dir.path().join("hr/people.jsonl"), lines).unwrap();
        let lines: String = findings
            .iter()
            .map(|(check, subject, status)| {
                format!(
                    "{{\"check_id\":\"{check}\",\"criteria\":[\"CC6.1\"],\"status\":\"{status}\",\"subject_id\":\"{subject}\",\"summary\":\"s\"}}\n"
                )
            })
            .collect();
        std::fs::write(dir.path().join("findings.jsonl"), lines).unwrap();
        dir
    }

    fn diff(a: &tempfile::TempDir, b: &tempfile::TempDir) -> RunDiff {
        diff_runs(
            &RunSource::open(a.path()).unwrap(),
            &RunSource::open(b.path()).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn identical_runs_differ_in_nothing_even_when_keys_and_lines_are_reordered() {
        let a = run(
            &[("a", r#"{"x":1,"y":[1,2]}"#), ("b", r#"{"x":2}"#)],
            &[("hr.c", "a", "pass")],
        );
        let b = run(
            &[("b", r#"{"x":2}"#), ("a", r#"{"y":[1,2],"x":1}"#)],
            &[("hr.c", "a", "pass")],
        );
        let d = diff(&a, &b);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.populations_compared, 1);
    }

    #[test]
    fn lists_added_removed_changed_subjects_and_finding_changes() {
        let a = run(
            &[
                ("a", r#"{"x":1}"#),
                ("b", r#"{"x":2}"#),
                ("m", r#"{"f":1}"#),
                ("m", r#"{"f":2}"#),
            ],
            &[
                ("hr.c", "a", "pass"),
                ("hr.c", "b", "fail"),
                ("hr.old", "a", "pass"),
            ],
        );
        let b = run(
            &[
                ("a", r#"{"x":1}"#),
                ("c", r#"{"x":3}"#),
                ("m", r#"{"f":1}"#),
                ("m", r#"{"f":3}"#),
            ],
            &[
                ("hr.c", "a", "fail"),
                ("hr.c", "b", "fail"),
                ("hr.c", "c", "pass"),
            ],
        );
        let d = diff(&a, &b);
        let p = &d.populations[0];
        assert_eq!(p.added, ["c"]);
        assert_eq!(p.removed, ["b"]);
        // One of m's two records changed.
        assert_eq!(p.changed, ["m"]);
        assert_eq!((p.old_count, p.new_count), (4, 4));
        assert_eq!(d.status_changed.len(), 1);
        assert_eq!(d.status_changed[0].subject_id, "a");
        assert_eq!(d.status_changed[0].old_status, FindingStatus::Pass);
        assert_eq!(d.status_changed[0].new_status, FindingStatus::Fail);
        assert_eq!(d.only_old.len(), 1);
        assert_eq!(d.only_old[0].check_id, "hr.old");
        assert_eq!(d.only_new.len(), 1);
        assert_eq!(d.only_new[0].subject_id, "c");
    }

    #[test]
    fn repeated_findings_of_one_subject_are_compared_in_order() {
        let a = run(
            &[("a", "{}")],
            &[("hr.c", "a", "pass"), ("hr.c", "a", "pass")],
        );
        let b = run(
            &[("a", "{}")],
            &[("hr.c", "a", "pass"), ("hr.c", "a", "fail")],
        );
        let d = diff(&a, &b);
        assert_eq!(d.status_changed.len(), 1);
        assert_eq!(d.status_changed[0].subject_id, "a#2");
    }

    #[test]
    fn a_malformed_line_is_named() {
        let a = run(&[("a", "{}")], &[]);
        let b = run(&[("a", "{}")], &[]);
        std::fs::write(b.path().join("hr/people.jsonl"), "{\"no_subject\":1}\n").unwrap();
        let err = diff_runs(
            &RunSource::open(a.path()).unwrap(),
            &RunSource::open(b.path()).unwrap(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("hr/people.jsonl:1"), "{text}");
        assert!(text.contains("subject_id"), "{text}");
    }
}
