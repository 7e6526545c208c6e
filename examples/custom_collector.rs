//! A custom collector written in Rust and run through the runner: it pages through a
//! (local, fake) MDM API with the HTTP toolkit, emits typed `mdm.laptop` records with
//! provenance, and a check tests that every laptop's disk is encrypted.
//!
//! `cargo run --example custom_collector`

use std::time::Duration;

use serde::{Deserialize, Serialize};
use soc2_evidence::core::http::{Auth, HttpClient, LinkPager, RetryPolicy, Secret};
use soc2_evidence::core::{
    async_trait, Check, CheckError, CollectContext, CollectError, Collector, Evidence, EvidenceRef,
    EvidenceSink, EvidenceSinkExt, EvidenceStore, Finding, FindingStatus, ProvenanceRecorder,
    Runner,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// One managed laptop, as the audit needs it.
#[derive(Debug, Serialize, Deserialize)]
struct Laptop {
    serial: String,
    owner: String,
    disk_encrypted: bool,
    os_version: String,
}

impl Evidence for Laptop {
    const KIND: &'static str = "mdm.laptop";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.7"];
    fn subject_id(&self) -> String {
        self.serial.clone()
    }
}

/// The collector: base URL and token come from wherever the embedding program keeps them.
struct MdmCollector {
    client: HttpClient,
}

#[async_trait]
impl Collector for MdmCollector {
    fn name(&self) -> &str {
        "mdm"
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut rec =
            ProvenanceRecorder::new("laptops", Laptop::KIND, "Example MDM API", "mdm", "1.0.0");
        rec.base_url(self.client.base_url().as_str())
            .criteria(Laptop::CRITERIA);
        // The toolkit follows `Link: <…>; rel="next"`, retries 429/5xx with backoff, and
        // hashes every raw body into the provenance.
        let mut pager = LinkPager::new("/api/devices", &[("per_page", "2")]);
        while let Some(page) = pager.next_page(&self.client, &mut rec).await? {
            ctx.check_cancelled()?;
            let laptops: Vec<Laptop> = page.json()?;
            rec.received("/api/devices", laptops.len() as u64);
            for laptop in &laptops {
                sink.emit("laptops", laptop)?;
            }
        }
        sink.provenance(rec.finish(true))?;
        Ok(())
    }
}

/// The control test: every laptop has full-disk encryption.
struct DiskEncryption;

impl Check for DiskEncryption {
    fn id(&self) -> &str {
        "mdm.disk_encryption"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.7"]
    }
    fn description(&self) -> &str {
        "Every managed laptop has full-disk encryption enabled."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut findings = Vec::new();
        for record in store.read::<Laptop>("mdm", "laptops")? {
            let laptop = record?.data;
            let (status, summary) = if laptop.disk_encrypted {
                (
                    FindingStatus::Pass,
                    format!("{}'s laptop is encrypted", laptop.owner),
                )
            } else {
                (
                    FindingStatus::Fail,
                    format!("{}'s laptop has no disk encryption", laptop.owner),
                )
            };
            findings.push(
                Finding::new(self.id(), self.criteria(), status, &laptop.serial, summary)
                    .with_evidence(EvidenceRef::record("mdm/laptops.jsonl", &laptop.serial)),
            );
        }
        Ok(findings)
    }
}

/// A stand-in for the MDM vendor's API: two pages joined by a `Link` header.
async fn fake_mdm() -> MockServer {
    let server = MockServer::start().await;
    let next = format!(
        "<{}/api/devices?per_page=2&cursor=p2>; rel=\"next\"",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/api/devices"))
        .and(query_param("cursor", "p2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([
            {"serial": "C02ZK3", "owner": "dev@acme.example", "disk_encrypted": false, "os_version": "14.6"}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/devices"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", next.as_str())
                .set_body_json(serde_json::json!([
                    {"serial": "C02XL1", "owner": "alice@acme.example", "disk_encrypted": true, "os_version": "15.1"},
                    {"serial": "C02YM2", "owner": "bob@acme.example", "disk_encrypted": true, "os_version": "15.1"}
                ])),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = fake_mdm().await;
    let client = HttpClient::builder(&server.uri())
        .auth(Auth::Bearer(Secret::new("mdm-token-from-your-vault")))
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy::default())
        .build()?;

    let out = tempfile::tempdir()?;
    let run_dir = out.path().join("run");
    let manifest = Runner::new()
        .organization("Acme Corp")
        .collector(Box::new(MdmCollector { client }))
        .check(Box::new(DiskEncryption))
        .run("2026-01-01..2026-06-30".parse()?, &run_dir)
        .await?;

    let mdm = manifest
        .collector("mdm")
        .ok_or("mdm collector missing from run.json")?;
    println!("collector mdm: {:?}, records {:?}", mdm.status, mdm.records);
    println!(
        "findings: {} pass, {} fail",
        manifest.findings.pass, manifest.findings.fail
    );
    for line in std::fs::read_to_string(run_dir.join("findings.jsonl"))?.lines() {
        let f: Finding = serde_json::from_str(line)?;
        println!("  {:<5} {:<8} {}", f.status, f.subject_id, f.summary);
    }
    if manifest.findings.fail != 1 || mdm.records.get("laptops") != Some(&3) {
        return Err("unexpected result: expected 3 laptops and 1 failing finding".into());
    }
    Ok(())
}
