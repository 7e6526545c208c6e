//! The run's results as an OSCAL 1.1 Assessment Results document, for GRC tools that import
//! OSCAL: `report/oscal/assessment-results.json` in a run directory, `data/report/oscal/…` in a
//! bundle.
//!
//! - One result covering the audit period, reviewing the TSC criteria the checks tested.
//! - One observation per population: its records, its source, the API calls that produced
//!   it (the collector's provenance) and the file's SHA-256, with the tool as its origin.
//! - One finding per `fail` or `error` finding of `findings.jsonl`, targeting its first TSC
//!   criterion (`objective-id`) as `not-satisfied`, with reason `fail` or `other`; passes are
//!   not findings in OSCAL's sense, and they stay in `findings.jsonl`.
//!
//! UUIDs are version 5 (name-based), derived from the run, so bundling one run twice gives the
//! same document byte for byte.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # soc2_evidence::sample::write_example_run(dir.path()).unwrap();
//! let doc = soc2_evidence::report::oscal::assessment_results(dir.path()).unwrap();
//! let ar = &doc["assessment-results"];
//! assert_eq!(ar["metadata"]["oscal-version"], "1.1.3");
//! assert_eq!(ar["results"][0]["observations"].as_array().unwrap().len(), 1);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};
use soc2_evidence_core::{EvidenceStore, Finding, FindingStatus, RunManifest};
use uuid::Uuid;

use super::{read_findings, ReportError};

/// The OSCAL version the document conforms to (the last of the 1.1 line).
pub const OSCAL_VERSION: &str = "1.1.3";

/// Where the document lives, relative to the run directory.
pub const OSCAL_FILE: &str = "report/oscal/assessment-results.json";

/// Namespace of this tool's own OSCAL property names.
const NS: &str = "https://github.com/soc2-evidence/soc2-evidence/ns/oscal";

/// Builds the Assessment Results document of the run in `run_dir` from its `run.json`,
/// populations, provenance and `findings.jsonl`.
pub fn assessment_results(run_dir: &Path) -> Result<Value, ReportError> {
    let store = EvidenceStore::open(run_dir)?;
    let manifest = store.manifest().clone();
    let findings = read_findings(&run_dir.join("findings.jsonl"))?;
    let provenance = super::read_provenance(&store, &manifest);
    from_parts(run_dir, &manifest, &findings, &provenance)
}

