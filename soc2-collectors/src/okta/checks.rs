//! Control tests over the Okta populations (CC6.1–CC6.3). Each finding's subject is an Okta
//! user id, or a policy id for the policy checks; a finding about the whole org (nothing in
//! scope, or no policy at all) has the subject `*`.
//!
//! Every check is built for one instance and reads that instance's populations through their
//! typed handles, so two `[[okta]]` orgs are judged separately (the runner prefixes the
//! findings of an instance not named `okta` with `<name>:`).
//!
//! **The verdict rule.** A check passes a subject only when the evidence it read establishes
//! the control for that subject. A check that evaluated its scope and found nothing in it
//! emits one `not_applicable` finding for the org saying why ("nothing in scope: no ACTIVE
//! users"); a subject the System Log can no longer speak for (Okta's 90-day retention) is an
//! `error` naming the window,
//! never silence and never a vacuous pass. A population that is missing or was left
//! `.partial` by a failed collection makes the check return an error, which the runner
//! records as an `error` finding. "Now" (dormancy, deadlines) is the end of the period or the
//! run's recorded collection time, whichever is earlier — never the clock when `check` runs.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use soc2_evidence_core::{
    AuditPeriod, Check, CheckError, Completeness, EvidenceRef, EvidenceStore, Finding,
    FindingStatus,
};

use super::config::OktaCheckSettings;
use super::records::{
    termination_instant, OktaAdminRole, OktaFactor, OktaLogEvent, OktaPolicy, OktaUser,
    ADMIN_ROLES, FACTORS, POLICIES, SYSTEM_LOG, USERS,
};

/// Factor types that are phishing-resistant: WebAuthn/FIDO2, U2F and Okta FastPass.
pub const PHISHING_RESISTANT_FACTORS: &[&str] = &["webauthn", "u2f", "signed_nonce"];

/// Factor types too weak to be a user's only MFA by default (`[okta] weak_factors`): SMS,
/// voice call, e-mail, and the security question (a second thing the user knows is not a
/// second factor).
pub const WEAK_FACTORS: &[&str] = &["sms", "call", "email", "question"];

/// The subject of a finding about the whole org rather than one user or policy.
const ORG: &str = "*";

/// Every Okta check for the instance `instance`, configured with `settings`.
///
/// ```
/// use soc2_collectors::okta::{checks, OktaCheckSettings};
/// let all = checks("okta", &OktaCheckSettings::default());
/// assert!(all.iter().any(|c| c.id() == "okta.mfa_enrolled"));
/// assert_eq!(all.len(), 7);
/// ```
pub fn checks(instance: &str, settings: &OktaCheckSettings) -> Vec<Box<dyn Check>> {
    vec![
        Box::new(MfaEnrolled::new(instance)),
        Box::new(MfaStrength::new(instance).weak_factors(&settings.weak_factors)),
        Box::new(AdminPhishingResistantMfa::new(instance)),
        Box::new(TimelyDeprovisioning::new(
            instance,
            settings.deprovision_within_hours,
        )),
        Box::new(DormantAccounts::new(instance, settings.dormant_days)),
        Box::new(PasswordPolicy::new(
            instance,
            settings.password_min_length,
            settings.password_max_lockout_attempts,
        )),
        Box::new(SignOnRequiresMfa::new(instance)),
    ]
}

/// One instance's populations, read through their typed handles. A missing or partial
/// population is an error (the store never reads `.partial` files), never an empty list.
struct OrgEvidence<'a> {
    instance: &'a str,
}

