//! The `[bundle]` section of `soc2.toml`: how bundles of its runs are sealed.

use serde::{Deserialize, Serialize};

/// `[bundle]`: settings for the bundles made from a config's runs (ledger runs, and
/// `bundle DIR` of a run collected with it).
///
/// ```toml
/// [bundle]
/// tsa_url = "https://freetsa.org/tsr"   # an RFC 3161 time-stamp authority
/// ```
///
/// ```
/// use soc2_evidence_core::BundleSettings;
/// let s = BundleSettings::from_toml(toml::from_str("tsa_url = \"https://tsa.example/tsr\"").unwrap()).unwrap();
/// assert_eq!(s.tsa_url.as_deref(), Some("https://tsa.example/tsr"));
/// assert!(BundleSettings::from_toml(toml::from_str("tsa_url = \"ftp://x\"").unwrap()).is_err());
/// assert!(BundleSettings::from_toml(toml::from_str("tsa = \"https://x\"").unwrap()).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSettings {
    /// The time-stamp authority each bundle's tag manifest is time-stamped by (RFC 3161 over
    /// HTTP or HTTPS). Unset: no time-stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_url: Option<String>,
}

impl BundleSettings {
    /// Parses and validates the section; the message names the key.
    pub fn from_toml(value: toml::Value) -> Result<Self, String> {
        let s: Self = value
            .try_into()
            .map_err(|e: toml::de::Error| format!("[bundle]: {}", e.message()))?;
        s.validate()?;
        Ok(s)
    }

    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.tsa_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| format!("[bundle] tsa_url {url:?} is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!(
                    "[bundle] tsa_url must be http:// or https:// (RFC 3161 over HTTP), not {}://",
                    parsed.scheme()
                ));
            }
        }
        Ok(())
    }
}
