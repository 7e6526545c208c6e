//! The Okta checks on hand-made evidence: each branch of each check, passing and failing on
//! purpose, through the runner (so they read the evidence exactly as `check DIR` would).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use soc2_collectors::okta::{
    checks, LogParty, OktaAdminRole, OktaCheckSettings, OktaFactor, OktaLogEvent, OktaPolicy,
    OktaPolicyRule, OktaUser, ADMIN_ROLES, FACTORS, POLICIES, SYSTEM_LOG, USERS,
};
use soc2_evidence_core::{
    async_trait, BuiltInstance, CollectContext, CollectError, Collector, Evidence, EvidenceSink,
    EvidenceSinkExt, InstanceChecks, InstanceId, Population, Runner,
};

/// Every test binary pins the same instant (2026-07-01T00:00:00Z, the day after the sample
/// period; what the demo replays): "now" decides the Okta System Log's 90-day window.
fn pin_clock() {
    soc2_evidence_core::clock::set_override("2026-07-01T00:00:00Z".parse().unwrap())
        .expect("every test pins the same instant");
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[derive(Default)]
struct Fixture {
    users: Vec<OktaUser>,
    factors: Vec<OktaFactor>,
    roles: Vec<OktaAdminRole>,
    events: Vec<OktaLogEvent>,
    policies: Vec<OktaPolicy>,
    /// A population the fixture leaves unwritten, as a collector that lost it would.
    skip: Option<&'static str>,
    /// The window the System Log covers, as the collector records Okta's retention.
    log_covers: Option<(&'static str, &'static str)>,
}

impl Fixture {
    fn write<E: Evidence>(
        &self,
        sink: &mut dyn EvidenceSink,
        population: &Population<E>,
        records: &[E],
    ) -> Result<(), CollectError> {
        if self.skip == Some(population.name()) {
            return Ok(());
        }
        let mut out = sink.open(population)?;
        if let (Some((from, until)), "system_log") = (self.log_covers, population.name()) {
            out.provenance()
                .covers(t(from), t(until), "Okta keeps 90 days of System Log");
        }
        for r in records {
            out.emit(r)?;
        }
        out.finish()?;
        Ok(())
    }
}

#[async_trait]
impl Collector for Fixture {
    fn name(&self) -> &str {
        "okta"
    }
    async fn collect(
        &self,
        _ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        self.write(sink, &USERS, &self.users)?;
        self.write(sink, &FACTORS, &self.factors)?;
        self.write(sink, &ADMIN_ROLES, &self.roles)?;
        self.write(sink, &SYSTEM_LOG, &self.events)?;
        self.write(sink, &POLICIES, &self.policies)?;
        Ok(())
    }
}

/// (check id, subject) → (status, summary).
type Results = BTreeMap<(String, String), (String, String)>;

async fn check(fixture: Fixture, settings: OktaCheckSettings) -> Results {
    check_over(fixture, settings, "2026-01-01..2026-06-30").await
}

/// Runs the fixture as the `okta` instance (its populations declared, as the module declares
/// them) and the instance's checks over it.
async fn check_over(fixture: Fixture, settings: OktaCheckSettings, period: &str) -> Results {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let id = InstanceId {
        type_name: "okta".into(),
        name: "okta".into(),
    };
    Runner::new()
        .instance(BuiltInstance {
            id: id.clone(),
            version: "test".into(),
            populations: vec![
                USERS.spec(),
                FACTORS.spec(),
                ADMIN_ROLES.spec(),
                SYSTEM_LOG.spec(),
                POLICIES.spec(),
            ],
            collector: Box::new(fixture),
        })
        .instance_checks(InstanceChecks {
            id,
            checks: checks("okta", &settings),
        })
        .run(period.parse().unwrap(), &out)
        .await
        .unwrap();
    std::fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (
                (s("check_id"), s("subject_id")),
                (s("status"), s("summary")),
            )
        })
        .collect()
}

fn status<'a>(r: &'a Results, check: &str, subject: &str) -> &'a str {
    r.get(&(check.to_string(), subject.to_string()))
        .map(|(s, _)| s.as_str())
        .unwrap_or("none")
}

