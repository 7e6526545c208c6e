//! The Jira collector end to end through the runner, against the sample Jira server and
//! narrow mocks for the error paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};
use soc2_collectors::jira::{JiraAuth, JiraCollector, JiraSettings};
use soc2_evidence_core::http::Secret;
use soc2_evidence_core::{
    run_checks, CollectorStatus, ConfigError, EvidenceStore, MapSecrets, RunConfig, RunManifest,
    Runner,
};
use soc2_sample::jira as sample;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Every test binary pins the same instant (2026-07-01T00:00:00Z, the day after the sample
/// period; what the demo replays): "now" decides the Okta System Log's 90-day window.
fn pin_clock() {
    soc2_evidence_core::clock::set_override("2026-07-01T00:00:00Z".parse().unwrap())
        .expect("every test pins the same instant");
}

const PERIOD: &str = "2026-01-01..2026-06-30";

/// A `[jira]` section for the site at `base` with the sample JQL; `extra` adds keys. The
/// credentials come from the default variables, JIRA_EMAIL and JIRA_API_TOKEN.
fn section(base: &str, extra: &str) -> String {
    format!(
        "[jira]\nbase_url = {base:?}\njql = {:?}\n{extra}\n",
        sample::JQL
    )
}

fn parse(toml: &str) -> Result<RunConfig, ConfigError> {
    soc2_collectors::registry().parse_config(toml, "soc2.toml", Path::new("."))
}

fn secrets(token: &str) -> MapSecrets {
    MapSecrets::default()
        .with("JIRA_EMAIL", sample::EMAIL)
        .with("JIRA_API_TOKEN", token)
}

/// Collects and checks through the registry, as `soc2-evidence collect` does.
async fn run_config(toml: &str, secrets: &MapSecrets, out: &Path) -> RunManifest {
    Runner::from_config(&parse(toml).unwrap(), secrets)
        .unwrap()
        .run(PERIOD.parse().unwrap(), out)
        .await
        .unwrap()
}

async fn run(base: &str, token: &str, out: &Path) -> RunManifest {
    run_with(base, token, "", out).await
}

async fn run_with(base: &str, token: &str, extra: &str, out: &Path) -> RunManifest {
    run_config(&section(base, extra), &secrets(token), out).await
}

fn jsonl(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn finding<'a>(findings: &'a [Value], check: &str, key: &str) -> Option<&'a Value> {
    findings
        .iter()
        .find(|f| f["check_id"] == check && f["subject_id"] == key)
}

fn all_files_text(dir: &Path) -> String {
    let mut out = String::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.push_str(&all_files_text(&p));
        } else {
            out.push_str(&fs::read_to_string(&p).unwrap_or_default());
        }
    }
    out
}

