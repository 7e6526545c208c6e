//! Control tests over the Okta populations (CC6.1–CC6.3). Each finding's subject is an Okta
//! user id, or a policy id for the policy checks.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use soc2_evidence_core::{
    AuditPeriod, Check, CheckError, EvidenceRef, EvidenceStore, Finding, FindingStatus,
};

use super::config::OktaCheckSettings;
use super::records::{
    termination_instant, OktaAdminRole, OktaFactor, OktaLogEvent, OktaPolicy, OktaUser,
    ADMIN_ROLES, COLLECTOR, FACTORS, POLICIES, SYSTEM_LOG, USERS,
};

/// Factor types that are phishing-resistant: WebAuthn/FIDO2, U2F and Okta FastPass.
pub const PHISHING_RESISTANT_FACTORS: &[&str] = &["webauthn", "u2f", "signed_nonce"];

/// Factor types too weak to be a user's only MFA: SMS, voice call, e-mail, and the security
/// question (a second thing the user knows is not a second factor).
pub const WEAK_FACTORS: &[&str] = &["sms", "call", "email", "question"];

/// Every Okta check, configured with `settings`.
///
/// ```
/// use soc2_collectors::okta::{checks, OktaCheckSettings};
/// let all = checks(&OktaCheckSettings::default());
/// assert!(all.iter().any(|c| c.id() == "okta.mfa_enrolled"));
/// ```
pub fn checks(settings: &OktaCheckSettings) -> Vec<Box<dyn Check>> {
    vec![
        Box::new(MfaEnrolled),
        Box::new(MfaStrength),
        Box::new(AdminPhishingResistantMfa),
        Box::new(TimelyDeprovisioning {
            within_hours: settings.deprovision_within_hours,
        }),
        Box::new(DormantAccounts {
            days: settings.dormant_days,
        }),
        Box::new(PasswordPolicy {
            min_length: settings.password_min_length,
            max_lockout_attempts: settings.password_max_lockout_attempts,
        }),
        Box::new(SignOnRequiresMfa),
    ]
}

fn file(population: &str) -> String {
    EvidenceStore::population_file(COLLECTOR, population)
}

fn users(store: &EvidenceStore) -> Result<Vec<OktaUser>, CheckError> {
    store
        .read::<OktaUser>(COLLECTOR, USERS)?
        .map(|r| r.map(|r| r.data).map_err(CheckError::from))
        .collect()
}

fn factors_by_user(store: &EvidenceStore) -> Result<HashMap<String, Vec<OktaFactor>>, CheckError> {
    let mut map: HashMap<String, Vec<OktaFactor>> = HashMap::new();
    for r in store.read::<OktaFactor>(COLLECTOR, FACTORS)? {
        let f = r?.data;
        map.entry(f.user_id.clone()).or_default().push(f);
    }
    Ok(map)
}

fn user_finding(
    check: &dyn Check,
    status: FindingStatus,
    user: &OktaUser,
    summary: String,
) -> Finding {
    Finding::new(check.id(), check.criteria(), status, &user.id, summary)
        .with_evidence(EvidenceRef::record(file(USERS), &user.id))
}

