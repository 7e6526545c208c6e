//! Incremental (ledger) runs of the Okta collector: a second run with the previous run's
//! directory re-reads factors and roles only for the users that changed, and carries the
//! others' records forward, unless the previous run cannot be built on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use soc2_evidence_core::{
    AuditPeriod, CollectorStatus, EvidenceStore, MapSecrets, PreviousRun, Progress, RunManifest,
    Runner,
};
use soc2_sample::okta as sample;

/// Every test binary pins the same instant, 2026-07-01T00:00:00Z.
fn pin_clock() {
    soc2_evidence_core::clock::set_override("2026-07-01T00:00:00Z".parse().unwrap())
        .expect("every test pins the same instant");
}

const PERIOD: &str = "2026-01-01..2026-06-30";
/// The daily run's window: the previous run collected at 2026-07-01T00:00Z, and the ledger
/// starts the next window a day before that.
const WINDOW: &str = "2026-06-30..2026-06-30";
const TOKEN_ENV: &str = "SOC2_TEST_OKTA_TOKEN";
const SEQ: u64 = 41;

const ALICE: &str = "00u1alice00000000001";
const BOB: &str = "00u1bob0000000000002";
const CAROL: &str = "00u1carol00000000003";
const DEV: &str = "00u1dev0000000000004";
const ERIN: &str = "00u1erin000000000005";
const GRACE: &str = "00u1grace00000000007";
const JONAS: &str = "00u1jonas00000000010";
const MONA: &str = "00u1mona000000000013";

/// Acme with plain paging (users in pages of 4, assignees of 2, System Log of 10) and no
/// one-off 429, so request counts are exact.
async fn server() -> sample::OktaServer {
    sample::serve(
        sample::acme(),
        sample::ServerOptions {
            users_page: 4,
            assignees_page: 2,
            logs_page: 10,
            ..sample::ServerOptions::default()
        },
    )
    .await
}

fn config(base_url: &str, extra: &str) -> String {
    format!("[okta]\nbase_url = {base_url:?}\ntoken_env = {TOKEN_ENV:?}\n{extra}\n")
}

#[derive(Default)]
struct Messages(Mutex<Vec<String>>);

