//! Progress bars on a terminal (hidden otherwise), fed by the runner and collectors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use soc2_evidence_core::Progress;

/// One spinner per collector showing its latest record counts or message.
pub struct TerminalProgress {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl TerminalProgress {
    /// A progress display on stderr; `hidden` (or stderr not being a terminal) shows nothing.
    pub fn new(hidden: bool) -> Arc<Self> {
        // indicatif hides itself when stderr is not a terminal.
        let target = if hidden {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Arc::new(Self {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
        })
    }

    fn with_bar(&self, collector: &str, f: impl FnOnce(&ProgressBar)) {
        if let Ok(bars) = self.bars.lock() {
            if let Some(bar) = bars.get(collector) {
                f(bar);
            }
        }
    }

    /// Removes the bars before the summary is printed.
    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}

impl Progress for TerminalProgress {
    fn collector_started(&self, collector: &str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        let style = ProgressStyle::with_template("{spinner} {prefix:>10} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(collector.to_string());
        bar.set_message("starting");
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(collector.to_string(), bar);
        }
    }

    fn records(&self, collector: &str, population: &str, total: u64) {
        self.with_bar(collector, |b| {
            b.set_message(format!("{population}: {total} records"))
        });
    }

    fn message(&self, collector: &str, message: &str) {
        self.with_bar(collector, |b| b.set_message(message.to_string()));
    }

    fn collector_finished(&self, collector: &str, ok: bool) {
        self.with_bar(collector, |b| {
            b.finish_with_message(if ok { "done" } else { "FAILED" })
        });
    }
}
