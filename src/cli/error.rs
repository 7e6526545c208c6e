//! The CLI's error type: every way a command can fail before producing its result.

use soc2_evidence_core::config::ConfigError;
use soc2_evidence_core::{PeriodError, RunError, StoreError};

use super::{EXIT_FAILED, EXIT_USAGE};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The config file is unreadable or invalid, or a secret is missing.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--period` did not parse.
    #[error("--period: {0}")]
    Period(#[from] PeriodError),
    /// The run could not be carried out.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The run directory could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A ledger could not be read, verified or appended to.
    #[error(transparent)]
    Ledger(#[from] soc2_ledger::LedgerError),
    /// A bad argument (a date, a combination of options).
    #[error("{0}")]
    Usage(String),
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The exit status this error maps to.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Run(RunError::Interrupted(_)) => EXIT_FAILED,
            CliError::Run(_) | CliError::Other(_) => EXIT_FAILED,
            CliError::Config(_) | CliError::Period(_) | CliError::Store(_) => EXIT_USAGE,
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Ledger(e) => match e {
                soc2_ledger::LedgerError::Location { .. }
                | soc2_ledger::LedgerError::Key { .. } => EXIT_USAGE,
                _ => EXIT_FAILED,
            },
        }
    }
}
