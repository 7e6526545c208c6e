//! The conformance suite itself: a well-behaved toy HTTP module passes it, and modules that
//! break each rule are caught, so the suite is a test that can fail.
#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use soc2_evidence_core::http::{Auth, HttpClient, LinkPager, RetryPolicy};
use soc2_evidence_core::testing::Conformance;
use soc2_evidence_core::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Debug, Serialize, Deserialize)]
struct Device {
    serial: String,
    encrypted: bool,
}
impl Evidence for Device {
    const KIND: &'static str = "toy.device";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1"];
    fn subject_id(&self) -> String {
        self.serial.clone()
    }
}
const DEVICES: Population<Device> = Population::state("devices", "Toy MDM API");

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToyConfig {
    base_url: String,
    token_env: String,
    timeout_secs: u64,
    /// Which rule this toy breaks on purpose.
    #[serde(default)]
    flaw: Option<String>,
}

struct ToyCollector {
    name: String,
    client: HttpClient,
    flaw: Option<String>,
}

#[async_trait]
impl Collector for ToyCollector {
    fn name(&self) -> &str {
        &self.name
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut devices = sink.open(&DEVICES)?;
        let mut pager = LinkPager::new("/devices", &[("limit", "1")]);
        while let Some(page) = pager.next_page(&self.client, devices.provenance()).await? {
            let items: Vec<Device> = page.json()?;
            devices
                .provenance()
                .received("/devices", items.len() as u64);
            for d in &items {
                devices.emit(d)?;
            }
        }
        if self.flaw.as_deref() == Some("leak") {
            let mut d = Device {
                serial: std::env::var("TOY_LEAK").unwrap_or_default(),
                encrypted: true,
            };
            d.serial.push_str("-x");
            devices.emit(&d)?;
        }
        devices.finish()?;
        Ok(())
    }
}

struct Encrypted {
    instance: String,
    flaw: Option<String>,
}
impl Check for Encrypted {
    fn id(&self) -> &str {
        if self.flaw.as_deref() == Some("bad-id") {
            "encrypted"
        } else {
            "toy.encrypted"
        }
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "Every device's disk is encrypted."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let at = DEVICES.at(&self.instance);
        let devices = match store.records_all(&at) {
            Ok(d) => d,
            Err(e) if self.flaw.as_deref() == Some("silent") => {
                let _ = e;
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        if devices.is_empty() {
            if self.flaw.as_deref() == Some("silent") {
                return Ok(vec![Finding::new(
                    self.id(),
                    self.criteria(),
                    FindingStatus::Pass,
                    "fleet",
                    "0 of 0 devices unencrypted",
                )]);
            }
            return Ok(vec![Finding::new(
                self.id(),
                self.criteria(),
                FindingStatus::NotApplicable,
                "fleet",
                "no devices in the fleet",
            )]);
        }
        Ok(devices
            .iter()
            .map(|d| {
                let status = if d.encrypted {
                    FindingStatus::Pass
                } else {
                    FindingStatus::Fail
                };
                Finding::new(
                    self.id(),
                    self.criteria(),
                    status,
                    &d.serial,
                    "disk encryption",
                )
                .with_evidence(at.evidence(&d.serial))
            })
            .collect())
    }
}

struct Toy;
impl Module for Toy {
    type Config = ToyConfig;
    const TYPE: &'static str = "toy";
    fn version(&self) -> &'static str {
        "0.0.1"
    }
    fn populations(&self, _: &ToyConfig) -> Vec<PopulationSpec> {
        vec![DEVICES.spec()]
    }
    fn collector(
        &self,
        c: &ToyConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        let token = ctx.require_secret(&c.token_env, "toy token")?;
        let client = HttpClient::builder(&c.base_url)
            .auth(Auth::Bearer(token))
            .timeout(Duration::from_secs(c.timeout_secs))
            .retry(RetryPolicy {
                max_retries: 1,
                initial_backoff: Duration::from_millis(10),
                ..RetryPolicy::default()
            })
            .build()
            .map_err(|e| ctx.invalid("base_url", e.to_string()))?;
        Ok(Box::new(ToyCollector {
            name: ctx.instance().to_string(),
            client,
            flaw: c.flaw.clone(),
        }))
    }
    fn checks(&self, c: &ToyConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        vec![Box::new(Encrypted {
            instance: ctx.instance().to_string(),
            flaw: c.flaw.clone(),
        })]
    }
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    for (cursor, next, serial) in [
        ("", Some("b"), "A1"),
        ("b", Some("c"), "B2"),
        ("c", None, "C3"),
    ] {
        let mut t = ResponseTemplate::new(200).set_body_json(serde_json::json!([
            {"serial": serial, "encrypted": serial != "B2"}
        ]));
        if let Some(n) = next {
            t = t.append_header(
                "link",
                format!("<{}/devices?limit=1&after={n}>; rel=\"next\"", server.uri()).as_str(),
            );
        }
        let m = Mock::given(method("GET")).and(path("/devices"));
        let m = if cursor.is_empty() {
            m.and(wiremock::matchers::query_param_is_missing("after"))
        } else {
            m.and(query_param("after", cursor))
        };
        m.respond_with(t).mount(&server).await;
    }
    server
}

async fn suite(flaw: Option<&str>) -> testing::ConformanceReport {
    let server = server().await;
    let flaw = flaw.map(str::to_string);
    Conformance::new(Registry::new().with(Toy), "toy", "2026-01-01..2026-06-30")
        .http_upstream(&server.uri())
        .secret("TOY_TOKEN", "canary-toy-token-51")
        .config(move |env| {
            let mut c = format!(
                "[toy]\nbase_url = {:?}\ntoken_env = \"TOY_TOKEN\"\ntimeout_secs = {}\n",
                env.base_url, env.timeout_secs
            );
            if let Some(f) = &flaw {
                c.push_str(&format!("flaw = {f:?}\n"));
            }
            c
        })
        .run()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_behaved_module_passes() {
    let report = suite(None).await;
    report.assert_ok();
    let all = report.scenarios.join("; ");
    for s in [
        "happy path",
        "HTTP 500",
        "HTTP 401",
        "a hang",
        "a truncated body",
        "cancellation",
        "checks on empty populations",
        "checks on missing populations",
    ] {
        assert!(all.contains(s), "scenario {s} ran: {all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vacuous_pass_and_a_swallowed_error_are_caught() {
    let report = suite(Some("silent")).await;
    let all = report.problems.join("\n");
    assert!(
        all.contains("toy.encrypted on empty populations: `pass`"),
        "{all}"
    );
    // Its pass over missing populations never reaches an auditor: the runner turns a pass
    // over a population that is not whole into an error.
    assert!(
        !all.contains("toy.encrypted on missing populations: `pass`"),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unnamespaced_check_id_is_caught() {
    let report = suite(Some("bad-id")).await;
    let all = report.problems.join("\n");
    assert!(
        all.contains("\"encrypted\" is not namespaced as toy."),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaked_secret_is_caught() {
    // The flawed collector copies the secret into a record, as a careless one might; only
    // this test's collector reads the variable.
    std::env::set_var("TOY_LEAK", "canary-toy-token-51");
    let report = suite(Some("leak")).await;
    let all = report.problems.join("\n");
    assert!(all.contains("the value of TOY_TOKEN appears in"), "{all}");
}
