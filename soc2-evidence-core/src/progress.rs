//! Progress reporting hooks, so a terminal UI can show long collections moving.

/// Receives progress from the runner and collectors. Every method has an empty default, so an
/// implementation overrides only what it shows.
pub trait Progress: Send + Sync {
    /// A collector started.
    fn collector_started(&self, _collector: &str) {}
    /// `total` records have been written to `population` so far.
    fn records(&self, _collector: &str, _population: &str, _total: u64) {}
    /// A collector says what it is doing (e.g. "fetching factors for 10,000 users").
    fn message(&self, _collector: &str, _message: &str) {}
    /// A collector finished, successfully or not.
    fn collector_finished(&self, _collector: &str, _ok: bool) {}
}

/// Progress that goes nowhere: for tests, libraries and `--quiet`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
