//! A secret string (API token, password) that never prints itself.

use std::fmt;

use zeroize::Zeroizing;

/// An API token or password. `Debug` and `Display` print `[redacted]`; only
/// [`Secret::expose`] reveals the value, so a secret cannot leak through logging or error
/// formatting by accident.
///
/// The value is wiped from memory when the `Secret` is dropped (with `zeroize`, which the
/// optimiser cannot remove). Copies made elsewhere — the header bytes the HTTP stack sends,
/// a `String` you built before wrapping it — are out of its reach, so wrap secrets early.
///
/// ```
/// use soc2_evidence_core::http::Secret;
/// let s = Secret::new("00abcdef-token");
/// assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
/// assert_eq!(s.expose(), "00abcdef-token");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// Reads a secret from the environment variable `var`; `None` when unset or empty.
    /// Surrounding whitespace (a trailing newline from `$(cat file)`) is trimmed.
    pub fn from_env(var: &str) -> Option<Self> {
        // Wrapped at once so the untrimmed copy is wiped too.
        let raw = Zeroizing::new(std::env::var(var).ok()?);
        let trimmed = raw.trim();
        (!trimmed.is_empty()).then(|| Self::new(trimmed))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_env_trims_and_skips_blank() {
        std::env::set_var("SOC2_SECRET_TEST_TRIM", "  tok-1 \n");
        std::env::set_var("SOC2_SECRET_TEST_BLANK", " \n");
        assert_eq!(
            Secret::from_env("SOC2_SECRET_TEST_TRIM").map(|s| s.expose().to_string()),
            Some("tok-1".to_string())
        );
        assert!(Secret::from_env("SOC2_SECRET_TEST_BLANK").is_none());
        assert!(Secret::from_env("SOC2_SECRET_TEST_UNSET_7f3a").is_none());
    }
}
