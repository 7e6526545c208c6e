//! Provenance: how a population was produced, so an auditor can judge completeness and accuracy.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How one population (one `<collector>/<population>.jsonl` file) was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Population name, the file stem (`users` for `okta/users.jsonl`).
    pub population: String,
    /// Record kind stored in the population (`okta.user`).
    pub kind: String,
    /// Source system, e.g. "Okta Management API".
    pub source: String,
    /// Base URL of the source, when it is a network service.
    pub base_url: Option<String>,
    /// Name of the collector that produced it.
    pub collector: String,
    /// Version of the collector (the tool version for built-in collectors).
    pub collector_version: String,
    /// Criteria the population supports.
    pub criteria: Vec<String>,
    /// Each endpoint (or command, or file) read, with its parameters and counts.
    pub endpoints: Vec<EndpointProvenance>,
    /// Pages (responses, files) read in total.
    pub pages: u64,
    /// Records received from the source in total.
    pub records_received: u64,
    /// Records written to the population file (filled in by the sink).
    pub records_written: u64,
    /// The count the source itself reported, where it reports one (e.g. GraphQL `totalCount`).
    pub source_reported_count: Option<u64>,
    /// When retrieval began.
    pub retrieval_started: DateTime<Utc>,
    /// When retrieval ended.
    pub retrieval_finished: DateTime<Utc>,
    /// SHA-256 over every raw response body, in the order received (hex).
    pub response_sha256: String,
    /// Whether the population is complete. False when the collector failed part way.
    pub complete: bool,
    /// Set when `SOC2_EVIDENCE_NOW` overrode the clock: the instant it set. Retrieval times
    /// are then relative to that instant, not the real time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_override: Option<DateTime<Utc>>,
    /// Whether the population is a state snapshot or events (absent in runs before 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<crate::population::PopulationMode>,
    /// The time window the population covers, when the source keeps less than the audit
    /// period (Okta's System Log keeps 90 days). Such a population is `complete: false`, and
    /// checks judge what lies outside the window as `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers: Option<Coverage>,
    /// When only part of an incomplete population is missing: the scopes (subject-id
    /// prefixes, e.g. one backup source) it lacks. Empty means the gap is unbounded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete_scopes: Vec<String>,
    /// Free-form notes for the auditor (e.g. "deprovisioned users fetched with a filter").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Where this population's collection stands, for the next incremental run of a ledger
    /// (e.g. when Okta factors were last read in full). Collectors set it with
    /// [`ProvenanceRecorder::cursor`] and read it back from [`crate::PreviousRun`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<serde_json::Value>,
    /// For a population assembled over a period from a ledger: every run that contributed,
    /// with the SHA-256 of its sealed bundle and the window it covered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunContribution>,
}

/// One ledger run's part in an assembled population (see [`Provenance::runs`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunContribution {
    /// The run's sequence number in the ledger (1, 2, ...).
    pub seq: u64,
    /// SHA-256 (hex) of the run's bundle zip.
    pub bundle_sha256: String,
    /// When the run collected.
    pub collected_at: DateTime<Utc>,
    /// The event window the run read, for an event population; `None` for a state snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Coverage>,
    /// Records the run held for the population.
    pub records: u64,
}

/// The window a population covers when its source keeps less than the audit period.
///
/// ```
/// use soc2_evidence_core::Coverage;
/// let c = Coverage::new(
///     "2026-04-02T00:00:00Z".parse().unwrap(),
///     "2026-07-01T00:00:00Z".parse().unwrap(),
///     "Okta keeps 90 days of System Log",
/// );
/// assert!(c.contains("2026-05-01T00:00:00Z".parse().unwrap()));
/// assert!(c.why_not("2026-03-01T00:00:00Z".parse().unwrap()).unwrap().contains("before 2026-04-02"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The earliest instant the population covers.
    pub from: DateTime<Utc>,
    /// The latest instant it covers (usually the collection time).
    pub until: DateTime<Utc>,
    /// Why it covers no more, e.g. "Okta keeps 90 days of System Log".
    pub reason: String,
}

impl Coverage {
    /// A window with its reason.
    pub fn new(from: DateTime<Utc>, until: DateTime<Utc>, reason: impl Into<String>) -> Self {
        Self {
            from,
            until,
            reason: reason.into(),
        }
    }