impl OrgEvidence<'_> {
    fn users(&self, store: &EvidenceStore) -> Result<Vec<OktaUser>, CheckError> {
        Ok(store.records_all(&USERS.at(self.instance))?)
    }

    fn factors_by_user(
        &self,
        store: &EvidenceStore,
    ) -> Result<HashMap<String, Vec<OktaFactor>>, CheckError> {
        let mut map: HashMap<String, Vec<OktaFactor>> = HashMap::new();
        for r in store.records(&FACTORS.at(self.instance))? {
            let f = r?.data;
            map.entry(f.user_id.clone()).or_default().push(f);
        }
        Ok(map)
    }

    fn policies(&self, store: &EvidenceStore) -> Result<Vec<OktaPolicy>, CheckError> {
        Ok(store.records_all(&POLICIES.at(self.instance))?)
    }

    fn user(&self, user_id: &str) -> EvidenceRef {
        USERS.at(self.instance).evidence(user_id)
    }

    fn factors(&self, user_id: &str) -> EvidenceRef {
        FACTORS.at(self.instance).evidence(user_id)
    }

    fn system_log(&self) -> EvidenceRef {
        SYSTEM_LOG.at(self.instance).evidence_file()
    }
}

fn user_finding(
    check: &dyn Check,
    ev: &OrgEvidence<'_>,
    status: FindingStatus,
    user: &OktaUser,
    summary: String,
) -> Finding {
    Finding::new(check.id(), check.criteria(), status, &user.id, summary)
        .with_evidence(ev.user(&user.id))
}

/// The one finding of a check whose scope turned out empty: `not_applicable` for the org,
/// "nothing in scope: <why>".
fn nothing_in_scope(check: &dyn Check, why: &str, evidence: EvidenceRef) -> Finding {
    Finding::nothing_in_scope(check.id(), check.criteria(), ORG, why).with_evidence(evidence)
}

/// Why an org whose users include nobody who can sign in is out of every check's scope.
const NO_ACTIVE_USERS: &str =
    "no ACTIVE users (nor RECOVERY, PASSWORD_EXPIRED or LOCKED_OUT ones): nobody can sign in";

/// The instant the checks judge "now" by: the end of the period, or the recorded collection
/// time when the period had not ended then (nothing after collection can be in evidence).
fn as_of(store: &EvidenceStore) -> (DateTime<Utc>, &'static str) {
    let end = store.period().end_exclusive_utc();
    let collected = store.collected_at();
    if collected < end {
        (collected, "collection")
    } else {
        (end, "the period end")
    }
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

/// `okta.mfa_enrolled`: every user who can sign in has at least one ACTIVE factor.
///
/// Scope: users whose status lets them sign in. Passes a user only when an ACTIVE factor is
/// recorded for them; an org with no such user gets one `not_applicable` finding.
#[derive(Debug, Clone)]
pub struct MfaEnrolled {
    instance: String,
}

impl MfaEnrolled {
    /// The check over the instance `instance`.
    pub fn new(instance: &str) -> Self {
        Self {
            instance: instance.to_string(),
        }
    }
}

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
        let ev = OrgEvidence {
            instance: &self.instance,
        };
        let factors = ev.factors_by_user(store)?;
        let none = Vec::new();
        let mut out = Vec::new();
        for user in ev.users(store)?.iter().filter(|u| u.can_sign_in()) {
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
                    &ev,
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
                    &ev,
                    FindingStatus::Pass,
                    user,
                    format!("{} has ACTIVE factors: {}", user.label(), describe(&active)),
                )
            };
            out.push(finding.with_evidence(ev.factors(&user.id)));
        }
        if out.is_empty() {
            out.push(nothing_in_scope(
                self,
                NO_ACTIVE_USERS,
                USERS.at(&self.instance).evidence_file(),
            ));
        }
        Ok(out)
    }
}

/// `okta.mfa_strength`: a user who can sign in does not rely on weak factors alone (by
/// default SMS, voice call, e-mail and security question; `[okta] weak_factors`).
///
/// Scope: users who can sign in and have at least one ACTIVE factor (a user with none is
/// `okta.mfa_enrolled`'s failure, not a strength question). Passes a user only when an ACTIVE
/// factor outside [`WEAK_FACTORS`] is recorded; an empty scope gets one `not_applicable`.
#[derive(Debug, Clone)]
pub struct MfaStrength {
    instance: String,
    weak: Vec<String>,
}

