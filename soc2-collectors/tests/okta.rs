//! The Okta collector and its checks, end to end through the runner, against the sample Okta
//! server (`soc2_sample::okta`) and narrower mocks mounted over it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use soc2_collectors::okta::{self, OktaCheckSettings, OktaConfig};
use soc2_evidence_core::http::Secret;
use soc2_evidence_core::{
    run_checks, CollectorStatus, ConfigError, EnvSecrets, EvidenceStore, MapSecrets, RunConfig,
    RunManifest, Runner,
};
use soc2_sample::okta as sample;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

/// Every test binary pins the same instant (2026-07-01T00:00:00Z, the day after the sample
/// period; what the demo replays): "now" decides the Okta System Log's 90-day window.
fn pin_clock() {
    soc2_evidence_core::clock::set_override("2026-07-01T00:00:00Z".parse().unwrap())
        .expect("every test pins the same instant");
}

const PERIOD: &str = "2026-01-01..2026-06-30";
/// The token's environment variable in these tests' configs.
const TOKEN_ENV: &str = "SOC2_TEST_OKTA_TOKEN";

/// An `[okta]` section as a user writes it, for the org at `base_url`; `extra` adds keys.
fn section(base_url: &str, extra: &str) -> String {
    format!(
        "[okta]\nbase_url = {base_url:?}\ntoken_env = {TOKEN_ENV:?}\n\
         profile_attributes = [\"title\", \"employeeNumber\"]\n{extra}\n"
    )
}

fn parse(toml: &str) -> Result<RunConfig, ConfigError> {
    soc2_collectors::registry().parse_config(toml, "soc2.toml", Path::new("."))
}

/// Collects and checks through the registry, as `soc2-evidence collect` does, with the
/// token handed over in a map instead of the environment.
async fn run_config(toml: &str, secrets: &MapSecrets, out: &Path) -> RunManifest {
    Runner::from_config(&parse(toml).unwrap(), secrets)
        .unwrap()
        .run(PERIOD.parse().unwrap(), out)
        .await
        .unwrap()
}

async fn run(base_url: &str, token: &str, out: &Path) -> RunManifest {
    run_with(base_url, token, "", out).await
}

async fn run_with(base_url: &str, token: &str, extra: &str, out: &Path) -> RunManifest {
    let secrets = MapSecrets::default().with(TOKEN_ENV, token);
    run_config(&section(base_url, extra), &secrets, out).await
}

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn population(out: &Path, name: &str) -> Vec<Value> {
    lines(&out.join(format!("okta/{name}.jsonl")))
}

fn provenance(out: &Path, name: &str) -> Value {
    let doc: Value =
        serde_json::from_slice(&fs::read(out.join("okta/provenance.json")).unwrap()).unwrap();
    doc["populations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["population"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no provenance for {name}"))
}

fn endpoint<'a>(prov: &'a Value, label: &str) -> &'a Value {
    prov["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["endpoint"] == label)
        .unwrap_or_else(|| panic!("no endpoint {label} in {prov:#}"))
}

