//! Configuration errors and secret look-up shared by every collector's config.

use crate::http::Secret;

/// Why a configuration could not be used. Each variant names what was wrong and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {message}")]
    Read {
        /// The config file.
        path: String,
        /// Why.
        message: String,
    },
    /// The TOML did not parse, or a key is unknown or has the wrong type.
    #[error("config file {path}: {message}")]
    Parse {
        /// The config file.
        path: String,
        /// The parser's message (names the key and line).
        message: String,
    },
    /// A secret's environment variable is unset or empty.
    #[error("[{section}]: environment variable {var} is not set (it should hold the {what})")]
    MissingSecret {
        /// The config section, e.g. `okta`.
        section: String,
        /// The environment variable.
        var: String,
        /// What it should hold, e.g. "Okta API token".
        what: String,
    },
    /// A value is present but unusable.
    #[error("[{section}] {key}: {message}")]
    Invalid {
        /// The config section.
        section: String,
        /// The key.
        key: String,
        /// Why.
        message: String,
    },
}

/// Reads a required secret from the environment variable `var` named by config section
/// `section`; a missing one is an error naming the variable.
///
/// ```
/// use soc2_evidence_core::config::require_secret;
/// let err = require_secret("okta", "SOC2_DOCTEST_UNSET_VAR", "Okta API token").unwrap_err();
/// assert!(err.to_string().contains("SOC2_DOCTEST_UNSET_VAR"));
/// ```
pub fn require_secret(section: &str, var: &str, what: &str) -> Result<Secret, ConfigError> {
    Secret::from_env(var).ok_or_else(|| ConfigError::MissingSecret {
        section: section.to_string(),
        var: var.to_string(),
        what: what.to_string(),
    })
}
