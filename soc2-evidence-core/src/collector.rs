//! The `Collector` trait: how evidence gets from a system into the run directory.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::http::HttpError;
use crate::period::AuditPeriod;
use crate::progress::{NoProgress, Progress};
use crate::sink::{EvidenceSink, SinkError};

/// What a collector needs besides its own configuration: the period, a way to notice
/// cancellation, and a place to report progress.
#[derive(Clone)]
pub struct CollectContext {
    period: AuditPeriod,
    cancel: CancellationToken,
    progress: Arc<dyn Progress>,
    collector: String,
    previous: Option<Arc<PreviousRun>>,
}

/// The last successful run of this collector in a ledger, for an incremental run: what it
/// collected and where it stopped, so a collector can fetch only what changed since.
///
/// ```
/// use soc2_evidence_core::PreviousRun;
/// let prev = PreviousRun::new("/tmp/ledger-cache/run-41".into(), "okta", "2026-02-03T02:00:00Z".parse().unwrap(), 41);
/// assert_eq!(prev.instance(), "okta");
/// assert!(prev.provenance("factors").is_none(), "nothing there to read");
/// ```
#[derive(Debug, Clone)]
pub struct PreviousRun {
    dir: std::path::PathBuf,
    instance: String,
    collected_at: chrono::DateTime<chrono::Utc>,
    seq: u64,
}

impl PreviousRun {
    /// The run directory `dir` (extracted from its verified bundle) of ledger run `seq`,
    /// where `instance` last succeeded, collecting at `collected_at`.
    pub fn new(
        dir: std::path::PathBuf,
        instance: &str,
        collected_at: chrono::DateTime<chrono::Utc>,
        seq: u64,
    ) -> Self {
        Self {
            dir,
            instance: instance.to_string(),
            collected_at,
            seq,
        }
    }

    /// The previous run's directory, readable with [`crate::EvidenceStore::open`].
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The instance name (its directory in the run).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// When the previous run collected.
    pub fn collected_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.collected_at
    }

    /// The previous run's sequence number in the ledger.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The provenance the previous run recorded for one of this instance's populations, or
    /// `None` when it has none (a population added since, or an unreadable file).
    pub fn provenance(&self, population: &str) -> Option<crate::Provenance> {
        let bytes = std::fs::read(self.dir.join(&self.instance).join("provenance.json")).ok()?;
        let all: Vec<crate::Provenance> = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                let list = v.get("populations").cloned().unwrap_or(v);
                serde_json::from_value(list).ok()
            })?;
        all.into_iter().find(|p| p.population == population)
    }
}

impl CollectContext {
    /// A context for `period` with no progress reporting and a fresh cancellation token.
    pub fn new(period: AuditPeriod) -> Self {
        Self {
            period,
            cancel: CancellationToken::new(),
            progress: Arc::new(NoProgress),
            collector: String::new(),
            previous: None,
        }
    }

    /// The same context reading `window` instead of the run's period, with the collector's
    /// previous ledger run (an incremental run).
    pub fn incremental(&self, window: AuditPeriod, previous: Option<PreviousRun>) -> Self {
        let mut c = self.clone();
        c.period = window;
        c.previous = previous.map(Arc::new);
        c
    }

    /// The collector's last successful run in a ledger, when this is an incremental run.
    /// A collector that can fetch only what changed reads what it needs from it; one that
    /// cannot ignores it and collects its window whole.
    pub fn previous(&self) -> Option<&PreviousRun> {
        self.previous.as_deref()
    }

    /// Uses `cancel` as the cancellation token.
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Reports progress to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// The same context, labelled for one collector (progress messages carry its name).
    pub fn for_collector(&self, name: &str) -> Self {
        let mut c = self.clone();
        c.collector = name.to_string();
        c
    }

    /// The audit period being collected.
    pub fn period(&self) -> &AuditPeriod {
        &self.period
    }