/// Every file under the run directory, as text.
fn all_output(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(all_output(&p));
        } else {
            out.push((p.display().to_string(), fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

#[tokio::test]
async fn acme_sample_org_collects_everything_and_finds_exactly_the_planted_failures() {
    pin_clock();
    let okta = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&okta.base_url(), okta.token(), &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Ok, "{:?}", c.error);
    assert_eq!(c.collector_type, "okta");
    assert_eq!(c.name, "okta");

    // Users: 10 listed unfiltered over 3 pages of 4, plus 2 only behind the filter.
    let users = population(&out, "users");
    assert_eq!(users.len(), 12);
    let frank = users
        .iter()
        .find(|u| u["data"]["login"] == "frank@acme.example")
        .expect("DEPROVISIONED users are collected");
    assert_eq!(frank["data"]["status"], "DEPROVISIONED");
    assert_eq!(frank["data"]["termination_date"], "2026-03-13");
    assert_eq!(frank["kind"], "okta.user");
    assert_eq!(frank["data"]["profile"]["title"], "Sales team");
    let prov = provenance(&out, "users");
    assert_eq!(prov["complete"], true);
    assert_eq!(prov["mode"], "state");
    assert_eq!(prov["source"], "Okta Management API");
    assert_eq!(prov["base_url"], format!("{}/", okta.base_url()));
    assert_eq!(prov["collector"], "okta");
    assert_eq!(prov["records_received"], 12);
    assert_eq!(prov["records_written"], 12);
    let unfiltered = endpoint(&prov, "/api/v1/users");
    assert_eq!(unfiltered["pages"], 3, "the 429 is retried, not counted");
    assert_eq!(unfiltered["records_received"], 10);
    let deprov = endpoint(&prov, "/api/v1/users?filter=DEPROVISIONED");
    assert_eq!(
        deprov["parameters"]["filter"],
        "status eq \"DEPROVISIONED\""
    );
    assert_eq!(deprov["records_received"], 2);
    assert_eq!(prov["pages"], 4);

    // The one 429 was answered by waiting and retrying the same request.
    let received = okta.server().server().received_requests().await.unwrap();
    let first_pages = received
        .iter()
        .filter(|r| r.url.path() == "/api/v1/users" && r.url.query() == Some("limit=200"))
        .count();
    assert_eq!(first_pages, 2, "429, then the retry");

    // Factors: type/status/dates only.
    let factors = population(&out, "factors");
    assert_eq!(factors.len(), 15);
    let dev_factor = factors
        .iter()
        .find(|f| f["subject_id"] == "00u1dev0000000000004")
        .unwrap();
    assert_eq!(dev_factor["data"]["status"], "PENDING_ACTIVATION");
    let keys: BTreeSet<&str> = dev_factor["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "user_id",
            "factor_id",
            "factor_type",
            "provider",
            "vendor_name",
            "status",
            "created",
            "last_updated"
        ])
    );
    let prov = provenance(&out, "factors");
    assert_eq!(endpoint(&prov, "/api/v1/users/{id}/factors")["pages"], 12);
    assert_eq!(prov["records_received"], 15);

    // Admin roles: direct, and through the group resolved to its members.
    let roles = population(&out, "admin_roles");
    let held: BTreeMap<String, (String, String, Value)> = roles
        .iter()
        .map(|r| {
            let d = &r["data"];
            (
                d["login"].as_str().unwrap().to_string(),
                (
                    d["role_type"].as_str().unwrap().to_string(),
                    d["assignment_type"].as_str().unwrap().to_string(),
                    d["group_name"].clone(),
                ),
            )
        })
        .collect();
    assert_eq!(roles.len(), 3, "{held:?}");
    assert_eq!(
        held["alice@acme.example"],
        ("SUPER_ADMIN".into(), "USER".into(), Value::Null)
    );
    for who in ["bob@acme.example", "carol@acme.example"] {
        assert_eq!(
            held[who],
            ("ORG_ADMIN".into(), "GROUP".into(), "Platform Admins".into())
        );
    }
    let prov = provenance(&out, "admin_roles");
    assert_eq!(
        endpoint(&prov, "/api/v1/iam/assignees/users")["pages"],
        2,
        "assignees page in the body"
    );
    assert_eq!(
        endpoint(&prov, "/api/v1/iam/assignees/users")["records_received"],
        3
    );
    assert_eq!(
        endpoint(&prov, "/api/v1/groups/{id}/users")["records_received"],
        2
    );

    // System Log: bounded query, 3 pages of at most 10, privilege changes kept though the
    // role is gone.
    let events = population(&out, "system_log");
    assert_eq!(events.len(), 24);
    let prov = provenance(&out, "system_log");
    assert_eq!(prov["mode"], "events");
    let logs = endpoint(&prov, "/api/v1/logs");
    assert_eq!(logs["pages"], 3);
    assert_eq!(logs["parameters"]["since"], "2026-01-01T00:00:00.000Z");
    assert_eq!(logs["parameters"]["until"], "2026-07-01T00:00:00.000Z");
    assert!(logs["parameters"]["filter"]
        .as_str()
        .unwrap()
        .contains("eventType eq \"user.account.privilege.revoke\""));
    let jonas: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["targets"][0]["alternate_id"] == "jonas@acme.example")
        .collect();
    assert_eq!(jonas.len(), 2);
    assert_eq!(
        jonas[0]["data"]["privilege_granted"],
        "Help Desk administrator"
    );
    assert_eq!(
        jonas[1]["data"]["privilege_revoked"],
        "Help Desk administrator"
    );

    // Policies with their rules.
    let policies = population(&out, "policies");
    assert_eq!(policies.len(), 4);
    let signon = policies
        .iter()
        .find(|p| p["data"]["type"] == "OKTA_SIGN_ON")
        .unwrap();
    assert_eq!(signon["data"]["rules"].as_array().unwrap().len(), 2);

    // Findings: exactly the planted failures fail; every check also passes someone.
    let findings = lines(&out.join("findings.jsonl"));
    let fails: BTreeSet<(String, String)> = findings
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            (
                f["check_id"].as_str().unwrap().to_string(),
                f["subject_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let planted: BTreeSet<(String, String)> = okta
        .failures()
        .iter()
        .map(|f| (f.check_id.to_string(), f.subject_id.to_string()))
        .collect();
    assert_eq!(fails, planted, "{findings:#?}");
    for check in okta::checks("okta", &OktaCheckSettings::default()) {
        assert!(
            findings
                .iter()
                .any(|f| f["check_id"] == check.id() && f["status"] == "pass"),
            "{} has no passing finding",
            check.id()
        );
    }
    assert!(
        findings.iter().all(|f| f["status"] != "error"),
        "{findings:#?}"
    );
    let frank = findings
        .iter()
        .find(|f| f["check_id"] == "okta.timely_deprovisioning" && f["status"] == "fail")
        .unwrap();
    let summary = frank["summary"].as_str().unwrap();
    assert!(summary.contains("deactivated 2026-03-16"), "{summary}");
    assert!(summary.contains("signed in after termination"), "{summary}");
    assert_eq!(m.findings.fail, 6);

    // `check DIR` rebuilds the same checks from the saved effective config and reproduces
    // the findings exactly.
    let saved = soc2_collectors::registry().load_effective(&out).unwrap();
    let again = run_checks(&EvidenceStore::open(&out).unwrap(), &saved.checks());
    let again: Vec<Value> = again
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect();
    assert_eq!(again, findings);
}

#[tokio::test]
async fn pending_factor_secret_never_reaches_any_output_file() {
    pin_clock();
    let okta = sample::serve(sample::acme(), sample::ServerOptions::default()).await;
    // The fixture does carry the secret, so this test can fail.
    let raw = reqwest_free_get(
        &okta.base_url(),
        "/api/v1/users/00u1dev0000000000004/factors",
    )
    .await;
    assert!(raw.contains(sample::PENDING_TOTP_SECRET) && raw.contains("sharedSecret"));

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&okta.base_url(), okta.token(), &out).await;
    assert_eq!(m.collectors[0].status, CollectorStatus::Ok);
    let files = all_output(&out);
    assert!(files.iter().any(|(p, _)| p.ends_with("okta/factors.jsonl")));
    for (p, text) in &files {
        for needle in [
            sample::PENDING_TOTP_SECRET,
            "sharedSecret",
            "shared_secret",
            "qrcode",
            "/lifecycle/activate",
            "_embedded",
            sample::TOKEN,
        ] {
            assert!(!text.contains(needle), "{p} contains {needle:?}");
        }
    }
}