fn describe(factors: &[&OktaFactor]) -> String {
    factors
        .iter()
        .map(|f| format!("{} ({})", f.factor_type, f.status))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Every user who can sign in has at least one ACTIVE factor.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaEnrolled;

impl Check for MfaEnrolled {
    fn id(&self) -> &str {
        "okta.mfa_enrolled"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "Every user who can sign in (ACTIVE, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT) has at \
         least one ACTIVE MFA factor; pending, enrolled-but-not-active and inactive factors do \
         not count."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let factors = factors_by_user(store)?;
        let none = Vec::new();
        let mut out = Vec::new();
        for user in users(store)?.iter().filter(|u| u.can_sign_in()) {
            let all: Vec<&OktaFactor> = factors.get(&user.id).unwrap_or(&none).iter().collect();
            let active: Vec<&OktaFactor> = all.iter().copied().filter(|f| f.is_active()).collect();
            let finding = if active.is_empty() {
                let others = if all.is_empty() {
                    "no factors at all".to_string()
                } else {
                    format!("only {}", describe(&all))
                };
                user_finding(
                    self,
                    FindingStatus::Fail,
                    user,
                    format!(
                        "{} ({}) can sign in but has no ACTIVE MFA factor: {others}",
                        user.label(),
                        user.status
                    ),
                )
            } else {
                user_finding(
                    self,
                    FindingStatus::Pass,
                    user,
                    format!("{} has ACTIVE factors: {}", user.label(), describe(&active)),
                )
            };
            out.push(finding.with_evidence(EvidenceRef::record(file(FACTORS), &user.id)));
        }
        Ok(out)
    }
}

/// A user who can sign in does not rely on SMS, voice, e-mail or security-question factors
/// alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaStrength;

impl Check for MfaStrength {
    fn id(&self) -> &str {
        "okta.mfa_strength"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "Users who can sign in have at least one ACTIVE factor stronger than SMS, voice call, \
         e-mail or a security question."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let factors = factors_by_user(store)?;
        let mut out = Vec::new();
        for user in users(store)?.iter().filter(|u| u.can_sign_in()) {
            let active: Vec<&OktaFactor> = factors
                .get(&user.id)
                .map(|fs| fs.iter().filter(|f| f.is_active()).collect())
                .unwrap_or_default();
            if active.is_empty() {
                // No MFA at all is okta.mfa_enrolled's finding, not a strength question.
                continue;
            }
            let strong: Vec<&OktaFactor> = active
                .iter()
                .copied()
                .filter(|f| !WEAK_FACTORS.contains(&f.factor_type.as_str()))
                .collect();
            let finding = if strong.is_empty() {
                user_finding(
                    self,
                    FindingStatus::Fail,
                    user,
                    format!(
                        "{}'s only ACTIVE factors are weak: {}",
                        user.label(),
                        describe(&active)
                    ),
                )
            } else {
                user_finding(
                    self,
                    FindingStatus::Pass,
                    user,
                    format!(
                        "{} has a strong ACTIVE factor: {}",
                        user.label(),
                        describe(&strong)
                    ),
                )
            };
            out.push(finding.with_evidence(EvidenceRef::record(file(FACTORS), &user.id)));
        }
        Ok(out)
    }
}

/// Every current admin, direct or through a group, has an ACTIVE phishing-resistant factor.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminPhishingResistantMfa;

impl Check for AdminPhishingResistantMfa {
    fn id(&self) -> &str {
        "okta.admin_phishing_resistant_mfa"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1", "CC6.3"]
    }
    fn description(&self) -> &str {
        "Every current Okta admin (role assigned directly or through a group) has an ACTIVE \
         phishing-resistant factor: WebAuthn/FIDO2, U2F or Okta FastPass."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut admins: BTreeMap<String, Vec<OktaAdminRole>> = BTreeMap::new();
        for r in store.read::<OktaAdminRole>(COLLECTOR, ADMIN_ROLES)? {
            let role = r?.data;
            admins.entry(role.user_id.clone()).or_default().push(role);
        }
        if admins.is_empty() {
            return Ok(Vec::new());
        }
        let factors = factors_by_user(store)?;
        let users: HashMap<String, OktaUser> = users(store)?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        let mut out = Vec::new();
        for (uid, roles) in &admins {
            let held = roles
                .iter()
                .map(|r| match (&r.group_name, &r.group_id) {
                    (Some(name), _) => format!("{} via group {name}", r.role_type),
                    (None, Some(gid)) => format!("{} via group {gid}", r.role_type),
                    _ => r.role_type.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let label = users
                .get(uid)
                .map(|u| u.label().to_string())
                .or_else(|| roles.iter().find_map(|r| r.login.clone()))
                .unwrap_or_else(|| uid.clone());
            let mut f = |status, summary: String| {
                let mut finding = Finding::new(self.id(), self.criteria(), status, uid, summary)
                    .with_evidence(EvidenceRef::record(file(ADMIN_ROLES), uid))
                    .with_evidence(EvidenceRef::record(file(FACTORS), uid));
                if users.contains_key(uid) {
                    finding = finding.with_evidence(EvidenceRef::record(file(USERS), uid));
                }
                out.push(finding);
            };
            if let Some(u) = users.get(uid).filter(|u| !u.can_sign_in()) {
                f(
                    FindingStatus::NotApplicable,
                    format!(
                        "{label} holds {held} but is {} and cannot sign in",
                        u.status
                    ),
                );
                continue;
            }
            let active: Vec<&OktaFactor> = factors
                .get(uid)
                .map(|fs| fs.iter().filter(|f| f.is_active()).collect())
                .unwrap_or_default();
            let resistant: Vec<&OktaFactor> = active
                .iter()
                .copied()
                .filter(|f| PHISHING_RESISTANT_FACTORS.contains(&f.factor_type.as_str()))
                .collect();
            if resistant.is_empty() {
                let has = if active.is_empty() {
                    "no ACTIVE factor".to_string()
                } else {
                    format!("only {}", describe(&active))
                };
                f(
                    FindingStatus::Fail,
                    format!(
                        "admin {label} ({held}) has no ACTIVE phishing-resistant factor: {has}"
                    ),
                );
            } else {
                f(
                    FindingStatus::Pass,
                    format!(
                        "admin {label} ({held}) has a phishing-resistant factor: {}",
                        describe(&resistant)
                    ),
                );
            }
        }
        Ok(out)
    }
}

/// Per user: the successful deactivations and sign-ins the System Log recorded.
#[derive(Default)]
struct LogFacts {
    deactivations: HashMap<String, Vec<(DateTime<Utc>, String)>>,
    sign_ins: HashMap<String, Vec<(DateTime<Utc>, String)>>,
}

fn log_facts(store: &EvidenceStore) -> Result<LogFacts, CheckError> {
    let mut facts = LogFacts::default();
    for r in store.read::<OktaLogEvent>(COLLECTOR, SYSTEM_LOG)? {
        let e = r?.data;
        if !e.succeeded() {
            continue;
        }
        match e.event_type.as_str() {
            "user.lifecycle.deactivate" => {
                if let Some(uid) = e.target_user() {
                    facts
                        .deactivations
                        .entry(uid.to_string())
                        .or_default()
                        .push((e.published, e.uuid.clone()));
                }
            }
            "user.session.start" => {
                if let Some(uid) = e.actor.as_ref().and_then(|a| a.id.as_deref()) {
                    facts
                        .sign_ins
                        .entry(uid.to_string())
                        .or_default()
                        .push((e.published, e.uuid.clone()));
                }
            }
            _ => {}
        }
    }
    Ok(facts)
}

/// Terminated people were deactivated within the window and did not sign in afterwards.
#[derive(Debug, Clone, Copy)]
pub struct TimelyDeprovisioning {
    /// Hours after the termination date by which deactivation must happen.
    pub within_hours: u32,
}

impl Check for TimelyDeprovisioning {
    fn id(&self) -> &str {
        "okta.timely_deprovisioning"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.2", "CC6.3"]
    }
    fn description(&self) -> &str {
        "Every user with a termination date was deactivated within the configured window after \
         it, and did not sign in after it."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let period = *store.period();
        let facts = log_facts(store)?;
        let window = Duration::hours(i64::from(self.within_hours));
        let mut out = Vec::new();
        for user in users(store)? {
            let Some(raw) = user.termination_date.as_deref() else {
                continue;
            };
            let label = user.label().to_string();
            let Some(terminated) = termination_instant(raw) else {
                out.push(user_finding(
                    self,
                    FindingStatus::Error,
                    &user,
                    format!(
                        "{label}: termination date {raw:?} in profile attribute {} is not a date \
                         or timestamp",
                        user.termination_attribute
                    ),
                ));
                continue;
            };
            out.push(self.evaluate(&period, &facts, &user, &label, terminated, window));
        }
        Ok(out)
    }
}

impl TimelyDeprovisioning {
    fn evaluate(
        &self,
        period: &AuditPeriod,
        facts: &LogFacts,
        user: &OktaUser,
        label: &str,
        terminated: DateTime<Utc>,
        window: Duration,
    ) -> Finding {
        let deadline = terminated + window;
        let period_end = period.end_exclusive_utc();
        if terminated >= period_end {
            return user_finding(
                self,
                FindingStatus::NotApplicable,
                user,
                format!(
                    "{label}: termination {} falls after the period",
                    ts(terminated)
                ),
            );
        }
        let deactivated = if user.status == "DEPROVISIONED" {
            // The log's deactivation event is exact; statusChanged is the fallback when the
            // event is older than Okta's log retention.
            let from_log = facts
                .deactivations
                .get(&user.id)
                .and_then(|v| v.iter().map(|(t, _)| *t).max());
            from_log.or(user.status_changed)
        } else {
            None
        };
        let sign_ins_after: Vec<DateTime<Utc>> = {
            let mut v: Vec<DateTime<Utc>> = facts
                .sign_ins
                .get(&user.id)
                .map(|s| {
                    s.iter()
                        .map(|(t, _)| *t)
                        .filter(|t| *t > terminated)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(last) = user.last_login.filter(|t| *t > terminated) {
                if !v.contains(&last) {
                    v.push(last);
                }
            }
            v.sort();
            v
        };
        let mut problems = Vec::new();
        match deactivated {
            None if deadline < period_end => problems.push(format!(
                "still {} although the deactivation deadline {} has passed",
                user.status,
                ts(deadline)
            )),
            None => {
                return user_finding(
                    self,
                    FindingStatus::NotApplicable,
                    user,
                    format!(
                        "{label}: terminated {}, deactivation due {} after the period end",
                        ts(terminated),
                        ts(deadline)
                    ),
                )
            }
            Some(at) if at < period.start_utc() && terminated < period.start_utc() => {
                return user_finding(
                    self,
                    FindingStatus::NotApplicable,
                    user,
                    format!(
                        "{label}: terminated and deactivated before the period ({})",
                        ts(at)
                    ),
                )
            }
            Some(at) if at > deadline => {
                let late = at - terminated;
                problems.push(format!(
                    "deactivated {} ({:.1} days after the termination at {}, allowed {} hours)",
                    ts(at),
                    late.num_minutes() as f64 / 1440.0,
                    ts(terminated),
                    self.within_hours
                ));
            }
            Some(_) => {}
        }
        if let Some(first) = sign_ins_after.first() {
            problems.push(format!(
                "signed in after termination ({} sign-in(s), first {})",
                sign_ins_after.len(),
                ts(*first)
            ));
        }
        let mut finding = if problems.is_empty() {
            let at = deactivated.map(ts).unwrap_or_default();
            user_finding(
                self,
                FindingStatus::Pass,
                user,
                format!(
                    "{label}: terminated {}, deactivated {at}, no sign-in afterwards",
                    ts(terminated)
                ),
            )
        } else {
            user_finding(
                self,
                FindingStatus::Fail,
                user,
                format!("{label}: {}", problems.join("; ")),
            )
        };
        if facts.deactivations.contains_key(&user.id) || !sign_ins_after.is_empty() {
            finding = finding.with_evidence(EvidenceRef::file(file(SYSTEM_LOG)));
        }
        finding
    }
}

/// ACTIVE users signed in within the last N days before the period end.
#[derive(Debug, Clone, Copy)]
pub struct DormantAccounts {
    /// Days without a sign-in that make an account dormant.
    pub days: u32,
}

impl Check for DormantAccounts {
    fn id(&self) -> &str {
        "okta.dormant_accounts"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.2"]
    }
    fn description(&self) -> &str {
        "No ACTIVE user went without a sign-in for more than the configured number of days \
         before the end of the period."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let period = *store.period();
        let end = period.end_exclusive_utc();
        let limit = Duration::days(i64::from(self.days));
        let facts = log_facts(store)?;
        let mut out = Vec::new();
        for user in users(store)?.iter().filter(|u| u.status == "ACTIVE") {
            let label = user.label();
            if user.created.is_some_and(|c| c >= end) {
                continue;
            }
            // The last sign-in before the period end: Okta's lastLogin when it is before the
            // end, else the latest sign-in in the period's System Log.
            let logged = facts
                .sign_ins
                .get(&user.id)
                .and_then(|v| v.iter().map(|(t, _)| *t).filter(|t| *t < end).max());
            let from_user = user.last_login.filter(|t| *t < end);
            let last = logged.max(from_user);
            let (since, what) = match (last, user.last_login) {
                (Some(t), _) => (t, format!("last sign-in {}", ts(t))),
                (None, Some(after)) => (
                    user.created
                        .map_or(period.start_utc(), |c| c.max(period.start_utc())),
                    format!(
                        "no sign-in recorded in the period's System Log (next sign-in {})",
                        ts(after)
                    ),
                ),
                (None, None) => match user.created {
                    Some(c) => (c, format!("never signed in since creation {}", ts(c))),
                    None => (period.start_utc(), "never signed in".to_string()),
                },
            };
            let idle = end - since;
            let status = if idle > limit {
                FindingStatus::Fail
            } else {
                FindingStatus::Pass
            };
            let verdict = if status == FindingStatus::Fail {
                format!(
                    "dormant: {} days without a sign-in before the period end",
                    idle.num_days()
                )
            } else {
                format!("within {} days", self.days)
            };
            let mut f = user_finding(self, status, user, format!("{label}: {what}; {verdict}"));
            if logged.is_some() {
                f = f.with_evidence(EvidenceRef::file(file(SYSTEM_LOG)));
            }
            out.push(f);
        }
        Ok(out)
    }
}

/// Active password policies meet the configured length and lockout baseline.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    /// Smallest acceptable minimum length.
    pub min_length: u32,
    /// Largest acceptable failed attempts before lockout.
    pub max_lockout_attempts: u32,
}

fn policies(store: &EvidenceStore) -> Result<Vec<OktaPolicy>, CheckError> {
    store
        .read::<OktaPolicy>(COLLECTOR, POLICIES)?
        .map(|r| r.map(|r| r.data).map_err(CheckError::from))
        .collect()
}

fn policy_finding(
    check: &dyn Check,
    status: FindingStatus,
    p: &OktaPolicy,
    summary: String,
) -> Finding {
    let name = p.name.as_deref().unwrap_or(&p.id);
    Finding::new(
        check.id(),
        check.criteria(),
        status,
        &p.id,
        format!("{name}: {summary}"),
    )
    .with_evidence(EvidenceRef::record(file(POLICIES), &p.id))
}

impl Check for PasswordPolicy {
    fn id(&self) -> &str {
        "okta.password_policy"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "Every active password policy requires the configured minimum length and locks the \
         account after at most the configured number of failed attempts."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut out = Vec::new();
        for p in policies(store)?
            .iter()
            .filter(|p| p.policy_type == "PASSWORD" && p.is_active())
        {
            let pw = p.settings.as_ref().and_then(|s| s.pointer("/password"));
            let min_length = pw
                .and_then(|v| v.pointer("/complexity/minLength"))
                .and_then(serde_json::Value::as_u64);
            let attempts = pw
                .and_then(|v| v.pointer("/lockout/maxAttempts"))
                .and_then(serde_json::Value::as_u64);
            let mut problems = Vec::new();
            match min_length {
                Some(n) if n >= u64::from(self.min_length) => {}
                Some(n) => {
                    problems.push(format!("minimum length {n} is below {}", self.min_length))
                }
                None => problems.push("no minimum length is set".to_string()),
            }
            match attempts {
                Some(n) if n >= 1 && n <= u64::from(self.max_lockout_attempts) => {}
                Some(0) | None => problems.push("accounts are never locked out".to_string()),
                Some(n) => problems.push(format!(
                    "lockout after {n} failed attempts exceeds {}",
                    self.max_lockout_attempts
                )),
            }
            out.push(if problems.is_empty() {
                policy_finding(
                    self,
                    FindingStatus::Pass,
                    p,
                    format!(
                        "minimum length {}, lockout after {} failed attempts",
                        min_length.unwrap_or_default(),
                        attempts.unwrap_or_default()
                    ),
                )
            } else {
                policy_finding(self, FindingStatus::Fail, p, problems.join("; "))
            });
        }
        if out.is_empty() {
            out.push(
                Finding::new(
                    self.id(),
                    self.criteria(),
                    FindingStatus::Fail,
                    "*",
                    "no active PASSWORD policy was found",
                )
                .with_evidence(EvidenceRef::file(file(POLICIES))),
            );
        }
        Ok(out)
    }
}

/// Active sign-on policies require MFA in every rule that allows access.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignOnRequiresMfa;

impl Check for SignOnRequiresMfa {
    fn id(&self) -> &str {
        "okta.sign_on_mfa_required"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "Every active rule of every active Okta sign-on policy that allows access also requires \
         a second factor."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut out = Vec::new();
        for p in policies(store)?
            .iter()
            .filter(|p| p.policy_type == "OKTA_SIGN_ON" && p.is_active())
        {
            let allowing: Vec<_> = p
                .rules
                .iter()
                .filter(|r| r.status.as_deref().is_none_or(|s| s == "ACTIVE"))
                .filter(|r| {
                    r.actions
                        .as_ref()
                        .and_then(|a| a.pointer("/signon/access"))
                        .and_then(serde_json::Value::as_str)
                        == Some("ALLOW")
                })
                .collect();
            let without: Vec<&str> = allowing
                .iter()
                .filter(|r| {
                    r.actions
                        .as_ref()
                        .and_then(|a| a.pointer("/signon/requireFactor"))
                        .and_then(serde_json::Value::as_bool)
                        != Some(true)
                })
                .map(|r| r.name.as_deref().unwrap_or(&r.id))
                .collect();
            out.push(if allowing.is_empty() {
                policy_finding(
                    self,
                    FindingStatus::NotApplicable,
                    p,
                    "no active rule allows access".into(),
                )
            } else if without.is_empty() {
                policy_finding(
                    self,
                    FindingStatus::Pass,
                    p,
                    format!("all {} allowing rule(s) require MFA", allowing.len()),
                )
            } else {
                policy_finding(
                    self,
                    FindingStatus::Fail,
                    p,
                    format!("rule(s) allow sign-in without MFA: {}", without.join(", ")),
                )
            });
        }
        if out.is_empty() {
            out.push(
                Finding::new(
                    self.id(),
                    self.criteria(),
                    FindingStatus::Fail,
                    "*",
                    "no active Okta sign-on policy was found",
                )
                .with_evidence(EvidenceRef::file(file(POLICIES))),
            );
        }
        Ok(out)
    }
}