#[tokio::test]
async fn whole_sample_organisation() {
    pin_clock();
    let jira = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&jira.base_url(), jira.token(), &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Ok, "{:?}", c.error);
    assert_eq!(c.name, "jira");
    assert_eq!(c.collector_type, "jira");

    // Requests: 4 search pages plus the one 429; CHG-110's changelog in two pages; remote
    // links for the 12 done tickets only.
    assert_eq!(jira.rate_limited(), 1);
    assert_eq!(jira.search_requests(), 5);
    assert_eq!(jira.changelog_requests(), 2);
    assert_eq!(jira.remotelink_requests(), 12);

    let tickets = jsonl(&out.join("jira/change_tickets.jsonl"));
    assert_eq!(tickets.len(), 14);
    let t = |key: &str| {
        &tickets
            .iter()
            .find(|t| t["subject_id"] == key)
            .unwrap_or_else(|| panic!("{key} missing"))["data"]
    };
    assert_eq!(tickets[0]["kind"], "jira.change_ticket");

    // Timestamps without a colon in the offset are stored as UTC.
    let chg102 = t("CHG-102");
    assert_eq!(chg102["created"], "2026-01-20T19:05:10Z");
    assert_eq!(chg102["status_history"][0]["at"], "2026-01-21T14:00:00Z");
    assert_eq!(
        chg102["status_history"][0]["author"]["display_name"],
        "Bob Okafor"
    );

    // The truncated changelog was completed: all three transitions, the approval included.
    let chg110 = t("CHG-110");
    assert_eq!(chg110["changelog_total"], 6);
    assert_eq!(chg110["changelog_completed"], true);
    let history = chg110["status_history"].as_array().unwrap();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[0]["to"], "Approved");
    assert_eq!(history[0]["to_id"], "10101");
    assert_eq!(history[0]["from"], "Awaiting Approval");
    assert_eq!(history[0]["author"]["account_id"], "712020:0a1b2c3d-bob");
    assert_eq!(history[2]["to"], "Done");
    assert_eq!(t("CHG-101")["changelog_completed"], false);

    // The automation account keeps its type.
    assert_eq!(
        t("CHG-107")["status_history"][0]["author"]["account_type"],
        "app"
    );
    assert_eq!(
        t("CHG-107")["status_history"][0]["author"]["account_id"],
        sample::AUTOMATION_ACCOUNT
    );

    // ADF rendered, nothing dropped.
    let desc = t("CHG-101")["description"].as_str().unwrap();
    for part in [
        "Change",
        "Reviewer: @Carol Schmidt\nRunbook: TLS rotation (https://acme.atlassian.net/wiki/spaces/OPS/pages/3342337)",
        "1. Issue the new certificate\n2. Deploy with `make deploy-certs`",
        "- Risk: low\n- Rollback: restore the old certificate",
        "```shell\nopenssl x509 -in api.pem -noout -enddate\n```",
    ] {
        assert!(desc.contains(part), "{part:?} not in {desc:?}");
    }
    assert_eq!(t("CHG-111")["description"], "");
    assert_eq!(t("CHG-111")["assignee"], Value::Null);

    // Remote links: PRs recognised, Confluence is not a PR, not-done tickets not fetched.
    let links = t("CHG-114")["remote_links"].as_array().unwrap();
    let prs: Vec<&str> = links
        .iter()
        .map(|l| l["pull_request"].as_str().unwrap())
        .collect();
    assert_eq!(prs, ["acme/api#261", "acme/web#71"]);
    assert_eq!(links[1]["application_name"], "GitHub");
    let conf = &t("CHG-108")["remote_links"][0];
    assert_eq!(conf["application_name"], "Confluence");
    assert_eq!(conf["pull_request"], Value::Null);
    assert_eq!(t("CHG-111")["remote_links"], Value::Null);
    assert_eq!(t("CHG-112")["remote_links"], Value::Null);

    // The reopened ticket: resolutiondate is the second resolution.
    assert_eq!(t("CHG-109")["resolution_date"], "2026-04-20T17:05:00Z");
    assert_eq!(t("CHG-109")["status_history"].as_array().unwrap().len(), 6);

    // Findings: every planted failure fails with its reason; the tricky passes pass; rejected
    // and in-progress tickets are not judged.
    let findings = jsonl(&out.join("findings.jsonl"));
    let reasons = [
        ("CHG-104", "never approved"),
        ("CHG-105", "approved late"),
        ("CHG-106", "self-approved"),
        ("CHG-107", "not a person's account"),
        ("CHG-108", "no pull request"),
    ];
    for p in sample::PLANTED {
        let key: &str = &p.subject_id;
        let f = finding(&findings, p.check_id, key)
            .unwrap_or_else(|| panic!("no finding for {} {}", p.check_id, key));
        assert_eq!(f["status"], "fail", "{f}");
        let reason = reasons.iter().find(|(k, _)| *k == key).unwrap().1;
        assert!(f["summary"].as_str().unwrap().contains(reason), "{f}");
        assert_eq!(f["evidence"][0]["file"], "jira/change_tickets.jsonl");
        assert_eq!(f["evidence"][0]["subject_id"], key);
    }
    assert!(
        finding(&findings, "jira.approved_before_implementation", "CHG-107").unwrap()["summary"]
            .as_str()
            .unwrap()
            .contains("Automation for Jira")
    );
    for key in sample::MUST_PASS {
        for check in ["jira.approved_before_implementation", "jira.linked_to_code"] {
            let f = finding(&findings, check, key).unwrap();
            assert_eq!(f["status"], "pass", "{f}");
        }
    }
    for key in sample::NOT_JUDGED {
        assert!(
            findings.iter().all(|f| f["subject_id"] != *key),
            "{key} was judged"
        );
    }
    let fails = findings.iter().filter(|f| f["status"] == "fail").count();
    assert_eq!(fails, sample::PLANTED.len(), "{findings:#?}");

    // Provenance: pages, the JQL, the per-ticket endpoints recorded once each.
    let prov: Value =
        serde_json::from_slice(&fs::read(out.join("jira/provenance.json")).unwrap()).unwrap();
    let p = &prov["populations"][0];
    assert_eq!(p["population"], "change_tickets");
    assert_eq!(p["complete"], true);
    assert_eq!(p["mode"], "events");
    assert_eq!(p["kind"], "jira.change_ticket");
    assert_eq!(p["source"], "Jira Cloud REST API v3");
    assert_eq!(p["records_received"], 14);
    assert_eq!(p["records_written"], 14);
    assert_eq!(p["pages"], 4 + 2 + 12);
    let endpoints = p["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 3, "{endpoints:#?}");
    assert_eq!(endpoints[0]["endpoint"], "/rest/api/3/search/jql");
    assert_eq!(endpoints[0]["pages"], 4);
    assert_eq!(endpoints[0]["parameters"]["jql"], sample::PERIOD_JQL);
    assert_eq!(endpoints[0]["parameters"]["expand"], "changelog");
    assert_eq!(endpoints[0]["parameters"]["maxResults"], "100");
    assert!(endpoints[0]["parameters"]["fields"]
        .as_str()
        .unwrap()
        .contains("resolutiondate"));
    let ep = |path: &str| {
        endpoints
            .iter()
            .find(|e| e["endpoint"] == path)
            .unwrap_or_else(|| panic!("{path} not in provenance"))
    };
    let changelog = ep("/rest/api/3/issue/{issueIdOrKey}/changelog");
    assert_eq!(changelog["pages"], 2);
    assert_eq!(changelog["parameters"]["issueIdOrKey"], "CHG-110");
    assert_eq!(changelog["parameters"]["startAt"], "0");
    assert_eq!(
        ep("/rest/api/3/issue/{issueIdOrKey}/remotelink")["pages"],
        12
    );
    let notes = p["notes"].to_string();
    assert!(
        notes.contains("1 truncated embedded changelog(s)"),
        "{notes}"
    );

    // The token is nowhere in the output.
    assert!(!all_files_text(&out).contains(sample::API_TOKEN));

    // `check DIR` rebuilds the checks from config.json and reproduces the findings exactly.
    let saved = soc2_collectors::registry().load_effective(&out).unwrap();
    let again = run_checks(&EvidenceStore::open(&out).unwrap(), &saved.checks());
    let again: Vec<Value> = again
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect();
    assert_eq!(again, findings);
}

#[tokio::test]
async fn wrong_token_names_the_site_not_the_token() {
    pin_clock();
    let jira = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let m = run(&jira.base_url(), "wrong-token-123", &tmp.path().join("run")).await;
    let err = m.collectors[0].error.clone().unwrap();
    assert_eq!(m.collectors[0].status, CollectorStatus::Failed);
    assert!(
        err.contains(&format!("Jira at {}", jira.base_url())),
        "{err}"
    );
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("wrong-token-123"), "{err}");
}