/// A GET through the toolkit (the tests have no other HTTP client), for checking fixtures.
async fn reqwest_free_get(base: &str, path: &str) -> String {
    let client = soc2_evidence_core::http::HttpClient::builder(base)
        .auth(soc2_evidence_core::http::Auth::Ssws(Secret::new(
            sample::TOKEN,
        )))
        .build()
        .unwrap();
    String::from_utf8(client.get(path, &[]).await.unwrap().body().to_vec()).unwrap()
}

#[tokio::test]
async fn rejected_token_names_the_org_never_the_token() {
    pin_clock();
    let okta = sample::serve(sample::acme(), sample::ServerOptions::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let wrong = "00WrongTokenValue-zzz-91kq";
    let m = run(&okta.base_url(), wrong, &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(err.contains("rejected the API token"), "{err}");
    assert!(err.contains(&okta.base_url()), "{err}");
    assert!(!err.contains(wrong), "{err}");
    for (p, text) in all_output(&out) {
        assert!(!text.contains(wrong), "{p} contains the token");
    }
}

#[tokio::test]
async fn malformed_page_fails_naming_the_endpoint_and_nothing_is_complete() {
    pin_clock();
    let okta = sample::serve(
        sample::acme(),
        sample::ServerOptions {
            users_page: 4,
            ..sample::ServerOptions::default()
        },
    )
    .await;
    // The second page of users is cut off mid-record.
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .and(query_param("after", "00u1dev0000000000004"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"[{"id":"00u1erin000000000005","sta"#, "application/json"),
        )
        .mount(okta.server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&okta.base_url(), okta.token(), &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(err.contains("/api/v1/users"), "{err}");
    assert!(err.contains("could not decode"), "{err}");
    assert!(!out.join("okta/users.jsonl").exists());
    let partial = lines(&out.join("okta/users.jsonl.partial"));
    assert_eq!(partial.len(), 4, "the first page is kept, as partial");
    let doc: Value =
        serde_json::from_slice(&fs::read(out.join("okta/provenance.json")).unwrap()).unwrap();
    assert_eq!(doc["complete"], false);
    for p in doc["populations"].as_array().unwrap() {
        assert_eq!(p["complete"], false, "{}", p["population"]);
    }
    // Checks never read partial evidence: they report errors, not passes.
    let findings = lines(&out.join("findings.jsonl"));
    assert!(
        findings.iter().all(|f| f["status"] == "error"),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn an_empty_log_page_with_a_next_link_ends_paging() {
    pin_clock();
    let okta = sample::serve(sample::acme(), sample::ServerOptions::default()).await;
    let next = format!(
        "{}/api/v1/logs?after=1760000000000_0&limit=1000",
        okta.base_url()
    );
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("[]", "application/json")
                .append_header("link", format!("<{next}>; rel=\"next\"").as_str()),
        )
        .expect(1)
        .mount(okta.server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&okta.base_url(), okta.token(), &out).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    assert!(population(&out, "system_log").is_empty());
    assert_eq!(provenance(&out, "system_log")["pages"], 1);
}

/// A per-family limit of `limit` requests per epoch second, enforced with 429s, with honest
/// `X-Rate-Limit-*` headers: what Okta does.
struct Enforcing {
    limit: u64,
    window: Mutex<BTreeMap<String, (u64, u64)>>,
    throttled: Arc<AtomicU64>,
    served: Arc<AtomicU64>,
}

impl Respond for Enforcing {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let family = req.url.path().rsplit('/').next().unwrap().to_string();
        let used = {
            let mut w = self.window.lock().unwrap();
            let e = w.entry(family.clone()).or_insert((now, 0));
            if e.0 != now {
                *e = (now, 0);
            }
            e.1 += 1;
            e.1
        };
        let headers = |t: ResponseTemplate, remaining: u64| {
            t.insert_header("X-Rate-Limit-Limit", self.limit.to_string().as_str())
                .insert_header("X-Rate-Limit-Remaining", remaining.to_string().as_str())
                .insert_header("X-Rate-Limit-Reset", (now + 1).to_string().as_str())
        };
        if used > self.limit {
            self.throttled.fetch_add(1, Ordering::SeqCst);
            return headers(
                ResponseTemplate::new(429).set_body_raw(
                    r#"{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"oaeTest","errorCauses":[]}"#,
                    "application/json",
                ),
                0,
            );
        }
        self.served.fetch_add(1, Ordering::SeqCst);
        let body = if family == "factors" {
            r#"[{"id":"opf1","factorType":"push","provider":"OKTA","status":"ACTIVE","created":"2025-01-01T00:00:00.000Z","lastUpdated":"2025-01-01T00:00:00.000Z"}]"#
        } else {
            "[]"
        };
        headers(
            ResponseTemplate::new(200)
                .set_body_raw(body, "application/json")
                .set_delay(Duration::from_millis(5)),
            self.limit - used,
        )
    }
}

#[tokio::test]
async fn per_user_calls_slow_down_before_the_rate_limit() {
    pin_clock();
    let okta = sample::serve(sample::synthetic(30), sample::ServerOptions::default()).await;
    let throttled = Arc::new(AtomicU64::new(0));
    let served = Arc::new(AtomicU64::new(0));
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1/users/[^/]+/(factors|roles)$"))
        .respond_with(Enforcing {
            limit: 20,
            window: Mutex::new(BTreeMap::new()),
            throttled: throttled.clone(),
            served: served.clone(),
        })
        .mount(okta.server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run_with(&okta.base_url(), okta.token(), "concurrency = 8", &out).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    assert_eq!(served.load(Ordering::SeqCst), 60);
    assert_eq!(
        throttled.load(Ordering::SeqCst),
        0,
        "the collector ran into the limit instead of slowing before it"
    );
    assert_eq!(population(&out, "factors").len(), 30);
    let notes = provenance(&out, "factors")["notes"].to_string();
    assert!(
        notes.contains("slowed by Okta's rate-limit headers"),
        "{notes}"
    );
}

#[test]
fn config_section_defaults_validation_and_secret_lookup() {
    pin_clock();
    let text = "[okta]\nbase_url = \"https://acme.okta.com\"\n\
                token_env = \"SOC2_TEST_OKTA_TOKEN_UNSET\"\ndormant_days = 60\n";
    let config = parse(text).unwrap();
    assert_eq!(config.instances[0].name(), "okta");
    let section: OktaConfig = toml::from_str(text.trim_start_matches("[okta]\n")).unwrap();
    assert_eq!(section.termination_attribute, "terminationDate");
    assert_eq!(section.concurrency, okta::DEFAULT_CONCURRENCY);
    assert_eq!(section.timeout_secs, 30);
    assert_eq!(
        section.check_settings(),
        OktaCheckSettings {
            dormant_days: 60,
            ..OktaCheckSettings::default()
        }
    );
    assert_eq!(config.checks()[0].checks.len(), 7);
    let err = Runner::from_config(&config, &EnvSecrets)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("SOC2_TEST_OKTA_TOKEN_UNSET"), "{err}");

    // The effective config: every default filled in, the variable's name and never a token.
    let effective: Value = serde_json::from_slice(&config.effective_json().unwrap()).unwrap();
    let saved = &effective["instances"][0]["config"];
    assert_eq!(saved["token_env"], "SOC2_TEST_OKTA_TOKEN_UNSET");
    assert_eq!(saved["dormant_days"], 60);
    assert_eq!(saved["deprovision_within_hours"], 24);
    assert_eq!(saved["page_size"], 200);
    assert_eq!(saved["timeout_secs"], 30);
    assert!(saved.get("name").is_none(), "the framework owns `name`");

    let err = parse("[okta]\nbase_url = \"https://acme.okta.com\"\ndormant_dayz = 3\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("dormant_dayz"), "{err}");

    let bad = |extra: &str| {
        parse(&format!(
            "[okta]\nbase_url = \"https://acme.okta.com\"\n{extra}\n"
        ))
        .unwrap_err()
        .to_string()
    };
    assert!(bad("concurrency = 0").contains("concurrency"));
    assert!(bad("timeout_secs = 0").contains("timeout_secs"));
    assert!(bad("page_size = 500").contains("page_size"));
    let err = parse("[okta]\nbase_url = \"acme.okta.com\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("base_url"), "{err}");
    assert!(err.contains("[okta]"), "{err}");
    assert_eq!(okta::checks("okta", &OktaCheckSettings::default()).len(), 7);
}

#[tokio::test]
async fn two_orgs_write_their_own_directories_and_prefix_their_findings() {
    pin_clock();
    let acme = sample::start().await;
    let other = sample::serve(sample::synthetic(5), sample::ServerOptions::default()).await;
    let toml = format!(
        "[[okta]]\nname = \"okta\"\nbase_url = {:?}\n\
         [[okta]]\nname = \"eu\"\nbase_url = {:?}\ntoken_env = \"EU_OKTA_TOKEN\"\ndormant_days = 30\n",
        acme.base_url(),
        other.base_url()
    );
    let secrets = MapSecrets::default()
        .with("OKTA_API_TOKEN", acme.token())
        .with("EU_OKTA_TOKEN", other.token());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run_config(&toml, &secrets, &out).await;
    let names: Vec<&str> = m.collectors.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["okta", "eu"]);
    for c in &m.collectors {
        assert_eq!(c.status, CollectorStatus::Ok, "{}: {:?}", c.name, c.error);
        assert_eq!(c.collector_type, "okta");
    }
    assert_eq!(lines(&out.join("okta/users.jsonl")).len(), 12);
    assert_eq!(lines(&out.join("eu/users.jsonl")).len(), 5);
    let eu_prov: Value =
        serde_json::from_slice(&fs::read(out.join("eu/provenance.json")).unwrap()).unwrap();
    assert_eq!(eu_prov["collector"], "eu");
    assert_eq!(
        eu_prov["populations"][0]["base_url"],
        format!("{}/", other.base_url())
    );

    let findings = lines(&out.join("findings.jsonl"));
    let (eu, ours): (Vec<&Value>, Vec<&Value>) = findings
        .iter()
        .partition(|f| f["subject_id"].as_str().unwrap().starts_with("eu:"));
    assert!(!eu.is_empty() && !ours.is_empty());
    // The eu org's findings point at its own files; the default-named one's are unprefixed.
    for f in &eu {
        for e in f["evidence"].as_array().unwrap() {
            assert!(e["file"].as_str().unwrap().starts_with("eu/"), "{f}");
        }
    }
    for f in &ours {
        for e in f["evidence"].as_array().unwrap() {
            assert!(e["file"].as_str().unwrap().starts_with("okta/"), "{f}");
        }
    }
    let fails: BTreeSet<(String, String)> = ours
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            (
                f["check_id"].as_str().unwrap().to_string(),
                f["subject_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let planted: BTreeSet<(String, String)> = acme
        .failures()
        .iter()
        .map(|f| (f.check_id.to_string(), f.subject_id.to_string()))
        .collect();
    assert_eq!(fails, planted, "the acme org is judged alone");
    for check in okta::checks("eu", &OktaCheckSettings::default()) {
        assert!(
            eu.iter().any(|f| f["check_id"] == check.id()),
            "{} says nothing about the eu org",
            check.id()
        );
    }

    // Each instance's thresholds are its own, and `check DIR` reproduces both.
    let saved = soc2_collectors::registry().load_effective(&out).unwrap();
    let ids: Vec<&str> = saved.instances.iter().map(|i| i.name()).collect();
    assert_eq!(ids, ["okta", "eu"]);
    let again = run_checks(&EvidenceStore::open(&out).unwrap(), &saved.checks());
    let again: Vec<Value> = again
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect();
    assert_eq!(again, findings);
}

#[tokio::test]
async fn a_server_error_mid_collection_leaves_only_partial_files_naming_the_endpoint() {
    pin_clock();
    let okta = sample::serve(sample::acme(), sample::ServerOptions::default()).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            r#"{"errorCode":"E0000009","errorSummary":"Internal Server Error"}"#,
            "application/json",
        ))
        .mount(okta.server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&okta.base_url(), okta.token(), &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(err.contains("/api/v1/logs") && err.contains("500"), "{err}");

    // Nothing is presented as complete: every population written so far stays .partial,
    // and the one never reached has no file at all.
    let mut names: Vec<String> = fs::read_dir(out.join("okta"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "admin_roles.jsonl.partial",
            "factors.jsonl.partial",
            "provenance.json",
            "system_log.jsonl.partial",
            "users.jsonl.partial",
        ]
    );
    assert_eq!(lines(&out.join("okta/users.jsonl.partial")).len(), 12);
    let doc: Value =
        serde_json::from_slice(&fs::read(out.join("okta/provenance.json")).unwrap()).unwrap();
    assert_eq!(doc["complete"], false);
    let pops = doc["populations"].as_array().unwrap();
    assert_eq!(pops.len(), 5, "every declared population has an entry");
    for p in pops {
        assert_eq!(p["complete"], false, "{}", p["population"]);
        let notes = p["notes"].to_string();
        assert!(
            notes.contains("/api/v1/logs"),
            "{}: {notes}",
            p["population"]
        );
    }
    assert!(provenance(&out, "policies")["notes"]
        .to_string()
        .contains("never opened"));
    assert_eq!(provenance(&out, "users")["records_written"], 12);
    let findings = lines(&out.join("findings.jsonl"));
    assert!(
        findings.iter().all(|f| f["status"] == "error"),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn timeout_secs_bounds_each_request() {
    pin_clock();
    let okta = sample::serve(sample::acme(), sample::ServerOptions::default()).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("[]", "application/json")
                .set_delay(Duration::from_secs(30)),
        )
        .mount(okta.server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let started = std::time::Instant::now();
    let m = run_with(&okta.base_url(), okta.token(), "timeout_secs = 1", &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(err.contains("/api/v1/users"), "{err}");
    assert!(err.contains("transport error"), "{err}");
    // Six one-second attempts and the backoffs between them, far below the 30 s delay.
    assert!(
        started.elapsed() < Duration::from_secs(28),
        "{:?}",
        started.elapsed()
    );
}

/// The Acme org with shapes seen in real Okta data added: an Active Directory-mastered
/// password policy, e-mail and security-question factors (one without `created`), a user the
/// role-assignee list names but whose `/roles` is empty, a custom role bound through a
/// resource set, a standard role with an opaque assignment id, and System Log events with
/// `target: null` and `client.ipAddress: null`.
fn real_shapes_org() -> sample::OktaOrg {
    use serde_json::json;
    let mut org = sample::acme();
    let id = |first: &str| soc2_sample::people::by_first_name(first).unwrap().okta_id;
    let (kemi, jonas, ines, carol) = (id("Kemi"), id("Jonas"), id("Ines"), id("Carol"));
    // Kemi: only e-mail and a security question (Factors API shapes; Okta omits `created` on
    // some factors migrated from older orgs).
    org.factors.insert(
        kemi.into(),
        vec![
            json!({
                "id": "emfnf3gSScB8xXoXK0g4", "factorType": "email", "provider": "OKTA",
                "vendorName": "OKTA", "status": "ACTIVE",
                "profile": {"email": "k...@acme.example"},
                "_links": {"self": {"href": format!("{{org}}/api/v1/users/{kemi}/factors/emfnf3gSScB8xXoXK0g4")}}
            }),
            json!({
                "id": "ufs2bysphxKODSZKWVCT", "factorType": "question", "provider": "OKTA",
                "vendorName": "OKTA", "status": "ACTIVE",
                "created": "2023-01-09T08:12:00.000Z", "lastUpdated": "2023-01-09T08:12:00.000Z",
                "profile": {"question": "disliked_food", "questionText": "What is the food you least liked as a child?"}
            }),
        ],
    );
    // Jonas is listed as a role assignee, but his /roles is empty.
    org.assignees.push(jonas.into());
    // Ines holds a custom role through a resource set; Carol a standard role whose
    // assignment id is opaque.
    org.user_roles.insert(
        ines.into(),
        vec![json!({
            "id": "irb5e92YgBazyyQ3x1q5", "type": "CUSTOM", "label": "Security Auditor",
            "status": "ACTIVE", "created": "2025-05-01T09:00:00.000Z",
            "lastUpdated": "2025-05-01T09:00:00.000Z", "assignmentType": "USER",
            "resource-set": "iamoJDFKaJxGIr0oamd9g", "role": "cr0Yq6IJxGIr0ouum0g3",
            "_links": {
                "assignee": {"href": format!("{{org}}/api/v1/users/{ines}")},
                "resource-set": {"href": "{org}/api/v1/iam/resource-sets/iamoJDFKaJxGIr0oamd9g"},
                "role": {"href": "{org}/api/v1/iam/roles/cr0Yq6IJxGIr0ouum0g3"}
            }
        })],
    );
    org.assignees.push(ines.into());
    org.user_roles.entry(carol.into()).or_default().push(json!({
        "id": "IFIFAX2BIRGUSTQ", "label": "Application Administrator", "type": "APP_ADMIN",
        "status": "ACTIVE", "created": "2024-06-01T10:00:00.000Z",
        "lastUpdated": "2024-06-01T10:00:00.000Z", "assignmentType": "USER",
        "_links": {"assignee": {"href": format!("{{org}}/api/v1/users/{carol}")}}
    }));
    if !org.assignees.iter().any(|a| a == carol) {
        org.assignees.push(carol.into());
    }
    // A password policy for users mastered in Active Directory: Okta's own settings on it
    // (7 characters, no lockout) are not what applies to them.
    org.policies.push(json!({
        "id": "00p5adpolicy0000001", "status": "ACTIVE", "name": "AD Password Policy",
        "description": "Passwords of AD-mastered users", "priority": 1, "system": false,
        "type": "PASSWORD",
        "conditions": {
            "people": {"groups": {"include": ["00g1adusers000000001"]}},
            "authProvider": {"provider": "ACTIVE_DIRECTORY", "include": ["0oa1adinstance000001"]}
        },
        "settings": {
            "password": {
                "complexity": {"minLength": 7, "minLowerCase": 0, "minUpperCase": 0, "minNumber": 0, "minSymbol": 0},
                "age": {"maxAgeDays": 0, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": 0},
                "lockout": {"maxAttempts": 0, "autoUnlockMinutes": 0}
            },
            "recovery": {"factors": {"okta_email": {"status": "ACTIVE"}}},
            "delegation": {"options": {"skipUnlock": true}}
        },
        "created": "2024-02-01T08:00:00.000Z", "lastUpdated": "2024-02-01T08:00:00.000Z"
    }));
    org.policy_rules
        .insert("00p5adpolicy0000001".into(), vec![]);
    // Sign-in events as Okta writes them: no target, a client without an IP address.
    org.logs.push(json!({
        "uuid": "2b8e61a4-5a7c-11f0-8f1e-0242ac120002",
        "published": "2026-06-20T07:00:00.000Z",
        "eventType": "user.session.start",
        "version": "0", "severity": "INFO", "legacyEventType": "core.user_auth.login_success",
        "displayMessage": "User login to Okta",
        "actor": {"id": jonas, "type": "User", "alternateId": "jonas@acme.example", "displayName": "Jonas Berg", "detailEntry": null},
        "client": {"userAgent": null, "zone": "null", "device": "Unknown", "id": null, "ipAddress": null, "geographicalContext": null},
        "device": null,
        "authenticationContext": {"authenticationProvider": null, "credentialProvider": null, "credentialType": null, "issuer": null, "interface": null, "authenticationStep": 0, "externalSessionId": "unknown"},
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": null,
        "transaction": {"type": "WEB", "id": "aHq1xMplePeZ", "detail": {}},
        "debugContext": {"debugData": {}},
        "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null},
        "request": {"ipChain": []}
    }));
    org
}

#[tokio::test]
async fn real_okta_shapes_give_honest_verdicts() {
    pin_clock();
    let okta = sample::serve(real_shapes_org(), sample::ServerOptions::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&okta.base_url(), okta.token(), &out).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    let findings = lines(&out.join("findings.jsonl"));
    let find = |check: &str, subject: &str| -> (String, String) {
        let f = findings
            .iter()
            .find(|f| f["check_id"] == check && f["subject_id"] == subject)
            .unwrap_or_else(|| panic!("no {check} finding for {subject}: {findings:#?}"));
        (
            f["status"].as_str().unwrap().to_string(),
            f["summary"].as_str().unwrap().to_string(),
        )
    };
    let id = |first: &str| soc2_sample::people::by_first_name(first).unwrap().okta_id;

    // E-mail and a security question are not strong MFA.
    let (status, summary) = find("okta.mfa_strength", id("Kemi"));
    assert_eq!(status, "fail", "{summary}");
    assert!(
        summary.contains("email (ACTIVE)") && summary.contains("question (ACTIVE)"),
        "{summary}"
    );
    let factors = population(&out, "factors");
    assert!(factors.iter().any(
        |f| f["data"]["factor_id"] == "emfnf3gSScB8xXoXK0g4" && f["data"]["created"].is_null()
    ));

    // The AD-mastered policy is the directory's business, not judged against Okta's baseline.
    let (status, summary) = find("okta.password_policy", "00p5adpolicy0000001");
    assert_eq!(status, "not_applicable", "{summary}");
    assert!(
        summary.contains("rules enforced by Active Directory"),
        "{summary}"
    );
    // The Okta-mastered default policy is still judged (and still fails: 8 characters).
    assert_eq!(
        find("okta.password_policy", "00pacmedefaultpw0001").0,
        "fail"
    );

    // An assignee without role records is an error naming the user, not a note only.
    let (status, summary) = find("okta.admin_phishing_resistant_mfa", id("Jonas"));
    assert_eq!(status, "error", "{summary}");
    assert!(summary.contains("jonas@acme.example"), "{summary}");
    assert!(summary.contains("no role records"), "{summary}");
    let roles = population(&out, "admin_roles");
    let unresolved: Vec<&Value> = roles
        .iter()
        .filter(|r| r["data"]["unresolved"] == true)
        .collect();
    assert_eq!(unresolved.len(), 1, "{roles:#?}");
    assert_eq!(unresolved[0]["data"]["user_id"], id("Jonas"));
    // The custom role (resource set) and the opaque role id are ordinary admin roles.
    let custom = roles
        .iter()
        .find(|r| r["data"]["role_type"] == "CUSTOM")
        .unwrap();
    assert_eq!(custom["data"]["resource_set"], "iamoJDFKaJxGIr0oamd9g");
    assert_eq!(custom["data"]["role_id"], "cr0Yq6IJxGIr0ouum0g3");
    assert_eq!(
        find("okta.admin_phishing_resistant_mfa", id("Ines")).0,
        "pass"
    );
    let (status, summary) = find("okta.admin_phishing_resistant_mfa", id("Carol"));
    assert_eq!(status, "pass", "{summary}");
    assert!(summary.contains("APP_ADMIN"), "{summary}");

    // target: null and client.ipAddress: null parse; the sign-in counts.
    let events = population(&out, "system_log");
    let e = events
        .iter()
        .find(|e| e["data"]["uuid"] == "2b8e61a4-5a7c-11f0-8f1e-0242ac120002")
        .unwrap();
    assert_eq!(e["data"]["targets"], serde_json::json!([]));
    assert!(e["data"]["client_ip"].is_null());
}

#[tokio::test]
async fn the_system_log_is_windowed_to_okta_retention() {
    pin_clock();
    // The period starts 181 days before collection; Okta keeps 90.
    let okta = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&okta.base_url(), okta.token(), &out).await;
    let prov = provenance(&out, "system_log");
    assert_eq!(prov["complete"], false, "{prov:#}");
    let covers = &prov["covers"];
    assert!(
        covers["from"]
            .as_str()
            .unwrap()
            .starts_with("2026-04-02T00:00"),
        "{prov:#}"
    );
    assert!(
        covers["until"]
            .as_str()
            .unwrap()
            .starts_with("2026-07-01T00:00:00"),
        "{prov:#}"
    );
    assert_eq!(covers["reason"], "Okta keeps 90 days of System Log");
    // The query still asks for the whole period: whatever Okta kept is read.
    assert_eq!(
        endpoint(&prov, "/api/v1/logs")["parameters"]["since"],
        "2026-01-01T00:00:00.000Z"
    );
    // A period inside the window is whole.
    let out2 = tmp.path().join("run2");
    let secrets = MapSecrets::default().with(TOKEN_ENV, okta.token());
    Runner::from_config(&parse(&section(&okta.base_url(), "")).unwrap(), &secrets)
        .unwrap()
        .run("2026-05-01..2026-06-30".parse().unwrap(), &out2)
        .await
        .unwrap();
    let prov = provenance(&out2, "system_log");
    assert_eq!(prov["complete"], true, "{prov:#}");
    assert!(prov.get("covers").is_none_or(Value::is_null), "{prov:#}");
}

#[test]
fn weak_factors_are_validated_against_okta_factor_types() {
    pin_clock();
    let okta_section = |extra: &str| -> Result<OktaConfig, toml::de::Error> {
        toml::from_str(&format!("base_url = \"https://acme.okta.com\"\n{extra}\n"))
    };
    let custom = okta_section("weak_factors = [\"sms\", \"push\"]").unwrap();
    assert_eq!(custom.weak_factors, ["sms", "push"]);
    assert_eq!(custom.check_settings().weak_factors, ["sms", "push"]);
    assert_eq!(
        okta_section("").unwrap().weak_factors,
        ["sms", "call", "email", "question"]
    );
    assert!(parse(
        "[okta]\nbase_url = \"https://acme.okta.com\"\nweak_factors = [\"sms\", \"push\"]\n"
    )
    .is_ok());
    // "SMS" is not Okta's spelling, "totp" not a factorType ("token:software:totp" is).
    for bad in ["\"SMS\"", "\"totp\""] {
        let err = parse(&format!(
            "[okta]\nbase_url = \"https://acme.okta.com\"\nweak_factors = [{bad}]\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("weak_factors"), "{err}");
        assert!(err.contains("token:software:totp"), "{err}");
    }
}
