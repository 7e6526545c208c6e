//! The tool's notion of "now", which tests and replays may override (DESIGN §11, a contract).
//!
//! `SOC2_EVIDENCE_NOW=<RFC 3339>` makes every run treat that instant as the moment collection
//! started: run times, provenance times, and everything judged against them (retention
//! windows, dormancy, key ages). The clock then advances in real time from that instant, so
//! the order of events in a run stays true. `run.json` and provenance record the override, so
//! an auditor can never mistake a replay for a live collection. Rate-limit waits always use
//! the real clock, since they are the server's.
//!
//! ```
//! use soc2_evidence_core::clock;
//! let t = clock::parse_override("2026-07-01T00:00:00Z").unwrap();
//! assert_eq!(t.to_rfc3339(), "2026-07-01T00:00:00+00:00");
//! assert!(clock::parse_override("yesterday").is_err());
//! ```

use std::sync::OnceLock;
use std::time::Instant;

use chrono::{DateTime, Utc};

/// The environment variable that overrides "now".
pub const NOW_ENV: &str = "SOC2_EVIDENCE_NOW";

/// `SOC2_EVIDENCE_NOW` is set but is not an RFC 3339 instant.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{NOW_ENV}={value:?} is not an RFC 3339 instant (e.g. 2026-07-01T00:00:00Z): {message}")]
pub struct ClockError {
    /// The value found.
    pub value: String,
    /// The parser's message.
    pub message: String,
}

/// Parses an override value.
pub fn parse_override(value: &str) -> Result<DateTime<Utc>, ClockError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ClockError {
            value: value.to_string(),
            message: e.to_string(),
        })
}

/// Reads `SOC2_EVIDENCE_NOW`: `Ok(None)` when unset or empty, an error when malformed. The
/// CLI calls this first, so a typo is a usage error, never a silently real clock.
pub fn override_from_env() -> Result<Option<DateTime<Utc>>, ClockError> {
    match std::env::var(NOW_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_override(&v).map(Some),
        _ => Ok(None),
    }
}

static BASE: OnceLock<Option<(DateTime<Utc>, Instant)>> = OnceLock::new();

fn base() -> Option<(DateTime<Utc>, Instant)> {
    *BASE.get_or_init(|| {
        override_from_env()
            .ok()
            .flatten()
            .map(|t| (t, Instant::now()))
    })
}

/// The clock was read, or overridden to another instant, before [`set_override`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("the clock is already {current}; it cannot be set to {wanted} in this process")]
pub struct ClockAlreadySet {
    /// What the clock was fixed to (`real` when not overridden).
    pub current: String,
    /// The instant asked for.
    pub wanted: DateTime<Utc>,
}

/// Overrides "now" for this process, as `SOC2_EVIDENCE_NOW` does: for replays (the demo
/// replays its sample period as of the day after it ends) and for tests, which share one
/// clock per process. It works only before the clock is first read, or when `SOC2_EVIDENCE_NOW`
/// already names the same instant; the environment variable, when set, wins.
pub fn set_override(t: DateTime<Utc>) -> Result<(), ClockAlreadySet> {
    let _ = BASE.set(
        override_from_env()
            .ok()
            .flatten()
            .or(Some(t))
            .map(|t| (t, Instant::now())),
    );
    match base() {
        Some((current, _)) if current == t => Ok(()),
        other => Err(ClockAlreadySet {
            current: other.map_or("real".to_string(), |(c, _)| c.to_rfc3339()),
            wanted: t,
        }),
    }
}

/// The instant the override set, if one is in force (read once per process).
pub fn overridden() -> Option<DateTime<Utc>> {
    current().map(|(t, _)| t)
}

// Where `advance_to` moved an overridden clock (replays of several runs in one process).
static MOVED: std::sync::Mutex<Option<(DateTime<Utc>, Instant)>> = std::sync::Mutex::new(None);

fn current() -> Option<(DateTime<Utc>, Instant)> {
    let base = base()?;
    let moved = *MOVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(moved.unwrap_or(base))
}

/// Why [`advance_to`] refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ClockNotMovable(String);

/// Moves an overridden clock to `t`: a replay of several runs in one process (the demo's
/// ledger, benchmarks, tests) collects each at its own simulated time. Refused when the
/// clock is real (it never moves real time) or was set by `SOC2_EVIDENCE_NOW` (the user
/// chose that instant).
///
/// ```
/// use soc2_evidence_core::clock;
/// // A real clock never moves.
/// if clock::overridden().is_none() {
///     assert!(clock::advance_to("2030-01-01T00:00:00Z".parse().unwrap()).is_err());
/// }
/// ```
pub fn advance_to(t: DateTime<Utc>) -> Result<(), ClockNotMovable> {
    if base().is_none() {
        return Err(ClockNotMovable(
            "the clock is real; only an overridden clock moves".into(),
        ));
    }
    if override_from_env().ok().flatten().is_some() {
        return Err(ClockNotMovable(format!(
            "{NOW_ENV} fixes the clock; it is not moved"
        )));
    }
    *MOVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((t, Instant::now()));
    Ok(())
}

/// Now: the real clock, or the override advanced by the time since it was first read.
pub fn now() -> DateTime<Utc> {
    match current() {
        Some((t, since)) => {
            t + chrono::Duration::from_std(since.elapsed())
                .unwrap_or_else(|_| chrono::Duration::zero())
        }
        None => Utc::now(),
    }
}
