//! The auditor's report: grouped findings, provenance, population links, escaping and CSVs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use soc2_evidence::core::{
    async_trait, Check, CheckError, CollectContext, CollectError, Collector, EvidenceSink,
    EvidenceStore, Finding, FindingStatus, PopulationMode, PopulationSpec, Runner,
};
use soc2_evidence::report::{write_report, ReportOptions};

const HOSTILE: &str = "<script>alert('x')</script>";

struct Users;
#[async_trait]
impl Collector for Users {
    fn name(&self) -> &str {
        "idp"
    }
    async fn collect(
        &self,
        _: &CollectContext,
        sink: &mut dyn EvidenceSink,
    ) -> Result<(), CollectError> {
        let mut users = sink.open_raw(&PopulationSpec {
            name: "users".into(),
            kind: "idp.user".into(),
            schema_version: 1,
            criteria: vec!["CC6.1".into()],
            source: "Example IdP".into(),
            mode: PopulationMode::State,
        })?;
        let rec = users.provenance();
        rec.base_url("https://idp.example");
        rec.page("GET", "/api/users", &[("limit", "200")], b"[...]");
        rec.received("/api/users", 2);
        for (id, name) in [("u1", "=HYPERLINK(\"http://evil\")"), ("u2", HOSTILE)] {
            let data = serde_json::json!({"id": id, "name": name, "mfa": id == "u1"});
            users.emit_value(id, &data)?;
        }
        users.finish()?;
        Ok(())
    }
}

struct Mfa;
impl Check for Mfa {
    fn id(&self) -> &str {
        "idp.mfa"
    }
    fn criteria(&self) -> &[&'static str] {
        &["CC6.1"]
    }
    fn description(&self) -> &str {
        "users have MFA"
    }
    fn run(&self, store: &EvidenceStore) -> Result<Vec<Finding>, CheckError> {
        let mut out = Vec::new();
        for r in store.read_dynamic("idp", "users")? {
            let r = r?;
            let ok = r.data["mfa"].as_bool().unwrap_or(false);
            out.push(Finding::new(
                self.id(),
                self.criteria(),
                if ok {
                    FindingStatus::Pass
                } else {
                    FindingStatus::Fail
                },
                r.subject_id.clone(),
                format!("user {} MFA: {ok}", r.data["name"].as_str().unwrap_or("")),
            ));
        }
        Ok(out)
    }
}

#[tokio::test]
async fn report_shows_findings_provenance_and_escapes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    Runner::new()
        .organization("Acme <Corp> & Sons")
        .collector(Box::new(Users))
        .check(Box::new(Mfa))
        .run("2026-01-01..2026-06-30".parse().unwrap(), &run)
        .await
        .unwrap();
    let summary = write_report(
        &run,
        &ReportOptions {
            signer_fingerprint: Some("SHA256:abc123".into()),
            previous: None,
        },
    )
    .unwrap();
    let html = fs::read_to_string(&summary.index).unwrap();
    assert!(html.contains("Acme &lt;Corp&gt; &amp; Sons"));
    assert!(
        !html.contains("<script"),
        "no script element, escaped or otherwise injected"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("SHA256:abc123"));
    assert!(html.contains("CC6.1"), "findings grouped by criterion");
    assert!(html.contains("Logical and Physical Access Controls"));
    assert!(html.contains(">u2</td>"), "the failing subject is listed");
    assert!(html.contains("https://idp.example"));
    assert!(html.contains("limit=200"));
    assert!(html.contains("href=\"./../idp/users.jsonl\""));
    assert!(html.contains("href=\"./idp-users.csv\""));
    // The parser sees the report's CSS and links, so "nothing found" means clean, not unparsed.
    let report_tags = tags(&html);
    assert!(report_tags.iter().any(|t| t
        .style_body
        .as_ref()
        .is_some_and(|css| css.contains("body{"))));
    assert!(report_tags
        .iter()
        .any(|t| t.attrs.contains(&("href".into(), "./idp-users.csv".into()))));
    assert_eq!(
        external_resources(&html),
        Vec::<String>::new(),
        "the report loads nothing"
    );
    let off_page: Vec<_> = report_tags
        .into_iter()
        .flat_map(|t| t.attrs)
        .filter(|(name, value)| name == "href" && is_absolute(value))
        .collect();
    assert!(off_page.is_empty(), "no links off the bundle: {off_page:?}");

    assert_eq!(summary.csv_files, vec!["report/idp-users.csv".to_string()]);
    let csv = fs::read_to_string(run.join("report/idp-users.csv")).unwrap();
    let rows: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(rows[0], "subject_id,id,name,mfa");
    assert_eq!(rows[1], "u1,u1,\"'=HYPERLINK(\"\"http://evil\"\")\",true");

    // Deterministic: the same run gives the same page.
    let again = write_report(
        &run,
        &ReportOptions {
            signer_fingerprint: Some("SHA256:abc123".into()),
            previous: None,
        },
    )
    .unwrap();
    assert_eq!(fs::read_to_string(again.index).unwrap(), html);
}

