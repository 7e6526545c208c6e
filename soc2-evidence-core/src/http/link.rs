//! RFC 8288 `Link` header parsing.

use std::collections::BTreeMap;

use url::Url;

/// One link from a `Link` header: its target, relation types and other parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Target, resolved against the URL of the response that carried it.
    pub url: Url,
    /// Relation types, lower-cased (`rel="next last"` gives `["next", "last"]`).
    pub rel: Vec<String>,
    /// Every parameter except `rel`, names lower-cased, values unquoted. When a parameter
    /// appears twice the first occurrence wins (RFC 8288 §3).
    pub params: BTreeMap<String, String>,
}

impl Link {
    /// Whether the link has relation type `rel` (case-insensitive).
    pub fn has_rel(&self, rel: &str) -> bool {
        self.rel.iter().any(|r| r.eq_ignore_ascii_case(rel))
    }
}

/// Parses one `Link` header value (which may hold several comma-separated links) per RFC 8288.
///
/// Handles quoted strings (commas and semicolons inside quotes, backslash escapes), unquoted
/// parameter values (`rel=next`), several relation types (`rel="next last"`), free whitespace
/// and relative targets, which are resolved against `base`. Links that cannot be parsed or
/// resolved are skipped rather than failing the whole header.
///
/// When a response has several `Link` header lines (Okta sends `self` and `next` separately),
/// parse each — [`HttpResponse::links`](super::HttpResponse::links) does.
///
/// ```
/// use soc2_evidence_core::http::parse_link_header;
/// let base = url::Url::parse("https://api.github.com/repos/o/r/pulls").unwrap();
/// let links = parse_link_header(
///     r#"</repositories/1/pulls?page=2>; rel="next", <https://api.github.com/repositories/1/pulls?page=9>; rel="last""#,
///     &base,
/// );
/// assert_eq!(links[0].url.as_str(), "https://api.github.com/repositories/1/pulls?page=2");
/// assert!(links[0].has_rel("next"));
/// assert_eq!(links[1].rel, vec!["last"]);
/// ```
pub fn parse_link_header(value: &str, base: &Url) -> Vec<Link> {
    let mut p = Parser {
        s: value.as_bytes(),
        i: 0,
    };
    let mut links = Vec::new();
    loop {
        p.skip(|c| c.is_ascii_whitespace() || c == b',');
        if p.done() {
            break;
        }
        if p.peek() != Some(b'<') {
            p.skip_to_next_link();
            continue;
        }
        p.i += 1;
        let start = p.i;
        p.skip(|c| c != b'>');
        if p.done() {
            break; // unterminated target
        }
        let target = String::from_utf8_lossy(&p.s[start..p.i]).trim().to_string();
        p.i += 1;
        let params = p.params();
        let Ok(url) = base.join(&target) else {
            continue;
        };
        let mut rel = Vec::new();
        let mut rest = BTreeMap::new();
        for (name, value) in params {
            if name == "rel" {
                if rel.is_empty() {
                    rel = value
                        .split_ascii_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect();
                }
            } else {
                rest.entry(name).or_insert(value);
            }
        }
        links.push(Link {
            url,
            rel,
            params: rest,
        });
    }
    links
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, mut f: impl FnMut(u8) -> bool) {
        while self.peek().is_some_and(&mut f) {
            self.i += 1;
        }
    }

    /// Skips garbage up to the next comma outside quotes.
    fn skip_to_next_link(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b',' => return,
                b'"' => {
                    self.quoted();
                }
                _ => self.i += 1,
            }
        }
    }

    /// Reads a quoted string starting at the opening quote; returns the unescaped content.
    fn quoted(&mut self) -> String {
        let mut out = Vec::new();
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Reads `; name=value` parameters up to the comma that ends the link (or the end).
    fn params(&mut self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        loop {
            self.skip(|c| c.is_ascii_whitespace());
            match self.peek() {
                Some(b';') => self.i += 1,
                Some(b',') | None => return out,
                Some(_) => {
                    self.skip_to_next_link();
                    return out;
                }
            }
            self.skip(|c| c.is_ascii_whitespace());
            let start = self.i;
            self.skip(|c| !matches!(c, b'=' | b';' | b',') && !c.is_ascii_whitespace());
            let name = String::from_utf8_lossy(&self.s[start..self.i]).to_ascii_lowercase();
            self.skip(|c| c.is_ascii_whitespace());
            let value = if self.peek() == Some(b'=') {
                self.i += 1;
                self.skip(|c| c.is_ascii_whitespace());
                if self.peek() == Some(b'"') {
                    self.quoted()
                } else {
                    let start = self.i;
                    self.skip(|c| !matches!(c, b';' | b',') && !c.is_ascii_whitespace());
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
                }
            } else {
                String::new()
            };
            let name = name.strip_suffix('*').map(str::to_string).unwrap_or(name);
            if !name.is_empty() {
                out.push((name, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.okta.com/api/v1/users?limit=2").unwrap()
    }

    #[test]
    fn okta_single_link_per_line() {
        let l = parse_link_header(
            r#"<https://example.okta.com/api/v1/users?after=00u2&limit=2>; rel="next""#,
            &base(),
        );
        assert_eq!(l.len(), 1);
        assert_eq!(
            l[0].url.as_str(),
            "https://example.okta.com/api/v1/users?after=00u2&limit=2"
        );
        assert_eq!(l[0].rel, vec!["next"]);
    }

    #[test]
    fn quoted_commas_and_semicolons() {
        let l = parse_link_header(
            r#"<a>; rel="next"; title="one, two; three", <b>;rel=prev;title="say \"hi\"""#,
            &base(),
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].url.as_str(), "https://example.okta.com/api/v1/a");
        assert_eq!(l[0].params["title"], "one, two; three");
        assert_eq!(l[1].url.as_str(), "https://example.okta.com/api/v1/b");
        assert_eq!(l[1].rel, vec!["prev"]);
        assert_eq!(l[1].params["title"], r#"say "hi""#);
    }

    #[test]
    fn multiple_rels_unquoted_and_case() {
        let l = parse_link_header(
            "  </x?page=3> ;  REL = \"Next  LAST\" ; type=text/html ,</y>; rel=first",
            &base(),
        );
        assert_eq!(l[0].rel, vec!["next", "last"]);
        assert!(l[0].has_rel("next") && l[0].has_rel("LAST"));
        assert_eq!(l[0].params["type"], "text/html");
        assert_eq!(l[0].url.as_str(), "https://example.okta.com/x?page=3");
        assert_eq!(l[1].rel, vec!["first"]);
    }

    #[test]
    fn first_rel_wins_and_garbage_is_skipped() {
        let l = parse_link_header(
            r#"garbage "with, comma", <c>; rel=next; rel=prev, <unterminated"#,
            &base(),
        );
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].rel, vec!["next"]);
        assert!(parse_link_header("", &base()).is_empty());
        assert!(parse_link_header("<>; rel=self", &base())[0].has_rel("self"));
    }

    #[test]
    fn commas_in_target_are_kept() {
        let l = parse_link_header(r#"<https://h/x?a=1,2>; rel="next""#, &base());
        assert_eq!(l[0].url.as_str(), "https://h/x?a=1,2");
    }
}