    /// Whether `t` lies inside the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t <= self.until
    }

    /// Why `t` cannot be judged from this population, or `None` when it lies inside the window.
    pub fn why_not(&self, t: DateTime<Utc>) -> Option<String> {
        if t < self.from {
            Some(format!(
                "cannot establish before {}: {}; collect continuously to cover the whole period",
                self.from.format("%Y-%m-%d %H:%M UTC"),
                self.reason
            ))
        } else if t > self.until {
            Some(format!(
                "cannot establish after {}: the evidence was collected then",
                self.until.format("%Y-%m-%d %H:%M UTC")
            ))
        } else {
            None
        }
    }
}

/// One endpoint (URL path, command or file) that contributed to a population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointProvenance {
    /// HTTP method, or `exec` / `read` for commands and files.
    pub method: String,
    /// Path or URL without secrets, e.g. `/api/v1/users`.
    pub endpoint: String,
    /// Query parameters of the first request (secret-looking values redacted).
    pub parameters: BTreeMap<String, String>,
    /// Pages (responses) read from this endpoint.
    pub pages: u64,
    /// Records received from this endpoint.
    pub records_received: u64,
    /// The total the endpoint reported, if any.
    pub reported_total: Option<u64>,
}

/// Accumulates provenance while a population is collected: a request counter per endpoint and a
/// running SHA-256 over raw bodies.
///
/// ```
/// use soc2_evidence_core::ProvenanceRecorder;
/// let mut rec = ProvenanceRecorder::new("users", "okta.user", "Okta Management API", "okta", "0.1.0");
/// rec.page("GET", "/api/v1/users", &[("limit", "200")], br#"[{"id":"00u1"}]"#);
/// rec.received("/api/v1/users", 1);
/// let p = rec.finish(true);
/// assert_eq!((p.pages, p.records_received), (1, 1));
/// ```
#[derive(Debug, Clone)]
pub struct ProvenanceRecorder {
    prov: Provenance,
    hasher: Sha256,
}

impl ProvenanceRecorder {
    /// Starts recording a population; the retrieval start time is now.
    pub fn new(
        population: &str,
        kind: &str,
        source: &str,
        collector: &str,
        collector_version: &str,
    ) -> Self {
        let now = crate::clock::now();
        Self {
            prov: Provenance {
                population: population.to_string(),
                kind: kind.to_string(),
                source: source.to_string(),
                base_url: None,
                collector: collector.to_string(),
                collector_version: collector_version.to_string(),
                criteria: Vec::new(),
                endpoints: Vec::new(),
                pages: 0,
                records_received: 0,
                records_written: 0,
                source_reported_count: None,
                retrieval_started: now,
                retrieval_finished: now,
                response_sha256: String::new(),
                complete: false,
                clock_override: crate::clock::overridden(),
                mode: None,
                covers: None,
                incomplete_scopes: Vec::new(),
                notes: Vec::new(),
                cursor: None,
                runs: Vec::new(),
            },
            hasher: Sha256::new(),
        }
    }

    /// Starts recording a declared population: kind, criteria, source and mode come from
    /// the spec, so they cannot drift from what the module declares. The sink does this when
    /// a population is opened.
    pub fn from_spec(
        spec: &crate::population::PopulationSpec,
        collector: &str,
        collector_version: &str,
    ) -> Self {
        let mut rec = Self::new(
            &spec.name,
            &spec.kind,
            &spec.source,
            collector,
            collector_version,
        );
        rec.prov.criteria = spec.criteria.clone();
        rec.prov.mode = Some(spec.mode);
        rec
    }

    /// Sets the base URL of the source.
    pub fn base_url(&mut self, url: impl Into<String>) -> &mut Self {
        self.prov.base_url = Some(url.into());
        self
    }

