//! Control tests over `<instance>/change_tickets.jsonl` (CC8.1, CC3.4).
//!
//! Both checks judge only tickets whose current status is one of the done statuses; rejected
//! or unfinished tickets stay in the population but get no finding. Approval is judged from
//! the status history, never from `resolutiondate` (which moves when a ticket is reopened).
//!
//! **The verdict rule.** A ticket passes only when its own evidence (status history, remote
//! links) establishes the control; a ticket whose evidence was not collected is an `error`,
//! never a pass. When the period holds no completed change ticket, each check emits one
//! `not_applicable` finding for the project (subject `*`) saying so, never silence. A missing
//! or `.partial` population makes the check return an error, which the runner records as an
//! `error` finding. Checks are built per instance and read that instance's population.

use soc2_evidence_core::{Check, CheckError, EvidenceRef, EvidenceStore, Finding, FindingStatus};

use super::records::{project_of, ChangeTicket, JiraUser, StatusTransition, CHANGE_TICKETS};

/// The subject of a finding about the whole project rather than one ticket.
const PROJECT: &str = "*";

/// The change workflow's status names (compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowSettings {
    /// The status a ticket enters when approved.
    pub approved_status: String,
    /// Statuses meaning work has started; approval must come before the first of them.
    pub implementation_statuses: Vec<String>,
    /// Statuses of completed changes: the tickets that are judged.
    pub done_statuses: Vec<String>,
}

impl Default for WorkflowSettings {
    /// `Approved`; `In Progress` and `Done`; `Done`.
    fn default() -> Self {
        Self {
            approved_status: "Approved".into(),
            implementation_statuses: vec!["In Progress".into(), "Done".into()],
            done_statuses: vec!["Done".into()],
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl WorkflowSettings {
    /// Whether `status` is a done status.
    pub fn is_done(&self, status: Option<&str>) -> bool {
        status.is_some_and(|s| self.done_statuses.iter().any(|d| same(d, s)))
    }

    fn is_implementation(&self, status: Option<&str>) -> bool {
        status.is_some_and(|s| self.implementation_statuses.iter().any(|d| same(d, s)))
    }

    fn is_approved(&self, status: Option<&str>) -> bool {
        status.is_some_and(|s| same(&self.approved_status, s))
    }
}

/// The completed tickets of one instance's population, streamed in file order. A missing or
/// partial population is an error (the store never reads `.partial` files), never an empty
/// stream.
fn done_tickets<'a>(
    store: &EvidenceStore,
    instance: &str,
    wf: &'a WorkflowSettings,
) -> Result<impl Iterator<Item = Result<ChangeTicket, CheckError>> + 'a, CheckError> {
    Ok(store
        .records(&CHANGE_TICKETS.at(instance))?
        .map(|r| r.map(|r| r.data).map_err(CheckError::from))
        .filter(move |r| match r {
            Ok(t) => wf.is_done(t.status.as_deref()),
            Err(_) => true,
        }))
}

/// The one finding of a check over a project or JQL scope without completed change tickets
/// in the period: `not_applicable`, "nothing in scope: …".
fn no_done_tickets(check: &dyn Check, instance: &str, wf: &WorkflowSettings) -> Finding {
    Finding::nothing_in_scope(
        check.id(),
        check.criteria(),
        PROJECT,
        &format!(
            "no change tickets selected by the JQL in the period are in a done status ({})",
            wf.done_statuses.join(", ")
        ),
    )
    .with_evidence(CHANGE_TICKETS.at(instance).evidence_file())
}

fn evidence(instance: &str, key: &str) -> EvidenceRef {
    CHANGE_TICKETS.at(instance).evidence(key)
}

/// `jira.approved_before_implementation`: a done ticket has a transition into the approved
/// status, made by a person (`accountType: atlassian`) who is neither its reporter nor its
/// assignee, earlier than its first transition into an implementation status.
///
/// Scope: tickets in a done status. A period without any gets one `not_applicable` finding.
#[derive(Debug, Clone)]
pub struct ApprovedBeforeImplementation {
    instance: String,
    workflow: WorkflowSettings,
}

impl Default for ApprovedBeforeImplementation {
    /// Over the instance `jira`, with the default workflow.
    fn default() -> Self {
        Self::new(super::module::TYPE, WorkflowSettings::default())
    }
}

impl ApprovedBeforeImplementation {
    /// The check over the instance `instance`, for a workflow.
    pub fn new(instance: &str, workflow: WorkflowSettings) -> Self {
        Self {
            instance: instance.to_string(),
            workflow,
        }
    }