#[test]
fn external_resource_check_catches_loads() {
    let page = "<!DOCTYPE html><html><head>\
        <style>@import url(https://x);body{background:url( 'data:image/png;base64,AA' )}\
        a{background:url(\"#g\")}p{background:URL(//cdn.example/p.png)}</style>\
        <link rel=stylesheet href=\"/site.css\"><link rel=icon href='data:,'>\
        </head><body><img src=//x><img alt=\"src=//text\" src=\"data:,\">\
        <p style=\"background:url(x.png)\">src=//not-markup @import url(y)</p>\
        <!-- <script src=//commented></script> --><SCRIPT>1</SCRIPT>\
        <iframe SRC='https://frame.example'></iframe></body></html>";
    assert_eq!(
        external_resources(page),
        [
            "@import in <style>",
            "url(https://x) in <style>",
            "url(//cdn.example/p.png) in <style>",
            "<link href=/site.css>",
            "<img src=//x>",
            "url(x.png) in style=",
            "<script>",
            "<iframe src=https://frame.example>",
        ]
    );
    let clean = "<html><head><style>b{color:red}</style></head><body>\
        <a href=\"./idp-users.csv\">users</a><img src=\"data:,\">\
        <p>&lt;script src=//x&gt; @import url(https://x)</p></body></html>";
    assert_eq!(external_resources(clean), Vec::<String>::new());
}

/// Everything in `html` that makes a browser fetch something: `<script>`, `src`-like
/// attributes, `<link href>`, and CSS `@import` or `url(...)` in `<style>` or `style=`, except
/// `data:` and `#fragment` targets. Only markup counts: escaped text and comments cannot load
/// anything, and subjects in the report are arbitrary text.
fn external_resources(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in tags(html) {
        if tag.name == "script" {
            found.push("<script>".to_string());
        }
        for (name, value) in &tag.attrs {
            let loads = matches!(name.as_str(), "src" | "srcset" | "poster" | "data")
                || (tag.name == "link" && name == "href");
            if loads && !is_inline(value) {
                found.push(format!("<{} {name}={value}>", tag.name));
            }
            if name == "style" {
                css_loads(value, "style=", &mut found);
            }
        }
        if let Some(css) = &tag.style_body {
            css_loads(css, "<style>", &mut found);
        }
    }
    found
}

/// `@import` and `url(...)` in CSS; `where_` says where the CSS was.
fn css_loads(css: &str, where_: &str, found: &mut Vec<String>) {
    let lower = css.to_ascii_lowercase();
    for _ in lower.match_indices("@import") {
        found.push(format!("@import in {where_}"));
    }
    for (i, _) in lower.match_indices("url(") {
        let rest = &css[i + 4..];
        let target = rest[..rest.find(')').unwrap_or(rest.len())]
            .trim()
            .trim_matches(|c| c == '"' || c == '\'');
        if !is_inline(target) {
            found.push(format!("url({target}) in {where_}"));
        }
    }
}

/// A target the page carries itself.
fn is_inline(target: &str) -> bool {
    let t = target.trim().to_ascii_lowercase();
    t.starts_with("data:") || t.starts_with('#')
}

/// A URL that leaves the bundle: a scheme, or protocol-relative `//host`.
fn is_absolute(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("//")
        || u.split_once(':')
            .is_some_and(|(scheme, _)| !scheme.contains('/'))
}

/// A start tag: its lower-case name, attributes (lower-case names, raw values) and, for
/// `<style>`, the CSS up to `</style`.
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    style_body: Option<String>,
}

/// The start tags of `html`, skipping comments, doctype, end tags and text.
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let name_len = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        rest = &rest[name_len..];
        let mut attrs = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() || rest.starts_with('>') {
                rest = rest.get(1..).unwrap_or("");
                break;
            }
            let n = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>')
                .unwrap_or(rest.len());
            let attr = rest[..n].to_ascii_lowercase();
            rest = rest[n..].trim_start();
            let mut value = String::new();
            if let Some(v) = rest.strip_prefix('=') {
                let v = v.trim_start();
                let (val, tail) = match v.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let body = &v[1..];
                        let end = body.find(q).unwrap_or(body.len());
                        (&body[..end], body.get(end + 1..).unwrap_or(""))
                    }
                    _ => {
                        let end = v
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .unwrap_or(v.len());
                        v.split_at(end)
                    }
                };
                value = val.to_string();
                rest = tail;
            }
            attrs.push((attr, value));
        }
        let style_body = (name == "style").then(|| {
            let end = rest
                .to_ascii_lowercase()
                .find("</style")
                .unwrap_or(rest.len());
            let css = rest[..end].to_string();
            rest = &rest[end..];
            css
        });
        out.push(Tag {
            name,
            attrs,
            style_body,
        });
    }
    out
}
