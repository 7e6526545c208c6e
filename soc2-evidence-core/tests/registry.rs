//! The registry: config sections per module, named instances, the effective config, and
//! findings prefixed by instance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};
use soc2_evidence_core::*;

#[derive(Serialize, Deserialize)]
struct Host {
    name: String,
    patched: bool,
}
impl Evidence for Host {
    const KIND: &'static str = "inv.host";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC7.1"];
    fn subject_id(&self) -> String {
        self.name.clone()
    }
}
const HOSTS: Population<Host> = Population::state("hosts", "inventory");
const EXTRA: Population<Host> = Population::state("extra", "inventory");

fn default_limit() -> u32 {
    3
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvConfig {
    hosts: Vec<String>,
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(default)]
    skip_extra: bool,
    token_env: Option<String>,
}

struct Inv {
    name: String,
    config: InvConfig,
}

#[async_trait]
impl Collector for Inv {
    fn name(&self) -> &str {
        &self.name
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut hosts = sink.open(&HOSTS)?;
        for h in &self.config.hosts {
            hosts.emit(&Host {
                name: h.clone(),
                patched: h.len() as u32 <= self.config.limit,
            })?;
        }
        hosts.finish()?;
        if !self.config.skip_extra {
            sink.open(&EXTRA)?.finish()?;
        }
        Ok(())
    }
}

struct Patched {
    instance: String,
    limit: u32,
}
impl Check for Patched {
    fn id(&self) -> &str {
        "inv.patched"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC7.1"]
    }
    fn description(&self) -> &str {
        "hosts are patched"
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let at = HOSTS.at(&self.instance);
        Ok(store
            .records_all(&at)?
            .iter()
            .map(|h| {
                let status = if h.patched {
                    FindingStatus::Pass
                } else {
                    FindingStatus::Fail
                };
                Finding::new(
                    self.id(),
                    self.criteria(),
                    status,
                    &h.name,
                    format!("limit {}", self.limit),
                )
                .with_evidence(at.evidence(&h.name))
            })
            .collect())
    }
}

struct InvModule;
impl Module for InvModule {
    type Config = InvConfig;
    const TYPE: &'static str = "inv";
    fn version(&self) -> &'static str {
        "2.0.0"
    }
    fn populations(&self, _: &InvConfig) -> Vec<PopulationSpec> {
        vec![HOSTS.spec(), EXTRA.spec()]
    }
    fn validate(&self, c: &InvConfig, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        if c.limit == 0 {
            return Err(ctx.invalid("limit", "must be at least 1"));
        }
        Ok(())
    }
    fn collector(
        &self,
        c: &InvConfig,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError> {
        if let Some(var) = &c.token_env {
            ctx.require_secret(var, "inventory token")?;
        }
        Ok(Box::new(Inv {
            name: ctx.instance().to_string(),
            config: c.clone(),
        }))
    }
    fn checks(&self, c: &InvConfig, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        vec![Box::new(Patched {
            instance: ctx.instance().to_string(),
            limit: c.limit,
        })]
    }
}

fn registry() -> Registry {
    Registry::new().with(InvModule)
}

fn parse(text: &str) -> Result<RunConfig, ConfigError> {
    registry().parse_config(text, "soc2.toml", Path::new("."))
}