#[tokio::test]
async fn forbidden_names_the_site() {
    pin_clock();
    let server = MockServer::start().await;
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "errorMessages": ["You do not have permission to view these issues."], "errors": {}})))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let m = run(&server.uri(), "t0k3n", &tmp.path().join("run")).await;
    let err = m.collectors[0].error.clone().unwrap();
    assert!(err.contains(&format!("Jira at {}", server.uri())), "{err}");
    assert!(err.contains("Browse projects"), "{err}");
    assert!(!err.contains("t0k3n"), "{err}");
}

#[tokio::test]
async fn legacy_search_410_says_what_to_change() {
    pin_clock();
    // A proxy or old gateway that routes the request to the removed API.
    let server = MockServer::start().await;
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(410).set_body_json(json!({
            "errorMessages": ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"],
            "errors": {}})))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let m = run(&server.uri(), "t", &tmp.path().join("run")).await;
    let err = m.collectors[0].error.clone().unwrap();
    assert!(err.contains("410 Gone"), "{err}");
    assert!(err.contains("base_url"), "{err}");
    assert!(err.contains("/rest/api/3/search/jql"), "{err}");

    // A base URL that already holds the legacy path is refused before any request: when the
    // config is parsed, and by the library constructor.
    let legacy = format!("{}/rest/api/3/search", server.uri());
    let err = parse(&section(&legacy, "")).unwrap_err().to_string();
    assert!(err.contains("[jira] base_url"), "{err}");
    assert!(err.contains("site root"), "{err}");
    assert!(err.contains("410"), "{err}");
    let bad = JiraSettings::new(
        legacy,
        JiraAuth::Basic {
            email: sample::EMAIL.into(),
            token: Secret::new("t"),
        },
        sample::JQL,
    );
    let err = JiraCollector::new(bad).unwrap_err().to_string();
    assert!(err.contains("site root"), "{err}");
    assert!(err.contains("410"), "{err}");
}

