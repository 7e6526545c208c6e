//! BagIt (RFC 8493) text formats: `bagit.txt`, `bag-info.txt`, manifests and payload names.

/// The exact content of `bagit.txt`.
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
/// Name of the payload manifest.
pub const MANIFEST: &str = "manifest-sha256.txt";
/// Name of the tag manifest.
pub const TAGMANIFEST: &str = "tagmanifest-sha256.txt";
/// Name of the bag declaration.
pub const BAGIT: &str = "bagit.txt";
/// Name of the bag metadata file.
pub const BAG_INFO: &str = "bag-info.txt";
/// Path (inside the bag) of the detached SSHSIG signature over the tag manifest.
pub const SIGNATURE: &str = "signatures/tagmanifest-sha256.txt.sshsig";
/// Path (inside the bag) of the optional RFC 3161 time-stamp over the tag manifest: the DER
/// `TimeStampResp` as the TSA sent it.
pub const TIMESTAMP: &str = "signatures/tagmanifest-sha256.txt.tsr";

/// `bag-info.txt` label carrying the signer key fingerprint (`SHA256:...`).
pub const LABEL_FINGERPRINT: &str = "Signer-Key-Fingerprint";
/// `bag-info.txt` label carrying the SHA-256 of the previous bundle zip (the chain link).
pub const LABEL_PREVIOUS: &str = "Previous-Bundle-SHA256";
/// `bag-info.txt` label carrying `octets.count` of the payload.
pub const LABEL_OXUM: &str = "Payload-Oxum";

/// Why a payload path cannot go into a bag, or `None` if it can.
///
/// `bagit.py` percent-decodes `%0D`/`%0A` but not `%25`, so `%`, CR and LF are refused; `\`
/// would be read as a separator on Windows; empty, `.` and `..` components are never valid.
pub fn payload_name_problem(rel: &str) -> Option<&'static str> {
    if rel.contains('%') {
        return Some("contains '%'");
    }
    if rel.contains('\r') || rel.contains('\n') {
        return Some("contains a carriage return or line feed");
    }
    if rel.contains('\\') {
        return Some("contains a backslash");
    }
    if rel.chars().any(char::is_control) {
        return Some("contains a control character");
    }
    if rel
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Some("has an empty, '.' or '..' component");
    }
    None
}

/// A filesystem- and URL-friendly slug of an organisation name (`Acme Corp` -> `acme-corp`).
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(48).collect();
    let trimmed = trimmed.trim_end_matches('-').to_string();
    if trimmed.is_empty() {
        "org".to_string()
    } else {
        trimmed
    }
}

/// Renders `bag-info.txt` from ordered label/value pairs.
pub fn render_bag_info(fields: &[(String, String)]) -> String {
    let mut s = String::new();
    for (k, v) in fields {
        s.push_str(k);
        s.push_str(": ");
        s.push_str(v);
        s.push('\n');
    }
    s
}

/// Parses `bag-info.txt` (`Label: value` lines; lines starting with whitespace continue the
/// previous value). Returns the ordered pairs or a description of the first syntax error.
pub fn parse_bag_info(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(format!("line {}: continuation without a label", i + 1)),
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(format!("line {}: no ':' separator", i + 1));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("line {}: empty label", i + 1));
        }
        out.push((k.to_string(), v.trim().to_string()));
    }
    Ok(out)
}

/// The value of the first `label` in parsed bag-info pairs (labels compare case-insensitively).
pub fn bag_info_value<'a>(fields: &'a [(String, String)], label: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(label))
        .map(|(_, v)| v.as_str())
}

/// Renders a manifest in `sha256sum` format (`<hex>  <path>\n`), in the given order.
pub fn render_manifest<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = String::new();
    for (hex, path) in entries {
        s.push_str(hex);
        s.push_str("  ");
        s.push_str(path);
        s.push('\n');
    }
    s
}

/// One manifest line: lowercase hex digest and bag-relative path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestLine {
    /// SHA-256 in lowercase hex.
    pub digest: String,
    /// Path relative to the bag root, `/`-separated.
    pub path: String,
}

/// Parses a SHA-256 manifest. Errors carry the 1-based line number and a description.
pub fn parse_manifest(text: &str) -> Result<Vec<ManifestLine>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        let Some((digest, rest)) = line.split_once([' ', '\t']) else {
            return Err((n, "expected '<sha256>  <path>'".into()));
        };
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((n, "digest is not 64 hexadecimal digits".into()));
        }
        let path = rest.trim_start_matches([' ', '\t']);
        let path = path.strip_prefix('*').unwrap_or(path);
        if path.is_empty() {
            return Err((n, "missing path".into()));
        }
        if path.ends_with('\r') {
            return Err((n, "carriage return in line".into()));
        }
        out.push(ManifestLine {
            digest: digest.to_ascii_lowercase(),
            path: path.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(payload_name_problem("okta/users.jsonl").is_none());
        assert!(payload_name_problem("a%25b").is_some());
        assert!(payload_name_problem("a\nb").is_some());
        assert!(payload_name_problem("a\\b").is_some());
        assert!(payload_name_problem("../x").is_some());
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Acme Corp, Inc."), "acme-corp-inc");
        assert_eq!(slug("!!!"), "org");
    }

    #[test]
    fn bag_info_roundtrip() {
        let f = vec![
            ("Source-Organization".to_string(), "Acme".to_string()),
            (LABEL_OXUM.to_string(), "10.2".to_string()),
        ];
        let text = render_bag_info(&f);
        assert_eq!(parse_bag_info(&text).expect("parse"), f);
        assert!(parse_bag_info("no separator\n").is_err());
        let cont = parse_bag_info("A: one\n  two\n").expect("parse");
        assert_eq!(cont[0].1, "one two");
    }

    #[test]
    fn manifest_roundtrip() {
        let h = "a".repeat(64);
        let text = render_manifest([(h.as_str(), "data/x y.json")]);
        let m = parse_manifest(&text).expect("parse");
        assert_eq!(m[0].path, "data/x y.json");
        assert!(parse_manifest("zz  data/x\n").is_err());
    }
}