/// [`assessment_results`] from what the report already read: only the population digests
/// are computed here.
pub(super) fn from_parts(
    run_dir: &Path,
    manifest: &RunManifest,
    findings: &[Finding],
    provenance: &BTreeMap<String, Value>,
) -> Result<Value, ReportError> {
    let mut digests = BTreeMap::new();
    for c in &manifest.collectors {
        for population in c.records.keys() {
            let rel = EvidenceStore::population_file(&c.name, population);
            let path = run_dir.join(&rel);
            if path.exists() {
                let sha = soc2_bundle::sha256_file(&path).map_err(|e| ReportError::Io {
                    path: path.clone(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                digests.insert(rel, sha);
            }
        }
    }
    Ok(document(manifest, findings, provenance, &digests))
}

/// The document from the run's parts and its population digests.
fn document(
    manifest: &RunManifest,
    findings: &[Finding],
    provenance: &BTreeMap<String, Value>,
    digests: &BTreeMap<String, String>,
) -> Value {
    let ids = Ids::for_run(manifest);
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let org = manifest
        .organization
        .clone()
        .unwrap_or_else(|| "unnamed organisation".into());
    let finished = manifest.finished_at.unwrap_or(manifest.started_at);
    let tool = format!("{} {}", manifest.tool.name, manifest.tool.version);

    let mut observations = Vec::new();
    let mut observation_of_file = BTreeMap::new();
    for c in &manifest.collectors {
        for (population, count) in &c.records {
            let name = format!("{}/{population}", c.name);
            let rel = EvidenceStore::population_file(&c.name, population);
            let uuid = ids.of(&format!("observation/{name}"));
            observation_of_file.insert(rel.clone(), uuid.clone());
            let prov = provenance.get(&c.name).and_then(|p| {
                p.get("populations")?
                    .as_array()?
                    .iter()
                    .find(|x| x.get("population").and_then(Value::as_str) == Some(population))
                    .cloned()
            });
            let field = |k: &str| {
                prov.as_ref()
                    .and_then(|p| p.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let source = field("source").unwrap_or_else(|| c.collector_type.clone());
            let mut props = vec![
                prop("collector", &c.name),
                prop("collector-type", &c.collector_type),
                prop("records", &count.to_string()),
            ];
            if let Some(kind) = field("kind") {
                props.push(prop("record-kind", &kind));
            }
            let mut evidence = vec![json!({
                "href": format!("../../{rel}"),
                "description": format!("The full population as JSON Lines: {count} record(s)."),
                "props": digests.get(&rel).map(|d| vec![prop("sha256", d)]).unwrap_or_default(),
            })];
            if prov.is_some() {
                evidence.push(json!({
                    "href": format!("../../{}/provenance.json", c.name),
                    "description": "How it was read: every API call, page and count, and the SHA-256 of the raw responses.",
                }));
            }
            let mut description = format!(
                "{count} record(s) collected by {} ({}) from {source}",
                c.name, c.collector_type
            );
            if let Some(base) = field("base_url") {
                description.push_str(&format!(" at {base}"));
            }
            description.push_str(&format!(
                ", {} to {}.",
                time(c.started_at),
                time(c.finished_at)
            ));
            observations.push(json!({
                "uuid": uuid,
                "title": name,
                "description": description,
                "props": props,
                "methods": ["EXAMINE"],
                "types": ["historic"],
                "origins": [{"actors": [{"type": "tool", "actor-uuid": ids.of("tool")}]}],
                "subjects": [{
                    "subject-uuid": ids.of(&format!("subject/{name}")),
                    "type": "resource",
                    "title": format!("{name} ({source})"),
                }],
                "relevant-evidence": evidence,
                "collected": time(c.finished_at),
            }));
        }
    }

    let mut oscal_findings = Vec::new();
    let mut occurrences: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut criteria: BTreeSet<String> = BTreeSet::new();
    for f in findings {
        criteria.extend(f.criteria.iter().cloned());
        if !matches!(f.status, FindingStatus::Fail | FindingStatus::Error) {
            continue;
        }
        let n = occurrences
            .entry((f.check_id.clone(), f.subject_id.clone()))
            .or_insert(0);
        *n += 1;
        let Some(target) = f.criteria.first() else {
            continue;
        };
        let related: BTreeSet<&String> = f
            .evidence
            .iter()
            .filter_map(|e| observation_of_file.get(&e.file))
            .collect();
        let mut props = vec![
            prop("check-id", &f.check_id),
            prop("status", &f.status.to_string()),
            prop("criteria", &f.criteria.join(" ")),
        ];
        if !f.subject_id.trim().is_empty() {
            props.push(prop("subject-id", f.subject_id.trim()));
        }
        let (reason, remarks) = match f.status {
            FindingStatus::Fail => ("fail", "The control did not operate as expected."),
            _ => (
                "other",
                "The evidence cannot establish the control (incomplete, outside the source's retention, or unreadable).",
            ),
        };
        let mut finding = json!({
            "uuid": ids.of(&format!("finding/{}/{}/{n}", f.check_id, f.subject_id)),
            "title": format!("{}: {}", f.check_id, f.subject_id),
            "description": f.summary,
            "props": props,
            "target": {
                "type": "objective-id",
                "target-id": target,
                "status": {"state": "not-satisfied", "reason": reason, "remarks": remarks},
            },
        });
        if !related.is_empty() {
            finding["related-observations"] = related
                .into_iter()
                .map(|u| json!({"observation-uuid": u}))
                .collect();
        }
        oscal_findings.push(finding);
    }

    let mut result = json!({
        "uuid": ids.of("result"),
        "title": format!("Automated SOC 2 control tests, {}", manifest.period),
        "description": format!(
            "{} pass, {} fail, {} error and {} not applicable finding(s) from {} check(s) over the evidence collected for the audit period {} (inclusive). Fail and error findings are listed here; findings.jsonl holds every finding.",
            manifest.findings.pass,
            manifest.findings.fail,
            manifest.findings.error,
            manifest.findings.not_applicable,
            findings.iter().map(|f| &f.check_id).collect::<BTreeSet<_>>().len(),
            manifest.period
        ),
        "start": format!("{}T00:00:00Z", manifest.period.start()),
        "local-definitions": {
            "assessment-assets": {
                "assessment-platforms": [{"uuid": ids.of("tool"), "title": tool}],
            },
        },
        "end": format!("{}T23:59:59Z", manifest.period.end()),
        "reviewed-controls": {
            "description": "The Trust Services Criteria (2017, revised points of focus 2022) the checks tested.",
            "control-selections": [if criteria.is_empty() {
                json!({"include-all": {}})
            } else {
                json!({"include-controls": criteria.iter().map(|c| json!({"control-id": c})).collect::<Vec<_>>()})
            }],
        },
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    if !oscal_findings.is_empty() {
        result["findings"] = Value::Array(oscal_findings);
    }
    json!({
        "assessment-results": {
            "uuid": ids.of("assessment-results"),
            "metadata": {
                "title": format!("SOC 2 evidence: {org}, {}", manifest.period),
                "last-modified": time(finished),
                "version": manifest.tool.version,
                "oscal-version": OSCAL_VERSION,
                "parties": [{"uuid": ids.of("party/organization"), "type": "organization", "name": org}],
            },
            "import-ap": {
                "href": "../../config.json",
                "remarks": "There is no OSCAL assessment plan: the plan is the run's config and the checks it names.",
            },
            "results": [result],
        }
    })
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "ns": NS, "value": value})
}

/// Name-based UUIDs scoped to one run: the same run always gives the same ids, two runs never
/// share them.
struct Ids {
    run: Uuid,
}

impl Ids {
    fn for_run(m: &RunManifest) -> Ids {
        let ns = Uuid::new_v5(&Uuid::NAMESPACE_URL, NS.as_bytes());
        let identity = format!(
            "{}|{}|{}|{}",
            m.organization.as_deref().unwrap_or_default(),
            m.period,
            m.started_at.to_rfc3339(),
            m.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        );
        Ids {
            run: Uuid::new_v5(&ns, identity.as_bytes()),
        }
    }

    fn of(&self, what: &str) -> String {
        Uuid::new_v5(&self.run, what.as_bytes()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        crate::sample::write_example_run(dir.path()).unwrap();
        let lines = [
            r#"{"check_id":"hr.onboarded","criteria":["CC1.4","CC6.2"],"status":"fail","subject_id":"bob","summary":"bob has no signed policy","evidence":[{"file":"hr/people.jsonl","subject_id":"bob"}]}"#,
            r#"{"check_id":"hr.onboarded","criteria":["CC1.4"],"status":"error","subject_id":"carol","summary":"carol's record is incomplete"}"#,
            r#"{"check_id":"hr.onboarded","criteria":["CC1.4"],"status":"pass","subject_id":"alice","summary":"ok"}"#,
            r#"{"check_id":"hr.terminated","criteria":["CC6.3"],"status":"not_applicable","subject_id":"hr","summary":"no leavers"}"#,
        ];
        std::fs::write(dir.path().join("findings.jsonl"), lines.join("\n") + "\n").unwrap();
        dir
    }

    #[test]
    fn one_finding_per_fail_or_error_targeting_its_criterion() {
        let dir = run();
        let doc = assessment_results(dir.path()).unwrap();
        let result = &doc["assessment-results"]["results"][0];
        let findings = result["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0]["target"]["target-id"], "CC1.4");
        assert_eq!(findings[0]["target"]["status"]["state"], "not-satisfied");
        assert_eq!(findings[0]["target"]["status"]["reason"], "fail");
        assert_eq!(findings[1]["target"]["status"]["reason"], "other");
        let obs = &result["observations"][0];
        assert_eq!(obs["title"], "hr/people");
        assert_eq!(
            findings[0]["related-observations"][0]["observation-uuid"],
            obs["uuid"]
        );
        let controls: Vec<&str> = result["reviewed-controls"]["control-selections"][0]
            ["include-controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["control-id"].as_str().unwrap())
            .collect();
        assert_eq!(controls, ["CC1.4", "CC6.2", "CC6.3"]);
    }

    #[test]
    fn the_same_run_gives_the_same_document_and_every_uuid_is_distinct() {
        let dir = run();
        let a = serde_json::to_string(&assessment_results(dir.path()).unwrap()).unwrap();
        let b = serde_json::to_string(&assessment_results(dir.path()).unwrap()).unwrap();
        assert_eq!(a, b);
        let mut uuids = Vec::new();
        collect_uuids(&serde_json::from_str(&a).unwrap(), &mut uuids);
        let distinct: BTreeSet<&String> = uuids.iter().collect();
        // Every `uuid` defines something; references use other keys (`actor-uuid`...).
        assert!(uuids.len() > 5);
        assert_eq!(distinct.len(), uuids.len(), "{uuids:?}");
        let text = a;
        assert!(!text.contains("00000000-0000"), "{text}");
    }

    fn collect_uuids(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "uuid" {
                        out.push(x.as_str().unwrap().to_string());
                    }
                    collect_uuids(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect_uuids(x, out)),
            _ => {}
        }
    }
}