impl Progress for Messages {
    fn message(&self, _collector: &str, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
}

/// One run through the runner; with `previous`, an incremental one over [`WINDOW`].
async fn run(
    okta: &sample::OktaServer,
    extra: &str,
    previous: Option<PreviousRun>,
    out: &Path,
) -> (RunManifest, Vec<String>) {
    let parsed = soc2_collectors::registry()
        .parse_config(
            &config(&okta.base_url(), extra),
            "soc2.toml",
            Path::new("."),
        )
        .unwrap();
    let secrets = MapSecrets::default().with(TOKEN_ENV, okta.token());
    let messages = Arc::new(Messages::default());
    let mut runner = Runner::from_config(&parsed, &secrets)
        .unwrap()
        .progress(messages.clone());
    if let Some(prev) = previous {
        runner = runner.window("okta", WINDOW.parse::<AuditPeriod>().unwrap(), Some(prev));
    }
    let m = runner.run(PERIOD.parse().unwrap(), out).await.unwrap();
    assert_eq!(
        m.collectors[0].status,
        CollectorStatus::Ok,
        "{:?}",
        m.collectors[0].error
    );
    let messages = messages.0.lock().unwrap().clone();
    (m, messages)
}

/// The first run's directory as the ledger hands it to the next run.
fn previous(dir: &Path) -> PreviousRun {
    let collected_at = EvidenceStore::open(dir).unwrap().collected_at();
    PreviousRun::new(dir.to_path_buf(), "okta", collected_at, SEQ)
}

/// Requests received since `from`, as (path, query).
async fn requests_since(okta: &sample::OktaServer, from: usize) -> Vec<(String, String)> {
    okta.server()
        .received_requests()
        .await
        .unwrap()
        .iter()
        .skip(from)
        .map(|r| {
            (
                r.url.path().to_string(),
                r.url.query().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn received(okta: &sample::OktaServer) -> usize {
    okta.server().received_requests().await.unwrap().len()
}

/// The users whose `/api/v1/users/{id}/<what>` was requested.
fn per_user(requests: &[(String, String)], what: &str) -> BTreeSet<String> {
    requests
        .iter()
        .filter_map(|(p, _)| {
            p.strip_prefix("/api/v1/users/")
                .and_then(|rest| rest.strip_suffix(&format!("/{what}")))
                .map(str::to_string)
        })
        .collect()
}

fn count(requests: &[(String, String)], what: &str) -> usize {
    requests
        .iter()
        .filter(|(p, _)| p.starts_with("/api/v1/users/") && p.ends_with(&format!("/{what}")))
        .count()
}

/// The records' data of one population, by subject.
fn records(out: &Path, name: &str) -> BTreeMap<String, Vec<Value>> {
    let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in fs::read_to_string(out.join(format!("okta/{name}.jsonl")))
        .unwrap()
        .lines()
    {
        let v: Value = serde_json::from_str(line).unwrap();
        by.entry(v["subject_id"].as_str().unwrap().to_string())
            .or_default()
            .push(v["data"].clone());
    }
    for list in by.values_mut() {
        list.sort_by_key(|v| v.to_string());
    }
    by
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
        .unwrap()
}

/// Asserts that `value`, a time the run stamped, lies within the Okta collector's run (to
/// the second): the pinned clock keeps ticking from its first read in this process, so a
/// run that starts a second later stamps a later time than the pinned instant.
fn assert_stamped_during(value: &Value, manifest: &RunManifest) {
    let c = manifest.collector("okta").unwrap();
    let at: chrono::DateTime<chrono::Utc> = value.as_str().unwrap().parse().unwrap();
    let from = c.started_at
        - chrono::Duration::nanoseconds(i64::from(c.started_at.timestamp_subsec_nanos()));
    assert!(
        from <= at && at <= c.finished_at,
        "{at} is not within the run, {}..{}",
        c.started_at,
        c.finished_at
    );
}

/// Rewrites one population's provenance entry in a run directory.
fn edit_provenance(dir: &Path, name: &str, edit: impl Fn(&mut Value)) {
    let path = dir.join("okta/provenance.json");
    let mut doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    for p in doc["populations"].as_array_mut().unwrap() {
        if p["population"] == name {
            edit(p);
        }
    }
    fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

fn user_mut<'a>(org: &'a mut sample::OktaOrg, id: &str) -> &'a mut Value {
    org.users.iter_mut().find(|u| u["id"] == id).unwrap()
}

/// Acme a day later: Erin's profile was updated and she enrolled a security key; Mona joined
/// with Okta Verify; Grace was deleted; Dev activated his pending TOTP (an MFA event, his
/// user record unchanged); Alice granted Jonas Help Desk admin (a privilege event).
fn a_day_later() -> sample::OktaOrg {
    let mut org = sample::acme();
    user_mut(&mut org, ERIN)["lastUpdated"] = json!("2026-06-30T10:00:00.000Z");
    org.factors.get_mut(ERIN).unwrap().push(sample::factor(
        "fwf1erinwebauthn0001",
        ERIN,
        "webauthn",
        "ACTIVE",
        "2026-06-30T10:05:00.000Z",
    ));
    org.users.push(sample::user(
        MONA,
        "mona@acme.example",
        "Mona Lind",
        "Finance",
        &sample::UserSpec {
            status: "ACTIVE",
            created: "2026-06-30T09:00:00.000Z",
            activated: Some("2026-06-30T09:00:00.000Z"),
            status_changed: Some("2026-06-30T09:00:00.000Z"),
            ..sample::UserSpec::default()
        },
    ));
    org.factors.insert(
        MONA.into(),
        vec![sample::factor(
            "opf1monapush00000001",
            MONA,
            "push",
            "ACTIVE",
            "2026-06-30T09:10:00.000Z",
        )],
    );
    org.users.retain(|u| u["id"] != GRACE);
    org.factors.remove(GRACE);
    for f in org.factors.get_mut(DEV).unwrap() {
        f["status"] = json!("ACTIVE");
        f["lastUpdated"] = json!("2026-06-30T11:00:00.000Z");
        if let Some(o) = f.as_object_mut() {
            o.remove("_embedded");
        }
    }
    let dev = sample::party(DEV, "User", "dev@acme.example", "Dev Patel");
    org.logs.push(sample::event(
        "c0ffee01-0000-4000-8000-000000000001",
        "2026-06-30T11:00:00.000Z",
        "user.mfa.factor.activate",
        "User activated a TOTP factor",
        dev.clone(),
        vec![dev],
        "SUCCESS",
        json!({"factor": "GOOGLE_OTP"}),
    ));
    org.user_roles.insert(
        JONAS.into(),
        vec![sample::role(
            "ra1jonashelpdesk0002",
            "HELP_DESK_ADMIN",
            "Help Desk Administrator",
            "2026-06-30T12:00:00.000Z",
            None,
        )],
    );
    org.assignees.push(JONAS.into());
    org.logs.push(sample::event(
        "c0ffee02-0000-4000-8000-000000000002",
        "2026-06-30T12:00:00.000Z",
        "user.account.privilege.grant",
        "Grant user privilege",
        sample::party(ALICE, "User", "alice@acme.example", "Alice Chen"),
        vec![sample::party(
            JONAS,
            "User",
            "jonas@acme.example",
            "Jonas Weber",
        )],
        "SUCCESS",
        json!({"privilegeGranted": "Help Desk administrator"}),
    ));
    org
}

#[tokio::test]
async fn a_daily_run_rereads_only_changed_users_and_carries_the_others() {
    pin_clock();
    let okta = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let (first, second) = (tmp.path().join("run-41"), tmp.path().join("run-42"));

    // First run: no previous run, so everything is read.
    let (_, messages) = run(&okta, "", None, &first).await;
    let full = requests_since(&okta, 0).await;
    assert_eq!(count(&full, "factors"), 12, "one factors request per user");
    assert_eq!(count(&full, "roles"), 12, "one roles request per user");
    assert_eq!(full.len(), 44, "{full:#?}");
    let prov = provenance(&first, "factors");
    assert_eq!(prov["cursor"]["full_refresh_at"], "2026-07-01T00:00:00Z");
    assert_eq!(prov["cursor"]["read"], "full");
    assert!(
        messages
            .iter()
            .any(|m| m == "factors: 12 users read in full"),
        "{messages:?}"
    );

    // A day later, an incremental run with the first as its previous run.
    okta.set_org(a_day_later());
    let before = received(&okta).await;
    let (_, messages) = run(&okta, "", Some(previous(&first)), &second).await;
    let daily = requests_since(&okta, before).await;
    assert_eq!(
        per_user(&daily, "factors"),
        BTreeSet::from([DEV.into(), ERIN.into(), MONA.into()]),
        "changed (Erin), new (Mona), named in an MFA event (Dev)"
    );
    assert_eq!(count(&daily, "factors"), 3);
    assert_eq!(
        per_user(&daily, "roles"),
        BTreeSet::from([
            ALICE.into(),
            BOB.into(),
            CAROL.into(),
            ERIN.into(),
            JONAS.into(),
            MONA.into()
        ]),
        "the admins, changed and new users, and Jonas named in a privilege grant"
    );
    assert_eq!(count(&daily, "roles"), 6);
    // users 4 pages, System Log 1, assignees 2, the admin group 3, policies 8.
    assert_eq!(daily.len(), 4 + 1 + 3 + 6 + 2 + 3 + 8, "{daily:#?}");
    let logs: Vec<&(String, String)> = daily.iter().filter(|(p, _)| p == "/api/v1/logs").collect();
    assert!(
        logs[0].1.contains("since=2026-06-30T00%3A00%3A00.000Z"),
        "the window, not the period: {logs:?}"
    );
    println!(
        "okta requests: full run {} ({} per-user), daily run {} ({} per-user)",
        full.len(),
        count(&full, "factors") + count(&full, "roles"),
        daily.len(),
        count(&daily, "factors") + count(&daily, "roles")
    );

    // Carried records are the previous run's, for users still there; Grace is gone.
    let (old, new) = (records(&first, "factors"), records(&second, "factors"));
    assert!(old.contains_key(GRACE));
    assert!(
        !new.contains_key(GRACE),
        "a deleted user's factors are not carried"
    );
    for (user, list) in &new {
        if ![DEV, ERIN, MONA].contains(&user.as_str()) {
            assert_eq!(Some(list), old.get(user), "{user} carried as it was");
        }
    }
    let carried_users = new
        .keys()
        .filter(|u| ![DEV, ERIN, MONA].contains(&u.as_str()))
        .count();
    assert_eq!(
        carried_users,
        old.len() - 3,
        "everyone with factors but Grace (deleted), Dev and Erin (re-read)"
    );
    assert_eq!(
        new[ERIN].len(),
        old[ERIN].len() + 1,
        "Erin's new key is read"
    );
    assert!(
        new[DEV].iter().all(|f| f["status"] == "ACTIVE"),
        "{:?}",
        new[DEV]
    );
    assert_eq!(new[MONA].len(), 1);

    let roles = records(&second, "admin_roles");
    assert_eq!(roles[JONAS][0]["role_type"], "HELP_DESK_ADMIN");
    assert_eq!(
        roles.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([ALICE.into(), BOB.into(), CAROL.into(), JONAS.into()])
    );

    // Provenance says what happened, and the population is complete.
    let prov = provenance(&second, "factors");
    assert_eq!(prov["complete"], true);
    let notes = prov["notes"].to_string();
    assert!(
        notes.contains(
            "Factors re-read for 3 users changed since ledger run 41 (2026-07-01T00:00:00Z): \
             1 not in that run, 1 with created, activated, lastUpdated, statusChanged or \
             passwordChanged at or after 2026-06-30T00:00:00Z, 1 named in MFA events"
        ),
        "{notes}"
    );
    assert!(
        notes.contains(
            "9 users' factors carried forward from run 41, last read in full at \
             2026-07-01T00:00:00Z"
        ),
        "{notes}"
    );
    assert_eq!(prov["cursor"]["full_refresh_at"], "2026-07-01T00:00:00Z");
    assert_eq!(prov["cursor"]["read"], "incremental");
    assert_eq!(prov["cursor"]["users_carried"], 9);
    assert_eq!(
        prov["records_received"],
        new[DEV].len() + new[ERIN].len() + new[MONA].len(),
        "only the re-read users' factors come from Okta"
    );
    assert_eq!(
        prov["records_written"],
        new.values().map(Vec::len).sum::<usize>()
    );
    let prov = provenance(&second, "admin_roles");
    assert_eq!(prov["complete"], true);
    assert!(
        prov["notes"]
            .to_string()
            .contains("6 users' roles carried forward from run 41"),
        "{}",
        prov["notes"]
    );
    assert!(
        messages
            .iter()
            .any(|m| m == "factors: 3 changed users re-read, 9 carried forward"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m == "roles: 6 changed users re-read, 6 carried forward"),
        "{messages:?}"
    );

    // The checks judge the carried evidence like any other: Dev's TOTP is now active.
    let findings = fs::read_to_string(second.join("findings.jsonl")).unwrap();
    let dev_mfa: Vec<Value> = findings
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|f| f["check_id"] == "okta.mfa_enrolled" && f["subject_id"] == DEV)
        .collect();
    assert_eq!(dev_mfa.len(), 1);
    assert_eq!(dev_mfa[0]["status"], "pass", "{dev_mfa:?}");
}

#[tokio::test]
async fn a_previous_run_past_full_refresh_days_means_a_full_read() {
    pin_clock();
    let okta = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("run-41");
    run(&okta, "", None, &first).await;
    // The last full read was ten days before now.
    for name in ["factors", "admin_roles"] {
        edit_provenance(&first, name, |p| {
            p["cursor"]["full_refresh_at"] = json!("2026-06-21T00:00:00Z");
        });
    }

    let second = tmp.path().join("default");
    let before = received(&okta).await;
    let (manifest, _) = run(&okta, "", Some(previous(&first)), &second).await;
    let daily = requests_since(&okta, before).await;
    assert_eq!(count(&daily, "factors"), 12);
    assert_eq!(count(&daily, "roles"), 12);
    let prov = provenance(&second, "factors");
    assert_stamped_during(&prov["cursor"]["full_refresh_at"], &manifest);
    assert_eq!(prov["cursor"]["read"], "full");
    assert_eq!(prov["complete"], true);
    let notes = prov["notes"].to_string();
    assert!(
        notes.contains("a full refresh is due: factors were last read in full at 2026-06-21T00:00:00Z (10 day(s) ago; full_refresh_days = 7)"),
        "{notes}"
    );

    // With a longer refresh interval the same previous run is built on.
    let third = tmp.path().join("thirty");
    let before = received(&okta).await;
    run(
        &okta,
        "full_refresh_days = 30",
        Some(previous(&first)),
        &third,
    )
    .await;
    let daily = requests_since(&okta, before).await;
    assert_eq!(count(&daily, "factors"), 0, "nobody changed");
    assert_eq!(count(&daily, "roles"), 3, "the three admins");
    let prov = provenance(&third, "factors");
    assert_eq!(
        prov["cursor"]["full_refresh_at"], "2026-06-21T00:00:00Z",
        "the last full read stays the one it was"
    );
    assert_eq!(records(&third, "factors"), records(&first, "factors"));
    assert_eq!(
        records(&third, "admin_roles"),
        records(&first, "admin_roles")
    );
}

#[tokio::test]
async fn an_incomplete_previous_population_means_a_full_read() {
    pin_clock();
    let okta = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("run-41");
    run(&okta, "", None, &first).await;
    edit_provenance(&first, "factors", |p| p["complete"] = json!(false));

    let second = tmp.path().join("run-42");
    let before = received(&okta).await;
    run(&okta, "", Some(previous(&first)), &second).await;
    let daily = requests_since(&okta, before).await;
    assert_eq!(count(&daily, "factors"), 12, "factors read in full");
    assert_eq!(
        count(&daily, "roles"),
        3,
        "roles still built on the previous run"
    );
    let prov = provenance(&second, "factors");
    assert_eq!(prov["complete"], true);
    assert!(
        prov["notes"]
            .to_string()
            .contains("factors of ledger run 41 are incomplete"),
        "{}",
        prov["notes"]
    );

    // A previous run whose factors file is missing (a failed run) is no base either.
    fs::remove_file(first.join("okta/factors.jsonl")).unwrap();
    edit_provenance(&first, "factors", |p| p["complete"] = json!(true));
    let third = tmp.path().join("run-43");
    let before = received(&okta).await;
    run(&okta, "", Some(previous(&first)), &third).await;
    let daily = requests_since(&okta, before).await;
    assert_eq!(count(&daily, "factors"), 12);
    assert!(provenance(&third, "factors")["notes"]
        .to_string()
        .contains("holds no complete factors or users file"));
}

#[tokio::test]
async fn an_org_wide_factor_change_means_a_full_factor_read() {
    pin_clock();
    let okta = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("run-41");
    run(&okta, "", None, &first).await;
    let mut org = sample::acme();
    org.logs.push(sample::event(
        "c0ffee03-0000-4000-8000-000000000003",
        "2026-06-30T08:00:00.000Z",
        "system.mfa.factor.deactivate",
        "Deactivate factor type for org",
        sample::party(ALICE, "User", "alice@acme.example", "Alice Chen"),
        vec![],
        "SUCCESS",
        json!({}),
    ));
    okta.set_org(org);
    let second = tmp.path().join("run-42");
    let before = received(&okta).await;
    run(&okta, "", Some(previous(&first)), &second).await;
    let daily = requests_since(&okta, before).await;
    assert_eq!(count(&daily, "factors"), 12);
    assert!(provenance(&second, "factors")["notes"]
        .to_string()
        .contains("org-wide factor change (system.mfa.factor.deactivate"));
}

#[test]
fn full_refresh_days_is_validated_and_saved() {
    let parse = |extra: &str| {
        soc2_collectors::registry().parse_config(
            &config("https://acme.okta.com", extra),
            "soc2.toml",
            Path::new("."),
        )
    };
    for bad in [
        "full_refresh_days = 0",
        "full_refresh_days = -1",
        "full_refresh_days = 1.5",
    ] {
        let err = parse(bad).unwrap_err().to_string();
        assert!(err.contains("full_refresh_days"), "{bad}: {err}");
    }
    let saved = String::from_utf8(parse("").unwrap().effective_json().unwrap()).unwrap();
    let compact: String = saved.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains("\"full_refresh_days\":7"), "{saved}");
    let saved = String::from_utf8(
        parse("full_refresh_days = 3")
            .unwrap()
            .effective_json()
            .unwrap(),
    )
    .unwrap();
    let compact: String = saved.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains("\"full_refresh_days\":3"), "{saved}");
}
