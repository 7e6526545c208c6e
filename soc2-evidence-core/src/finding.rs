//! Findings: the result of testing one control against one subject.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The outcome of a check for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// The control operated as expected for this subject.
    Pass,
    /// The control did not operate as expected: an exception the auditor will ask about.
    Fail,
    /// The check could not be evaluated (missing or unreadable evidence).
    Error,
    /// The check does not apply to this subject.
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
