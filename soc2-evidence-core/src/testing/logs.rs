//! Captures the logs a run writes, at TRACE level, so the suite can look for secrets in them.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::instrument::WithSubscriber;

/// A log buffer and a subscriber that writes every event into it.
#[derive(Clone, Default)]
pub(super) struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Runs `fut` with every tracing event it emits (on its own task) captured.
    pub(super) async fn around<F: Future>(&self, fut: F) -> F::Output {
        let buf = self.buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Writer(buf.clone()))
            .finish();
        fut.with_subscriber(subscriber).await
    }

    /// Everything captured so far.
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}