    /// The cancellation token; long loops should stop when it fires.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Whether the run was cancelled (Ctrl-C).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Returns `Err(CollectError::Cancelled)` once the run was cancelled.
    pub fn check_cancelled(&self) -> Result<(), CollectError> {
        if self.is_cancelled() {
            Err(CollectError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Reports what the collector is doing.
    pub fn message(&self, message: &str) {
        self.progress.message(&self.collector, message);
    }

    /// The progress receiver.
    pub fn progress(&self) -> &Arc<dyn Progress> {
        &self.progress
    }
}

/// Why a collector failed. The runner records it, with the collector's name, in `run.json`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// Talking to the source failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// Writing evidence failed.
    #[error("writing evidence: {0}")]
    Sink(#[from] SinkError),
    /// The collector's configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// An input (a file, a command's output) is malformed.
    #[error("{location}: {message}")]
    Input {
        /// Where: a path, optionally with `:line`, or a program name.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The source answered, but not as the collector can accept.
    #[error("{0}")]
    Source(String),
    /// Some independent parts of the source failed (say one backup source of three) while
    /// the others were collected whole. The collector is recorded as failed — `collect`
    /// exits non-zero and `run.json` carries this message — but its populations are kept as
    /// complete files, because the collector has recorded in them which parts failed and its
    /// checks report those parts as `error` findings. Provenance still says
    /// `"complete": false` when the collector finished it so.
    #[error("{0}")]
    PartlyFailed(String),
    /// The run was cancelled before the collector finished.
    #[error("cancelled before completion")]
    Cancelled,
    /// The collector ran out of time.
    #[error("timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    /// The collector panicked; the message is the panic payload.
    #[error("collector panicked: {0}")]
    Panicked(String),
}

/// A source of evidence.
///
/// The trait is deliberately small and object safe: a collector has a name (its directory in
/// the run output) and streams records into a sink, opening each population it declared.
/// Everything else — HTTP, pagination, provenance — comes from the sink and the helpers in
/// this crate. A [`crate::Module`] builds collectors from config.
///
/// ```
/// use async_trait::async_trait;
/// use serde::{Deserialize, Serialize};
/// use soc2_evidence_core::*;
///
/// #[derive(Serialize, Deserialize)]
/// struct Greeting { id: String }
/// impl Evidence for Greeting {
///     const KIND: &'static str = "hello.greeting";
///     const SCHEMA_VERSION: u32 = 1;
///     const CRITERIA: &'static [&'static str] = &["CC2.1"];
///     fn subject_id(&self) -> String { self.id.clone() }
/// }
/// const GREETINGS: Population<Greeting> = Population::state("greetings", "built-in");
///
/// struct Hello;
///
/// #[async_trait]
/// impl Collector for Hello {
///     fn name(&self) -> &str { "hello" }
///     async fn collect(&self, ctx: &CollectContext, sink: &mut dyn EvidenceSink)
///         -> Result<(), CollectError>
///     {
///         let mut greetings = sink.open(&GREETINGS)?;
///         greetings.emit(&Greeting { id: "g1".into() })?;
///         greetings.finish()?;
///         Ok(())
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut sink = MemorySink::new("hello");
/// let ctx = CollectContext::new("2026-01-01..2026-06-30".parse().unwrap());
/// Hello.collect(&ctx, &mut sink).await.unwrap();
/// assert_eq!(sink.population("greetings").len(), 1);
/// # });
/// ```
#[async_trait]
pub trait Collector: Send + Sync {
    /// Directory name in the run output and name in `run.json`: lower-case, `[a-z0-9_-]`.
    fn name(&self) -> &str;

    /// The collector's type (`okta`, `command`, …) recorded in `run.json`, so `check DIR`
    /// knows which checks apply. Defaults to the name.
    fn collector_type(&self) -> &str {
        self.name()
    }

    /// Collects the period's evidence into `sink`. Returning an error marks the collector
    /// failed; records already written are kept as `.partial` files, and the sink records
    /// every unfinished population as incomplete with the error as the reason.
    async fn collect(
        &self,
        ctx: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError>;
}

// The runner holds collectors as trait objects; this fails to compile if the trait stops
// being object safe.
const _: Option<&dyn Collector> = None;
const _: Option<&dyn EvidenceSink> = None;
const _: Option<&dyn crate::check::Check> = None;
