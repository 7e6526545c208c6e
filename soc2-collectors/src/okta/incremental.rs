//! Incremental (ledger) runs of the Okta collector: which users' factors and roles must be
//! read again, and what can be carried forward from the previous run.
//!
//! Factors and admin roles cost one request per user each, so a daily run over a large org
//! would cost nearly as much as a full collection if it read them all. A user's factors or
//! roles can only have changed if the user is new, if Okta moved one of the user's
//! timestamps, or if the System Log recorded an MFA or privilege event naming the user; only
//! those users are read again, and everybody else's records come from the previous run of
//! the ledger, as long as that run's population is whole and its last full read is younger
//! than `full_refresh_days`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use soc2_evidence_core::{CollectContext, EvidenceStore, PreviousRun};

use super::records::{OktaAdminRole, OktaFactor, OktaLogEvent, ADMIN_ROLES, FACTORS, USERS};

/// How far before the previous run's collection time a user's timestamps count as a change:
/// the same day of overlap the ledger gives event windows, so a change made while the
/// previous run was reading is not missed.
pub(crate) const CHANGE_OVERLAP: chrono::Duration = chrono::Duration::days(1);

/// What the System Log of this run's window says about factors and roles.
#[derive(Debug, Default)]
pub(crate) struct LogFacts {
    /// Users named (actor or target) in `user.mfa.*` events.
    pub mfa_users: BTreeSet<String>,
    /// Users named in privilege events (`user.account.privilege.*`, `group.privilege.*`,
    /// `iam.*`).
    pub privilege_users: BTreeSet<String>,
    /// Groups named as targets of privilege events: a group granted or stripped of a role.
    pub privilege_groups: BTreeSet<String>,
    /// The first org-wide factor change (`system.mfa.factor.*`): it can change every user's
    /// factors at once.
    pub org_wide_mfa: Option<(String, DateTime<Utc>)>,
}

impl LogFacts {
    /// Takes note of one event.
    pub fn observe(&mut self, e: &OktaLogEvent) {
        let t = e.event_type.as_str();
        let named_users = || {
            e.actor
                .iter()
                .chain(e.targets.iter())
                .filter(|p| p.kind.as_deref() == Some("User"))
                .filter_map(|p| p.id.clone())
        };
        if t.starts_with("system.mfa.") {
            if self.org_wide_mfa.is_none() {
                self.org_wide_mfa = Some((t.to_string(), e.published));
            }
        } else if t.starts_with("user.mfa.") {
            self.mfa_users.extend(named_users());
        }
        if is_privilege_event(t) {
            self.privilege_users.extend(named_users());
            self.privilege_groups.extend(
                e.targets
                    .iter()
                    .filter(|p| p.kind.as_deref() == Some("UserGroup"))
                    .filter_map(|p| p.id.clone()),
            );
        }
    }
}

/// Whether an event type grants, revokes or rebinds an admin privilege.
pub(crate) fn is_privilege_event(t: &str) -> bool {
    t.starts_with("user.account.privilege.")
        || t.starts_with("group.privilege.")
        || t.starts_with("iam.")
}

/// What the previous run offers to build on, common to factors and roles.
#[derive(Debug)]
pub(crate) struct Base {
    /// The previous run's ledger sequence number.
    pub seq: u64,
    /// When it collected.
    pub collected_at: DateTime<Utc>,
    /// When the population was last read for every user (carried through the cursor).
    pub full_refresh_at: DateTime<Utc>,
    /// The users the previous run listed.
    pub users: HashSet<String>,
}

impl Base {
    /// Users whose timestamps at or after this instant count as changed.
    pub fn changed_since(&self) -> DateTime<Utc> {
        self.collected_at - CHANGE_OVERLAP
    }
}

/// The previous run's factors, by user.
#[derive(Debug)]
pub(crate) struct PrevFactors {
    pub base: Base,
    pub by_user: BTreeMap<String, Vec<OktaFactor>>,
}

/// The previous run's role holders and the groups they held roles through.
#[derive(Debug)]
pub(crate) struct PrevRoles {
    pub base: Base,
    pub holders: BTreeSet<String>,
    pub groups: BTreeSet<String>,
}

