//! The GitHub module against a local fake GitHub (soc2-sample): config text through the
//! registry, the runner and the checks, as `soc2-evidence collect` runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;
use soc2_collectors::github::{evaluate_approval, records::PullRequest};
use soc2_evidence_core::{
    CollectorStatus, EnvSecrets, EvidenceStore, Finding, MapSecrets, RunConfig, RunManifest, Runner,
};

use soc2_sample::github::{
    self as sample, at, sha, Account, DismissalModel, GithubModel, GithubServer, PullModel,
    RepoModel, ReviewModel, ServerOptions,
};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

const PERIOD: &str = "2026-01-01..2026-06-30";

/// Every test binary pins one "now", the day after the period, so retention windows (the
/// rule-suite history reaches back 730 hours) fall where a collection made then sees them.
fn pin_clock() {
    soc2_evidence_core::clock::set_override("2026-07-01T00:00:00Z".parse().unwrap()).unwrap();
}

/// One `[github]` section as a user writes it: `scope` is a `repos = [...]` or `org = "..."`
/// line, `extra` any further keys.
fn section(api_url: &str, scope: &str, extra: &str) -> String {
    format!("[github]\napi_url = {api_url:?}\n{scope}\n{extra}\n")
}

fn repos(list: &[&str]) -> String {
    format!("repos = {list:?}")
}

fn org(name: &str) -> String {
    format!("org = {name:?}")
}

fn parse(toml: &str) -> RunConfig {
    soc2_collectors::registry()
        .parse_config(toml, "soc2.toml", Path::new("."))
        .unwrap()
}

async fn run_with_token(toml: &str, token: &str, out: &Path) -> RunManifest {
    let secrets = MapSecrets::default().with("GITHUB_TOKEN", token);
    Runner::from_config(&parse(toml), &secrets)
        .unwrap()
        .run(PERIOD.parse().unwrap(), out)
        .await
        .unwrap()
}

async fn run(toml: String, out: &Path) -> RunManifest {
    run_with_token(&toml, sample::TOKEN, out).await
}