#[test]
fn config_errors_name_the_section_and_key() {
    let e = parse("[invv]\nhosts = []\n").unwrap_err().to_string();
    assert!(
        e.contains("[invv]") && e.contains("known: organization, ledger, bundle, inv"),
        "{e}"
    );
    let e = parse("[inv]\nhosts = []\nlimti = 2\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("limti") && e.contains("soc2.toml") && e.contains("[inv]"),
        "{e}"
    );
    let e = parse("[[inv]]\nname = \"eu\"\nhosts = []\nlimit = 0\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("inv \"eu\"") && e.contains("limit"), "{e}");
    let e = parse("[[inv]]\nname = \"EU!\"\nhosts = []\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("name") && e.contains("EU!"), "{e}");
    let e = parse("[[inv]]\nname = \"report\"\nhosts = []\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("reserved"), "{e}");
    let e = parse("[[inv]]\nhosts = []\n[[inv]]\nhosts = []\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("own `name`"), "{e}");
    let e = parse("inv = 3\n").unwrap_err().to_string();
    assert!(e.contains("must be a table"), "{e}");
}

#[test]
fn a_missing_secret_names_the_variable_and_the_instance() {
    let config =
        parse("[[inv]]\nname = \"eu\"\nhosts = []\ntoken_env = \"INV_TOKEN_UNSET\"\n").unwrap();
    let e = Runner::from_config(&config, &MapSecrets::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("INV_TOKEN_UNSET") && e.contains("inv \"eu\""),
        "{e}"
    );
    assert!(Runner::from_config(
        &config,
        &MapSecrets::default().with("INV_TOKEN_UNSET", "s3cret")
    )
    .is_ok());
}

#[tokio::test]
async fn instances_write_their_own_directories_and_prefix_their_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let config = parse(
        "[[inv]]\nhosts = [\"db\", \"webserver\"]\n\n[[inv]]\nname = \"eu\"\nhosts = [\"eu-db\"]\nlimit = 9\n",
    )
    .unwrap();
    let m = Runner::from_config(&config, &EnvSecrets)
        .unwrap()
        .run("2026-01-01..2026-06-30".parse().unwrap(), &out)
        .await
        .unwrap();
    assert!(m.all_collectors_ok(), "{:?}", m.collectors);
    assert_eq!(m.collectors[1].name, "eu");
    assert_eq!(m.collectors[1].collector_type, "inv");
    assert!(out.join("inv/hosts.jsonl").exists() && out.join("eu/hosts.jsonl").exists());
    let findings: Vec<Finding> = fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let subjects: Vec<&str> = findings.iter().map(|f| f.subject_id.as_str()).collect();
    assert_eq!(subjects, ["db", "webserver", "eu:eu-db"]);
    assert_eq!(findings[2].evidence[0].file, "eu/hosts.jsonl");
    assert_eq!(findings[2].summary, "limit 9");
    let prov: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("eu/provenance.json")).unwrap()).unwrap();
    assert_eq!(prov["populations"][0]["collector"], "eu");
    assert_eq!(prov["populations"][0]["collector_version"], "2.0.0");
    assert_eq!(prov["populations"][0]["mode"], "state");
}

#[tokio::test]
async fn the_effective_config_reproduces_the_checks_with_their_thresholds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let config =
        parse("[inv]\nhosts = [\"a\", \"abcdef\"]\nlimit = 5\ntoken_env = \"INV_T\"\n").unwrap();
    Runner::from_config(
        &config,
        &MapSecrets::default().with("INV_T", "canary-inv-9"),
    )
    .unwrap()
    .run("2026-01-01..2026-06-30".parse().unwrap(), &out)
    .await
    .unwrap();
    let saved = fs::read_to_string(out.join(EFFECTIVE_CONFIG_FILE)).unwrap();
    assert!(
        saved.contains("\"limit\": 5") && saved.contains("INV_T"),
        "{saved}"
    );
    assert!(
        !saved.contains("canary-inv-9"),
        "no secret in the saved config"
    );
    let before = fs::read(out.join("findings.jsonl")).unwrap();
    let again = registry().load_effective(&out).unwrap();
    let store = EvidenceStore::open(&out).unwrap();
    write_findings(&store, &again.checks()).unwrap();
    assert_eq!(fs::read(out.join("findings.jsonl")).unwrap(), before);
    let e = Registry::new()
        .load_effective(&out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"inv\"") && e.contains("does not have"), "{e}");
}

#[tokio::test]
async fn a_declared_population_left_unwritten_fails_the_collector() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let config = parse("[inv]\nhosts = [\"a\"]\nskip_extra = true\n").unwrap();
    let m = Runner::from_config(&config, &EnvSecrets)
        .unwrap()
        .run("2026-01-01..2026-06-30".parse().unwrap(), &out)
        .await
        .unwrap();
    let c = m.collector("inv").unwrap();
    assert_eq!(c.status, CollectorStatus::Failed);
    assert!(
        c.error.as_deref().unwrap().contains("extra"),
        "{:?}",
        c.error
    );
    let prov: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("inv/provenance.json")).unwrap()).unwrap();
    let extra = &prov["populations"][1];
    assert_eq!(extra["population"], "extra");
    assert_eq!(extra["complete"], false);
    assert!(
        extra["notes"][0].as_str().unwrap().contains("never opened"),
        "{extra}"
    );
}
