//! Redaction helpers: URLs without secrets and short, printable body excerpts.

use percent_encoding::percent_decode_str;
use url::Url;

/// Query parameter names whose values are treated as secrets (compared case-insensitively).
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "key",
    "password",
    "passwd",
    "secret",
    "sig",
    "signature",
    "client_secret",
    "code",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// The longest excerpt of a response body kept in an error, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// Whether a query parameter name looks like it carries a secret.
pub(crate) fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.contains(&lower.as_str())
        || lower.ends_with("_secret")
        || lower.ends_with("_password")
}

/// `url` as a string that is safe to log: user info (`user:pass@`) is removed, the fragment is
/// dropped, and the values of secret-looking query parameters (`token`, `access_token`,
/// `api_key`, `apikey`, `key`, `password`, `secret`, `sig`, `signature`, `client_secret`,
/// `code`, …) are replaced by `[redacted]`. Other parameters are kept as they were encoded.
///
/// ```
/// use soc2_evidence_core::http::redact_url;
/// let u = url::Url::parse("https://bob:pw@example.com/api?limit=5&access_token=abc#x").unwrap();
/// assert_eq!(redact_url(&u), "https://example.com/api?limit=5&access_token=[redacted]");
/// ```
pub fn redact_url(url: &Url) -> String {
    let mut clean = url.clone();
    // Both only fail for URLs that cannot have user info (e.g. `mailto:`), which have none.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.set_fragment(None);
    let query = clean.query().map(redact_query);
    clean.set_query(None);
    let mut out = clean.to_string();
    if let Some(q) = query {
        out.push('?');
        out.push_str(&q);
    }
    out
}

/// Redacts the values of secret-looking parameters in a raw (encoded) query string.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (raw_name, has_value) = match pair.split_once('=') {
                Some((n, _)) => (n, true),
                None => (pair, false),
            };
            // Query names are form-encoded: `+` is a space, then percent-decoding.
            let spaced = raw_name.replace('+', " ");
            let name = percent_decode_str(&spaced).decode_utf8_lossy();
            if has_value && is_secret_param(&name) {
                format!("{raw_name}=[redacted]")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The value to show for a query parameter: `[redacted]` when its name looks secret.
pub(crate) fn redact_param_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_secret_param(name) {
        "[redacted]"
    } else {
        value
    }
}

/// The start of a body as printable text: lossy UTF-8, control characters replaced by spaces,
/// at most [`EXCERPT_CHARS`] characters (with `…` when cut).
pub(crate) fn excerpt(body: &[u8]) -> String {
    // Decode a little more than needed so a multi-byte character at the cut is not mangled.
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        out.push(if c.is_control() { ' ' } else { c });
    }
    let cut = chars.next().is_some() || head.len() < body.len();
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if cut {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn redacts_secret_params_and_userinfo() {
        assert_eq!(
            r("https://u:p@h.example/x?token=t1&limit=2&API_KEY=k&Signature=s&code=c"),
            "https://h.example/x?token=[redacted]&limit=2&API_KEY=[redacted]&Signature=[redacted]&code=[redacted]"
        );
        assert_eq!(
            r("https://h.example/x?client_secret=zz&key=1&apikey=2&password=3&secret=4&sig=5"),
            "https://h.example/x?client_secret=[redacted]&key=[redacted]&apikey=[redacted]&password=[redacted]&secret=[redacted]&sig=[redacted]"
        );
    }

    #[test]
    fn keeps_ordinary_urls() {
        assert_eq!(r("https://h.example/a/b"), "https://h.example/a/b");
        assert_eq!(
            r("https://h.example/a?after=00u1&filter=status%20eq%20%22X%22&flag"),
            "https://h.example/a?after=00u1&filter=status%20eq%20%22X%22&flag"
        );
        assert_eq!(r("http://127.0.0.1:8080/x#frag"), "http://127.0.0.1:8080/x");
    }

    #[test]
    fn encoded_secret_names_are_recognised() {
        assert_eq!(
            r("https://h/x?acc%65ss_token=v"),
            "https://h/x?acc%65ss_token=[redacted]"
        );
    }

    #[test]
    fn excerpt_is_short_printable_and_lossy() {
        assert_eq!(excerpt(b"line1\nline2\t\x00"), "line1 line2");
        assert_eq!(excerpt(&[0x66, 0xff, 0x6f]), "f\u{fffd}o");
        let long = "é".repeat(500);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(b""), "");
    }
}