fn lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_subject(records: &[Value]) -> BTreeMap<String, Value> {
    records
        .iter()
        .map(|r| (r["subject_id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

fn provenance(out: &Path, population: &str) -> Value {
    provenance_of(out, "github", population)
}

fn provenance_of(out: &Path, instance: &str, population: &str) -> Value {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(out.join(instance).join("provenance.json")).unwrap())
            .unwrap();
    doc["populations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["population"] == population)
        .unwrap()
        .clone()
}

fn findings(out: &Path, check: &str) -> BTreeMap<String, Value> {
    lines(&out.join("findings.jsonl"))
        .into_iter()
        .filter(|f| f["check_id"] == check)
        .map(|f| (f["subject_id"].as_str().unwrap().to_string(), f))
        .collect()
}

fn assert_ok(m: &RunManifest) {
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
}

#[tokio::test]
async fn sample_organisation_end_to_end() {
    pin_clock();
    let gh = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let started = Instant::now();
    let m = run(
        section(&gh.api_url(), &repos(&["acme/api", "acme/web"]), ""),
        &out,
    )
    .await;
    assert_ok(&m);
    // The sample answers the second GraphQL request once with a secondary rate limit
    // (403, retry-after: 1): the toolkit waited and retried.
    assert!(started.elapsed() >= Duration::from_secs(1));
    let stats = gh.server().stats();
    assert_eq!(
        stats.unpinned.load(Ordering::Relaxed),
        0,
        "API version pinned"
    );
    assert_eq!(stats.no_user_agent.load(Ordering::Relaxed), 0);
    // 2 repository look-ups, 2 PR pages for acme/api, 1 for acme/web, 2 history pages of
    // 100 commits for acme/api, 1 for acme/web, 1 retried request.
    assert_eq!(stats.graphql.load(Ordering::Relaxed), 9);

    let prs = by_subject(&lines(&out.join("github/pull_requests.jsonl")));
    assert_eq!(prs.len(), 68 + 15, "62+6 in acme/api, 12+3 in acme/web");
    for excluded in [
        "acme/api#90",  // merged before the period
        "acme/api#300", // after it
        "acme/api#150", // into another branch
        "acme/api#151", // closed unmerged
    ] {
        assert!(!prs.contains_key(excluded), "{excluded}");
    }
    let dependabot = &prs["acme/api#105"]["data"];
    assert_eq!(dependabot["author"]["login"], "dependabot[bot]");
    assert_eq!(dependabot["author"]["type"], "Bot");
    let ghost = &prs["acme/api#106"]["data"];
    assert_eq!(ghost["author"]["login"], "ghost");
    assert_eq!(ghost["author"]["type"], "Deleted");
    let dismissed = &prs["acme/web#51"]["data"];
    assert_eq!(dismissed["reviews"][0]["state"], "DISMISSED");
    assert_eq!(dismissed["dismissals"][0]["original_state"], "APPROVED");
    assert_eq!(
        dismissed["dismissals"][0]["dismissed_by"]["login"],
        "carolschmidt"
    );
    assert_eq!(
        prs["acme/api#103"]["data"]["reviews"][0]["reviewer"]["login"],
        "github-actions[bot]"
    );

    // The stored decision is the check's decision.
    for rec in prs.values() {
        let pr: PullRequest = serde_json::from_value(rec["data"].clone()).unwrap();
        assert_eq!(pr.approval, evaluate_approval(&pr), "{}", rec["subject_id"]);
    }

    // Every planted failure is found, and only those.
    let mut fails = Vec::new();
    for f in lines(&out.join("findings.jsonl")) {
        if f["status"] == "fail" {
            fails.push((
                f["check_id"].as_str().unwrap().to_string(),
                f["subject_id"].as_str().unwrap().to_string(),
            ));
        }
        assert_eq!(f["criteria"][0], "CC8.1");
    }
    fails.sort();
    let mut planted: Vec<(String, String)> = gh
        .planted()
        .iter()
        .map(|p| (p.check_id.to_string(), p.subject_id.to_string()))
        .collect();
    planted.sort();
    assert_eq!(fails, planted);

    let approval = findings(&out, "github.independent_approval");
    let summary = |s: &str| approval[s]["summary"].as_str().unwrap().to_string();
    assert!(summary("acme/api#101").contains("merged with no reviews"));
    assert!(
        summary("acme/api#102").contains("is stale"),
        "{}",
        summary("acme/api#102")
    );
    assert!(summary("acme/api#103").contains("is by a bot"));
    assert!(summary("acme/api#104").contains("2 COMMENTED"));
    assert!(summary("acme/web#51").contains("dismissed by carolschmidt"));
    assert_eq!(approval["acme/api#105"]["status"], "pass");
    assert_eq!(approval["acme/api#106"]["status"], "pass");
    assert_eq!(
        approval["acme/api#102"]["evidence"][0]["file"],
        "github/pull_requests.jsonl"
    );

    let bypass = findings(&out, "github.merged_under_bypass");
    assert!(bypass["acme/web#52"]["summary"]
        .as_str()
        .unwrap()
        .contains("by carolschmidt"));
    // Rule suites reach back 730 hours before 2026-07-01: acme/api's pushes before
    // 2026-05-31 14:00 cannot be judged, nor can merges before then that no bypass names.
    assert_eq!(bypass["acme/api"]["status"], "error");
    let why = bypass["acme/api"]["summary"].as_str().unwrap();
    assert!(
        why.contains("cannot establish before 2026-05-31 14:00 UTC"),
        "{why}"
    );
    assert!(
        why.contains("GitHub keeps rule suites about a month"),
        "{why}"
    );
    assert_eq!(bypass["acme/api#101"]["status"], "error");
    assert_eq!(
        bypass["acme/api#106"]["status"], "pass",
        "merged 2026-06-02, inside the window"
    );
    assert_eq!(
        bypass["acme/web#52"]["status"], "fail",
        "a bypass seen is a bypass, however old"
    );
    let review = findings(&out, "github.review_required");
    assert_eq!(review["acme/api"]["status"], "pass");
    let web = review["acme/web"]["summary"].as_str().unwrap();
    assert!(web.contains("only enforced from 2026-03-16"), "{web}");
    assert!(web.contains("2026-01-01..2026-03-15"), "{web}");

    let rules = by_subject(&lines(&out.join("github/branch_rules.jsonl")));
    assert_eq!(
        rules["acme/api"]["data"]["protection"]["status"],
        "protected"
    );
    assert_eq!(
        rules["acme/web"]["data"]["protection"]["status"],
        "not_protected"
    );
    assert_eq!(
        rules["acme/web"]["data"]["rulesets"][0]["pull_request"]["required_approving_review_count"],
        1
    );
    assert_eq!(
        rules["acme/web"]["data"]["rule_suites"]["bypasses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Provenance: the population reconciles with the count GitHub reports for the period.
    let p = provenance(&out, "pull_requests");
    assert_eq!(p["records_written"], 83);
    assert_eq!(p["source_reported_count"], 83);
    assert_eq!(p["records_received"], 83);
    assert_eq!(
        p["pages"], 5,
        "2 look-ups + 3 PR pages; the rate-limited answer is no page"
    );
    assert_eq!(p["response_sha256"].as_str().unwrap().len(), 64);
    assert!(p["base_url"].as_str().unwrap().ends_with("/graphql"));
    let notes = p["notes"].to_string();
    // Every base branch now: acme/api's 75 into main or master plus #150 into a release branch.
    assert!(notes.contains("totalCount = 76"), "{notes}");
    assert!(
        notes.contains("1 merged into other branches skipped"),
        "{notes}"
    );
    assert!(!notes.contains("COUNTS DIFFER"), "{notes}");
    let r = provenance(&out, "branch_rules");
    assert_eq!(r["records_written"], 2);
    assert!(r["notes"].to_string().contains("Branch not protected"));
}

#[tokio::test]
async fn org_mode_skips_archived_repositories() {
    pin_clock();
    let gh = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(section(&gh.api_url(), &org("acme"), ""), &out).await;
    assert_ok(&m);
    let rules = by_subject(&lines(&out.join("github/branch_rules.jsonl")));
    assert_eq!(rules.keys().collect::<Vec<_>>(), ["acme/api", "acme/web"]);
    let p = provenance(&out, "pull_requests");
    assert_eq!(p["records_written"], 83);
    assert!(p["notes"]
        .to_string()
        .contains("archived and skipped: acme/legacy-portal"));
    assert_eq!(p["endpoints"][0]["endpoint"], "/orgs/acme/repos");
    assert_eq!(p["endpoints"][0]["parameters"]["type"], "all");
}

fn review(
    id: u64,
    by: &str,
    state: &'static str,
    at_: chrono::DateTime<chrono::Utc>,
    commit: &str,
) -> ReviewModel {
    ReviewModel {
        id,
        author: Account::user(by),
        state,
        submitted_at: at_,
        commit_oid: commit.to_string(),
        association: "MEMBER",
    }
}

fn repo(pulls: Vec<PullModel>) -> GithubModel {
    GithubModel {
        org: "acme".into(),
        org_id: 1,
        repos: vec![RepoModel {
            id: 42,
            name: "svc".into(),
            default_branch: "main".into(),
            archived: false,
            pulls,
            protection: None,
            rulesets: Vec::new(),
            rule_suites: Vec::new(),
            direct_pushes: Vec::new(),
            renamed_from: None,
        }],
    }
}

#[tokio::test]
async fn three_pages_of_prs_and_overflowing_reviews_and_dismissals() {
    pin_clock();
    let mut pulls = Vec::new();
    for n in 1..=120u64 {
        let p = PullModel::merged(
            "acme/svc",
            n,
            "change",
            Account::user("erinw"),
            "main",
            at(2026, 1, 5, 0) + chrono::Duration::hours(n as i64 * 20),
            Account::user("erinw"),
        )
        .review(n, Account::user("bob-okafor"), "APPROVED", 1);
        pulls.push(p);
    }
    // PR 7: 130 comments, then the one approval — only found on the second reviews page.
    let p7 = &mut pulls[6];
    let merged = p7.merged_at.unwrap();
    let head = p7.head_oid.clone();
    p7.reviews = (0..130u64)
        .map(|i| {
            review(
                10_000 + i,
                "liamob",
                "COMMENTED",
                merged - chrono::Duration::hours(3),
                &head,
            )
        })
        .collect();
    p7.reviews.push(review(
        20_000,
        "carolschmidt",
        "APPROVED",
        merged - chrono::Duration::hours(1),
        &head,
    ));
    // PR 8: 60 dismissals of earlier approvals (overflowing the first 50), and the last,
    // on the 60th event, dismisses the only approval still standing.
    let p8 = &mut pulls[7];
    let merged = p8.merged_at.unwrap();
    let head = p8.head_oid.clone();
    p8.reviews = (0..60u64)
        .map(|i| {
            review(
                30_000 + i,
                "bob-okafor",
                "DISMISSED",
                merged - chrono::Duration::hours(5),
                &head,
            )
        })
        .collect();
    p8.dismissals = (0..60u64)
        .map(|i| DismissalModel {
            review_id: 30_000 + i,
            actor: Account::user("carolschmidt"),
            at: merged - chrono::Duration::hours(2),
            message: "re-review".into(),
            previous_state: if i == 59 { "APPROVED" } else { "COMMENTED" },
        })
        .collect();
    let server = GithubServer::start(repo(pulls), ServerOptions::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(
        section(
            &server.api_url(),
            &repos(&["acme/svc"]),
            "branch = \"main\"",
        ),
        &out,
    )
    .await;
    assert_ok(&m);
    // 2 history pages (180 commits) + 3 PR pages + 1 reviews page (PR 7) + 1 dismissals page
    // (PR 8); no repository look-up because the branch is configured.
    assert_eq!(server.stats().graphql.load(Ordering::Relaxed), 7);
    let prs = by_subject(&lines(&out.join("github/pull_requests.jsonl")));
    assert_eq!(prs.len(), 120);
    assert_eq!(
        prs["acme/svc#7"]["data"]["reviews"]
            .as_array()
            .unwrap()
            .len(),
        131
    );
    assert_eq!(
        prs["acme/svc#7"]["data"]["approval"]["approved_by"],
        "carolschmidt"
    );
    assert_eq!(
        prs["acme/svc#8"]["data"]["dismissals"]
            .as_array()
            .unwrap()
            .len(),
        60
    );
    let f = findings(&out, "github.independent_approval");
    assert_eq!(f["acme/svc#7"]["status"], "pass");
    assert_eq!(f["acme/svc#8"]["status"], "fail");
    assert!(f["acme/svc#8"]["summary"]
        .as_str()
        .unwrap()
        .contains("was dismissed by carolschmidt"));
    let review_req = findings(&out, "github.review_required");
    assert_eq!(review_req["acme/svc"]["status"], "fail");
    assert!(review_req["acme/svc"]["summary"]
        .as_str()
        .unwrap()
        .contains("does not require"));
}

#[tokio::test]
async fn paging_stops_once_prs_were_last_updated_before_the_period() {
    pin_clock();
    let mut pulls = Vec::new();
    for n in 1..=30u64 {
        pulls.push(PullModel::merged(
            "acme/svc",
            n,
            "new",
            Account::user("erinw"),
            "main",
            at(2026, 2, 1, 0) + chrono::Duration::hours(n as i64),
            Account::user("erinw"),
        ));
    }
    for n in 100..400u64 {
        pulls.push(PullModel::merged(
            "acme/svc",
            n,
            "old",
            Account::user("erinw"),
            "main",
            at(2025, 6, 1, 0) + chrono::Duration::hours(n as i64),
            Account::user("erinw"),
        ));
    }
    let server = GithubServer::start(repo(pulls), ServerOptions::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = section(
        &server.api_url(),
        &repos(&["acme/svc"]),
        "branch = \"main\"",
    );
    assert_ok(&run(s, &out).await);
    assert_eq!(
        server.stats().graphql.load(Ordering::Relaxed),
        2,
        "one history page (45 commits); 330 PRs, one page read"
    );
    assert_eq!(lines(&out.join("github/pull_requests.jsonl")).len(), 30);
    let p = provenance(&out, "pull_requests");
    assert_eq!(p["source_reported_count"], 30);
    assert!(p["notes"]
        .to_string()
        .contains("stopping where updatedAt fell before the period"));
}

#[tokio::test]
async fn graphql_errors_with_status_200_fail_the_collector_naming_query_and_repo() {
    pin_clock();
    let gh = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = section(
        &gh.api_url(),
        &repos(&["acme/does-not-exist"]),
        "branch = \"main\"",
    );
    let m = run(s, &out).await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    // The branch's history is the first query for a repository.
    assert!(err.contains("BranchHistory"), "{err}");
    assert!(err.contains("acme/does-not-exist"), "{err}");
    assert!(err.contains("Could not resolve to a Repository"), "{err}");
    assert!(err.contains("NOT_FOUND"), "{err}");
    let prov: Value =
        serde_json::from_slice(&std::fs::read(out.join("github/provenance.json")).unwrap())
            .unwrap();
    assert_eq!(prov["complete"], false);
}

#[tokio::test]
async fn bad_token_names_the_api_url_never_the_token() {
    pin_clock();
    let gh = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = section(&gh.api_url(), &repos(&["acme/api"]), "");
    let m = run_with_token(&s, "ghp_wrongTokenThatMustNotLeak", &out).await;
    let err = m.collectors[0].error.as_deref().unwrap();
    assert!(err.contains("401"), "{err}");
    assert!(err.contains(&format!("{}/graphql", gh.api_url())), "{err}");
    assert!(!err.contains("ghp_wrongTokenThatMustNotLeak"), "{err}");
    let run_json = std::fs::read_to_string(out.join("run.json")).unwrap();
    assert!(!run_json.contains("ghp_wrong"));
}

#[tokio::test]
async fn secondary_rate_limit_429_with_retry_after_is_waited_out() {
    pin_clock();
    let server = GithubServer::start(
        repo(vec![PullModel::merged(
            "acme/svc",
            1,
            "x",
            Account::user("erinw"),
            "main",
            at(2026, 3, 1, 0),
            Account::user("erinw"),
        )]),
        ServerOptions::default(),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "4100")
                .insert_header("x-ratelimit-reset", "1893456000")
                .insert_header("x-ratelimit-resource", "graphql")
                .set_body_raw(
                    r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"429"}"#,
                    "application/json",
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server.mock_server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = section(
        &server.api_url(),
        &repos(&["acme/svc"]),
        "branch = \"main\"",
    );
    let started = Instant::now();
    assert_ok(&run(s, &out).await);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after honoured"
    );
    assert_eq!(lines(&out.join("github/pull_requests.jsonl")).len(), 1);
}

#[tokio::test]
async fn graphql_primary_rate_limit_in_a_200_body_is_waited_out() {
    pin_clock();
    let server = GithubServer::start(
        repo(vec![PullModel::merged(
            "acme/svc",
            1,
            "x",
            Account::user("erinw"),
            "main",
            at(2026, 3, 1, 0),
            Account::user("erinw"),
        )]),
        ServerOptions::default(),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("retry-after", "1")
                .set_body_raw(
                    r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}"#,
                    "application/json",
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server.mock_server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let s = section(
        &server.api_url(),
        &repos(&["acme/svc"]),
        "branch = \"main\"",
    );
    assert_ok(&run(s, &out).await);
    assert_eq!(
        provenance(&out, "pull_requests")["pages"],
        1,
        "the rate-limited body is no page"
    );
}

#[tokio::test]
async fn github_enterprise_server_urls() {
    pin_clock();
    let server = GithubServer::start(
        sample::sample_model(),
        ServerOptions {
            enterprise: true,
            ..ServerOptions::default()
        },
    )
    .await;
    assert!(server.api_url().ends_with("/api/v3"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(section(&server.api_url(), &org("acme"), ""), &out).await;
    assert_ok(&m);
    assert_eq!(lines(&out.join("github/pull_requests.jsonl")).len(), 83);
    let p = provenance(&out, "pull_requests");
    assert_eq!(p["base_url"], server.graphql_url());
    assert!(server.graphql_url().ends_with("/api/graphql"));
    assert_eq!(p["endpoints"][0]["endpoint"], "/api/v3/orgs/acme/repos");
    assert!(p["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["endpoint"] == "/api/graphql"));
}

#[tokio::test]
async fn rest_pages_follow_links_in_the_repository_id_form() {
    pin_clock();
    // One item per REST page: the organisation's repositories, the branch rules and the rule
    // suites all span several pages whose Link URLs use /organizations/{id} and
    // /repositories/{id}.
    let server = GithubServer::start(
        sample::sample_model(),
        ServerOptions {
            rest_page_cap: Some(1),
            ..ServerOptions::default()
        },
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    assert_ok(&run(section(&server.api_url(), &org("acme"), ""), &out).await);
    let rules = by_subject(&lines(&out.join("github/branch_rules.jsonl")));
    assert_eq!(
        rules["acme/web"]["data"]["rule_suites"]["bypasses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        rules["acme/web"]["data"]["rulesets"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let p = provenance(&out, "branch_rules");
    let endpoint = |e: &str| {
        p["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["endpoint"] == e)
            .unwrap()
            .clone()
    };
    assert_eq!(endpoint("/repos/acme/web/rules/branches/main")["pages"], 3);
    // The rule-suite pages are the rule_suites population's.
    let sp = provenance(&out, "rule_suites");
    let suites = sp["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["endpoint"] == "/repos/acme/web/rulesets/rule-suites")
        .unwrap()
        .clone();
    assert_eq!(suites["pages"], 2);
    assert_eq!(suites["records_received"], 2);
    assert_eq!(suites["parameters"]["time_period"], "month");
    assert_eq!(suites["parameters"]["rule_suite_result"], "bypass");
    assert_eq!(
        provenance(&out, "pull_requests")["endpoints"][0]["pages"],
        3
    );
}

#[tokio::test]
async fn unreadable_protection_and_rule_suites_are_recorded_and_checks_say_error() {
    pin_clock();
    let server = GithubServer::start(
        repo(vec![PullModel::merged(
            "acme/svc",
            1,
            "x",
            Account::user("erinw"),
            "main",
            at(2026, 3, 1, 0),
            Account::user("erinw"),
        )
        .review(5, Account::user("bob-okafor"), "APPROVED", 1)]),
        ServerOptions::default(),
    )
    .await;
    let forbidden = || {
        ResponseTemplate::new(403).set_body_raw(
            r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/branches/branch-protection#get-branch-protection","status":"403"}"#,
            "application/json",
        )
    };
    for p in [
        "/repos/acme/svc/branches/main/protection",
        "/repos/acme/svc/rulesets/rule-suites",
    ] {
        Mock::given(path(p))
            .respond_with(forbidden())
            .with_priority(1)
            .mount(server.mock_server())
            .await;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    assert_ok(&run(section(&server.api_url(), &repos(&["acme/svc"]), ""), &out).await);
    let rules = by_subject(&lines(&out.join("github/branch_rules.jsonl")));
    let data = &rules["acme/svc"]["data"];
    assert_eq!(data["protection"]["status"], "unreadable");
    assert!(data["protection"]["error"]
        .as_str()
        .unwrap()
        .contains("Resource not accessible"));
    assert_eq!(data["rule_suites"]["status"], "unreadable");
    assert_eq!(
        findings(&out, "github.review_required")["acme/svc"]["status"],
        "error"
    );
    assert_eq!(
        findings(&out, "github.merged_under_bypass")["acme/svc"]["status"],
        "error"
    );
    assert_eq!(
        findings(&out, "github.independent_approval")["acme/svc#1"]["status"],
        "pass"
    );
}

#[tokio::test]
async fn a_ruleset_in_force_all_period_passes_and_a_stale_sha_helper_is_stable() {
    pin_clock();
    // One merge in the period, so the repository is in scope.
    let mut model = repo(vec![PullModel::merged(
        "acme/svc",
        1,
        "x",
        Account::user("erinw"),
        "main",
        at(2026, 3, 1, 0),
        Account::user("erinw"),
    )]);
    model.repos[0].rulesets.push(serde_json::json!({
        "id": 7, "name": "org baseline", "target": "branch", "source_type": "Organization",
        "source": "acme", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [{"type": "pull_request", "parameters": {
            "required_approving_review_count": 2, "dismiss_stale_reviews_on_push": true,
            "require_code_owner_review": true, "require_last_push_approval": true,
            "required_review_thread_resolution": false}}],
        "bypass_actors": [{"actor_id": 1, "actor_type": "OrganizationAdmin", "bypass_mode": "pull_request"}],
        "created_at": "2025-06-01T08:00:00.000-07:00", "updated_at": "2025-06-01T08:00:00.000-07:00",
    }));
    let server = GithubServer::start(model, ServerOptions::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    assert_ok(&run(section(&server.api_url(), &repos(&["acme/svc"]), ""), &out).await);
    let f = &findings(&out, "github.review_required")["acme/svc"];
    assert_eq!(f["status"], "pass", "{f}");
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("requires 2 approval(s) since 2025-06-01"), "{s}");
    assert!(s.contains("OrganizationAdmin (pull_request)"), "{s}");
    assert_eq!(sha("a"), sha("a"));
}

#[test]
fn config_file_section_builds_collector_and_checks() {
    pin_clock();
    std::env::set_var("SOC2_TEST_GH_TOKEN", "ghp_fromEnv");
    let c = parse(
        "[github]\napi_url = \"https://ghe.example.com/api/v3\"\norg = \"acme\"\ntoken_env = \"SOC2_TEST_GH_TOKEN\"\n",
    );
    let collectors = c.build(&EnvSecrets).unwrap();
    assert_eq!(collectors[0].collector.name(), "github");
    assert_eq!(c.checks()[0].checks.len(), 4);
    // The effective config names the variable, never the token, and fills in defaults.
    let effective = String::from_utf8(c.effective_json().unwrap()).unwrap();
    assert!(effective.contains("SOC2_TEST_GH_TOKEN"), "{effective}");
    assert!(!effective.contains("ghp_fromEnv"), "{effective}");
    assert!(effective.contains("\"timeout_secs\": 30"), "{effective}");
    let err = soc2_collectors::registry()
        .parse_config(
            "[github]\nrepos = [\"a/b\"]\nbranchh = \"x\"\n",
            "soc2.toml",
            Path::new("."),
        )
        .unwrap_err();
    assert!(err.to_string().contains("branchh"), "{err}");
    let err = Runner::from_config(
        &parse("[github]\nrepos = [\"a/b\"]\ntoken_env = \"SOC2_TEST_GH_TOKEN_UNSET\"\n"),
        &EnvSecrets,
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("SOC2_TEST_GH_TOKEN_UNSET"),
        "{err}"
    );
}

fn all_findings(out: &Path) -> Vec<Finding> {
    std::fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn two_instances_write_their_own_directories_and_the_named_one_prefixes_subjects() {
    pin_clock();
    let gh = sample::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let toml = format!(
        "[[github]]\nname = \"github\"\napi_url = {url:?}\nrepos = [\"acme/api\"]\n\
         [[github]]\nname = \"oss\"\napi_url = {url:?}\nrepos = [\"acme/web\"]\nrequired_approvals = 2\n",
        url = gh.api_url()
    );
    let m = run(toml, &out).await;
    let names: Vec<&str> = m.collectors.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["github", "oss"]);
    for c in &m.collectors {
        assert_eq!(c.status, CollectorStatus::Ok, "{}: {:?}", c.name, c.error);
        assert_eq!(c.collector_type, "github");
    }
    assert_eq!(lines(&out.join("github/pull_requests.jsonl")).len(), 68);
    assert_eq!(lines(&out.join("oss/pull_requests.jsonl")).len(), 15);
    assert_eq!(
        provenance_of(&out, "oss", "pull_requests")["collector"],
        "oss"
    );

    let findings = all_findings(&out);
    // The default-named instance keeps plain subjects; the named one's carry `oss:`, and
    // their evidence points into its own directory.
    let api = findings
        .iter()
        .find(|f| f.check_id == "github.independent_approval" && f.subject_id == "acme/api#101")
        .unwrap();
    assert_eq!(api.evidence[0].file, "github/pull_requests.jsonl");
    let web = findings
        .iter()
        .find(|f| f.check_id == "github.independent_approval" && f.subject_id == "oss:acme/web#51")
        .unwrap();
    assert_eq!(web.status, soc2_evidence_core::FindingStatus::Fail);
    assert_eq!(web.evidence[0].file, "oss/pull_requests.jsonl");
    for f in &findings {
        let web_subject = f.subject_id.contains("acme/web");
        assert_eq!(
            web_subject,
            f.subject_id.starts_with("oss:"),
            "{}",
            f.subject_id
        );
    }
    // Each instance's threshold is its own: oss wants two approvals, its ruleset requires one.
    let review = findings
        .iter()
        .find(|f| f.check_id == "github.review_required" && f.subject_id == "oss:acme/web")
        .unwrap();
    assert_eq!(review.status, soc2_evidence_core::FindingStatus::Fail);
    assert!(
        review.summary.contains("does not require"),
        "{}",
        review.summary
    );

    // `check DIR` rebuilds both instances' checks from the saved config.json.
    let store = EvidenceStore::open(&out).unwrap();
    let saved = soc2_collectors::registry().load_effective(&out).unwrap();
    let again = soc2_evidence_core::run_checks(&store, &saved.checks());
    assert_eq!(again, findings);
}

fn empty_repo(name: &str, archived: bool) -> RepoModel {
    RepoModel {
        id: 43,
        name: name.into(),
        default_branch: "main".into(),
        archived,
        pulls: Vec::new(),
        protection: None,
        rulesets: Vec::new(),
        rule_suites: Vec::new(),
        direct_pushes: Vec::new(),
        renamed_from: None,
    }
}

#[tokio::test]
async fn every_check_says_not_applicable_for_an_empty_scope() {
    pin_clock();
    // An organisation whose only repository is archived: nothing to collect.
    let server = GithubServer::start(
        GithubModel {
            org: "acme".into(),
            org_id: 1,
            repos: vec![empty_repo("old", true)],
        },
        ServerOptions::default(),
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    assert_ok(&run(section(&server.api_url(), &org("acme"), ""), &out).await);
    let org_findings = all_findings(&out);
    assert_eq!(org_findings.len(), 4, "{org_findings:?}");
    for f in &org_findings {
        assert_eq!(f.status, soc2_evidence_core::FindingStatus::NotApplicable);
        assert_eq!(f.subject_id, "acme");
        assert!(
            f.summary.contains("no non-archived repository"),
            "{}",
            f.summary
        );
    }

    // A repository with nothing merged and nothing committed in the period: every check
    // says not_applicable for it (before, review_required failed and merged_under_bypass
    // passed "0 merged PRs compared with 0 bypass rule suites").
    let server = GithubServer::start(repo(Vec::new()), ServerOptions::default()).await;
    let out = tmp.path().join("run2");
    assert_ok(&run(section(&server.api_url(), &repos(&["acme/svc"]), ""), &out).await);
    let approval = findings(&out, "github.independent_approval");
    assert_eq!(approval.len(), 1);
    assert_eq!(approval["acme/svc"]["status"], "not_applicable");
    assert!(approval["acme/svc"]["summary"]
        .as_str()
        .unwrap()
        .contains("no pull requests merged into main and no commits on it in the period"));
    for check in [
        "github.review_required",
        "github.merged_under_bypass",
        "github.changes_via_pull_request",
    ] {
        let f = &findings(&out, check)["acme/svc"];
        assert_eq!(f["status"], "not_applicable", "{check}: {f}");
        assert!(
            f["summary"]
                .as_str()
                .unwrap()
                .starts_with("nothing in scope:"),
            "{check}: {f}"
        );
    }

    // A listed repository with no default branch (empty) is skipped by the collector; every
    // check still says so rather than leaving it out.
    let server = GithubServer::start(repo(Vec::new()), ServerOptions::default()).await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_string_contains("RepositoryInfo"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"data":{"repository":{"isArchived":false,"defaultBranchRef":null},"rateLimit":{"cost":1,"remaining":4999,"resetAt":"2030-01-01T00:00:00Z"}}}"#,
            "application/json",
        ))
        .with_priority(1)
        .mount(server.mock_server())
        .await;
    let out = tmp.path().join("run3");
    assert_ok(&run(section(&server.api_url(), &repos(&["acme/svc"]), ""), &out).await);
    let findings = all_findings(&out);
    assert_eq!(findings.len(), 4, "{findings:?}");
    for f in &findings {
        assert_eq!(f.status, soc2_evidence_core::FindingStatus::NotApplicable);
        assert_eq!(f.subject_id, "acme/svc");
        assert!(f.summary.contains("no default branch"), "{}", f.summary);
    }
}

#[tokio::test]
async fn a_server_error_mid_collection_leaves_partial_files_and_says_where() {
    pin_clock();
    let server = GithubServer::start(
        repo(vec![PullModel::merged(
            "acme/svc",
            1,
            "x",
            Account::user("erinw"),
            "main",
            at(2026, 3, 1, 0),
            Account::user("erinw"),
        )
        .review(5, Account::user("bob-okafor"), "APPROVED", 1)]),
        ServerOptions::default(),
    )
    .await;
    // The pull requests are read; then the branch's rules answer 500.
    Mock::given(path("/repos/acme/svc/rules/branches/main"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_raw(r#"{"message":"Server Error"}"#, "application/json"),
        )
        .with_priority(1)
        .mount(server.mock_server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let m = run(
        section(
            &server.api_url(),
            &repos(&["acme/svc"]),
            "branch = \"main\"",
        ),
        &out,
    )
    .await;
    let c = &m.collectors[0];
    assert_eq!(c.status, CollectorStatus::Failed);
    let err = c.error.as_deref().unwrap();
    assert!(err.contains("/repos/acme/svc/rules/branches/main"), "{err}");
    assert!(err.contains("500"), "{err}");

    let mut files: Vec<String> = std::fs::read_dir(out.join("github"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "branch_rules.jsonl.partial",
            "commits.jsonl.partial",
            "provenance.json",
            "pull_requests.jsonl.partial",
            "rule_suites.jsonl.partial",
        ]
    );
    // What was collected before the failure is kept, never presented as complete.
    assert_eq!(
        lines(&out.join("github/pull_requests.jsonl.partial")).len(),
        1
    );
    let doc: Value =
        serde_json::from_slice(&std::fs::read(out.join("github/provenance.json")).unwrap())
            .unwrap();
    assert_eq!(doc["complete"], false);
    for population in ["pull_requests", "branch_rules"] {
        let p = provenance(&out, population);
        assert_eq!(p["complete"], false, "{population}");
        let notes = p["notes"].to_string();
        assert!(
            notes.contains("/repos/acme/svc/rules/branches/main"),
            "{population}: {notes}"
        );
    }
    assert_eq!(provenance(&out, "pull_requests")["records_written"], 1);
    // No check judges incomplete evidence: each reports an error instead.
    let findings = all_findings(&out);
    assert_eq!(findings.len(), 4, "{findings:?}");
    assert!(findings
        .iter()
        .all(|f| f.status == soc2_evidence_core::FindingStatus::Error
            && f.summary.contains("did not complete")));
}

#[tokio::test]
async fn timeout_secs_abandons_a_hanging_request() {
    pin_clock();
    let server = GithubServer::start(
        repo(vec![PullModel::merged(
            "acme/svc",
            1,
            "x",
            Account::user("erinw"),
            "main",
            at(2026, 3, 1, 0),
            Account::user("erinw"),
        )]),
        ServerOptions::default(),
    )
    .await;
    // The first GraphQL request hangs far longer than the configured timeout; the retry
    // after the timeout is answered normally.
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("{}", "application/json")
                .set_delay(Duration::from_secs(20)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server.mock_server())
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let started = Instant::now();
    let m = run(
        section(
            &server.api_url(),
            &repos(&["acme/svc"]),
            "branch = \"main\"\ntimeout_secs = 1",
        ),
        &out,
    )
    .await;
    assert_ok(&m);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(
        took < Duration::from_secs(10),
        "the 1 s timeout applied: {took:?}"
    );
    assert_eq!(lines(&out.join("github/pull_requests.jsonl")).len(), 1);
}

#[tokio::test]
async fn the_verdict_rule_holds_on_empty_and_on_missing_populations() {
    pin_clock();
    let tmp = tempfile::tempdir().unwrap();
    for scope in [repos(&["acme/api", "acme/web"]), org("acme")] {
        let config = parse(&section("https://api.github.com", &scope, ""));
        soc2_evidence_core::testing::assert_verdict_rule(
            &config,
            PERIOD,
            &tmp.path().join(&scope[..3]),
        )
        .await;
    }
}

#[tokio::test]
async fn a_github_app_installation_authenticates_the_collection() {
    pin_clock();
    use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
    let gh = sample::start().await;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    Mock::given(method("POST"))
        .and(path("/app/installations/4242/access_tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"token": sample::TOKEN, "expires_at": expires})),
        )
        .expect(1)
        .mount(gh.server().mock_server())
        .await;
    let toml = section(
        &gh.api_url(),
        &repos(&["acme/api"]),
        "app_id = \"123456\"\ninstallation_id = 4242\napp_key_env = \"GITHUB_APP_KEY\"",
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let secrets = MapSecrets::default().with("GITHUB_APP_KEY", &pem);
    let m = Runner::from_config(&parse(&toml), &secrets)
        .unwrap()
        .run(PERIOD.parse().unwrap(), &out)
        .await
        .unwrap();
    assert_ok(&m);
    // One installation token served the whole collection; no key line was written out.
    let key_line = pem.lines().nth(1).unwrap();
    for entry in walk(&out) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !text.contains(key_line),
            "{} holds the App key",
            entry.display()
        );
    }
    let saved = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(
        saved.contains("GITHUB_APP_KEY") && saved.contains("4242"),
        "{saved}"
    );

    let half = section(&gh.api_url(), &repos(&["acme/api"]), "app_id = \"123456\"");
    let err = soc2_collectors::registry()
        .parse_config(&half, "soc2.toml", Path::new("."))
        .unwrap_err();
    assert!(err.to_string().contains("installation_id"), "{err}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// ---- acme/shop: recorded shapes (tests/fixtures/github/README.md) ----

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/github")
            .join(name),
    )
    .unwrap()
}

/// A plain wiremock GitHub answering for `acme/shop` from the fixtures.
async fn shop_server() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    let json =
        |name: &str| ResponseTemplate::new(200).set_body_raw(fixture(name), "application/json");
    for (operation, file) in [
        ("query RepositoryInfo", "repository_info.json"),
        ("query BranchHistory", "history.json"),
        ("query MergedPullRequests", "merged_prs.json"),
    ] {
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .and(body_string_contains(operation))
            .respond_with(json(file))
            .mount(&server)
            .await;
    }
    for (p, file) in [
        (
            "/repos/acme/shop/branches/main/protection",
            "protection.json",
        ),
        (
            "/repos/acme/shop/rules/branches/main",
            "rules_branches_main.json",
        ),
        ("/repos/acme/shop/rulesets/42", "ruleset_42.json"),
        ("/repos/acme/shop/rulesets/7", "ruleset_7.json"),
        ("/repos/acme/shop/rulesets/43", "ruleset_evaluate.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(json(file))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/rulesets/rule-suites"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("[]", "application/json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_renamed_default_branch_keeps_its_master_prs_and_direct_pushes_fail() {
    pin_clock();
    let server = shop_server().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    assert_ok(&run(section(&server.uri(), &repos(&["acme/shop"]), ""), &out).await);

    // PR #9 was merged into `master` before the rename: it landed on the production branch
    // (its squash commit is in main's history). Before, the base-branch filter dropped it.
    let prs = by_subject(&lines(&out.join("github/pull_requests.jsonl")));
    assert_eq!(
        prs.keys().collect::<Vec<_>>(),
        ["acme/shop#12", "acme/shop#9"],
        "#11 went into develop"
    );
    assert_eq!(prs["acme/shop#9"]["data"]["base_branch"], "master");
    assert_eq!(
        prs["acme/shop#12"]["data"]["head_branch"],
        "feature/SHOP-42-cart"
    );
    let p = provenance(&out, "pull_requests");
    assert_eq!(p["records_received"], 2);
    assert_eq!(
        p["source_reported_count"], 2,
        "search counts 3, one went to develop"
    );

    // The commit population: every commit of main in the period, reconciled with totalCount.
    let commits = by_subject(&lines(&out.join("github/commits.jsonl")));
    assert_eq!(commits.len(), 6);
    let c = provenance(&out, "commits");
    assert_eq!(c["complete"], true);
    assert_eq!(c["source_reported_count"], 6);
    assert_eq!(c["records_received"], 6);
    let notes = c["notes"].to_string();
    assert!(
        notes.contains("4 via 2 merged pull request(s), 2 direct push(es)"),
        "{notes}"
    );

    let f = findings(&out, "github.changes_via_pull_request");
    let direct = &f["acme/shop@d1d1d1d1a0b1c2d3e4f5061728394a5b6c7d8e9f"];
    assert_eq!(direct["status"], "fail");
    let s = direct["summary"].as_str().unwrap();
    assert!(s.contains("direct push: commit d1d1d1d"), "{s}");
    assert!(s.contains("hotfix: bump session timeout"), "{s}");
    assert!(
        s.contains("author octocat (The Octocat <octocat@github.com>)"),
        "{s}"
    );
    // A commit whose only pull request is still open came through none.
    let open = &f["acme/shop@0a0a0a0a1b2c3d4e5f60718293a4b5c6d7e8f901"];
    assert_eq!(open["status"], "fail");
    assert!(
        open["summary"]
            .as_str()
            .unwrap()
            .contains("#13 merged=false"),
        "{open}"
    );
    assert_eq!(
        f.len(),
        2,
        "no repository-level pass while direct pushes exist: {f:?}"
    );

    // Rule suites reach back 730 hours before 2026-07-01: #12 (June 10) is judged, #9
    // (February) cannot be; the repository-level finding cannot cover the period's start.
    let b = findings(&out, "github.merged_under_bypass");
    assert_eq!(b["acme/shop#12"]["status"], "pass", "{}", b["acme/shop#12"]);
    assert_eq!(b["acme/shop#9"]["status"], "error");
    let why = b["acme/shop#9"]["summary"].as_str().unwrap();
    assert!(
        why.contains(
            "cannot establish before 2026-05-31 14:00 UTC: GitHub keeps rule suites about a month"
        ),
        "{why}"
    );
    assert_eq!(b["acme/shop"]["status"], "error", "{}", b["acme/shop"]);
    let s = provenance(&out, "rule_suites");
    assert_eq!(s["complete"], false);
    // (The pinned clock advances while the test runs.)
    let covers = |k: &str| s["covers"][k].as_str().unwrap().to_string();
    assert!(covers("from").starts_with("2026-05-31T14:00:0"), "{s}");
    assert!(covers("until").starts_with("2026-07-01T00:00:0"), "{s}");

    // Provenance counts what was received for rules and rulesets (it said 0 before).
    let r = provenance(&out, "branch_rules");
    let received = |e: &str| {
        r["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["endpoint"] == e)
            .unwrap_or_else(|| panic!("{e}: {r}"))["records_received"]
            .clone()
    };
    assert_eq!(received("/repos/acme/shop/rules/branches/main"), 4);
    assert_eq!(received("/repos/acme/shop/rulesets/42"), 1);
    assert_eq!(received("/repos/acme/shop/rulesets/7"), 1);
    let rules = by_subject(&lines(&out.join("github/branch_rules.jsonl")));
    let ids: Vec<u64> = rules["acme/shop"]["data"]["rulesets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [42, 7],
        "the evaluate-mode ruleset 43 is not named by rules/branches"
    );

    // The strict rule: #12's only approval was of an earlier commit. The finding says this
    // is our rule and what GitHub's own rules required.
    let a = findings(&out, "github.independent_approval");
    assert_eq!(a["acme/shop#9"]["status"], "pass");
    assert_eq!(a["acme/shop#12"]["status"], "fail");
    let s = a["acme/shop#12"]["summary"].as_str().unwrap();
    assert!(s.contains("is stale: it approved commit 5e12e12"), "{s}");
    assert!(
        s.contains("this tool's rule, require_approval_on_head = true"),
        "{s}"
    );
    assert!(
        s.contains("branch protection dismiss_stale_reviews = false"),
        "{s}"
    );
    assert!(
        s.contains("ruleset \"main: review\" (active) dismiss_stale_reviews_on_push = false"),
        "{s}"
    );
    assert!(
        s.contains("do not dismiss approvals of earlier commits"),
        "{s}"
    );
}

#[tokio::test]
async fn require_approval_on_head_false_accepts_an_approval_of_an_earlier_commit() {
    pin_clock();
    let server = shop_server().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let toml = section(
        &server.uri(),
        &repos(&["acme/shop"]),
        "require_approval_on_head = false",
    );
    assert_ok(&run(toml, &out).await);
    let a = findings(&out, "github.independent_approval");
    assert_eq!(a["acme/shop#12"]["status"], "pass", "{}", a["acme/shop#12"]);
    let s = a["acme/shop#12"]["summary"].as_str().unwrap();
    assert!(s.contains("on earlier commit 5e12e12 of the PR"), "{s}");
    assert!(s.contains("require_approval_on_head = false"), "{s}");
    // The stored decision is the configured one.
    let prs = by_subject(&lines(&out.join("github/pull_requests.jsonl")));
    assert_eq!(prs["acme/shop#12"]["data"]["approval"]["approved"], true);
}
