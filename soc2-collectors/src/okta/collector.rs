//! The Okta collector: users, factors, admin roles, System Log and policies.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::http::{
    redact_url, Auth, CursorPager, HttpClient, HttpError, LinkPager, Pacer, PacerStats,
    RateLimitHeaders,
};
use soc2_evidence_core::{
    CollectContext, CollectError, Collector, EvidenceSink, EvidenceSinkExt, PopulationWriter,
    ProvenanceRecorder,
};

use crate::concurrent::first_failure;

use super::incremental::{
    self, describe, thousands, Base, LogFacts, Plan, PrevFactors, PrevRoles, Selection,
};

use super::api::{
    WireAssignees, WireFactor, WireGroup, WireLogEvent, WireMember, WirePolicy, WireRole, WireRule,
    WireUser,
};
use super::config::OktaSettings;
use super::records::{
    OktaAdminRole, OktaFactor, OktaLogEvent, OktaPolicy, OktaUser, ADMIN_ROLES, FACTORS, POLICIES,
    SYSTEM_LOG, USERS,
};

/// System Log event types collected: lifecycle, MFA, privilege, group membership, sign-in and
/// policy changes. The MFA (`user.mfa.*`, `system.mfa.*`) and privilege
/// (`user.account.privilege.*`, `group.privilege.*`, `iam.*`) types also tell an incremental
/// run whose factors and roles to read again, so every type that changes them is here.
pub const LOG_EVENT_TYPES: &[&str] = &[
    "user.lifecycle.create",
    "user.lifecycle.activate",
    "user.lifecycle.deactivate",
    "user.lifecycle.reactivate",
    "user.lifecycle.suspend",
    "user.lifecycle.unsuspend",
    "user.lifecycle.delete.initiated",
    "user.account.lock",
    "user.mfa.factor.activate",
    "user.mfa.factor.deactivate",
    "user.mfa.factor.reset_all",
    "user.mfa.factor.suspend",
    "user.mfa.factor.unsuspend",
    "user.mfa.factor.update",
    // A factor type turned off (or on) for the whole org: every user's factors may change.
    "system.mfa.factor.activate",
    "system.mfa.factor.deactivate",
    "user.account.privilege.grant",
    "user.account.privilege.revoke",
    "group.privilege.grant",
    "group.privilege.revoke",
    // Custom roles: a resource-set binding grants or removes a role for users or groups.
    "iam.resourceset.bindings.add",
    "iam.resourceset.bindings.delete",
    "group.user_membership.add",
    "group.user_membership.remove",
    "user.session.start",
    "policy.lifecycle.update",
    "policy.rule.update",
];

/// Days of System Log Okta keeps: events older than this at collection time are gone.
pub const SYSTEM_LOG_RETENTION_DAYS: i64 = 90;

/// Policy types collected.
pub const POLICY_TYPES: &[&str] = &["PASSWORD", "MFA_ENROLL", "OKTA_SIGN_ON", "ACCESS_POLICY"];

const FACTORS_EP: &str = "/api/v1/users/{id}/factors";
const ROLES_EP: &str = "/api/v1/users/{id}/roles";
const ASSIGNEES_EP: &str = "/api/v1/iam/assignees/users";
const GROUP_EP: &str = "/api/v1/groups/{id}";
const GROUP_ROLES_EP: &str = "/api/v1/groups/{id}/roles";
const GROUP_USERS_EP: &str = "/api/v1/groups/{id}/users";
const RULES_EP: &str = "/api/v1/policies/{id}/rules";

/// Collects identity evidence from one Okta org. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct OktaCollector {
    settings: OktaSettings,
    client: HttpClient,
}

/// A user as the per-user phase needs it.
struct UserRef {
    id: String,
    login: Option<String>,
    /// The latest of Okta's `created`, `activated`, `lastUpdated`, `statusChanged` and
    /// `passwordChanged`: when Okta last recorded a change to the user.
    changed_at: Option<DateTime<Utc>>,
}