    /// Judges one ticket: `Ok(summary)` when approved properly, `Err(reason)` otherwise
    /// (a failure, or evidence that cannot establish it: see [`Self::verdict`]).
    pub fn judge(&self, t: &ChangeTicket) -> Result<String, String> {
        match self.verdict(t) {
            (FindingStatus::Pass, s) => Ok(s),
            (_, s) => Err(s),
        }
    }

    /// The finding status and summary for one ticket: `error` when its changelog is
    /// incomplete or the approver's identity cannot be compared with the assignee's or
    /// reporter's, else `pass` or `fail`.
    pub fn verdict(&self, t: &ChangeTicket) -> (FindingStatus, String) {
        if !t.changelog_complete {
            return (
                FindingStatus::Error,
                format!(
                    "changelog incomplete: {} of {} entries received (Jira reported a total it \
                     did not return); the approval history cannot be established",
                    t.changelog_received, t.changelog_total
                ),
            );
        }
        match self.judge_history(t) {
            Ok(s) => (FindingStatus::Pass, s),
            Err((true, s)) => (FindingStatus::Error, s),
            Err((false, s)) => (FindingStatus::Fail, s),
        }
    }

    /// `Err((cannot_establish, reason))` when not approved properly.
    fn judge_history(&self, t: &ChangeTicket) -> Result<String, (bool, String)> {
        let wf = &self.workflow;
        // The changelog is oldest first already; sort defensively, stable on ties.
        let mut history: Vec<&StatusTransition> = t.status_history.iter().collect();
        history.sort_by_key(|h| h.at);
        let started = history
            .iter()
            .find(|h| wf.is_implementation(h.to.as_deref()))
            .copied();
        let approvals: Vec<&StatusTransition> = history
            .iter()
            .filter(|h| wf.is_approved(h.to.as_deref()))
            .copied()
            .collect();
        let before: Vec<&StatusTransition> = approvals
            .iter()
            .filter(|a| started.is_none_or(|s| a.at < s.at))
            .copied()
            .collect();
        let who = |h: &StatusTransition| match &h.author {
            Some(u) => format!("{} ({}, {})", u.display_name, u.identity(), u.account_type),
            None => "an anonymous user".into(),
        };
        let when_started = started
            .map(|s| {
                format!(
                    "work started ({} → {}) at {}",
                    s.from.as_deref().unwrap_or("?"),
                    s.to.as_deref().unwrap_or("?"),
                    s.at.to_rfc3339()
                )
            })
            .unwrap_or_else(|| "no transition into an implementation status".into());

        let mut reasons = Vec::new();
        let mut incomparable = false;
        // Whether `u` is `other`: `None` when their identities cannot be compared.
        let is = |u: &JiraUser, other: &Option<JiraUser>| match other {
            Some(o) => u.same_as(o),
            None => Some(false),
        };
        for a in &before {
            let Some(u) = &a.author else {
                reasons.push(format!(
                    "approved at {} by an anonymous user",
                    a.at.to_rfc3339()
                ));
                continue;
            };
            if !u.is_human() {
                reasons.push(format!(
                    "approved at {} by {}, which is not a person's account",
                    a.at.to_rfc3339(),
                    who(a)
                ));
            } else if is(u, &t.assignee).is_none() || is(u, &t.reporter).is_none() {
                incomparable = true;
                reasons.push(format!(
                    "approved at {} by {}, whose identity cannot be compared with the assignee's \
                     or reporter's (one is named by accountId, the other by username/key only)",
                    a.at.to_rfc3339(),
                    who(a)
                ));
            } else if is(u, &t.assignee) == Some(true) {
                reasons.push(format!(
                    "self-approved: approved at {} by {}, the assignee",
                    a.at.to_rfc3339(),
                    who(a)
                ));
            } else if is(u, &t.reporter) == Some(true) {
                reasons.push(format!(
                    "self-approved: approved at {} by {}, the reporter",
                    a.at.to_rfc3339(),
                    who(a)
                ));
            } else {
                return Ok(format!(
                    "approved ({}) at {} by {}, before {}",
                    wf.approved_status,
                    a.at.to_rfc3339(),
                    who(a),
                    when_started
                ));
            }
        }
        if !reasons.is_empty() {
            return Err((
                incomparable,
                format!(
                    "no independent approval before work started: {}",
                    reasons.join("; ")
                ),
            ));
        }
        if let Some(late) = approvals.first() {
            return Err((
                false,
                format!(
                    "approved late: first approval at {} by {}, after {}",
                    late.at.to_rfc3339(),
                    who(late),
                    when_started
                ),
            ));
        }
        Err((
            false,
            format!(
                "never approved: no transition into {:?} in the ticket's {} status change(s)",
                wf.approved_status,
                history.len()
            ),
        ))
    }
}

impl Check for ApprovedBeforeImplementation {
    fn id(&self) -> &str {
        "jira.approved_before_implementation"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC8.1", "CC3.4"]
    }
    fn description(&self) -> &str {
        "Each completed change ticket was approved by a person other than its reporter and \
         assignee before work on it started, as shown by its status history."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut out = Vec::new();
        for t in done_tickets(store, &self.instance, &self.workflow)? {
            let t = t?;
            let (status, summary) = self.verdict(&t);
            out.push(
                Finding::new(self.id(), self.criteria(), status, &t.key, summary)
                    .with_evidence(evidence(&self.instance, &t.key)),
            );
        }
        if out.is_empty() {
            out.push(no_done_tickets(self, &self.instance, &self.workflow));
        }
        Ok(out)
    }
}

/// `jira.linked_to_code`: a done ticket is tied to at least one pull request, by a remote
/// link, or (when the run has GitHub instances, see [`LinkedToCode::with_github`]) by a
/// merged pull request naming its key in its title or head branch, as
/// `change.pr_has_ticket` matches them.
///
/// Scope: tickets in a done status. A ticket whose remote links were not collected and that
/// no pull request names is an `error`, not a pass; a period without done tickets gets one
/// `not_applicable` finding.
#[derive(Debug, Clone)]
pub struct LinkedToCode {
    instance: String,
    workflow: WorkflowSettings,
    github: Vec<String>,
}

impl Default for LinkedToCode {
    /// Over the instance `jira`, with the default workflow.
    fn default() -> Self {
        Self::new(super::module::TYPE, WorkflowSettings::default())
    }
}

impl LinkedToCode {
    /// The check over the instance `instance`, for a workflow.
    pub fn new(instance: &str, workflow: WorkflowSettings) -> Self {
        Self {
            instance: instance.to_string(),
            workflow,
            github: Vec::new(),
        }
    }

