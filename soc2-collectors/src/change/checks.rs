//! `change.pr_has_ticket`: every merged pull request is tied to a change ticket.

use std::collections::{BTreeMap, BTreeSet};

use soc2_evidence_core::{Check, CheckError, EvidenceRef, EvidenceStore, Finding, FindingStatus};

use super::keys::pr_references;
use crate::github::records::{PullRequest, PULL_REQUESTS};
use crate::jira::project_of;
use crate::jira::{ChangeTicket, CHANGE_TICKETS};

/// `change.pr_has_ticket` (CC8.1): each merged pull request in the period is linked to a
/// Jira change ticket, by a remote link on the ticket or by the ticket's key in the PR's
/// title or head branch.
#[derive(Debug, Clone)]
pub struct PrHasTicket {
    github: Vec<String>,
    jira: Vec<String>,
}

impl PrHasTicket {
    /// The check over the GitHub instances `github` and the Jira instances `jira`.
    pub fn new(github: Vec<String>, jira: Vec<String>) -> Self {
        Self { github, jira }
    }
}

/// What the Jira side says about pull requests.
#[derive(Default)]
struct Tickets {
    /// Upper-cased key → the file it came from.
    keys: BTreeMap<String, String>,
    /// `owner/repo#N` (lower-cased) or PR URL → keys of tickets that link it.
    links: BTreeMap<String, BTreeSet<String>>,
    /// Project keys of the collected tickets.
    projects: Vec<String>,
}

impl Tickets {
    fn load(store: &EvidenceStore, instances: &[String]) -> Result<Self, CheckError> {
        let mut t = Tickets::default();
        let mut projects = BTreeSet::new();
        for i in instances {
            let at = CHANGE_TICKETS.at(i);
            for ticket in store.records_all::<ChangeTicket>(&at)? {
                let key = ticket.key.to_ascii_uppercase();
                projects.extend(project_of(&key));
                for link in ticket.remote_links.iter().flatten() {
                    if let Some(pr) = &link.pull_request {
                        t.links
                            .entry(pr.to_ascii_lowercase())
                            .or_default()
                            .insert(key.clone());
                    }
                    t.links
                        .entry(normalise_url(&link.url))
                        .or_default()
                        .insert(key.clone());
                }
                t.keys.insert(key, at.file());
            }
        }
        t.projects = projects.into_iter().collect();
        Ok(t)
    }

    fn linking(&self, pr: &PullRequest) -> Vec<String> {
        let by_ref = self
            .links
            .get(&format!("{}#{}", pr.repo, pr.number).to_ascii_lowercase());
        let by_url = self.links.get(&normalise_url(&pr.url));
        let mut keys: BTreeSet<String> = BTreeSet::new();
        keys.extend(by_ref.into_iter().flatten().cloned());
        keys.extend(by_url.into_iter().flatten().cloned());
        keys.into_iter().collect()
    }
}

fn normalise_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Check for PrHasTicket {
    fn id(&self) -> &str {
        "change.pr_has_ticket"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC8.1"]
    }
    fn description(&self) -> &str {
        "Each merged pull request is linked to a Jira change ticket (a remote link, or the \
         ticket key in its title or head branch)."
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        if self.github.is_empty() || self.jira.is_empty() {
            let missing = if self.github.is_empty() {
                "no github instance"
            } else {
                "no jira instance"
            };
            return Ok(vec![Finding::nothing_in_scope(
                self.id(),
                self.criteria(),
                "*",
                &format!("{missing} is configured; the check needs both systems"),
            )]);
        }
        let tickets = Tickets::load(store, &self.jira)?;
        let mut out = Vec::new();
        for instance in &self.github {
            let at = PULL_REQUESTS.at(instance);
            let prefix = if instance == "github" {
                String::new()
            } else {
                format!("{instance}:")
            };
            for pr in store.records_all::<PullRequest>(&at)? {
                let subject = format!("{prefix}{}#{}", pr.repo, pr.number);
                let evidence = EvidenceRef::record(at.file(), format!("{}#{}", pr.repo, pr.number));
                let (status, summary, ticket_file) = judge(&pr, &tickets);
                let mut f = Finding::new(self.id(), self.criteria(), status, subject, summary)
                    .with_evidence(evidence);
                if let Some(file) = ticket_file {
                    f = f.with_evidence(EvidenceRef::file(file));
                }
                out.push(f);
            }
        }
        if out.is_empty() {
            out.push(Finding::nothing_in_scope(
                self.id(),
                self.criteria(),
                "*",
                "no merged pull requests in the period",
            ));
        }
        Ok(out)
    }
}

fn judge(pr: &PullRequest, tickets: &Tickets) -> (FindingStatus, String, Option<String>) {
    let linked = tickets.linking(pr);
    if let Some(first) = linked.first() {
        return (
            FindingStatus::Pass,
            format!(
                "linked from change ticket(s) {} by a remote link",
                linked.join(", ")
            ),
            tickets.keys.get(first).cloned(),
        );
    }
    let named = pr_references(pr, &tickets.projects);
    let known: Vec<&(String, &str)> = named
        .iter()
        .filter(|(k, _)| tickets.keys.contains_key(k))
        .collect();
    if let Some((key, place)) = known.first() {
        return (
            FindingStatus::Pass,
            format!("names change ticket {key} in its {place}"),
            tickets.keys.get(key).cloned(),
        );
    }
    if !named.is_empty() {
        let names: Vec<String> = named.iter().map(|(k, p)| format!("{k} ({p})")).collect();
        return (
            FindingStatus::Error,
            format!(
                "names {} but no such ticket was collected (outside the JQL or the period?), \
                 so the evidence cannot show a change ticket",
                names.join(", ")
            ),
            None,
        );
    }
    let projects = if tickets.projects.is_empty() {
        "no change tickets were collected".to_string()
    } else {
        format!("projects {}", tickets.projects.join(", "))
    };
    (
        FindingStatus::Fail,
        format!(
            "no change ticket links this pull request, and neither its title {:?} nor its head \
             branch names a ticket key ({projects})",
            pr.title
        ),
        None,
    )
}