/// How one per-user population is read this run.
#[derive(Debug)]
pub(crate) enum Plan<P> {
    /// Every user is read. `why` says why the previous run could not be built on, when there
    /// was one.
    Full { why: Option<String> },
    /// Only some users are read; the others' records come from the previous run.
    Incremental(P),
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The checks every carried population passes: the previous run's population is whole, from
/// this org, with a recent enough full read, and this run's System Log window reaches back to
/// it. `Err` says why not, for the provenance note.
fn base(
    ctx: &CollectContext,
    prev: &PreviousRun,
    population: &str,
    org: &str,
    full_refresh_days: u32,
) -> Result<(Base, EvidenceStore), String> {
    let seq = prev.seq();
    let prov = prev
        .provenance(population)
        .ok_or_else(|| format!("ledger run {seq} recorded no provenance for {population}"))?;
    if !prov.complete {
        return Err(format!(
            "{population} of ledger run {seq} are incomplete, so nothing can be carried from it"
        ));
    }
    if prov.base_url.as_deref() != Some(org) {
        return Err(format!(
            "ledger run {seq} read another Okta org ({})",
            prov.base_url.as_deref().unwrap_or("none recorded")
        ));
    }
    let users_complete = prev.provenance(USERS.name()).is_some_and(|p| p.complete);
    if !users_complete {
        return Err(format!("the users of ledger run {seq} are incomplete"));
    }
    let full_refresh_at = prov
        .cursor
        .as_ref()
        .and_then(|c| c.get("full_refresh_at"))
        .and_then(|v| v.as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            format!("ledger run {seq} recorded no time of a full read of {population}")
        })?;
    let now = soc2_evidence_core::clock::now();
    let age = now - full_refresh_at;
    if age >= chrono::Duration::days(i64::from(full_refresh_days)) {
        return Err(format!(
            "a full refresh is due: {population} were last read in full at {} ({} day(s) ago; \
             full_refresh_days = {full_refresh_days})",
            ts(full_refresh_at),
            age.num_days()
        ));
    }
    let window_start = ctx.period().start_utc();
    if window_start > prev.collected_at() {
        return Err(format!(
            "this run's System Log window starts at {}, after ledger run {seq} collected ({}), \
             so changes in between would go unseen",
            ts(window_start),
            ts(prev.collected_at())
        ));
    }
    let store = EvidenceStore::open(prev.dir())
        .map_err(|e| format!("ledger run {seq} could not be opened: {e}"))?;
    if !store.has_population(prev.instance(), population)
        || !store.has_population(prev.instance(), USERS.name())
    {
        return Err(format!(
            "ledger run {seq} holds no complete {population} or users file"
        ));
    }
    let users = store
        .records(&USERS.at(prev.instance()))
        .and_then(|it| it.map(|r| r.map(|r| r.data.id)).collect::<Result<_, _>>())
        .map_err(|e| format!("the users of ledger run {seq} could not be read: {e}"))?;
    Ok((
        Base {
            seq,
            collected_at: prev.collected_at(),
            full_refresh_at,
            users,
        },
        store,
    ))
}

/// How factors are read this run.
pub(crate) fn factors_plan(
    ctx: &CollectContext,
    org: &str,
    full_refresh_days: u32,
    facts: &LogFacts,
) -> Plan<PrevFactors> {
    let Some(prev) = ctx.previous() else {
        return Plan::Full { why: None };
    };
    let (base, store) = match base(ctx, prev, FACTORS.name(), org, full_refresh_days) {
        Ok(b) => b,
        Err(why) => return Plan::Full { why: Some(why) },
    };
    if let Some((t, at)) = &facts.org_wide_mfa {
        return Plan::Full {
            why: Some(format!(
                "the System Log shows an org-wide factor change ({t} at {}), which can change \
                 every user's factors",
                ts(*at)
            )),
        };
    }
    let mut by_user: BTreeMap<String, Vec<OktaFactor>> = BTreeMap::new();
    let read = store.records(&FACTORS.at(prev.instance())).and_then(|it| {
        for r in it {
            let f = r?.data;
            by_user.entry(f.user_id.clone()).or_default().push(f);
        }
        Ok(())
    });
    if let Err(e) = read {
        return Plan::Full {
            why: Some(format!(
                "the factors of ledger run {} could not be read: {e}",
                base.seq
            )),
        };
    }
    Plan::Incremental(PrevFactors { base, by_user })
}

/// How admin roles are read this run.
pub(crate) fn roles_plan(
    ctx: &CollectContext,
    org: &str,
    full_refresh_days: u32,
) -> Plan<PrevRoles> {
    let Some(prev) = ctx.previous() else {
        return Plan::Full { why: None };
    };
    let (base, store) = match base(ctx, prev, ADMIN_ROLES.name(), org, full_refresh_days) {
        Ok(b) => b,
        Err(why) => return Plan::Full { why: Some(why) },
    };
    let roles: Result<Vec<OktaAdminRole>, _> = store.records_all(&ADMIN_ROLES.at(prev.instance()));
    match roles {
        Ok(roles) => Plan::Incremental(PrevRoles {
            base,
            holders: roles.iter().map(|r| r.user_id.clone()).collect(),
            groups: roles.iter().filter_map(|r| r.group_id.clone()).collect(),
        }),
        Err(e) => Plan::Full {
            why: Some(format!(
                "the admin roles of ledger run {} could not be read: {e}",
                base.seq
            )),
        },
    }
}