    /// Also accepts pull requests of these GitHub instances that name the ticket's key.
    pub fn with_github(mut self, instances: Vec<String>) -> Self {
        self.github = instances;
        self
    }

    /// Ticket key (upper-case) → the merged PRs (`owner/repo#N`) naming it.
    #[cfg(feature = "github")]
    fn key_references(
        &self,
        store: &EvidenceStore,
        projects: &[String],
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, CheckError> {
        use crate::github::records::{PullRequest, PULL_REQUESTS};
        let mut refs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for i in &self.github {
            for pr in store.records_all::<PullRequest>(&PULL_REQUESTS.at(i))? {
                for (key, _) in crate::change::pr_references(&pr, projects) {
                    refs.entry(key)
                        .or_default()
                        .push(format!("{}#{}", pr.repo, pr.number));
                }
            }
        }
        Ok(refs)
    }

    #[cfg(not(feature = "github"))]
    fn key_references(
        &self,
        _: &EvidenceStore,
        _: &[String],
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, CheckError> {
        Ok(Default::default())
    }
}

impl Check for LinkedToCode {
    fn id(&self) -> &str {
        "jira.linked_to_code"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC8.1"]
    }
    fn description(&self) -> &str {
        "Each completed change ticket links to at least one pull request holding the change."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut out = Vec::new();
        let tickets: Vec<ChangeTicket> =
            done_tickets(store, &self.instance, &self.workflow)?.collect::<Result<_, _>>()?;
        let mut projects: Vec<String> = tickets.iter().filter_map(|t| project_of(&t.key)).collect();
        projects.sort();
        projects.dedup();
        let by_key = self.key_references(store, &projects)?;
        for t in tickets {
            if let Some(prs) = by_key.get(&t.key.to_ascii_uppercase()) {
                out.push(
                    Finding::new(
                        self.id(),
                        self.criteria(),
                        FindingStatus::Pass,
                        &t.key,
                        format!(
                            "named by merged pull request(s) {} in their title or head branch",
                            prs.join(", ")
                        ),
                    )
                    .with_evidence(evidence(&self.instance, &t.key)),
                );
                continue;
            }
            let (status, summary) = match &t.remote_links {
                None => (
                    FindingStatus::Error,
                    "remote links were not collected for this ticket (collector setting \
                     remote_links)"
                        .to_string(),
                ),
                Some(links) => {
                    let prs: Vec<&str> = links
                        .iter()
                        .filter_map(|l| l.pull_request.as_deref())
                        .collect();
                    if prs.is_empty() {
                        let others: Vec<String> = links
                            .iter()
                            .map(|l| {
                                format!(
                                    "{} ({})",
                                    l.url,
                                    l.application_name.as_deref().unwrap_or("web link")
                                )
                            })
                            .collect();
                        (
                            FindingStatus::Fail,
                            if others.is_empty() {
                                "no remote links: the change is not linked to a pull request"
                                    .to_string()
                            } else {
                                format!(
                                    "no pull request among its remote links: {}",
                                    others.join(", ")
                                )
                            },
                        )
                    } else {
                        (
                            FindingStatus::Pass,
                            format!("linked to pull request(s) {}", prs.join(", ")),
                        )
                    }
                }
            };
            out.push(
                Finding::new(self.id(), self.criteria(), status, &t.key, summary)
                    .with_evidence(evidence(&self.instance, &t.key)),
            );
        }
        if out.is_empty() {
            out.push(no_done_tickets(self, &self.instance, &self.workflow));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::records::JiraUser;
    use chrono::{DateTime, Utc};

    fn user(id: &str, kind: &str) -> JiraUser {
        JiraUser {
            account_id: Some(id.into()),
            name: None,
            key: None,
            display_name: id.into(),
            account_type: kind.into(),
        }
    }

    fn tr(at: &str, from: &str, to: &str, by: Option<JiraUser>) -> StatusTransition {
        StatusTransition {
            at: at.parse::<DateTime<Utc>>().unwrap(),
            from_id: None,
            from: Some(from.into()),
            to_id: None,
            to: Some(to.into()),
            author: by,
            history_id: at.into(),
        }
    }

    fn ticket(history: Vec<StatusTransition>) -> ChangeTicket {
        let n = history.len() as u64;
        ChangeTicket {
            key: "CHG-1".into(),
            id: "1".into(),
            url: String::new(),
            summary: String::new(),
            issue_type: None,
            status: Some("Done".into()),
            status_id: None,
            status_category: Some("done".into()),
            reporter: Some(user("rep", "atlassian")),
            assignee: Some(user("dev", "atlassian")),
            created: "2026-01-01T00:00:00Z".parse().unwrap(),
            updated: None,
            resolution: None,
            resolution_date: None,
            description: String::new(),
            approvers: vec![],
            status_history: history,
            changelog_total: n,
            changelog_completed: false,
            changelog_received: n,
            changelog_complete: true,
            remote_links: None,
        }
    }

    const T1: &str = "2026-02-01T10:00:00Z";
    const T2: &str = "2026-02-02T10:00:00Z";
    const T3: &str = "2026-02-03T10:00:00Z";

    #[test]
    fn approval_rules() {
        let c = ApprovedBeforeImplementation::default();
        let human = Some(user("sec", "atlassian"));
        let ok = ticket(vec![
            tr(T1, "Awaiting Approval", "Approved", human.clone()),
            tr(
                T2,
                "Approved",
                "In Progress",
                Some(user("dev", "atlassian")),
            ),
            tr(T3, "In Progress", "Done", Some(user("dev", "atlassian"))),
        ]);
        assert!(c.judge(&ok).is_ok(), "{:?}", c.judge(&ok));

        let late = ticket(vec![
            tr(T1, "Awaiting Approval", "In Progress", None),
            tr(T2, "In Progress", "Approved", human.clone()),
            tr(T3, "Approved", "Done", None),
        ]);
        assert!(c.judge(&late).unwrap_err().starts_with("approved late"));

        let never = ticket(vec![tr(T1, "Awaiting Approval", "Done", None)]);
        assert!(c.judge(&never).unwrap_err().starts_with("never approved"));

        for (by, expect) in [
            (user("dev", "atlassian"), "the assignee"),
            (user("rep", "atlassian"), "the reporter"),
            (user("557058:auto", "app"), "not a person's account"),
            (user("cust", "customer"), "not a person's account"),
        ] {
            let t = ticket(vec![
                tr(T1, "Awaiting Approval", "Approved", Some(by)),
                tr(T2, "Approved", "Done", None),
            ]);
            let err = c.judge(&t).unwrap_err();
            assert!(err.contains(expect), "{err}");
        }

        // A bad approval followed by a good one, both before work started, passes.
        let t = ticket(vec![
            tr(
                T1,
                "Awaiting Approval",
                "Approved",
                Some(user("dev", "atlassian")),
            ),
            tr(T2, "Approved", "Approved", human.clone()),
            tr(T3, "Approved", "Done", None),
        ]);
        assert!(c.judge(&t).is_ok());
        // Same instant as the start of work is not "before".
        let t = ticket(vec![
            tr(T1, "Awaiting Approval", "Approved", human),
            tr(T1, "Approved", "In Progress", None),
        ]);
        assert!(c.judge(&t).is_err());
    }

    #[test]
    fn custom_workflow_names_are_case_insensitive() {
        let wf = WorkflowSettings {
            approved_status: "CAB Approved".into(),
            implementation_statuses: vec!["Implementing".into()],
            done_statuses: vec!["Closed".into()],
        };
        assert!(wf.is_done(Some("closed")));
        assert!(!wf.is_done(Some("Done")));
        let c = ApprovedBeforeImplementation::new("jira", wf);
        let t = ticket(vec![
            tr(T1, "New", "cab approved", Some(user("sec", "atlassian"))),
            tr(T2, "CAB Approved", "Implementing", None),
        ]);
        assert!(c.judge(&t).is_ok());
    }

    fn dc(name: &str, key: &str) -> JiraUser {
        JiraUser {
            account_id: None,
            name: Some(name.into()),
            key: Some(key.into()),
            display_name: name.into(),
            account_type: "unknown".into(),
        }
    }

    #[test]
    fn data_center_users_are_people_compared_by_key() {
        let c = ApprovedBeforeImplementation::default();
        let mut t = ticket(vec![
            tr(
                T1,
                "Awaiting Approval",
                "Approved",
                Some(dc("asmith", "JIRAUSER10100")),
            ),
            tr(
                T2,
                "Approved",
                "In Progress",
                Some(dc("jdoe", "JIRAUSER10200")),
            ),
        ]);
        t.assignee = Some(dc("jdoe", "JIRAUSER10200"));
        t.reporter = Some(dc("jdoe", "JIRAUSER10200"));
        let (status, s) = c.verdict(&t);
        assert_eq!(status, FindingStatus::Pass, "{s}");
        assert!(s.contains("key:JIRAUSER10100"), "{s}");
        // The assignee approving their own change, under another display name, is caught.
        t.assignee = Some(dc("a.smith-renamed", "JIRAUSER10100"));
        let (status, s) = c.verdict(&t);
        assert_eq!(status, FindingStatus::Fail, "{s}");
        assert!(s.contains("the assignee"), "{s}");
        // Approver named by username only, assignee by account id only: not comparable.
        t.assignee = Some(user("712020:x", "atlassian"));
        t.status_history[0].author = Some(JiraUser {
            key: None,
            ..dc("asmith", "")
        });
        let (status, s) = c.verdict(&t);
        assert_eq!(status, FindingStatus::Error, "{s}");
        assert!(s.contains("cannot be compared"), "{s}");
    }

    #[test]
    fn an_incomplete_changelog_is_an_error_naming_the_counts() {
        let c = ApprovedBeforeImplementation::default();
        let mut t = ticket(vec![tr(T1, "In Progress", "Done", None)]);
        t.changelog_total = 140;
        t.changelog_received = 100;
        t.changelog_complete = false;
        let (status, s) = c.verdict(&t);
        assert_eq!(status, FindingStatus::Error);
        assert!(s.contains("100 of 140"), "{s}");
    }
}