impl OktaCollector {
    /// Builds a collector from settings (the token is passed directly, not read from the
    /// environment).
    pub fn new(settings: OktaSettings) -> Result<Self, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            section: settings.name.clone(),
            key: key.into(),
            message,
        };
        if settings.concurrency == 0 {
            return Err(invalid("concurrency", "must be at least 1".into()));
        }
        if !(1..=200).contains(&settings.page_size) {
            return Err(invalid("page_size", "must be between 1 and 200".into()));
        }
        if settings.full_refresh_days == 0 {
            return Err(invalid("full_refresh_days", "must be at least 1".into()));
        }
        let client = HttpClient::builder(settings.base_url.trim())
            .auth(Auth::Ssws(settings.token.clone()))
            .retry(settings.retry.clone())
            .retry_classifier(super::OktaRetry)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| invalid("base_url", e.to_string()))?;
        Ok(Self { settings, client })
    }

    /// The org URL, safe to print.
    pub fn org_url(&self) -> String {
        redact_url(self.client.base_url())
    }

    /// Turns a 401 into words an operator can act on: which org rejected the token. The
    /// token itself is never part of any error.
    fn explain(&self, e: CollectError) -> CollectError {
        match e {
            CollectError::Http(HttpError::Unauthenticated { endpoint, .. }) => {
                CollectError::Source(format!(
                    "Okta org {} rejected the API token (401 Unauthorized on {endpoint}): check \
                     that the SSWS token is valid, not expired or revoked, and was issued by this org",
                    self.org_url()
                ))
            }
            other => other,
        }
    }

    async fn users(
        &self,
        ctx: &CollectContext,
        out: &mut PopulationWriter<OktaUser>,
    ) -> Result<Vec<UserRef>, CollectError> {
        ctx.message("listing users");
        let limit = self.settings.page_size.to_string();
        let deprovisioned = r#"status eq "DEPROVISIONED""#;
        let listings = [
            // Labels, not the request path, so a base URL with a path prefix does not change
            // what provenance calls these listings.
            LinkPager::new("/api/v1/users", &[("limit", &limit)]).label("/api/v1/users"),
            LinkPager::new(
                "/api/v1/users",
                &[("limit", &limit), ("filter", deprovisioned)],
            )
            .label("/api/v1/users?filter=DEPROVISIONED"),
        ];
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        let mut duplicates = 0u64;
        for mut pages in listings {
            while let Some(page) = pages.next_page(&self.client, out.provenance()).await? {
                ctx.check_cancelled()?;
                let batch: Vec<WireUser> = page.json()?;
                out.provenance()
                    .received(pages.endpoint().unwrap_or_default(), batch.len() as u64);
                for u in batch {
                    if !seen.insert(u.id.clone()) {
                        duplicates += 1;
                        continue;
                    }
                    let record = u.into_record(
                        &self.settings.termination_attribute,
                        &self.settings.profile_attributes,
                    );
                    out.emit(&record)?;
                    let changed_at = [
                        record.created,
                        record.activated,
                        record.last_updated,
                        record.status_changed,
                        record.password_changed,
                    ]
                    .into_iter()
                    .flatten()
                    .max();
                    users.push(UserRef {
                        id: record.id,
                        login: record.login,
                        changed_at,
                    });
                }
            }
        }
        let rec = out.provenance();
        rec.note(
            "Okta leaves DEPROVISIONED users out of an unfiltered user list, so they were \
             listed separately with filter=status eq \"DEPROVISIONED\" and merged by id.",
        );
        if duplicates > 0 {
            rec.note(format!(
                "{duplicates} user(s) appeared in both listings (status changed during \
                 collection) and were kept once."
            ));
        }
        Ok(users)
    }

    /// Factors of the users `read_factors` marks and roles of those `read_roles` marks
    /// (every user on a full read), concurrently, paced by Okta's rate-limit headers.
    /// Factors are written as they arrive; role assignments (a handful) are returned.
    async fn per_user(
        &self,
        ctx: &CollectContext,
        factors_out: &mut PopulationWriter<OktaFactor>,
        roles_out: &mut PopulationWriter<OktaAdminRole>,
        users: &[UserRef],
        (read_factors, read_roles): (&[bool], &[bool]),
    ) -> Result<PerUser, CollectError> {
        let concurrency = self.settings.concurrency;
        // Okta limits each endpoint family separately: one pacer per family.
        let factor_pacer = Pacer::new(concurrency, RateLimitHeaders::OKTA);
        let role_pacer = Pacer::new(concurrency, RateLimitHeaders::OKTA);
        let factors_client = self.client.with_pacer(Arc::clone(&factor_pacer));
        let roles_client = self.client.with_pacer(Arc::clone(&role_pacer));
        let (fc, rc) = (&factors_client, &roles_client);
        // Set at the first failure: jobs not yet started then send nothing, so the collector
        // fails promptly and reports the requests in flight together (see `concurrent`).
        let stop = AtomicBool::new(false);
        let stop = &stop;
        // Requests in the order they are queued for sending, so that of several failures the
        // earliest is reported.
        let sent = AtomicUsize::new(0);
        let sent = &sent;
        // Jobs are (user index, is factors), a user's two requests side by side; the stream
        // runs over indices into them: closures over plain integers keep the stream `Send`
        // inside the object-safe `collect` future.
        let jobs: Vec<(usize, bool)> = (0..users.len())
            .flat_map(|u| {
                let f = read_factors.get(u).copied().unwrap_or(true);
                let r = read_roles.get(u).copied().unwrap_or(true);
                [(u, true)]
                    .into_iter()
                    .filter(move |_| f)
                    .chain([(u, false)].into_iter().filter(move |_| r))
            })
            .collect();
        let jobs = &jobs;
        let mut results = futures::stream::iter(0..jobs.len())
            .map(move |i| {
                let (u, is_factors) = jobs[i];
                let user = &users[u];
                let (client, path) = if is_factors {
                    (fc, format!("/api/v1/users/{}/factors", user.id))
                } else {
                    (rc, format!("/api/v1/users/{}/roles", user.id))
                };
                async move {
                    if stop.load(Ordering::Relaxed) {
                        return (i, None);
                    }
                    let order = sent.fetch_add(1, Ordering::Relaxed);
                    // The paced client waits for a permit and feeds the pacer every response.
                    let result = client.get(&path, &[]).await;
                    (i, Some((order, result)))
                }
            })
            .buffer_unordered(concurrency);

        let mut out = PerUser::default();
        let total = jobs.len();
        let mut done = 0usize;
        let factor_jobs = jobs.iter().filter(|(_, f)| *f).count();
        ctx.message(&format!(
            "reading factors of {} users and roles of {} users",
            thousands(factor_jobs),
            thousands(total - factor_jobs)
        ));
        let mut failures: Vec<(usize, HttpError)> = Vec::new();
        while let Some((i, job)) = results.next().await {
            ctx.check_cancelled()?;
            done += 1;
            if done % 2000 == 0 {
                ctx.message(&format!("factors and roles: {done}/{total} requests"));
            }
            let (u, is_factors) = jobs[i];
            let user = &users[u];
            // Not sent: an earlier request failed.
            let Some((order, result)) = job else {
                continue;
            };
            let resp = match result {
                Ok(r) => r,
                // Deleted between listing and this call: nothing left to collect.
                Err(HttpError::NotFound { .. }) => {
                    out.vanished.insert(user.id.clone());
                    continue;
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    failures.push((order, e));
                    continue;
                }
            };
            if !failures.is_empty() {
                // The population is failing anyway; only the failures matter now.
                continue;
            }
            if is_factors {
                let rec = factors_out.provenance();
                rec.page("GET", FACTORS_EP, &[], resp.body());
                let factors: Vec<WireFactor> = match resp.json() {
                    Ok(f) => f,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        failures.push((order, e));
                        continue;
                    }
                };
                rec.received(FACTORS_EP, factors.len() as u64);
                for f in factors {
                    factors_out.emit(&f.into_record(&user.id))?;
                }
            } else {
                let rec = roles_out.provenance();
                rec.page("GET", ROLES_EP, &[], resp.body());
                let roles: Vec<WireRole> = match resp.json() {
                    Ok(r) => r,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        failures.push((order, e));
                        continue;
                    }
                };
                rec.received(ROLES_EP, roles.len() as u64);
                for role in roles {
                    let group = role.assignee_group();
                    let is_group = role.assignment_type.as_deref() == Some("GROUP");
                    match (is_group, group) {
                        (true, Some(gid)) => {
                            out.groups.insert(gid.clone());
                            out.add(role.into_record(
                                &user.id,
                                user.login.as_deref(),
                                Some((&gid, None)),
                            ));
                        }
                        _ => out.add(role.into_record(&user.id, user.login.as_deref(), None)),
                    }
                }
            }
        }
        drop(results);
        if let Some(e) = first_failure(failures, |e| self.explain(e.into())) {
            return Err(e);
        }
        let (f, r) = (factor_pacer.stats(), role_pacer.stats());
        let pacing = |rec: &mut ProvenanceRecorder, what: &str, s: PacerStats| {
            if s.pauses > 0 || s.lowest_allowed < concurrency {
                rec.note(format!(
                    "{what} requests were slowed by Okta's rate-limit headers: concurrency went \
                     down to {} (of {concurrency}) and paused {} time(s) for a window reset.",
                    s.lowest_allowed, s.pauses
                ));
            }
        };
        pacing(factors_out.provenance(), "Factor", f);
        pacing(roles_out.provenance(), "Role", r);
        if !out.vanished.is_empty() {
            let note = format!(
                "{} user(s) were deleted during collection (404 on their factors or roles): {}",
                out.vanished.len(),
                out.vanished.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            factors_out.provenance().note(note.clone());
            roles_out.provenance().note(note);
        }
        factors_out.provenance().note(
            "Factor records keep only id, type, provider, vendor, status and dates: factor \
             profiles and enrolment activation data (shared secrets, QR codes, links) are \
             never stored.",
        );
        Ok(out)
    }

    /// The users Okta lists as holding any admin role (body-paginated).
    async fn assignees(
        &self,
        ctx: &CollectContext,
        rec: &mut ProvenanceRecorder,
    ) -> Result<(BTreeSet<String>, bool), CollectError> {
        let mut ids = BTreeSet::new();
        let mut pager = CursorPager::new().label(ASSIGNEES_EP);
        while pager.has_next() {
            ctx.check_cancelled()?;
            let resp = match pager.cursor() {
                None => self.client.get(ASSIGNEES_EP, &[("limit", "100")]).await?,
                Some(next) => self.client.get(next, &[]).await?,
            };
            pager.record(rec, &resp);
            let page: WireAssignees = resp.json()?;
            rec.received(ASSIGNEES_EP, page.value.len() as u64);
            ids.extend(page.value.into_iter().map(|a| a.id));
            pager.set_next(page.links.next.and_then(|n| n.href));
        }
        Ok((ids, pager.stalled()))
    }

    /// Resolves a group that holds admin roles to its roles and its members. A group only
    /// `maybe` there (named by the previous run or an event, not by a user's current roles)
    /// may be gone: then `Ok(false)`.
    async fn group_admins(
        &self,
        ctx: &CollectContext,
        rec: &mut ProvenanceRecorder,
        gid: &str,
        out: &mut PerUser,
        maybe: bool,
    ) -> Result<bool, CollectError> {
        ctx.check_cancelled()?;
        let resp = match self.client.get(&format!("/api/v1/groups/{gid}"), &[]).await {
            Ok(r) => r,
            Err(HttpError::NotFound { .. }) if maybe => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        rec.page("GET", GROUP_EP, &[], resp.body());
        let group: WireGroup = resp.json()?;
        rec.received(GROUP_EP, 1);
        let name = group.profile.name;

        let resp = self
            .client
            .get(&format!("/api/v1/groups/{gid}/roles"), &[])
            .await?;
        rec.page("GET", GROUP_ROLES_EP, &[], resp.body());
        let roles: Vec<WireRole> = resp.json()?;
        rec.received(GROUP_ROLES_EP, roles.len() as u64);

        let limit = self.settings.page_size.to_string();
        let mut pages =
            LinkPager::new(&format!("/api/v1/groups/{gid}/users"), &[("limit", &limit)])
                .label(GROUP_USERS_EP);
        let mut members = Vec::new();
        while let Some(page) = pages.next_page(&self.client, rec).await? {
            ctx.check_cancelled()?;
            let batch: Vec<WireMember> = page.json()?;
            rec.received(GROUP_USERS_EP, batch.len() as u64);
            members.extend(batch.into_iter().map(|m| {
                let login = m.login();
                (m.id, login)
            }));
        }
        for role in &roles {
            for (uid, login) in &members {
                let record = OktaAdminRole {
                    user_id: uid.clone(),
                    login: login.clone(),
                    role_type: role.role_type.clone(),
                    role_label: role.label.clone(),
                    assignment_id: role.id.clone(),
                    status: role.status.clone(),
                    assignment_type: "GROUP".into(),
                    group_id: Some(gid.to_string()),
                    group_name: name.clone(),
                    created: role.created,
                    last_updated: role.last_updated,
                    role_id: role.role.clone(),
                    resource_set: role.resource_set.clone(),
                    unresolved: false,
                };
                out.add(record);
            }
        }
        // Member records seen through the users' own role lists get the group's name too.
        for r in out.roles.values_mut() {
            if r.group_id.as_deref() == Some(gid) && r.group_name.is_none() {
                r.group_name = name.clone();
            }
        }
        Ok(true)
    }

    /// Resolves the groups behind GROUP assignments (and `maybe_groups`, which may have
    /// been granted or stripped of a role since the previous run) to their members, and
    /// writes every role holding, with a record for each assignee whose roles are unknown.
    async fn admin_roles(
        &self,
        ctx: &CollectContext,
        out: &mut PopulationWriter<OktaAdminRole>,
        mut found: PerUser,
        logins: &BTreeMap<String, Option<String>>,
        (assignees, stalled): (&BTreeSet<String>, bool),
        (maybe_groups, how_read): (&BTreeSet<String>, &str),
    ) -> Result<(), CollectError> {
        ctx.message("resolving admin role assignments");
        let groups: Vec<String> = found.groups.iter().cloned().collect();
        for gid in &groups {
            self.group_admins(ctx, out.provenance(), gid, &mut found, false)
                .await?;
        }
        let mut gone = Vec::new();
        for gid in maybe_groups.iter().filter(|g| !groups.contains(g)) {
            if !self
                .group_admins(ctx, out.provenance(), gid, &mut found, true)
                .await?
            {
                gone.push(gid.clone());
            }
        }
        let rec = out.provenance();
        if !gone.is_empty() {
            rec.note(format!(
                "Group(s) that held a role in the previous ledger run or were named in a \
                 privilege event no longer exist (404), so nobody holds a role through them: {}",
                gone.join(", ")
            ));
        }
        let holders: BTreeSet<&str> = found.roles.values().map(|r| r.user_id.as_str()).collect();
        let unexplained: Vec<String> = assignees
            .iter()
            .filter(|id| !holders.contains(id.as_str()))
            .cloned()
            .collect();
        let holders = holders.len();
        rec.note(format!(
            "{how_read} GROUP assignments were resolved to the group's members (GET \
             {GROUP_USERS_EP}). {} user(s) hold a role; Okta's assignee list names {}.",
            holders,
            assignees.len()
        ));
        if !unexplained.is_empty() {
            rec.note(format!(
                "Okta lists these users as role assignees but GET {ROLES_EP} returned no role \
                 record for them (custom roles bound through resource sets?); each is recorded \
                 with role_type UNRESOLVED and unresolved: true, and judged an error: {}",
                unexplained.join(", ")
            ));
        }
        // Kept as records, not only a note, so the checks see these admins and say that their
        // roles cannot be established.
        let unresolved: Vec<OktaAdminRole> = unexplained
            .iter()
            .map(|id| OktaAdminRole {
                user_id: id.clone(),
                login: logins.get(id).cloned().flatten(),
                role_type: "UNRESOLVED".into(),
                role_label: None,
                assignment_id: String::new(),
                status: None,
                assignment_type: "ASSIGNEE_LIST".into(),
                group_id: None,
                group_name: None,
                created: None,
                last_updated: None,
                role_id: None,
                resource_set: None,
                unresolved: true,
            })
            .collect();
        for role in unresolved {
            found.add(role);
        }
        if stalled {
            rec.note("The assignee list repeated a next link; paging stopped there.");
        }
        for role in found.roles.into_values() {
            out.emit(&role)?;
        }
        Ok(())
    }

    /// The window's System Log events, with what they say about factors and roles.
    async fn system_log(
        &self,
        ctx: &CollectContext,
        out: &mut PopulationWriter<OktaLogEvent>,
    ) -> Result<LogFacts, CollectError> {
        ctx.message("reading the System Log");
        let period = ctx.period();
        let now = soc2_evidence_core::clock::now();
        let until_at = period.end_exclusive_utc().min(now);
        let since = period
            .start_utc()
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let until = until_at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let filter = LOG_EVENT_TYPES
            .iter()
            .map(|t| format!("eventType eq \"{t}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut pages = LinkPager::new(
            "/api/v1/logs",
            &[
                ("since", &since),
                ("until", &until),
                ("limit", "1000"),
                ("sortOrder", "ASCENDING"),
                ("filter", &filter),
            ],
        )
        .label("/api/v1/logs");
        let mut earliest = None;
        let mut count = 0u64;
        let mut facts = LogFacts::default();
        while let Some(page) = pages.next_page(&self.client, out.provenance()).await? {
            ctx.check_cancelled()?;
            let events: Vec<WireLogEvent> = page.json()?;
            out.provenance()
                .received("/api/v1/logs", events.len() as u64);
            if events.is_empty() {
                // Bounded queries end without a next link, but a page with no events and a
                // next link would otherwise be followed forever.
                pages.stop();
                break;
            }
            for e in events {
                let event = OktaLogEvent::from(e);
                earliest = Some(
                    earliest.map_or(event.published, |t: chrono::DateTime<Utc>| {
                        t.min(event.published)
                    }),
                );
                count += 1;
                facts.observe(&event);
                out.emit(&event)?;
            }
            ctx.message(&format!("System Log: {count} events"));
        }
        let rec = out.provenance();
        rec.note(format!(
            "Bounded query since {since} until {until} (exclusive) over the event types in the \
             filter parameter; {} page(s).",
            pages.pages()
        ));
        if until_at < period.end_exclusive_utc() {
            rec.note("The period had not ended at collection time; events up to then were read.");
        }
        // Okta keeps 90 days of System Log: a period starting earlier is only partly in the
        // source, so the population covers the window and the checks judge what lies before
        // it as not establishable.
        let kept_from = now - chrono::Duration::days(SYSTEM_LOG_RETENTION_DAYS);
        if period.start_utc() < kept_from {
            rec.covers(
                kept_from.max(period.start_utc()),
                until_at,
                "Okta keeps 90 days of System Log",
            );
        }
        if let Some(t) = earliest {
            rec.note(format!("Earliest event received: {}", t.to_rfc3339()));
        }
        Ok(facts)
    }

    async fn policies(
        &self,
        ctx: &CollectContext,
        out: &mut PopulationWriter<OktaPolicy>,
    ) -> Result<(), CollectError> {
        ctx.message("reading policies");
        for policy_type in POLICY_TYPES {
            let label = format!("/api/v1/policies?type={policy_type}");
            let mut pages =
                LinkPager::new("/api/v1/policies", &[("type", policy_type)]).label(&label);
            loop {
                ctx.check_cancelled()?;
                let page = match pages.next_page(&self.client, out.provenance()).await {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    // Classic Engine orgs have no ACCESS_POLICY type and answer 400.
                    Err(HttpError::Status { status: 400, .. })
                        if *policy_type == "ACCESS_POLICY" =>
                    {
                        out.provenance().note(
                            "ACCESS_POLICY policies are not available in this org (400); Classic Engine?",
                        );
                        break;
                    }
                    Err(e) => return Err(e.into()),
                };
                let policies: Vec<WirePolicy> = page.json()?;
                out.provenance().received(&label, policies.len() as u64);
                for p in policies {
                    let resp = self
                        .client
                        .get(&format!("/api/v1/policies/{}/rules", p.id), &[])
                        .await?;
                    let rec = out.provenance();
                    rec.page("GET", RULES_EP, &[], resp.body());
                    let rules: Vec<WireRule> = resp.json()?;
                    rec.received(RULES_EP, rules.len() as u64);
                    let record = p.into_record(rules.into_iter().map(Into::into).collect());
                    out.emit(&record)?;
                }
            }
        }
        Ok(())
    }

    /// Collects every population in turn. Each writer is finished as soon as its population
    /// is whole; on an error the open and unopened ones are recorded as incomplete by the
    /// framework, with the error as the reason.
    async fn collect_all(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let org = self.org_url();

        let mut users_out = sink.open(&USERS)?;
        users_out.provenance().base_url(&org);
        let users = self.users(ctx, &mut users_out).await?;
        users_out.finish()?;

        // Factors and roles come from the same per-user pass, so both are open at once. The
        // System Log is read before that pass: on an incremental run, its MFA and privilege
        // events name users whose factors or roles must be read again.
        let mut factors_out = sink.open(&FACTORS)?;
        factors_out.provenance().base_url(&org);
        let mut roles_out = sink.open(&ADMIN_ROLES)?;
        roles_out.provenance().base_url(&org);

        let mut log_out = sink.open(&SYSTEM_LOG)?;
        log_out.provenance().base_url(&org);
        let facts = self.system_log(ctx, &mut log_out).await?;
        log_out.finish()?;

        // The users Okta lists as holding any admin role: one cheap listing of the whole org,
        // read before the per-user pass so an incremental run re-reads every admin's roles.
        let assignees = self.assignees(ctx, roles_out.provenance()).await?;

        let days = self.settings.full_refresh_days;
        let factor_plan = incremental::factors_plan(ctx, &org, days, &facts);
        let role_plan = incremental::roles_plan(ctx, &org, days);
        let read_factors = factor_selection(&users, &factor_plan, &facts);
        let read_roles = role_selection(&users, &role_plan, &facts, &assignees.0);
        let found = self
            .per_user(
                ctx,
                &mut factors_out,
                &mut roles_out,
                &users,
                (&read_factors.read, &read_roles.read),
            )
            .await?;

        // Factors of users not read again come from the previous run, for users still listed
        // and not deleted during this one.
        let now = soc2_evidence_core::clock::now();
        let mut carried = 0usize;
        if let Plan::Incremental(prev) = &factor_plan {
            for (u, read) in users.iter().zip(&read_factors.read) {
                if *read || found.vanished.contains(&u.id) {
                    continue;
                }
                carried += 1;
                for f in prev.by_user.get(&u.id).into_iter().flatten() {
                    factors_out.emit(f)?;
                }
            }
        }
        let reread = read_factors.read.iter().filter(|r| **r).count();
        describe(
            ctx,
            factors_out.provenance(),
            "factors",
            &factor_plan.as_base(),
            &read_factors,
            (reread, carried),
            now,
        );
        factors_out.finish()?;

        let logins: BTreeMap<String, Option<String>> = users
            .iter()
            .map(|u| (u.id.clone(), u.login.clone()))
            .collect();
        let role_reread = read_roles.read.iter().filter(|r| **r).count();
        // Users whose roles are not read again held none in the previous run and are on no
        // assignee list now (see `role_selection`): that "no role" is what is carried.
        let role_carried = users.len() - role_reread;
        let (how_read, maybe_groups) = match &role_plan {
            Plan::Full { .. } => (
                format!("Role assignments were read for every user (GET {ROLES_EP});"),
                facts.privilege_groups.clone(),
            ),
            Plan::Incremental(prev) => (
                format!(
                    "Role assignments were read (GET {ROLES_EP}) for every user who held a role \
                     in ledger run {} or is on Okta's assignee list now, and for users created, \
                     changed or named in privilege events since; the others held no role then \
                     and are on no assignee list now.",
                    prev.base.seq
                ),
                prev.groups
                    .union(&facts.privilege_groups)
                    .cloned()
                    .collect(),
            ),
        };
        self.admin_roles(
            ctx,
            &mut roles_out,
            found,
            &logins,
            (&assignees.0, assignees.1),
            (&maybe_groups, &how_read),
        )
        .await?;
        describe(
            ctx,
            roles_out.provenance(),
            "roles",
            &role_plan.as_base(),
            &read_roles,
            (role_reread, role_carried),
            now,
        );
        roles_out.finish()?;

        let mut policies_out = sink.open(&POLICIES)?;
        policies_out.provenance().base_url(&org);
        self.policies(ctx, &mut policies_out).await?;
        policies_out.finish()?;
        Ok(())
    }
}

/// Which users' factors to read: everybody on a full read; on an incremental one, users new
/// since the previous run, changed since it, or named in the window's MFA events.
fn factor_selection(users: &[UserRef], plan: &Plan<PrevFactors>, facts: &LogFacts) -> Selection {
    match plan {
        Plan::Incremental(prev) => select(users, &prev.base, &facts.mfa_users, |_| false),
        _ => Selection::everyone(users.len()),
    }
}

/// Which users' roles to read: everybody on a full read; on an incremental one, the factor
/// rules with privilege events instead of MFA ones, and every user who held a role in the
/// previous run or is on Okta's assignee list now. Admins are few, so re-reading them all
/// costs little and catches a role changed without an event in the window; the others held
/// no role and are on no assignee list, which is what carrying them forward asserts.
fn role_selection(
    users: &[UserRef],
    plan: &Plan<PrevRoles>,
    facts: &LogFacts,
    assignees: &BTreeSet<String>,
) -> Selection {
    match plan {
        Plan::Incremental(prev) => select(users, &prev.base, &facts.privilege_users, |id| {
            prev.holders.contains(id) || assignees.contains(id)
        }),
        _ => Selection::everyone(users.len()),
    }
}

/// The incremental rule both selections share: new, changed, named in the window's events,
/// or (roles only) an admin.
fn select(
    users: &[UserRef],
    base: &Base,
    named: &BTreeSet<String>,
    admin: impl Fn(&str) -> bool,
) -> Selection {
    let mut sel = Selection::default();
    let since = base.changed_since();
    for u in users {
        let read = if !base.users.contains(&u.id) {
            sel.new += 1;
            true
        } else if u.changed_at.is_some_and(|t| t >= since) {
            sel.changed += 1;
            true
        } else if named.contains(&u.id) {
            sel.named += 1;
            true
        } else if admin(&u.id) {
            sel.admins += 1;
            true
        } else {
            false
        };
        sel.read.push(read);
    }
    sel
}

/// What the per-user phase found besides factors.
#[derive(Default)]
struct PerUser {
    /// Admin role holdings keyed by (user, role type, group) so a role seen both in a user's
    /// own list and through its group's members is kept once.
    roles: BTreeMap<(String, String, Option<String>), OktaAdminRole>,
    groups: BTreeSet<String>,
    vanished: BTreeSet<String>,
}

impl PerUser {
    fn add(&mut self, role: OktaAdminRole) {
        let key = (
            role.user_id.clone(),
            role.role_type.clone(),
            role.group_id.clone(),
        );
        self.roles.entry(key).or_insert(role);
    }
}

#[async_trait]
impl Collector for OktaCollector {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn collector_type(&self) -> &str {
        super::module::TYPE
    }

    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        self.collect_all(ctx, sink)
            .await
            .map_err(|e| self.explain(e))
    }
}

// Shared between the per-user futures; keep the type honest about it.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Arc<Pacer>>();
};