fn summary<'a>(r: &'a Results, check: &str, subject: &str) -> &'a str {
    &r[&(check.to_string(), subject.to_string())].1
}

fn user(id: &str, status: &str) -> OktaUser {
    OktaUser {
        id: id.into(),
        status: status.into(),
        created: Some(t("2024-01-01T00:00:00Z")),
        activated: Some(t("2024-01-01T00:00:00Z")),
        status_changed: Some(t("2024-01-01T00:00:00Z")),
        last_login: Some(t("2026-06-20T00:00:00Z")),
        last_updated: None,
        password_changed: None,
        login: Some(format!("{id}@example.test")),
        email: None,
        name: None,
        department: None,
        manager: None,
        termination_attribute: "terminationDate".into(),
        termination_date: None,
        profile: BTreeMap::new(),
    }
}

fn factor(user: &str, factor_type: &str, status: &str) -> OktaFactor {
    OktaFactor {
        user_id: user.into(),
        factor_id: format!("{user}-{factor_type}"),
        factor_type: factor_type.into(),
        provider: Some("OKTA".into()),
        vendor_name: None,
        status: status.into(),
        created: None,
        last_updated: None,
    }
}

fn admin(user: &str, group: Option<&str>) -> OktaAdminRole {
    OktaAdminRole {
        user_id: user.into(),
        login: None,
        role_type: "ORG_ADMIN".into(),
        role_label: None,
        assignment_id: "ra1".into(),
        status: Some("ACTIVE".into()),
        assignment_type: if group.is_some() { "GROUP" } else { "USER" }.into(),
        group_id: group.map(str::to_string),
        group_name: group.map(|g| format!("{g} name")),
        created: None,
        last_updated: None,
        role_id: None,
        resource_set: None,
        unresolved: false,
    }
}

fn event(
    uuid: &str,
    at: &str,
    event_type: &str,
    actor: &str,
    target: Option<&str>,
    ok: bool,
) -> OktaLogEvent {
    let party = |id: &str| LogParty {
        id: Some(id.into()),
        kind: Some("User".into()),
        alternate_id: None,
        display_name: None,
    };
    OktaLogEvent {
        uuid: uuid.into(),
        published: t(at),
        event_type: event_type.into(),
        display_message: None,
        severity: None,
        outcome: Some(if ok { "SUCCESS" } else { "FAILURE" }.into()),
        outcome_reason: None,
        actor: Some(party(actor)),
        targets: target.map(party).into_iter().collect(),
        client_ip: None,
        transaction_id: None,
        privilege_granted: None,
        privilege_revoked: None,
    }
}

fn policy(
    id: &str,
    kind: &str,
    status: &str,
    settings: Value,
    rules: Vec<OktaPolicyRule>,
) -> OktaPolicy {
    OktaPolicy {
        id: id.into(),
        policy_type: kind.into(),
        name: Some(format!("{id} name")),
        status: Some(status.into()),
        priority: Some(1),
        system: Some(false),
        created: None,
        last_updated: None,
        conditions: None,
        settings: Some(settings),
        rules,
    }
}

fn password(id: &str, status: &str, min_length: u64, attempts: u64) -> OktaPolicy {
    policy(
        id,
        "PASSWORD",
        status,
        json!({"password": {"complexity": {"minLength": min_length}, "lockout": {"maxAttempts": attempts}}}),
        vec![],
    )
}

fn signon_rule(id: &str, status: &str, access: &str, require_factor: bool) -> OktaPolicyRule {
    OktaPolicyRule {
        id: id.into(),
        name: Some(format!("{id} rule")),
        status: Some(status.into()),
        priority: Some(1),
        system: Some(false),
        rule_type: Some("SIGN_ON".into()),
        conditions: None,
        actions: Some(json!({"signon": {"access": access, "requireFactor": require_factor}})),
    }
}

