//! Findings: the result of testing one control against one subject.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The outcome of a check for one subject.
///
/// # The verdict rule
/// `Pass` only when the evidence read establishes the control for everything in scope.
/// Otherwise `Fail` (the evidence shows a gap), `Error` (the evidence cannot establish it:
/// an incomplete population, a source's retention window, an unparseable part) or
/// `NotApplicable` (nothing in scope), always with the reason in the summary. A scope
/// evaluated with no subjects gives one `NotApplicable` finding for the scope, never
/// silence and never "0 of 0" as a pass. The runner holds every check to this (see
/// [`run_check`](crate::run_check)); [`Finding::nothing_in_scope`] and
/// [`Finding::cannot_establish`] build the two non-verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// The evidence establishes that the control operated for this subject.
    Pass,
    /// The control did not operate as expected: an exception the auditor will ask about.
    Fail,
    /// The evidence cannot establish the control: missing, incomplete, outside the source's
    /// retention, or unreadable. The summary says which.
    Error,
    /// Nothing in scope: the summary says what scope held no subjects, or why the control
    /// does not apply to this subject.
    NotApplicable,
}

impl fmt::Display for FindingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FindingStatus::Pass => "pass",
            FindingStatus::Fail => "fail",
            FindingStatus::Error => "error",
            FindingStatus::NotApplicable => "not_applicable",
        })
    }
}

/// A pointer from a finding to the evidence it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// Population file relative to the run directory, e.g. `okta/users.jsonl`.
    pub file: String,
    /// Subject id of the record within that file, when the finding rests on one record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
}

impl EvidenceRef {
    /// A reference to the record about `subject_id` in `file`.
    pub fn record(file: impl Into<String>, subject_id: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            subject_id: Some(subject_id.into()),
        }
    }

    /// A reference to a whole population file.
    pub fn file(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            subject_id: None,
        }
    }
}

/// One line of `findings.jsonl`.
///
/// ```
/// use soc2_evidence_core::{Finding, FindingStatus};
/// let f = Finding::new("okta.mfa_enrolled", &["CC6.1"], FindingStatus::Fail, "00u1", "no active factor");
/// assert_eq!(serde_json::to_value(&f).unwrap()["status"], "fail");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The check that produced it, e.g. `okta.mfa_enrolled`.
    pub check_id: String,
    /// The criteria the check tests.
    pub criteria: Vec<String>,
    /// Outcome.
    pub status: FindingStatus,
    /// What was tested: a user id, `owner/repo#12`, `CHG-143`, `db-01/2026-03-04`.
    pub subject_id: String,
    /// One sentence saying what was found and why, for a human.
    pub summary: String,
    /// The evidence the finding rests on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceRef>,
}

impl Finding {
    /// Builds a finding without evidence references.
    pub fn new(
        check_id: &str,
        criteria: &[&str],
        status: FindingStatus,
        subject_id: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            check_id: check_id.to_string(),
            criteria: criteria.iter().map(|c| c.to_string()).collect(),
            status,
            subject_id: subject_id.into(),
            summary: summary.into(),
            evidence: Vec::new(),
        }
    }

    /// One `not_applicable` finding for a scope that held nothing to judge (an org with no
    /// active users, a backup source with no jobs in the period): `reason` says what was
    /// looked for.
    ///
    /// ```
    /// use soc2_evidence_core::{Finding, FindingStatus};
    /// let f = Finding::nothing_in_scope("okta.mfa_enrolled", &["CC6.1"], "org", "no ACTIVE users");
    /// assert_eq!(f.status, FindingStatus::NotApplicable);
    /// assert_eq!(f.summary, "nothing in scope: no ACTIVE users");
    /// ```
    pub fn nothing_in_scope(
        check_id: &str,
        criteria: &[&str],
        scope: impl Into<String>,
        reason: &str,
    ) -> Self {
        Self::new(
            check_id,
            criteria,
            FindingStatus::NotApplicable,
            scope,
            format!("nothing in scope: {reason}"),
        )
    }

    /// One `error` finding for a subject the evidence cannot judge (outside a retention
    /// window, an incomplete history): `reason` says why.
    ///
    /// ```
    /// use soc2_evidence_core::{Finding, FindingStatus};
    /// let f = Finding::cannot_establish("jira.change_approved", &["CC8.1"], "CHG-7",
    ///     "changelog incomplete: 100 of 140 entries received");
    /// assert_eq!(f.status, FindingStatus::Error);
    /// ```
    pub fn cannot_establish(
        check_id: &str,
        criteria: &[&str],
        subject: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(check_id, criteria, FindingStatus::Error, subject, reason)
    }

    /// Adds an evidence reference.
    pub fn with_evidence(mut self, evidence: EvidenceRef) -> Self {
        self.evidence.push(evidence);
        self
    }
}

/// Counts of findings by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingCounts {
    /// Passing findings.
    pub pass: u64,
    /// Failing findings.
    pub fail: u64,
    /// Findings that could not be evaluated.
    pub error: u64,
    /// Findings that did not apply.
    pub not_applicable: u64,
}

impl FindingCounts {
    /// Counts one finding.
    pub fn add(&mut self, status: FindingStatus) {
        match status {
            FindingStatus::Pass => self.pass += 1,
            FindingStatus::Fail => self.fail += 1,
            FindingStatus::Error => self.error += 1,
            FindingStatus::NotApplicable => self.not_applicable += 1,
        }
    }

    /// Total findings.
    pub fn total(&self) -> u64 {
        self.pass + self.fail + self.error + self.not_applicable
    }
}