impl AsRef<Base> for PrevFactors {
    fn as_ref(&self) -> &Base {
        &self.base
    }
}

impl AsRef<Base> for PrevRoles {
    fn as_ref(&self) -> &Base {
        &self.base
    }
}

impl<P: AsRef<Base>> Plan<P> {
    /// The previous run built on, or why there is none (`None`: not a ledger run).
    pub fn as_base(&self) -> Result<&Base, Option<&str>> {
        match self {
            Plan::Full { why } => Err(why.as_deref()),
            Plan::Incremental(p) => Ok(p.as_ref()),
        }
    }
}

/// Which users a per-user population reads this run, and why (each user counted under the
/// first reason that applies).
#[derive(Debug, Default)]
pub(crate) struct Selection {
    /// Per user, in listing order: whether to read.
    pub read: Vec<bool>,
    /// Users the previous run did not list.
    pub new: usize,
    /// Users whose Okta timestamps moved since the previous run (less the overlap).
    pub changed: usize,
    /// Users named in the window's MFA (factors) or privilege (roles) events.
    pub named: usize,
    /// Roles only: users who held a role in the previous run or are on the assignee list.
    pub admins: usize,
}

impl Selection {
    /// A full read: every one of `n` users.
    pub fn everyone(n: usize) -> Self {
        Self {
            read: vec![true; n],
            ..Self::default()
        }
    }
}

/// Records in provenance (a note and the cursor) and in the progress line how a per-user
/// population was read: `what` is `factors` or `roles`, `events` the kind of System Log
/// event that names users to read again.
#[allow(clippy::too_many_arguments)]
pub(crate) fn describe(
    ctx: &CollectContext,
    rec: &mut soc2_evidence_core::ProvenanceRecorder,
    what: &str,
    plan: &Result<&Base, Option<&str>>,
    sel: &Selection,
    (reread, carried): (usize, usize),
    now: DateTime<Utc>,
) {
    match plan {
        Err(why) => {
            rec.cursor(serde_json::json!({
                "full_refresh_at": ts(now),
                "read": "full",
                "users_read": reread,
            }));
            if let Some(why) = why {
                rec.note(format!(
                    "{} read in full for every user ({}), not carried from the previous ledger \
                     run: {why}.",
                    capitalised(what),
                    thousands(reread)
                ));
            }
            ctx.message(&format!("{what}: {} users read in full", thousands(reread)));
        }
        Ok(base) => {
            let events = if what == "factors" {
                "MFA"
            } else {
                "privilege"
            };
            let mut why = vec![
                format!("{} not in that run", thousands(sel.new)),
                format!(
                    "{} with created, activated, lastUpdated, statusChanged or passwordChanged \
                     at or after {}",
                    thousands(sel.changed),
                    ts(base.changed_since())
                ),
                format!(
                    "{} named in {events} events of this run's System Log window",
                    thousands(sel.named)
                ),
            ];
            if what == "roles" {
                why.push(format!(
                    "{} holding a role in that run or on Okta's assignee list now",
                    thousands(sel.admins)
                ));
            }
            rec.note(format!(
                "{} re-read for {} users changed since ledger run {} ({}): {}; {} users' {what} \
                 carried forward from run {}, last read in full at {}.",
                capitalised(what),
                thousands(reread),
                base.seq,
                ts(base.collected_at),
                why.join(", "),
                thousands(carried),
                base.seq,
                ts(base.full_refresh_at)
            ));
            rec.cursor(serde_json::json!({
                "full_refresh_at": ts(base.full_refresh_at),
                "read": "incremental",
                "users_read": reread,
                "users_carried": carried,
                "carried_from_run": base.seq,
            }));
            ctx.message(&format!(
                "{what}: {} changed users re-read, {} carried forward",
                thousands(reread),
                thousands(carried)
            ));
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `12345` as `12,345`, for progress messages and notes an operator reads.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(9903), "9,903");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn privilege_events_are_recognised() {
        assert!(is_privilege_event("user.account.privilege.grant"));
        assert!(is_privilege_event("group.privilege.revoke"));
        assert!(is_privilege_event("iam.resourceset.bindings.add"));
        assert!(!is_privilege_event("user.mfa.factor.activate"));
        assert!(!is_privilege_event("group.user_membership.add"));
    }
}
