//! The runner: failure isolation, cancellation, checks and the run directory contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use soc2_evidence_core::*;

#[derive(Serialize, Deserialize)]
struct Item {
    id: String,
    ok: bool,
}
impl Evidence for Item {
    const KIND: &'static str = "test.item";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC4.1"];
    fn subject_id(&self) -> String {
        self.id.clone()
    }
}
const ITEMS: Population<Item> = Population::state("items", "test");

struct Good;
#[async_trait]
impl Collector for Good {
    fn name(&self) -> &str {
        "good"
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut items = sink.open(&ITEMS)?;
        items.emit(&Item {
            id: "a".into(),
            ok: true,
        })?;
        items.emit(&Item {
            id: "b".into(),
            ok: false,
        })?;
        items.finish()?;
        Ok(())
    }
}

struct Broken;
#[async_trait]
impl Collector for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        sink.open(&ITEMS)?.emit(&Item {
            id: "x".into(),
            ok: true,
        })?;
        Err(CollectError::Source(
            "the API returned a page with no items key".into(),
        ))
    }
}

/// Writes part a and fails on part b; `true` names the missing part, `false` does not.
struct HalfDone(bool);
#[async_trait]
impl Collector for HalfDone {
    fn name(&self) -> &str {
        "halfdone"
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut items = sink.open(&ITEMS)?;
        items.emit(&Item {
            id: "a/ok-part".into(),
            ok: true,
        })?;
        if self.0 {
            items.finish_incomplete_for(&["b".to_string()], "part b could not be read")?;
        } else {
            items.finish_incomplete("part b could not be read")?;
        }
        Err(CollectError::PartlyFailed(
            "part b could not be read".into(),
        ))
    }
}

struct Panics;
#[async_trait]
impl Collector for Panics {
    fn name(&self) -> &str {
        "panics"
    }
    async fn collect(
        &self,
        _: &CollectContext,
        _: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        panic!("bug in a plugin")
    }
}

struct Slow;
#[async_trait]
impl Collector for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut items = sink.open(&ITEMS)?;
        items.emit(&Item {
            id: "s".into(),
            ok: true,
        })?;
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(())
    }
}

struct ItemsOk(&'static str);
impl Check for ItemsOk {
    fn id(&self) -> &str {
        "test.items_ok"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC4.1"]
    }
    fn description(&self) -> &str {
        "every item is ok"
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut out = Vec::new();
        for r in store.read::<Item>(self.0, "items")? {
            let r = r?;
            let status = if r.data.ok {
                FindingStatus::Pass
            } else {
                FindingStatus::Fail
            };
            out.push(Finding::new(
                self.id(),
                self.criteria(),
                status,
                r.subject_id,
                "item state",
            ));
        }
        Ok(out)
    }
}

fn period() -> AuditPeriod {
    "2026-01-01..2026-06-30".parse().unwrap()
}

#[tokio::test]
async fn one_failing_collector_does_not_lose_the_others_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = Runner::new()
        .organization("Acme")
        .collector(Box::new(Good))
        .collector(Box::new(Broken))
        .collector(Box::new(Panics))
        .check(Box::new(ItemsOk("good")))
        .check(Box::new(ItemsOk("broken")))
        .run(period(), &out)
        .await
        .unwrap();

    assert_eq!(m.status, RunStatus::Complete);
    assert!(!m.all_collectors_ok());
    let good = m.collector("good").unwrap();
    assert_eq!(good.status, CollectorStatus::Ok);
    assert_eq!(good.records["items"], 2);
    let broken = m.collector("broken").unwrap();
    assert_eq!(broken.status, CollectorStatus::Failed);
    assert!(broken.error.as_deref().unwrap().contains("no items key"));
    let panics = m.collector("panics").unwrap();
    assert!(panics.error.as_deref().unwrap().contains("bug in a plugin"));

    assert_eq!(
        fs::read_to_string(out.join("good/items.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    assert!(out.join("broken/items.jsonl.partial").exists());
    assert!(!out.join("broken/items.jsonl").exists());

    // The check over the failed collector's evidence is an error finding, not a silent pass.
    let findings: Vec<Finding> = fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), 3);
    assert_eq!(m.findings.pass, 1);
    assert_eq!(m.findings.fail, 1);
    assert_eq!(m.findings.error, 1);
    let err = findings
        .iter()
        .find(|f| f.status == FindingStatus::Error)
        .unwrap();
    assert!(
        err.summary.contains("broken/items.jsonl"),
        "{}",
        err.summary
    );
    assert!(err.summary.contains("did not complete"), "{}", err.summary);

    let on_disk: RunManifest =
        serde_json::from_slice(&fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(on_disk, m);
    assert_eq!(on_disk.organization.as_deref(), Some("Acme"));
}

#[tokio::test]
async fn cancellation_never_leaves_a_complete_looking_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        c2.cancel();
    });
    let err = Runner::new()
        .collector(Box::new(Good))
        .collector(Box::new(Slow))
        .cancel_token(cancel)
        .run(period(), &out)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Interrupted(_)), "{err}");
    let m: RunManifest = serde_json::from_slice(&fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(m.status, RunStatus::Interrupted);
    assert_eq!(
        m.collector("slow").unwrap().status,
        CollectorStatus::Cancelled
    );
    assert!(out.join("slow/items.jsonl.partial").exists());
    assert!(!out.join("findings.jsonl").exists());
    // Ctrl-C no longer drops the unfinished population's provenance.
    let prov: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("slow/provenance.json")).unwrap()).unwrap();
    let items = &prov["populations"][0];
    assert_eq!(items["complete"], false);
    assert_eq!(items["records_written"], 1);
    assert!(
        items["notes"][0].as_str().unwrap().contains("cancelled"),
        "{items}"
    );
}

