//! A secret string (API token, password) that never prints itself.

use std::fmt;

/// An API token or password. `Debug` and `Display` print `[redacted]`; only
/// [`Secret::expose`] reveals the value, so a secret cannot leak through logging or error
/// formatting by accident.
///
/// ```
/// use soc2_evidence_core::http::Secret;
/// let s = Secret::new("00abcdef-token");
/// assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
/// assert_eq!(s.expose(), "00abcdef-token");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Reads a secret from the environment variable `var`; `None` when unset or empty.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Self(v.trim().to_string()))
    }

    /// The secret value. Call it only where the value is sent to its destination.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best-effort wipe so the token does not linger in freed memory; not a guarantee
        // (copies made by the HTTP stack are out of our hands).
        let len = self.0.len();
        self.0.clear();
        self.0.extend(std::iter::repeat_n('\0', len));
        self.0.clear();
    }
}