#[tokio::test]
async fn mfa_enrolment_and_strength() {
    pin_clock();
    let mut fx = Fixture::default();
    for (id, status) in [
        ("locked", "LOCKED_OUT"),
        ("recovery", "RECOVERY"),
        ("suspended", "SUSPENDED"),
        ("weak", "ACTIVE"),
        ("mixed", "PASSWORD_EXPIRED"),
    ] {
        fx.users.push(user(id, status));
    }
    fx.factors = vec![
        factor("locked", "push", "ENROLLED"),
        factor("locked", "webauthn", "INACTIVE"),
        factor("recovery", "token:software:totp", "ACTIVE"),
        factor("weak", "call", "ACTIVE"),
        factor("weak", "email", "ACTIVE"),
        factor("weak", "webauthn", "PENDING_ACTIVATION"),
        factor("mixed", "sms", "ACTIVE"),
        factor("mixed", "u2f", "ACTIVE"),
    ];
    fx.policies = vec![password("pw", "ACTIVE", 12, 10)];
    let r = check(fx, OktaCheckSettings::default()).await;

    assert_eq!(status(&r, "okta.mfa_enrolled", "locked"), "fail");
    assert!(summary(&r, "okta.mfa_enrolled", "locked").contains("push (ENROLLED)"));
    assert_eq!(status(&r, "okta.mfa_enrolled", "recovery"), "pass");
    assert_eq!(
        status(&r, "okta.mfa_enrolled", "suspended"),
        "none",
        "cannot sign in"
    );
    assert_eq!(status(&r, "okta.mfa_enrolled", "weak"), "pass");

    assert_eq!(
        status(&r, "okta.mfa_strength", "weak"),
        "fail",
        "a pending WebAuthn does not count"
    );
    assert_eq!(status(&r, "okta.mfa_strength", "mixed"), "pass");
    assert_eq!(status(&r, "okta.mfa_strength", "recovery"), "pass");
    assert_eq!(
        status(&r, "okta.mfa_strength", "locked"),
        "none",
        "no MFA is the enrolment check's finding"
    );
}

#[tokio::test]
async fn admins_need_phishing_resistant_factors() {
    pin_clock();
    let mut fx = Fixture::default();
    for (id, status) in [
        ("u2f", "ACTIVE"),
        ("push", "ACTIVE"),
        ("gone", "DEPROVISIONED"),
        ("bare", "ACTIVE"),
    ] {
        fx.users.push(user(id, status));
    }
    fx.factors = vec![
        factor("u2f", "u2f", "ACTIVE"),
        factor("push", "push", "ACTIVE"),
        factor("push", "signed_nonce", "PENDING_ACTIVATION"),
    ];
    fx.roles = vec![
        admin("u2f", None),
        admin("push", Some("00gadmins")),
        admin("gone", None),
        admin("bare", None),
    ];
    let r = check(fx, OktaCheckSettings::default()).await;
    let id = "okta.admin_phishing_resistant_mfa";
    assert_eq!(status(&r, id, "u2f"), "pass");
    assert_eq!(status(&r, id, "push"), "fail");
    assert!(
        summary(&r, id, "push").contains("ORG_ADMIN via group 00gadmins name"),
        "{}",
        summary(&r, id, "push")
    );
    assert_eq!(status(&r, id, "gone"), "not_applicable");
    assert_eq!(status(&r, id, "bare"), "fail");
    assert!(summary(&r, id, "bare").contains("no ACTIVE factor"));
}