/// Answers 429 with an empty body and no Retry-After first, then the given pages in turn,
/// keyed by `nextPageToken`.
struct ThrottledPages {
    calls: AtomicUsize,
    pages: Vec<Value>,
}

impl Respond for ThrottledPages {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return ResponseTemplate::new(429);
        }
        let token = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "nextPageToken")
            .map(|(_, v)| v.into_owned());
        let i = match token.as_deref() {
            None => 0,
            Some(t) => t.trim_start_matches("tok").parse().unwrap(),
        };
        ResponseTemplate::new(200).set_body_json(self.pages[i].clone())
    }
}

fn issue(key: &str, status: &str, histories: Value, total: usize) -> Value {
    json!({
        "id": "1", "key": key,
        "fields": {
            "summary": "s", "status": {"id": "1", "name": status, "statusCategory": {"key": "done"}},
            "created": "2026-02-01T10:00:00.000+0000", "description": null
        },
        "changelog": {"startAt": 0, "maxResults": 100, "total": total, "histories": histories}
    })
}

#[tokio::test]
async fn empty_429_backs_off_and_three_pages_end_at_is_last() {
    pin_clock();
    let server = MockServer::start().await;
    let pages = vec![
        json!({"issues": [issue("X-1", "Open", json!([]), 0)], "nextPageToken": "tok1", "isLast": false}),
        json!({"issues": [issue("X-2", "Open", json!([]), 0)], "nextPageToken": "tok2", "isLast": false}),
        // The last page: isLast true and no nextPageToken at all.
        json!({"issues": [issue("X-3", "Open", json!([]), 0)], "isLast": true}),
    ];
    Mock::given(method("GET"))
        .and(path("/rest/api/3/search/jql"))
        .respond_with(ThrottledPages {
            calls: AtomicUsize::new(0),
            pages,
        })
        .expect(4)
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    Mock::given(path_regex("/remotelink$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(3)
        .mount(&server)
        .await;
    let m = run_with(&server.uri(), "t", "remote_links = \"all\"", &out).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    let keys: Vec<String> = jsonl(&out.join("jira/change_tickets.jsonl"))
        .iter()
        .map(|t| t["subject_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["X-1", "X-2", "X-3"]);
}

#[tokio::test]
async fn repeated_cursor_fails_instead_of_looping() {
    pin_clock();
    let server = MockServer::start().await;
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issues": [issue("X-1", "Open", json!([]), 0)], "nextPageToken": "same", "isLast": false})))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let m = run(&server.uri(), "t", &tmp.path().join("run")).await;
    let err = m.collectors[0].error.clone().unwrap();
    assert!(err.contains("same nextPageToken"), "{err}");
}

#[tokio::test]
async fn without_remote_links_the_code_check_reports_errors_not_passes() {
    pin_clock();
    let jira = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run_with(
        &jira.base_url(),
        jira.token(),
        "remote_links = \"none\"",
        &out,
    )
    .await;
    assert_eq!(m.collectors[0].status, CollectorStatus::Ok);
    assert_eq!(jira.remotelink_requests(), 0);
    let findings = jsonl(&out.join("findings.jsonl"));
    let code: Vec<&Value> = findings
        .iter()
        .filter(|f| f["check_id"] == "jira.linked_to_code")
        .collect();
    assert_eq!(code.len(), 12);
    assert!(code.iter().all(|f| f["status"] == "error"));
}

#[tokio::test]
async fn config_file_builds_the_collector_and_checks() {
    pin_clock();
    let jira = sample::start().await;
    let text = format!(
        "[jira]\nbase_url = \"{}\"\njql = \"{}\"\nemail_env = \"SOC2_JIRA_IT_EMAIL\"\ntoken_env = \"SOC2_JIRA_IT_TOKEN\"\n",
        jira.base_url(),
        sample::JQL
    );
    let secrets = MapSecrets::default()
        .with("SOC2_JIRA_IT_EMAIL", sample::EMAIL)
        .with("SOC2_JIRA_IT_TOKEN", sample::API_TOKEN);
    let config = parse(&text).unwrap();
    let collectors = config.build(&secrets).unwrap();
    assert_eq!(collectors.len(), 1);
    assert!(!format!("{:?}", config).contains(sample::API_TOKEN));
    let effective = String::from_utf8(config.effective_json().unwrap()).unwrap();
    assert!(!effective.contains(sample::API_TOKEN), "{effective}");
    assert!(effective.contains("SOC2_JIRA_IT_TOKEN"), "{effective}");
    assert!(effective.contains("\"timeout_secs\": 30"), "{effective}");
    let checks = config.checks();
    let ids: Vec<&str> = checks[0].checks.iter().map(|c| c.id()).collect();
    assert_eq!(
        ids,
        ["jira.approved_before_implementation", "jira.linked_to_code"]
    );

    let tmp = tempfile::tempdir().unwrap();
    let m = run_config(&text, &secrets, &tmp.path().join("run")).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    assert_eq!(m.findings.fail, sample::PLANTED.len() as u64);

    // Both kinds of auth at once is refused when the config is parsed, before any secret.
    let err = parse(
        "[jira]\nbase_url = \"https://acme.atlassian.net\"\njql = \"project = CHG\"\nbearer_token_env = \"A\"\nemail_env = \"B\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not both"), "{err}");
    // A missing credential names its variable and the section.
    let err = Runner::from_config(&parse(&text).unwrap(), &MapSecrets::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("SOC2_JIRA_IT_EMAIL") && err.contains("[jira]"),
        "{err}"
    );
    let err = parse(&section("https://acme.atlassian.net", "timeout_secs = 0"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("timeout_secs"), "{err}");
}

#[tokio::test]
async fn a_period_without_completed_tickets_is_not_applicable_not_silent() {
    pin_clock();
    let server = MockServer::start().await;
    // No tickets at all, then tickets of which none is done: both leave nothing to judge.
    for issues in [
        json!([]),
        json!([issue("X-1", "In Progress", json!([]), 0)]),
    ] {
        server.reset().await;
        Mock::given(path("/rest/api/3/search/jql"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"issues": issues, "isLast": true})),
            )
            .mount(&server)
            .await;
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        let m = run(&server.uri(), "t", &out).await;
        assert_eq!(
            m.collectors[0].status,
            CollectorStatus::Ok,
            "{:?}",
            m.collectors[0].error
        );
        let findings = jsonl(&out.join("findings.jsonl"));
        assert_eq!(findings.len(), 2, "{findings:#?}");
        for check in ["jira.approved_before_implementation", "jira.linked_to_code"] {
            let f = finding(&findings, check, "*").unwrap();
            assert_eq!(f["status"], "not_applicable", "{f}");
            assert!(
                f["summary"]
                    .as_str()
                    .unwrap()
                    .starts_with("nothing in scope: "),
                "{f}"
            );
            assert!(
                f["summary"].as_str().unwrap().contains("no change tickets"),
                "{f}"
            );
            assert_eq!(f["evidence"][0]["file"], "jira/change_tickets.jsonl");
        }
    }
}

#[tokio::test]
async fn a_server_error_mid_collection_leaves_a_partial_file_naming_the_endpoint() {
    pin_clock();
    let jira = sample::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/CHG-103/remotelink"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "errorMessages": ["Internal server error"], "errors": {}})))
        // Ahead of the sample's own routes (priority 2).
        .with_priority(1)
        .mount(jira.server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&jira.base_url(), jira.token(), &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(
        err.contains("/rest/api/3/issue/CHG-103/remotelink") && err.contains("500"),
        "{err}"
    );
    let mut names: Vec<String> = fs::read_dir(out.join("jira"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["change_tickets.jsonl.partial", "provenance.json"]);
    let prov: Value =
        serde_json::from_slice(&fs::read(out.join("jira/provenance.json")).unwrap()).unwrap();
    assert_eq!(prov["complete"], false);
    let p = &prov["populations"][0];
    assert_eq!(p["complete"], false);
    assert!(
        p["notes"]
            .to_string()
            .contains("/rest/api/3/issue/CHG-103/remotelink"),
        "{p:#}"
    );
    let findings = jsonl(&out.join("findings.jsonl"));
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(
        findings.iter().all(|f| f["status"] == "error"),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn two_sites_write_their_own_directories_and_prefix_their_findings() {
    pin_clock();
    let jira = sample::start().await;
    let other = MockServer::start().await;
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"issues": [], "isLast": true})),
        )
        .mount(&other)
        .await;
    let toml = format!(
        "[[jira]]\nname = \"jira\"\nbase_url = {:?}\njql = {:?}\n\
         [[jira]]\nname = \"ops\"\nbase_url = {:?}\njql = \"project = OPS\"\n\
         bearer_token_env = \"OPS_JIRA_TOKEN\"\n",
        jira.base_url(),
        sample::JQL,
        other.uri()
    );
    let secrets = secrets(jira.token()).with("OPS_JIRA_TOKEN", "ops-token");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run_config(&toml, &secrets, &out).await;
    for c in &m.collectors {
        assert_eq!(c.status, CollectorStatus::Ok, "{}: {:?}", c.name, c.error);
    }
    assert!(out.join("jira/change_tickets.jsonl").is_file());
    assert!(out.join("ops/change_tickets.jsonl").is_file());
    let findings = jsonl(&out.join("findings.jsonl"));
    let ops: Vec<&Value> = findings
        .iter()
        .filter(|f| f["subject_id"].as_str().unwrap().starts_with("ops:"))
        .collect();
    assert_eq!(ops.len(), 2, "{findings:#?}");
    for f in &ops {
        assert_eq!(f["subject_id"], "ops:*");
        assert_eq!(f["status"], "not_applicable");
        assert_eq!(f["evidence"][0]["file"], "ops/change_tickets.jsonl");
    }
    let fails = findings.iter().filter(|f| f["status"] == "fail").count();
    assert_eq!(fails, sample::PLANTED.len());
}

/// A status change history as Jira returns it; `author` as given.
fn status_history(id: &str, at: &str, author: Value, from: &str, to: &str) -> Value {
    json!({
        "id": id, "author": author, "created": at,
        "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                   "from": "1", "fromString": from, "to": "2", "toString": to}]
    })
}

fn other_history(id: &str, at: &str, author: Value) -> Value {
    json!({
        "id": id, "author": author, "created": at,
        "items": [{"field": "labels", "fieldtype": "jira", "fieldId": "labels",
                   "from": null, "fromString": "", "to": null, "toString": "cab"}]
    })
}

#[tokio::test]
async fn a_changelog_page_short_of_its_total_makes_that_ticket_an_error() {
    pin_clock();
    let server = MockServer::start().await;
    let cloud = |id: &str, name: &str| {
        json!({"self": format!("https://acme.atlassian.net/rest/api/3/user?accountId={id}"),
               "accountId": id, "displayName": name, "active": true,
               "timeZone": "Europe/Berlin", "accountType": "atlassian"})
    };
    let (sec, dev) = (
        cloud("712020:0a1b2c3d-sec", "Sam Sec"),
        cloud("712020:0a1b2c3d-dev", "Dee Dev"),
    );
    // CHG-7: the embedded changelog is truncated (100 of 140), and the changelog endpoint
    // says isLast: true after 100 values although its total is 140 (what Jira Cloud does for
    // some issues with very long histories).
    let mut values: Vec<Value> = vec![status_history(
        "10000",
        "2026-02-02T09:00:00.000+0000",
        dev.clone(),
        "Awaiting Approval",
        "In Progress",
    )];
    for i in 1..99 {
        values.push(other_history(
            &format!("{}", 10000 + i),
            "2026-02-03T09:00:00.000+0000",
            dev.clone(),
        ));
    }
    values.push(status_history(
        "10099",
        "2026-02-10T09:00:00.000+0000",
        dev.clone(),
        "In Progress",
        "Done",
    ));
    let mut chg7 = issue("CHG-7", "Done", json!(values[..20].to_vec()), 140);
    chg7["fields"]["assignee"] = dev.clone();
    chg7["fields"]["reporter"] = dev.clone();
    // CHG-8: whole, approved independently.
    let mut chg8 = issue(
        "CHG-8",
        "Done",
        json!([
            status_history(
                "20000",
                "2026-02-02T09:00:00.000+0000",
                sec.clone(),
                "Awaiting Approval",
                "Approved"
            ),
            status_history(
                "20001",
                "2026-02-03T09:00:00.000+0000",
                dev.clone(),
                "Approved",
                "In Progress"
            ),
            status_history(
                "20002",
                "2026-02-04T09:00:00.000+0000",
                dev.clone(),
                "In Progress",
                "Done"
            ),
        ]),
        3,
    );
    chg8["id"] = json!("2");
    chg8["fields"]["assignee"] = dev.clone();
    chg8["fields"]["reporter"] = dev.clone();
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"issues": [chg7, chg8], "isLast": true})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/rest/api/3/issue/CHG-7/changelog"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "self": "https://acme.atlassian.net/rest/api/3/issue/CHG-7/changelog?maxResults=100&startAt=0",
            "maxResults": 100, "startAt": 0, "total": 140, "isLast": true, "values": values
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path_regex("/remotelink$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&server.uri(), "t", &out).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    let tickets = jsonl(&out.join("jira/change_tickets.jsonl"));
    let t7 = &tickets.iter().find(|t| t["subject_id"] == "CHG-7").unwrap()["data"];
    assert_eq!(t7["changelog_complete"], false);
    assert_eq!(t7["changelog_received"], 100);
    assert_eq!(t7["changelog_total"], 140);
    let findings = jsonl(&out.join("findings.jsonl"));
    let f = finding(&findings, "jira.approved_before_implementation", "CHG-7").unwrap();
    // Today: "fail, never approved", judged from 100 of 140 entries.
    assert_eq!(f["status"], "error", "{f}");
    assert!(f["summary"].as_str().unwrap().contains("100 of 140"), "{f}");
    let f8 = finding(&findings, "jira.approved_before_implementation", "CHG-8").unwrap();
    assert_eq!(f8["status"], "pass", "{f8}");
    let prov: Value =
        serde_json::from_slice(&std::fs::read(out.join("jira/provenance.json")).unwrap()).unwrap();
    let notes = prov["populations"][0]["notes"].to_string();
    assert!(
        notes.contains(
            "CHG-7: 100 of 140 changelog entries received (the last page said isLast: true)"
        ),
        "{notes}"
    );
}

#[tokio::test]
async fn data_center_users_keep_name_and_key_as_identity() {
    pin_clock();
    let server = MockServer::start().await;
    // Jira Data Center (REST v2 user shape): name and key, no accountId, no accountType.
    let dc = |name: &str, key: &str, display: &str| {
        json!({"self": format!("https://jira.acme.example/rest/api/2/user?username={name}"),
               "name": name, "key": key, "emailAddress": format!("{name}@acme.example"),
               "avatarUrls": {"48x48": "https://jira.acme.example/secure/useravatar?avatarId=10122"},
               "displayName": display, "active": true, "timeZone": "Europe/Berlin"})
    };
    let approver = dc("asmith", "JIRAUSER10100", "Ann Smith");
    let implementer = dc("jdoe", "JIRAUSER10200", "John Doe");
    let mut good = issue(
        "CHG-1",
        "Done",
        json!([
            status_history(
                "1",
                "2026-02-02T09:00:00.000+0000",
                approver.clone(),
                "Awaiting Approval",
                "Approved"
            ),
            status_history(
                "2",
                "2026-02-03T09:00:00.000+0000",
                implementer.clone(),
                "Approved",
                "In Progress"
            ),
            status_history(
                "3",
                "2026-02-04T09:00:00.000+0000",
                implementer.clone(),
                "In Progress",
                "Done"
            ),
        ]),
        3,
    );
    good["fields"]["assignee"] = implementer.clone();
    good["fields"]["reporter"] = implementer.clone();
    // The implementer approves his own change.
    let mut own = issue(
        "CHG-2",
        "Done",
        json!([
            status_history(
                "4",
                "2026-02-02T09:00:00.000+0000",
                implementer.clone(),
                "Awaiting Approval",
                "Approved"
            ),
            status_history(
                "5",
                "2026-02-03T09:00:00.000+0000",
                implementer.clone(),
                "Approved",
                "In Progress"
            ),
            status_history(
                "6",
                "2026-02-04T09:00:00.000+0000",
                implementer.clone(),
                "In Progress",
                "Done"
            ),
        ]),
        3,
    );
    own["id"] = json!("2");
    own["fields"]["assignee"] = implementer.clone();
    own["fields"]["reporter"] = approver.clone();
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"issues": [good, own], "isLast": true})),
        )
        .mount(&server)
        .await;
    Mock::given(path_regex("/remotelink$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(&server.uri(), "t", &out).await;
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    let tickets = jsonl(&out.join("jira/change_tickets.jsonl"));
    let t1 = &tickets[0]["data"];
    // Never a silent null: the author keeps name and key.
    let author = &t1["status_history"][0]["author"];
    assert_eq!(author["name"], "asmith", "{t1:#}");
    assert_eq!(author["key"], "JIRAUSER10100");
    assert!(author["account_id"].is_null());
    assert_eq!(t1["assignee"]["key"], "JIRAUSER10200");
    let findings = jsonl(&out.join("findings.jsonl"));
    let f1 = finding(&findings, "jira.approved_before_implementation", "CHG-1").unwrap();
    // Today: "approved by an anonymous user" (a fail) for every Data Center approval.
    assert_eq!(f1["status"], "pass", "{f1}");
    assert!(
        f1["summary"]
            .as_str()
            .unwrap()
            .contains("key:JIRAUSER10100"),
        "{f1}"
    );
    let f2 = finding(&findings, "jira.approved_before_implementation", "CHG-2").unwrap();
    assert_eq!(f2["status"], "fail", "{f2}");
    assert!(
        f2["summary"].as_str().unwrap().contains("the assignee"),
        "{f2}"
    );
}
