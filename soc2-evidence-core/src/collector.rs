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
}

impl CollectContext {
    /// A context for `period` with no progress reporting and a fresh cancellation token.
    pub fn new(period: AuditPeriod) -> Self {
        Self {
            period,
            cancel: CancellationToken::new(),
            progress: Arc::new(NoProgress),
            collector: String::new(),
        }
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