impl MfaStrength {
    /// The check over the instance `instance`, with the default [`WEAK_FACTORS`].
    pub fn new(instance: &str) -> Self {
        Self {
            instance: instance.to_string(),
            weak: WEAK_FACTORS.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The factor types (Okta `factorType`) that do not count as strong (`[okta]
    /// weak_factors`).
    pub fn weak_factors(mut self, weak: &[String]) -> Self {
        self.weak = weak.to_vec();
        self
    }

    fn is_weak(&self, f: &OktaFactor) -> bool {
        self.weak
            .iter()
            .any(|w| w.eq_ignore_ascii_case(f.factor_type.trim()))
    }
}

impl Check for MfaStrength {
    fn id(&self) -> &str {
        "okta.mfa_strength"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "Users who can sign in have at least one ACTIVE factor that is not weak (by default \
         weak: SMS, voice call, e-mail and security question; [okta] weak_factors)."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let ev = OrgEvidence {
            instance: &self.instance,
        };
        let factors = ev.factors_by_user(store)?;
        let users = ev.users(store)?;
        if !users.iter().any(OktaUser::can_sign_in) {
            return Ok(vec![nothing_in_scope(
                self,
                NO_ACTIVE_USERS,
                USERS.at(&self.instance).evidence_file(),
            )]);
        }
        let mut out = Vec::new();
        for user in users.iter().filter(|u| u.can_sign_in()) {
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
                .filter(|f| !self.is_weak(f))
                .collect();
            let finding = if strong.is_empty() {
                user_finding(
                    self,
                    &ev,
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
                    &ev,
                    FindingStatus::Pass,
                    user,
                    format!(
                        "{} has a strong ACTIVE factor: {}",
                        user.label(),
                        describe(&strong)
                    ),
                )
            };
            out.push(finding.with_evidence(ev.factors(&user.id)));
        }
        if out.is_empty() {
            out.push(nothing_in_scope(
                self,
                "no user who can sign in has an ACTIVE factor (users without one are \
                 okta.mfa_enrolled findings)",
                FACTORS.at(&self.instance).evidence_file(),
            ));
        }
        Ok(out)
    }
}

/// `okta.admin_phishing_resistant_mfa`: every current admin, direct or through a group, has
/// an ACTIVE phishing-resistant factor.
///
/// Scope: users holding an admin role. An admin who cannot sign in is `not_applicable`; an org
/// where nobody holds a role gets one `not_applicable`. All three populations (roles, factors,
/// users) are read before judging, so a missing one is an error even when there are no admins.
#[derive(Debug, Clone)]
pub struct AdminPhishingResistantMfa {
    instance: String,
}

impl AdminPhishingResistantMfa {
    /// The check over the instance `instance`.
    pub fn new(instance: &str) -> Self {
        Self {
            instance: instance.to_string(),
        }
    }
}

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
        let ev = OrgEvidence {
            instance: &self.instance,
        };
        let roles_ref = ADMIN_ROLES.at(&self.instance);
        let mut admins: BTreeMap<String, Vec<OktaAdminRole>> = BTreeMap::new();
        for r in store.records(&roles_ref)? {
            let role = r?.data;
            admins.entry(role.user_id.clone()).or_default().push(role);
        }
        let factors = ev.factors_by_user(store)?;
        let users: HashMap<String, OktaUser> = ev
            .users(store)?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        if admins.is_empty() {
            return Ok(vec![nothing_in_scope(
                self,
                "no user holds an admin role, directly or through a group",
                roles_ref.evidence_file(),
            )]);
        }
        let mut out = Vec::new();
        for (uid, roles) in &admins {
            let held = roles
                .iter()
                .filter(|r| !r.unresolved)
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
                    .with_evidence(roles_ref.evidence(uid))
                    .with_evidence(ev.factors(uid));
                if users.contains_key(uid) {
                    finding = finding.with_evidence(ev.user(uid));
                }
                out.push(finding);
            };
            if roles.iter().all(|r| r.unresolved) {
                // Okta's assignee list names the user, but no role record came back: which
                // role they hold (and so whether the check's premise holds) is not in evidence.
                let has = describe(
                    &factors
                        .get(uid)
                        .map(|fs| fs.iter().filter(|f| f.is_active()).collect::<Vec<_>>())
                        .unwrap_or_default(),
                );
                f(
                    FindingStatus::Error,
                    format!(
                        "{label} is listed by Okta as an admin role assignee \
                         (/api/v1/iam/assignees/users), but GET /api/v1/users/{uid}/roles returned \
                         no role records (a custom role bound through a resource set?): the \
                         admin's roles cannot be established; ACTIVE factors: {}",
                        if has.is_empty() { "none" } else { &has }
                    ),
                );
                continue;
            }
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

fn log_facts(store: &EvidenceStore, instance: &str) -> Result<LogFacts, CheckError> {
    let mut facts = LogFacts::default();
    for r in store.records::<OktaLogEvent>(&SYSTEM_LOG.at(instance))? {
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

/// `okta.timely_deprovisioning`: terminated people were deactivated within the window and
/// did not sign in afterwards.
///
/// Scope: users with a termination date. A termination before the System Log's retention
/// window (see the [module docs](super)) that shows no gap is an `error`: the deactivation and
/// sign-in events may no longer be in the log. Passes a user only when a deactivation within the
/// window is in evidence (the System Log's event, or `statusChanged` of a DEPROVISIONED user)
/// and no sign-in after the termination is; a termination after the period, or a deadline
/// after the period end or the collection (whichever is earlier), is `not_applicable` for
/// that user. An org where nobody has a termination date gets one `not_applicable`.
#[derive(Debug, Clone)]
pub struct TimelyDeprovisioning {
    instance: String,
    within_hours: u32,
}

impl TimelyDeprovisioning {
    /// The check over the instance `instance`: deactivation due `within_hours` after the
    /// termination.
    pub fn new(instance: &str, within_hours: u32) -> Self {
        Self {
            instance: instance.to_string(),
            within_hours,
        }
    }
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
        let ev = OrgEvidence {
            instance: &self.instance,
        };
        let period = *store.period();
        let now = as_of(store);
        let facts = log_facts(store, &self.instance)?;
        let log = store.completeness(&SYSTEM_LOG.at(&self.instance));
        let window = Duration::hours(i64::from(self.within_hours));
        let mut out = Vec::new();
        for user in ev.users(store)? {
            let Some(raw) = user.termination_date.as_deref() else {
                continue;
            };
            let label = user.label().to_string();
            let Some(terminated) = termination_instant(raw) else {
                out.push(user_finding(
                    self,
                    &ev,
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
            let judged = Judged {
                period: &period,
                now,
                facts: &facts,
                ev: &ev,
                log: &log,
            };
            out.push(self.evaluate(&judged, &user, &label, terminated, window));
        }
        if out.is_empty() {
            out.push(nothing_in_scope(
                self,
                "no user has a termination date",
                USERS.at(&self.instance).evidence_file(),
            ));
        }
        Ok(out)
    }
}

/// What one deprovisioning verdict is judged against.
struct Judged<'a> {
    period: &'a AuditPeriod,
    /// "Now" and how to name it (see [`as_of`]).
    now: (DateTime<Utc>, &'static str),
    facts: &'a LogFacts,
    ev: &'a OrgEvidence<'a>,
    /// What the System Log covers (a window when Okta's retention cut the period short).
    log: &'a Completeness,
}

impl TimelyDeprovisioning {
    fn evaluate(
        &self,
        j: &Judged<'_>,
        user: &OktaUser,
        label: &str,
        terminated: DateTime<Utc>,
        window: Duration,
    ) -> Finding {
        let (period, facts, ev) = (j.period, j.facts, j.ev);
        let (now, now_name) = j.now;
        let deadline = terminated + window;
        let period_end = period.end_exclusive_utc();
        if terminated >= period_end {
            return user_finding(
                self,
                ev,
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
            // Judged against "now", not the period end: a deadline after the collection has
            // not passed yet, whatever the period says.
            None if deadline < now => problems.push(format!(
                "still {} although the deactivation deadline {} has passed",
                user.status,
                ts(deadline)
            )),
            None => {
                return user_finding(
                    self,
                    ev,
                    FindingStatus::NotApplicable,
                    user,
                    format!(
                        "{label}: terminated {}, deactivation due {} after {now_name}",
                        ts(terminated),
                        ts(deadline)
                    ),
                )
            }
            Some(at) if at < period.start_utc() && terminated < period.start_utc() => {
                return user_finding(
                    self,
                    ev,
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
        // A gap shown is shown; but a clean verdict needs every deactivation and sign-in
        // event from the termination on, and the System Log may no longer hold them.
        let out_of_window = j.log.why_not(terminated).filter(|_| problems.is_empty());
        let mut finding = if let Some(why) = out_of_window {
            let state = match (deactivated, user.status.as_str()) {
                (Some(at), _) => format!("deactivated {} per Okta", ts(at)),
                (None, status) => format!("now {status}"),
            };
            Finding::cannot_establish(
                self.id(),
                self.criteria(),
                &user.id,
                format!(
                    "{label}: terminated {}, {state}; the deactivation and sign-in events: {why}",
                    ts(terminated)
                ),
            )
            .with_evidence(ev.user(&user.id))
        } else if problems.is_empty() {
            let at = deactivated.map(ts).unwrap_or_default();
            user_finding(
                self,
                ev,
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
                ev,
                FindingStatus::Fail,
                user,
                format!("{label}: {}", problems.join("; ")),
            )
        };
        if facts.deactivations.contains_key(&user.id) || !sign_ins_after.is_empty() {
            finding = finding.with_evidence(ev.system_log());
        }
        finding
    }
}

/// `okta.dormant_accounts`: ACTIVE users signed in within the last N days.
///
/// Scope: ACTIVE users created before "now" — the period end, or the recorded collection
/// time when the period had not ended then. Passes a user only when a sign-in (Okta's
/// `lastLogin` or a System Log sign-in) within N days before "now" is in evidence, or the
/// account is younger than N days; an org with no ACTIVE user gets one `not_applicable`. A
/// user whose `lastLogin` is after "now" and who has no recent sign-in in the System Log is an
/// `error` when the log does not cover the N days before "now" (Okta's 90-day retention, or a
/// period starting later).
#[derive(Debug, Clone)]
pub struct DormantAccounts {
    instance: String,
    days: u32,
}

impl DormantAccounts {
    /// The check over the instance `instance`: dormant after `days` without a sign-in.
    pub fn new(instance: &str, days: u32) -> Self {
        Self {
            instance: instance.to_string(),
            days,
        }
    }
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
         before the end of the period (or the collection, when the period had not ended)."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let ev = OrgEvidence {
            instance: &self.instance,
        };
        let period = *store.period();
        // Never the clock at `check` time: a re-run must give the same findings, and idle
        // days after the collection are not in evidence.
        let (end, end_name) = as_of(store);
        let limit = Duration::days(i64::from(self.days));
        let facts = log_facts(store, &self.instance)?;
        let log = store.completeness(&SYSTEM_LOG.at(&self.instance));
        let mut out = Vec::new();
        for user in ev.users(store)?.iter().filter(|u| u.status == "ACTIVE") {
            let label = user.label();
            if user.created.is_some_and(|c| c >= end) {
                continue;
            }
            // The last sign-in before "now": Okta's lastLogin when it is before it, else the
            // latest sign-in in the period's System Log.
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
            // Okta's lastLogin is after "now": whether the user signed in during the last N
            // days before it rests on the System Log alone. Absence of sign-ins is shown only
            // where the log was read and Okta still kept it.
            let young = user.created.is_some_and(|c| c >= end - limit);
            if (idle > limit || !young)
                && from_user.is_none()
                && user.last_login.is_some()
                && last.is_none_or(|t| end - t > limit)
            {
                let need = (end - limit).max(user.created.unwrap_or(end - limit));
                let why = if need < period.start_utc() {
                    Some(format!(
                        "the System Log was read from the period start {} only, and the \
                             {}-day window before {end_name} starts {}",
                        ts(period.start_utc()),
                        self.days,
                        ts(need)
                    ))
                } else {
                    log.why_not(need)
                };
                if let Some(why) = why {
                    out.push(
                        Finding::cannot_establish(
                            self.id(),
                            self.criteria(),
                            &user.id,
                            format!("{label}: {what}; whether they signed in: {why}"),
                        )
                        .with_evidence(ev.user(&user.id))
                        .with_evidence(ev.system_log()),
                    );
                    continue;
                }
            }
            let status = if idle > limit {
                FindingStatus::Fail
            } else {
                FindingStatus::Pass
            };
            let verdict = if status == FindingStatus::Fail {
                format!(
                    "dormant: {} days without a sign-in before {end_name}",
                    idle.num_days()
                )
            } else {
                format!("within {} days", self.days)
            };
            let mut f = user_finding(
                self,
                &ev,
                status,
                user,
                format!("{label}: {what}; {verdict}"),
            );
            if logged.is_some() {
                f = f.with_evidence(ev.system_log());
            }
            out.push(f);
        }
        if out.is_empty() {
            out.push(nothing_in_scope(
                self,
                &format!("no ACTIVE users created before {end_name}"),
                USERS.at(&self.instance).evidence_file(),
            ));
        }
        Ok(out)
    }
}

/// The one finding of a policy check over an org where nobody can sign in: the policies
/// protect no one, so the org is out of scope (`not_applicable`, [`NO_ACTIVE_USERS`]). Reads
/// the users, so a missing users population is an error here too.
fn nobody_signs_in(
    check: &dyn Check,
    ev: &OrgEvidence<'_>,
    store: &EvidenceStore,
) -> Result<Option<Finding>, CheckError> {
    if ev.users(store)?.iter().any(OktaUser::can_sign_in) {
        return Ok(None);
    }
    Ok(Some(
        nothing_in_scope(
            check,
            NO_ACTIVE_USERS,
            USERS.at(ev.instance).evidence_file(),
        )
        .with_evidence(POLICIES.at(ev.instance).evidence_file()),
    ))
}

/// The one finding of a policy check that found no policy in scope while users can sign in:
/// a failure (the accounts are not shown to be protected).
fn no_policy(
    check: &dyn Check,
    ev: &OrgEvidence<'_>,
    store: &EvidenceStore,
    what: &str,
) -> Result<Finding, CheckError> {
    let can_sign_in = ev.users(store)?.iter().filter(|u| u.can_sign_in()).count();
    Ok(Finding::new(
        check.id(),
        check.criteria(),
        FindingStatus::Fail,
        ORG,
        format!("{what}, and {can_sign_in} user(s) can sign in"),
    )
    .with_evidence(POLICIES.at(ev.instance).evidence_file())
    .with_evidence(USERS.at(ev.instance).evidence_file()))
}

fn policy_finding(
    check: &dyn Check,
    instance: &str,
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
    .with_evidence(POLICIES.at(instance).evidence(&p.id))
}

/// `okta.password_policy`: active password policies meet the configured length and lockout
/// baseline.
///
/// Scope: active PASSWORD policies of an org where someone can sign in (else one
/// `not_applicable`, "no ACTIVE users"). A policy for users mastered by Active Directory or
/// LDAP (`conditions.authProvider.provider`) is `not_applicable`: the directory enforces its
/// rules. Passes a policy only when its settings show both a long enough minimum length and a
/// lockout within the limit. An org where users can sign in but no active password policy is
/// in evidence **fails** (one finding for the org): Okta always has a default password
/// policy, so none means no password rule is enforced, or the token could not see them —
/// either way the control is not shown to operate.
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    instance: String,
    min_length: u32,
    max_lockout_attempts: u32,
}

impl PasswordPolicy {
    /// The check over the instance `instance`: at least `min_length` characters, lockout
    /// after at most `max_lockout_attempts` failures.
    pub fn new(instance: &str, min_length: u32, max_lockout_attempts: u32) -> Self {
        Self {
            instance: instance.to_string(),
            min_length,
            max_lockout_attempts,
        }
    }
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
        let ev = OrgEvidence {
            instance: &self.instance,
        };
        let policies = ev.policies(store)?;
        if let Some(none) = nobody_signs_in(self, &ev, store)? {
            return Ok(vec![none]);
        }
        let mut out = Vec::new();
        for p in policies
            .iter()
            .filter(|p| p.policy_type == "PASSWORD" && p.is_active())
        {
            if let Some(directory) = p.delegated_directory() {
                // Okta does not enforce this policy's rules: the directory does, so Okta's
                // settings on it say nothing about the passwords people have.
                out.push(policy_finding(
                    self,
                    &self.instance,
                    FindingStatus::NotApplicable,
                    p,
                    format!(
                        "rules enforced by {directory} (conditions.authProvider.provider is \
                         {}), not judged against the Okta baseline; review the directory's \
                         password policy",
                        p.auth_provider().unwrap_or_default()
                    ),
                ));
                continue;
            }
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
                    &self.instance,
                    FindingStatus::Pass,
                    p,
                    format!(
                        "minimum length {}, lockout after {} failed attempts",
                        min_length.unwrap_or_default(),
                        attempts.unwrap_or_default()
                    ),
                )
            } else {
                policy_finding(
                    self,
                    &self.instance,
                    FindingStatus::Fail,
                    p,
                    problems.join("; "),
                )
            });
        }
        if out.is_empty() {
            out.push(no_policy(
                self,
                &ev,
                store,
                "no active PASSWORD policy was found",
            )?);
        }
        Ok(out)
    }
}

/// `okta.sign_on_mfa_required`: active sign-on policies require MFA in every rule that
/// allows access.
///
/// Scope: active OKTA_SIGN_ON policies. Passes a policy only when every active rule that
/// allows access requires a factor; a policy with no allowing rule is `not_applicable`. An
/// org where users can sign in but no active sign-on policy is in evidence **fails** (one
/// finding for the org): Okta always has a default one, so none means nothing shows sign-in
/// requires MFA. An org where nobody can sign in is `not_applicable` ("no ACTIVE users").
#[derive(Debug, Clone)]
pub struct SignOnRequiresMfa {
    instance: String,
}

impl SignOnRequiresMfa {
    /// The check over the instance `instance`.
    pub fn new(instance: &str) -> Self {
        Self {
            instance: instance.to_string(),
        }
    }
}

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
        let ev = OrgEvidence {
            instance: &self.instance,
        };
        let policies = ev.policies(store)?;
        if let Some(none) = nobody_signs_in(self, &ev, store)? {
            return Ok(vec![none]);
        }
        let mut out = Vec::new();
        for p in policies
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
            let (status, summary) = if allowing.is_empty() {
                (
                    FindingStatus::NotApplicable,
                    "no active rule allows access".to_string(),
                )
            } else if without.is_empty() {
                (
                    FindingStatus::Pass,
                    format!("all {} allowing rule(s) require MFA", allowing.len()),
                )
            } else {
                (
                    FindingStatus::Fail,
                    format!("rule(s) allow sign-in without MFA: {}", without.join(", ")),
                )
            };
            out.push(policy_finding(self, &self.instance, status, p, summary));
        }
        if out.is_empty() {
            out.push(no_policy(
                self,
                &ev,
                store,
                "no active Okta sign-on policy was found",
            )?);
        }
        Ok(out)
    }
}