    /// Sets the criteria the population supports.
    pub fn criteria(&mut self, criteria: &[&str]) -> &mut Self {
        self.prov.criteria = criteria.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Says the source holds only `from..until` of what the population should cover (a
    /// retention limit): the population will be `complete: false` with this window, whatever
    /// `finish` is told, and a note gives the reason.
    pub fn covers(
        &mut self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: impl Into<String>,
    ) -> &mut Self {
        let coverage = Coverage::new(from, until, reason);
        self.prov.notes.push(format!(
            "covers only {} .. {}: {}",
            coverage.from.to_rfc3339(),
            coverage.until.to_rfc3339(),
            coverage.reason
        ));
        self.prov.covers = Some(coverage);
        self
    }

    /// Names the scopes (subject-id prefixes) an incomplete population lacks; see
    /// [`Provenance::incomplete_scopes`].
    pub fn incomplete_scopes(&mut self, scopes: &[String]) -> &mut Self {
        self.prov.incomplete_scopes.extend(scopes.iter().cloned());
        self
    }

    /// Saves where collection stands for the next incremental run (see [`Provenance::cursor`]).
    pub fn cursor(&mut self, cursor: serde_json::Value) -> &mut Self {
        self.prov.cursor = Some(cursor);
        self
    }

    /// Adds a note for the auditor.
    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.prov.notes.push(note.into());
        self
    }

    fn endpoint_mut(&mut self, method: &str, endpoint: &str) -> &mut EndpointProvenance {
        let pos = self
            .prov
            .endpoints
            .iter()
            .position(|e| e.endpoint == endpoint && e.method == method);
        let idx = match pos {
            Some(i) => i,
            None => {
                self.prov.endpoints.push(EndpointProvenance {
                    method: method.to_string(),
                    endpoint: endpoint.to_string(),
                    parameters: BTreeMap::new(),
                    pages: 0,
                    records_received: 0,
                    reported_total: None,
                });
                self.prov.endpoints.len() - 1
            }
        };
        &mut self.prov.endpoints[idx]
    }

    /// Records one page (response) read from `endpoint`, hashing its raw body. The parameters of
    /// the first page of each endpoint are kept; later pages usually differ only by cursor.
    pub fn page(&mut self, method: &str, endpoint: &str, params: &[(&str, &str)], body: &[u8]) {
        self.hasher.update(body);
        self.prov.pages += 1;
        let e = self.endpoint_mut(method, endpoint);
        if e.pages == 0 {
            e.parameters = params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        }
        e.pages += 1;
    }

    /// Adds bytes to the response digest without counting a page: for sources read as a
    /// stream (a program's stdout) rather than as pages.
    pub fn hash(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// Records that `n` records were received from `endpoint`.
    pub fn received(&mut self, endpoint: &str, n: u64) {
        self.prov.records_received += n;
        if let Some(e) = self
            .prov
            .endpoints
            .iter_mut()
            .find(|e| e.endpoint == endpoint)
        {
            e.records_received += n;
        }
    }

    /// Records the total an endpoint reported (e.g. `totalCount`), and adds it to the
    /// population's reported count.
    pub fn reported(&mut self, endpoint: &str, total: u64) {
        if let Some(e) = self
            .prov
            .endpoints
            .iter_mut()
            .find(|e| e.endpoint == endpoint)
        {
            e.reported_total = Some(e.reported_total.unwrap_or(0) + total);
        }
        self.prov.source_reported_count =
            Some(self.prov.source_reported_count.unwrap_or(0) + total);
    }

    /// Pages recorded so far.
    pub fn pages(&self) -> u64 {
        self.prov.pages
    }

    /// Ends recording: stamps the retrieval end time and the body digest.
    pub fn finish(mut self, complete: bool) -> Provenance {
        self.prov.retrieval_finished = crate::clock::now();
        self.prov.response_sha256 = hex::encode(self.hasher.finalize());
        self.prov.complete = complete && self.prov.covers.is_none();
        self.prov
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_covers_bodies_in_order() {
        let mut a = ProvenanceRecorder::new("p", "k", "s", "c", "1");
        a.page("GET", "/x", &[], b"one");
        a.page("GET", "/x", &[("after", "2")], b"two");
        let mut b = ProvenanceRecorder::new("p", "k", "s", "c", "1");
        b.page("GET", "/x", &[], b"two");
        b.page("GET", "/x", &[], b"one");
        let (a, b) = (a.finish(true), b.finish(true));
        assert_ne!(a.response_sha256, b.response_sha256);
        assert_eq!(
            a.response_sha256,
            hex::encode(Sha256::digest(b"onetwo")),
            "digest is over the concatenated bodies"
        );
        assert_eq!(a.endpoints[0].pages, 2);
        assert!(
            a.endpoints[0].parameters.is_empty(),
            "first page's params kept"
        );
    }

    #[test]
    fn counts_per_endpoint() {
        let mut r = ProvenanceRecorder::new("users", "okta.user", "Okta", "okta", "1");
        r.page("GET", "/api/v1/users", &[("limit", "200")], b"[]");
        r.page("GET", "/api/v1/users", &[], b"[]");
        r.page("GET", "/api/v1/logs", &[], b"[]");
        r.received("/api/v1/users", 3);
        r.received("/api/v1/logs", 2);
        r.reported("/api/v1/users", 3);
        let p = r.finish(false);
        assert_eq!(p.pages, 3);
        assert_eq!(p.records_received, 5);
        assert_eq!(p.endpoints.len(), 2);
        assert_eq!(p.endpoints[0].records_received, 3);
        assert_eq!(p.endpoints[0].parameters["limit"], "200");
        assert_eq!(p.source_reported_count, Some(3));
        assert!(!p.complete);
    }
}