#[tokio::test]
async fn deprovisioning_window_and_sign_ins_after_termination() {
    pin_clock();
    let mut fx = Fixture::default();
    let mut terminated = |id: &str, status: &str, date: &str| {
        let mut u = user(id, status);
        u.termination_date = Some(date.into());
        u.last_login = Some(t("2026-03-01T09:00:00Z"));
        fx.users.push(u);
    };
    terminated("still-active", "ACTIVE", "2026-05-01");
    terminated("on-time", "DEPROVISIONED", "2026-04-10T17:00:00Z");
    terminated("slow", "DEPROVISIONED", "2026-04-10");
    terminated("garbled", "DEPROVISIONED", "next friday");
    terminated("future", "ACTIVE", "2026-06-30");
    terminated("sneaky", "DEPROVISIONED", "2026-02-20");
    terminated("old", "DEPROVISIONED", "2025-11-01");
    fx.users
        .iter_mut()
        .find(|u| u.id == "old")
        .unwrap()
        .status_changed = Some(t("2025-11-02T10:00:00Z"));
    fx.users
        .iter_mut()
        .find(|u| u.id == "old")
        .unwrap()
        .last_login = Some(t("2025-10-30T10:00:00Z"));
    // statusChanged says one thing, the log's exact deactivation event another: the log wins.
    fx.users
        .iter_mut()
        .find(|u| u.id == "on-time")
        .unwrap()
        .status_changed = Some(t("2026-05-01T00:00:00Z"));
    fx.events = vec![
        event(
            "e1",
            "2026-04-11T09:00:00Z",
            "user.lifecycle.deactivate",
            "admin",
            Some("on-time"),
            true,
        ),
        // "slow": terminated end of 2026-04-10, deactivated 40 h after.
        event(
            "e2",
            "2026-04-12T16:00:00Z",
            "user.lifecycle.deactivate",
            "admin",
            Some("slow"),
            true,
        ),
        // "sneaky": deactivated in time, but a sign-in after termination is in the log.
        event(
            "e3",
            "2026-02-21T08:00:00Z",
            "user.session.start",
            "sneaky",
            None,
            true,
        ),
        event(
            "e4",
            "2026-02-21T09:00:00Z",
            "user.lifecycle.deactivate",
            "admin",
            Some("sneaky"),
            true,
        ),
        // A failed sign-in after deactivation is not a sign-in.
        event(
            "e5",
            "2026-04-20T08:00:00Z",
            "user.session.start",
            "on-time",
            None,
            false,
        ),
    ];
    let id = "okta.timely_deprovisioning";
    let fx2 = Fixture {
        users: fx.users.clone(),
        events: fx.events.clone(),
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    assert_eq!(status(&r, id, "still-active"), "fail");
    assert!(summary(&r, id, "still-active").contains("still ACTIVE"));
    assert_eq!(
        status(&r, id, "on-time"),
        "pass",
        "{}",
        summary(&r, id, "on-time")
    );
    assert_eq!(status(&r, id, "slow"), "fail");
    assert_eq!(status(&r, id, "garbled"), "error");
    assert!(summary(&r, id, "garbled").contains("next friday"));
    assert_eq!(status(&r, id, "future"), "not_applicable");
    assert_eq!(status(&r, id, "sneaky"), "fail");
    assert!(summary(&r, id, "sneaky").contains("signed in after termination"));
    assert_eq!(
        status(&r, id, "old"),
        "not_applicable",
        "{}",
        summary(&r, id, "old")
    );

    // The window is configurable: 48 hours lets "slow" pass.
    let r = check(
        fx2,
        OktaCheckSettings {
            deprovision_within_hours: 48,
            ..OktaCheckSettings::default()
        },
    )
    .await;
    assert_eq!(
        status(&r, id, "slow"),
        "pass",
        "{}",
        summary(&r, id, "slow")
    );
}

#[tokio::test]
async fn dormant_accounts() {
    pin_clock();
    let mut fx = Fixture::default();
    let mut add = |id: &str, created: &str, last: Option<&str>| {
        let mut u = user(id, "ACTIVE");
        u.created = Some(t(created));
        u.last_login = last.map(t);
        fx.users.push(u);
    };
    add(
        "recent",
        "2024-01-01T00:00:00Z",
        Some("2026-06-01T00:00:00Z"),
    );
    add(
        "stale",
        "2024-01-01T00:00:00Z",
        Some("2026-03-01T00:00:00Z"),
    );
    add("never", "2025-01-01T00:00:00Z", None);
    add("new-never", "2026-06-01T00:00:00Z", None);
    add(
        "after-end-logged",
        "2024-01-01T00:00:00Z",
        Some("2026-07-05T00:00:00Z"),
    );
    add(
        "after-end-silent",
        "2024-01-01T00:00:00Z",
        Some("2026-07-05T00:00:00Z"),
    );
    let mut suspended = user("suspended", "SUSPENDED");
    suspended.last_login = Some(t("2025-01-01T00:00:00Z"));
    fx.users.push(suspended);
    fx.events = vec![event(
        "e1",
        "2026-06-10T00:00:00Z",
        "user.session.start",
        "after-end-logged",
        None,
        true,
    )];
    let keep = Fixture {
        users: fx.users.clone(),
        events: fx.events.clone(),
        ..Fixture::default()
    };
    let id = "okta.dormant_accounts";
    let r = check(fx, OktaCheckSettings::default()).await;
    assert_eq!(status(&r, id, "recent"), "pass");
    assert_eq!(status(&r, id, "stale"), "fail");
    assert_eq!(status(&r, id, "never"), "fail");
    assert_eq!(status(&r, id, "new-never"), "pass");
    assert_eq!(status(&r, id, "after-end-logged"), "pass");
    assert_eq!(status(&r, id, "after-end-silent"), "fail");
    assert_eq!(status(&r, id, "suspended"), "none");

    let r = check(
        keep,
        OktaCheckSettings {
            dormant_days: 150,
            ..OktaCheckSettings::default()
        },
    )
    .await;
    assert_eq!(status(&r, id, "stale"), "pass");
}

#[tokio::test]
async fn password_and_sign_on_policies() {
    pin_clock();
    let fx = Fixture {
        users: vec![user("alice", "ACTIVE")],
        policies: vec![
            password("good", "ACTIVE", 12, 10),
            password("short", "ACTIVE", 8, 5),
            password("no-lockout", "ACTIVE", 16, 0),
            password("lenient", "ACTIVE", 16, 11),
            password("retired", "INACTIVE", 4, 0),
            policy(
                "so-good",
                "OKTA_SIGN_ON",
                "ACTIVE",
                json!({}),
                vec![
                    signon_rule("mfa", "ACTIVE", "ALLOW", true),
                    signon_rule("old", "INACTIVE", "ALLOW", false),
                    signon_rule("deny", "ACTIVE", "DENY", false),
                ],
            ),
            policy(
                "so-bad",
                "OKTA_SIGN_ON",
                "ACTIVE",
                json!({}),
                vec![
                    signon_rule("mfa2", "ACTIVE", "ALLOW", true),
                    signon_rule("lax", "ACTIVE", "ALLOW", false),
                ],
            ),
            policy(
                "so-deny",
                "OKTA_SIGN_ON",
                "ACTIVE",
                json!({}),
                vec![signon_rule("deny2", "ACTIVE", "DENY", false)],
            ),
        ],
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    let pw = "okta.password_policy";
    assert_eq!(status(&r, pw, "good"), "pass");
    assert_eq!(status(&r, pw, "short"), "fail");
    assert!(summary(&r, pw, "short").contains("minimum length 8 is below 12"));
    assert_eq!(status(&r, pw, "no-lockout"), "fail");
    assert!(summary(&r, pw, "no-lockout").contains("never locked out"));
    assert_eq!(status(&r, pw, "lenient"), "fail");
    assert_eq!(status(&r, pw, "retired"), "none");
    let so = "okta.sign_on_mfa_required";
    assert_eq!(status(&r, so, "so-good"), "pass");
    assert_eq!(status(&r, so, "so-bad"), "fail");
    assert!(summary(&r, so, "so-bad").contains("lax rule"));
    assert_eq!(status(&r, so, "so-deny"), "not_applicable");

    // No policies at all, while people can sign in, is a failure, not silence.
    let fx = Fixture {
        users: vec![user("alice", "ACTIVE")],
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    assert_eq!(status(&r, pw, "*"), "fail");
    assert_eq!(status(&r, so, "*"), "fail");
    assert!(summary(&r, pw, "*").contains("1 user(s) can sign in"));
}

const ALL_CHECKS: [&str; 7] = [
    "okta.mfa_enrolled",
    "okta.mfa_strength",
    "okta.admin_phishing_resistant_mfa",
    "okta.timely_deprovisioning",
    "okta.dormant_accounts",
    "okta.password_policy",
    "okta.sign_on_mfa_required",
];

#[tokio::test]
async fn an_empty_org_gets_one_finding_per_check_never_silence() {
    pin_clock();
    let r = check(Fixture::default(), OktaCheckSettings::default()).await;
    for id in ALL_CHECKS {
        let of_check: Vec<_> = r.keys().filter(|(c, _)| c == id).collect();
        assert_eq!(of_check.len(), 1, "{id}: {r:#?}");
        assert_eq!(status(&r, id, "*"), "not_applicable", "{id}");
    }
    assert!(summary(&r, "okta.mfa_enrolled", "*").contains("no ACTIVE users"));
    assert!(summary(&r, "okta.admin_phishing_resistant_mfa", "*").contains("admin role"));
    assert!(summary(&r, "okta.timely_deprovisioning", "*").contains("termination date"));
    assert!(summary(&r, "okta.dormant_accounts", "*").contains("no ACTIVE users"));
    // No policy and nobody who can sign in: nothing for the policy checks to protect.
    assert!(summary(&r, "okta.password_policy", "*").contains("no ACTIVE users"));
    for id in ALL_CHECKS {
        assert!(
            summary(&r, id, "*").starts_with("nothing in scope: "),
            "{id}: {r:#?}"
        );
    }
    assert_eq!(r.len(), 7, "{r:#?}");

    // Users exist but none is in a check's scope: still one not_applicable, not silence.
    let fx = Fixture {
        users: vec![user("parked", "SUSPENDED")],
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    for id in ALL_CHECKS {
        assert_eq!(status(&r, id, "*"), "not_applicable", "{id}: {r:#?}");
    }
    assert_eq!(status(&r, "okta.mfa_enrolled", "parked"), "none");
}

#[tokio::test]
async fn a_missing_population_is_an_error_finding_not_an_empty_pass() {
    pin_clock();
    let mut fx = Fixture {
        users: vec![user("alice", "ACTIVE")],
        policies: vec![password("pw", "ACTIVE", 12, 10)],
        skip: Some("factors"),
        ..Fixture::default()
    };
    fx.roles = vec![admin("alice", None)];
    let r = check(fx, OktaCheckSettings::default()).await;
    for id in [
        "okta.mfa_enrolled",
        "okta.mfa_strength",
        "okta.admin_phishing_resistant_mfa",
    ] {
        assert_eq!(status(&r, id, "*"), "error", "{id}: {r:#?}");
        assert!(
            summary(&r, id, "*").contains("factors.jsonl"),
            "{id}: {r:#?}"
        );
        assert_eq!(status(&r, id, "alice"), "none", "{id}");
    }
    // The checks that do not read factors judge as usual.
    assert_eq!(status(&r, "okta.dormant_accounts", "alice"), "pass");
    assert_eq!(status(&r, "okta.password_policy", "pw"), "pass");
}

#[tokio::test]
async fn now_is_the_collection_time_when_the_period_has_not_ended() {
    pin_clock();
    // A period that runs well past today: "now" for the checks is when the run collected,
    // not the period's end (which has not happened) and not the clock at check time.
    let now = soc2_evidence_core::clock::now();
    let day = chrono::Duration::days(1);
    let period = format!(
        "{}..{}",
        (now - day * 30).date_naive(),
        (now + day * 200).date_naive()
    );
    let mut recent = user("recent", "ACTIVE");
    recent.last_login = Some(now - day * 10);
    let mut leaving = user("leaving", "ACTIVE");
    leaving.last_login = Some(now - day * 2);
    leaving.termination_date = Some((now - chrono::Duration::hours(1)).to_rfc3339());
    let fx = Fixture {
        users: vec![recent, leaving],
        ..Fixture::default()
    };
    let r = check_over(fx, OktaCheckSettings::default(), &period).await;
    let dormant = "okta.dormant_accounts";
    assert_eq!(
        status(&r, dormant, "recent"),
        "pass",
        "{}",
        summary(&r, dormant, "recent")
    );
    let deprov = "okta.timely_deprovisioning";
    assert_eq!(
        status(&r, deprov, "leaving"),
        "not_applicable",
        "the deadline is after the collection: {}",
        summary(&r, deprov, "leaving")
    );
    assert!(summary(&r, deprov, "leaving").contains("after collection"));
}

#[tokio::test]
async fn policy_checks_with_nobody_who_can_sign_in_are_not_applicable() {
    pin_clock();
    // Policies, but every user is gone: the policies protect no one. Today each policy was
    // judged (and "passed") for an org without a single ACTIVE user.
    let fx = Fixture {
        users: vec![user("gone", "DEPROVISIONED")],
        policies: vec![
            password("good", "ACTIVE", 12, 10),
            policy(
                "so-good",
                "OKTA_SIGN_ON",
                "ACTIVE",
                json!({}),
                vec![signon_rule("mfa", "ACTIVE", "ALLOW", true)],
            ),
        ],
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    for id in ["okta.password_policy", "okta.sign_on_mfa_required"] {
        assert_eq!(status(&r, id, "*"), "not_applicable", "{id}: {r:#?}");
        assert!(summary(&r, id, "*").contains("no ACTIVE users"), "{id}");
        assert_eq!(r.keys().filter(|(c, _)| c == id).count(), 1, "{id}: {r:#?}");
    }
}

#[tokio::test]
async fn ad_mastered_password_policy_is_not_judged_against_the_okta_baseline() {
    pin_clock();
    let mut ad = password("ad", "ACTIVE", 7, 0);
    ad.conditions = Some(json!({
        "people": {"groups": {"include": ["00g1adusers000000001"]}},
        "authProvider": {"provider": "ACTIVE_DIRECTORY", "include": ["0oa1adinstance000001"]}
    }));
    let mut ldap = password("ldap", "ACTIVE", 6, 0);
    ldap.conditions = Some(json!({"authProvider": {"provider": "LDAP"}}));
    let mut okta = password("okta", "ACTIVE", 7, 0);
    okta.conditions = Some(json!({"authProvider": {"provider": "OKTA"}}));
    let fx = Fixture {
        users: vec![user("alice", "ACTIVE")],
        policies: vec![ad, ldap, okta],
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    let pw = "okta.password_policy";
    assert_eq!(status(&r, pw, "ad"), "not_applicable", "{r:#?}");
    assert!(summary(&r, pw, "ad").contains("rules enforced by Active Directory"));
    assert_eq!(status(&r, pw, "ldap"), "not_applicable");
    assert!(summary(&r, pw, "ldap").contains("rules enforced by LDAP"));
    assert_eq!(status(&r, pw, "okta"), "fail");
}

#[tokio::test]
async fn weak_factors_are_configurable_and_email_and_questions_are_weak() {
    pin_clock();
    let mut fx = Fixture::default();
    for id in ["mailer", "asker", "pusher"] {
        fx.users.push(user(id, "ACTIVE"));
    }
    fx.factors = vec![
        factor("mailer", "email", "ACTIVE"),
        factor("asker", "question", "ACTIVE"),
        factor("asker", "sms", "ACTIVE"),
        factor("pusher", "push", "ACTIVE"),
    ];
    let r = check(fx, OktaCheckSettings::default()).await;
    let strength = "okta.mfa_strength";
    assert_eq!(status(&r, strength, "mailer"), "fail");
    assert_eq!(status(&r, strength, "asker"), "fail");
    assert!(summary(&r, strength, "asker").contains("question (ACTIVE)"));
    assert_eq!(status(&r, strength, "pusher"), "pass");

    // An org that counts push as weak too.
    let mut fx = Fixture::default();
    fx.users.push(user("pusher", "ACTIVE"));
    fx.factors = vec![factor("pusher", "push", "ACTIVE")];
    let settings = OktaCheckSettings {
        weak_factors: vec!["sms".into(), "push".into()],
        ..OktaCheckSettings::default()
    };
    let r = check(fx, settings).await;
    assert_eq!(status(&r, strength, "pusher"), "fail", "{r:#?}");
}

#[tokio::test]
async fn log_checks_say_error_before_the_retention_window_and_judge_inside_it() {
    pin_clock();
    // The System Log covers only 2026-04-20 .. 2026-07-01 (a collection that Okta's 90 days
    // and a late start cut short).
    let mut old_leaver = user("old-leaver", "DEPROVISIONED");
    old_leaver.termination_date = Some("2026-02-10".into());
    old_leaver.status_changed = Some(t("2026-02-11T09:00:00Z"));
    old_leaver.last_login = Some(t("2026-02-09T17:00:00Z"));
    let mut new_leaver = user("new-leaver", "DEPROVISIONED");
    new_leaver.termination_date = Some("2026-05-10".into());
    new_leaver.status_changed = Some(t("2026-05-11T09:00:00Z"));
    new_leaver.last_login = Some(t("2026-05-09T17:00:00Z"));
    let mut late_leaver = user("late-leaver", "DEPROVISIONED");
    late_leaver.termination_date = Some("2026-02-10".into());
    late_leaver.status_changed = Some(t("2026-02-20T09:00:00Z"));
    late_leaver.last_login = Some(t("2026-02-09T17:00:00Z"));
    // Signed in after the period end (so lastLogin says nothing about the period) and the
    // log holds no sign-in of theirs: whether they were dormant rests on the log alone.
    let mut unknown = user("unknown", "ACTIVE");
    unknown.last_login = Some(t("2026-07-01T00:00:00Z") + chrono::Duration::hours(1));
    let mut recent = user("recent", "ACTIVE");
    recent.last_login = Some(t("2026-07-01T00:00:00Z") + chrono::Duration::hours(1));
    let fx = Fixture {
        users: vec![old_leaver, new_leaver, late_leaver, unknown, recent],
        events: vec![
            event(
                "e1",
                "2026-05-11T09:00:00Z",
                "user.lifecycle.deactivate",
                "admin",
                Some("new-leaver"),
                true,
            ),
            event(
                "e2",
                "2026-06-15T09:00:00Z",
                "user.session.start",
                "recent",
                None,
                true,
            ),
        ],
        log_covers: Some(("2026-04-20T00:00:00Z", "2026-07-01T00:00:00Z")),
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    let deprov = "okta.timely_deprovisioning";
    // Today: pass, on statusChanged alone, for a termination the log no longer covers.
    assert_eq!(status(&r, deprov, "old-leaver"), "error", "{r:#?}");
    let s = summary(&r, deprov, "old-leaver");
    assert!(s.contains("cannot establish before 2026-04-20"), "{s}");
    assert!(s.contains("Okta keeps 90 days"), "{s}");
    assert!(s.contains("collect continuously"), "{s}");
    assert_eq!(status(&r, deprov, "new-leaver"), "pass", "{r:#?}");
    // A gap shown stays a failure, wherever it lies.
    assert_eq!(status(&r, deprov, "late-leaver"), "fail", "{r:#?}");
    let dormant = "okta.dormant_accounts";
    assert_eq!(status(&r, dormant, "unknown"), "error", "{r:#?}");
    assert!(summary(&r, dormant, "unknown").contains("cannot establish before 2026-04-20"));
    assert_eq!(status(&r, dormant, "recent"), "pass");

    // A log covering the whole 90 days before the period end shows the absence: dormant.
    let mut unknown = user("unknown", "ACTIVE");
    unknown.last_login = Some(t("2026-07-01T00:00:00Z") + chrono::Duration::hours(1));
    let fx = Fixture {
        users: vec![unknown],
        log_covers: Some(("2026-04-02T00:00:00Z", "2026-07-01T00:00:00Z")),
        ..Fixture::default()
    };
    let r = check(fx, OktaCheckSettings::default()).await;
    assert_eq!(status(&r, dormant, "unknown"), "fail", "{r:#?}");
}