#[tokio::test]
async fn refuses_a_non_empty_output_directory_and_duplicate_names() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("keep.txt"), "earlier evidence").unwrap();
    let err = Runner::new()
        .collector(Box::new(Good))
        .run(period(), tmp.path())
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::OutputNotEmpty(_)), "{err}");
    assert_eq!(
        fs::read_to_string(tmp.path().join("keep.txt")).unwrap(),
        "earlier evidence"
    );

    let err = Runner::new()
        .collector(Box::new(Good))
        .collector(Box::new(Good))
        .run(period(), &tmp.path().join("new"))
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::DuplicateCollector(_)), "{err}");
}

#[tokio::test]
async fn checks_rerun_over_a_stored_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    Runner::new()
        .collector(Box::new(Good))
        .run(period(), &out)
        .await
        .unwrap();
    let store = EvidenceStore::open(&out).unwrap();
    let checks = vec![InstanceChecks {
        id: InstanceId {
            type_name: "good".into(),
            name: "good".into(),
        },
        checks: vec![Box::new(ItemsOk("good"))],
    }];
    let counts = write_findings(&store, &checks).unwrap();
    assert_eq!((counts.pass, counts.fail), (1, 1));

    // A corrupted line is reported with its file and line number.
    let path = out.join("good/items.jsonl");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{not json\n");
    fs::write(&path, text).unwrap();
    let findings = run_checks(&store, &checks);
    let e = findings
        .iter()
        .find(|f| f.status == FindingStatus::Error)
        .unwrap();
    assert!(e.summary.contains("items.jsonl:3"), "{}", e.summary);
}

#[tokio::test]
async fn a_partly_failed_collector_is_failed_but_keeps_whole_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = Runner::new()
        .collector(Box::new(HalfDone(true)))
        .check(Box::new(ItemsOk("halfdone")))
        .run(period(), &out)
        .await
        .unwrap();
    let c = m.collector("halfdone").unwrap();
    assert_eq!(c.status, CollectorStatus::Failed);
    assert_eq!(c.error.as_deref(), Some("part b could not be read"));
    assert!(!m.all_collectors_ok());
    assert!(out.join("halfdone/items.jsonl").exists());
    assert_eq!(
        m.findings.pass, 1,
        "the part outside the missing scope is judged as usual"
    );
    let prov: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("halfdone/provenance.json")).unwrap()).unwrap();
    assert_eq!(prov["populations"][0]["complete"], false);
    assert_eq!(prov["populations"][0]["incomplete_scopes"][0], "b");
}

#[tokio::test]
async fn an_incomplete_population_never_yields_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = Runner::new()
        .collector(Box::new(HalfDone(false)))
        .check(Box::new(ItemsOk("halfdone")))
        .run(period(), &out)
        .await
        .unwrap();
    assert_eq!((m.findings.pass, m.findings.error), (0, 1));
    let findings = fs::read_to_string(out.join("findings.jsonl")).unwrap();
    assert!(
        findings.contains(
            "cannot establish: halfdone/items.jsonl is incomplete (part b could not be read)"
        ),
        "{findings}"
    );
}
