//! The auditor's `report/index.html`: one self-contained page (inline styles, no scripts, no
//! external resources) that opens from `file://`. Every value from the evidence is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use soc2_evidence_core::{criteria, Finding, FindingStatus, RunManifest};

/// Escapes text for HTML element content and quoted attribute values.
///
/// ```
/// use soc2_evidence::report::escape_html;
/// assert_eq!(escape_html(r#"<img src=x onerror="a('b')">&"#),
///            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;");
/// ```
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes a relative link target: percent-encodes everything but safe path characters, so
/// a crafted file name cannot break out of the attribute or become a `javascript:` URL.
fn escape_href(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-_./".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    // A leading "./" keeps any scheme-like prefix ("javascript:") a relative path.
    format!("./{out}")
}

const STYLE: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1200px;padding:1.5rem;color:#1b1f24}\
h1{margin:.2rem 0}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}h3{margin:1.4rem 0 .2rem}\
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dl.meta dt{font-weight:600}dl.meta dd{margin:0}\
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}\
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.error{color:#9a6700;font-weight:600}.na{color:#57606a}\
.badge{display:inline-block;border-radius:1em;padding:0 .6em;margin-right:.3em;font-size:.85em;font-weight:600}\
.badge.pass{background:#dafbe1}.badge.fail{background:#ffebe9}.badge.error{background:#fff8c5}.badge.na{background:#eaeef2}\
p.crit{color:#57606a;margin:.1rem 0 .5rem}details{margin:.3rem 0 1rem}pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}";

/// What the page needs besides the run directory's files.
pub struct PageInput<'a> {
    /// The run's manifest.
    pub manifest: &'a RunManifest,
    /// Every finding.
    pub findings: &'a [Finding],
    /// Per collector, its parsed `provenance.json` (when present).
    pub provenance: &'a BTreeMap<String, serde_json::Value>,
    /// Population files: (collector, population, jsonl path, csv file name), relative.
    pub populations: &'a [(String, String, String, String)],
    /// The signer's key fingerprint, when the report is for a signed bundle.
    pub signer_fingerprint: Option<&'a str>,
    /// The previous bundle and what changed since, when the bundle names one.
    pub previous: Option<&'a super::PreviousBundle>,
    /// The runs of the ledger, when the run directory is an assembled period.
    pub ledger: Option<&'a soc2_evidence_core::ledger::LedgerPeriod>,
}

pub(super) fn status_class(s: FindingStatus) -> &'static str {
    match s {
        FindingStatus::Pass => "pass",
        FindingStatus::Fail => "fail",
        FindingStatus::Error => "error",
        FindingStatus::NotApplicable => "na",
    }
}

/// Renders the whole page.
pub fn render(input: &PageInput<'_>) -> String {
    let m = input.manifest;
    let org = m
        .organization
        .as_deref()
        .unwrap_or("(organisation not set)");
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>SOC 2 evidence — {} — {}</title><style>{STYLE}</style></head><body>\n",
        escape_html(org),
        escape_html(&m.period.to_string())
    );
    let _ = write!(
        h,
        "<header><h1>SOC 2 evidence: {}</h1><dl class=\"meta\">",
        escape_html(org)
    );
    let mut meta = |k: &str, v: String| {
        let _ = write!(h, "<dt>{}</dt><dd>{v}</dd>", escape_html(k));
    };
    meta(
        "Audit period",
        format!("{} to {} (inclusive)", m.period.start(), m.period.end()),
    );
    meta(
        "Collected",
        format!(
            "{} to {}",
            escape_html(&m.started_at.to_rfc3339()),
            escape_html(&m.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default())
        ),
    );
    if let Some(t) = m.clock_override {
        meta(
            "Clock",
            format!(
                "<strong>overridden</strong>: SOC2_EVIDENCE_NOW set now to {} (a test or replay, not a live collection)",
                escape_html(&t.to_rfc3339())
            ),
        );
    }
    meta(
        "Run status",
        escape_html(&format!("{:?}", m.status).to_lowercase()),
    );
    meta(
        "Tool",
        escape_html(&format!("{} {}", m.tool.name, m.tool.version)),
    );
    meta(
        "Signer key",
        match input.signer_fingerprint {
            Some(f) => format!("<code>{}</code>", escape_html(f)),
            None => "not signed".into(),
        },
    );
    let c = &m.findings;
    meta(
        "Findings",
        format!(
            "<span class=\"badge pass\">{} pass</span><span class=\"badge fail\">{} fail</span>\
             <span class=\"badge error\">{} error</span><span class=\"badge na\">{} not applicable</span>",
            c.pass, c.fail, c.error, c.not_applicable
        ),
    );
    h.push_str("</dl></header>\n");

    render_findings(&mut h, input.findings);
    if let Some(previous) = input.previous {
        super::changes::render(&mut h, previous);
    }
    if let Some(ledger) = input.ledger {
        super::runs::render(&mut h, ledger);
    }
    render_collectors(&mut h, input);
    render_populations(&mut h, input.populations);
    render_verify(&mut h);
    h.push_str("</body></html>\n");
    h
}

fn render_findings(h: &mut String, findings: &[Finding]) {
    h.push_str("<section id=\"findings\"><h2>Findings by SOC 2 criterion</h2>\n");
    // Group by criterion, in catalogue order; unknown ids (from plugins) go last.
    let mut groups: BTreeMap<(usize, String), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        for cid in &f.criteria {
            let pos = criteria::all()
                .iter()
                .position(|c| c.id == cid.as_str())
                .unwrap_or(usize::MAX);
            groups.entry((pos, cid.clone())).or_default().push(f);
        }
    }
    if groups.is_empty() {
        h.push_str("<p>No checks produced findings for this run.</p>");
    }
    for ((_, cid), list) in &groups {
        let (pass, fail, error) = list.iter().fold((0, 0, 0), |acc, f| match f.status {
            FindingStatus::Pass => (acc.0 + 1, acc.1, acc.2),
            FindingStatus::Fail => (acc.0, acc.1 + 1, acc.2),
            FindingStatus::Error => (acc.0, acc.1, acc.2 + 1),
            FindingStatus::NotApplicable => acc,
        });
        let anchor = escape_html(&format!("crit-{cid}"));
        let _ = write!(h, "<h3 id=\"{anchor}\">{}", escape_html(cid));
        if let Ok(c) = criteria::lookup(cid) {
            let _ = write!(
                h,
                " — {}</h3><p class=\"crit\">{}</p>",
                escape_html(c.group),
                escape_html(c.title)
            );
        } else {
            h.push_str("</h3>");
        }
        let _ = write!(
            h,
            "<p><span class=\"badge pass\">{pass} pass</span><span class=\"badge fail\">{fail} fail</span><span class=\"badge error\">{error} error</span></p>"
        );
        let exceptions: Vec<&&Finding> = list
            .iter()
            .filter(|f| matches!(f.status, FindingStatus::Fail | FindingStatus::Error))
            .collect();
        if !exceptions.is_empty() {
            findings_table(h, exceptions.into_iter().copied());
        }
        let others: Vec<&&Finding> = list
            .iter()
            .filter(|f| matches!(f.status, FindingStatus::Pass | FindingStatus::NotApplicable))
            .collect();
        if !others.is_empty() {
            let _ = write!(
                h,
                "<details><summary>{} passing or not applicable</summary>",
                others.len()
            );
            findings_table(h, others.into_iter().copied());
            h.push_str("</details>");
        }
    }
    h.push_str("</section>\n");
}

fn findings_table<'a>(h: &mut String, list: impl Iterator<Item = &'a Finding>) {
    h.push_str("<table><thead><tr><th>Status</th><th>Subject</th><th>Check</th><th>Summary</th><th>Evidence</th></tr></thead><tbody>");
    for f in list {
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| {
                format!(
                    "<a href=\"{}\">{}</a>",
                    escape_html(&escape_href(&format!("../{}", e.file))),
                    escape_html(&e.file)
                )
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td class=\"{cls}\">{status}</td><td class=\"mono subject\">{subject}</td><td class=\"mono\">{check}</td><td>{summary}</td><td>{ev}</td></tr>",
            cls = status_class(f.status),
            status = escape_html(&f.status.to_string()),
            subject = escape_html(&f.subject_id),
            check = escape_html(&f.check_id),
            summary = escape_html(&f.summary),
            ev = evidence.join("<br>")
        );
    }
    h.push_str("</tbody></table>");
}

fn render_collectors(h: &mut String, input: &PageInput<'_>) {
    h.push_str("<section id=\"collectors\"><h2>Collectors and provenance</h2>\n<table><thead><tr><th>Collector</th><th>Type</th><th>Status</th><th>Records</th><th>Started</th><th>Finished</th><th>Error</th></tr></thead><tbody>");
    for c in &input.manifest.collectors {
        let records: u64 = c.records.values().sum();
        let status = format!("{:?}", c.status).to_lowercase();
        let cls = if status == "ok" { "pass" } else { "fail" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"{cls}\">{}</td><td>{records}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            escape_html(&c.name),
            escape_html(&c.collector_type),
            escape_html(&status),
            escape_html(&c.started_at.to_rfc3339()),
            escape_html(&c.finished_at.to_rfc3339()),
            escape_html(c.error.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</tbody></table>\n");
    for (collector, prov) in input.provenance {
        let _ = write!(h, "<h3>{} — provenance</h3>", escape_html(collector));
        let pops = prov
            .get("populations")
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_default();
        for p in pops {
            let s = |k: &str| match p.get(k) {
                Some(serde_json::Value::String(s)) => escape_html(s),
                Some(serde_json::Value::Null) | None => "—".into(),
                Some(v) => escape_html(&v.to_string()),
            };
            let _ = write!(
                h,
                "<table class=\"prov\"><tbody>\
                 <tr><th>Population</th><td><code>{collector}/{pop}.jsonl</code> (kind <code>{kind}</code>)</td></tr>\
                 <tr><th>Source</th><td>{source} <span class=\"mono\">{base}</span></td></tr>\
                 <tr><th>Counts</th><td>source reported {reported}; received {received}; written {written}; pages {pages}</td></tr>\
                 <tr><th>Retrieved</th><td class=\"mono\">{start} to {end}</td></tr>\
                 <tr><th>Complete</th><td>{complete}</td></tr>\
                 <tr><th>SHA-256 of responses</th><td class=\"mono\">{sha}</td></tr>",
                collector = escape_html(collector),
                pop = s("population"),
                kind = s("kind"),
                source = s("source"),
                base = s("base_url"),
                reported = s("source_reported_count"),
                received = s("records_received"),
                written = s("records_written"),
                pages = s("pages"),
                start = s("retrieval_started"),
                end = s("retrieval_finished"),
                complete = s("complete"),
                sha = s("response_sha256"),
            );
            h.push_str("<tr><th>Endpoints</th><td><table><thead><tr><th>Method</th><th>Endpoint</th><th>Parameters</th><th>Pages</th><th>Received</th><th>Reported</th></tr></thead><tbody>");
            for e in p
                .get("endpoints")
                .and_then(|e| e.as_array())
                .cloned()
                .unwrap_or_default()
            {
                let params = e
                    .get("parameters")
                    .and_then(|p| p.as_object())
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                format!(
                                    "{}={}",
                                    escape_html(k),
                                    escape_html(v.as_str().unwrap_or(&v.to_string()))
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("<br>")
                    })
                    .unwrap_or_default();
                let g = |k: &str| match e.get(k) {
                    Some(serde_json::Value::String(s)) => escape_html(s),
                    Some(serde_json::Value::Null) | None => "—".into(),
                    Some(v) => escape_html(&v.to_string()),
                };
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{params}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    g("method"),
                    g("endpoint"),
                    g("pages"),
                    g("records_received"),
                    g("reported_total")
                );
            }
            h.push_str("</tbody></table></td></tr>");
            if let Some(notes) = p.get("notes").and_then(|n| n.as_array()) {
                let items: Vec<String> = notes
                    .iter()
                    .map(|n| {
                        format!(
                            "<li>{}</li>",
                            escape_html(n.as_str().unwrap_or(&n.to_string()))
                        )
                    })
                    .collect();
                if !items.is_empty() {
                    let _ = write!(
                        h,
                        "<tr><th>Notes</th><td><ul>{}</ul></td></tr>",
                        items.join("")
                    );
                }
            }
            h.push_str("</tbody></table>");
        }
    }
    h.push_str("</section>\n");
}

fn render_populations(h: &mut String, populations: &[(String, String, String, String)]) {
    h.push_str("<section id=\"populations\"><h2>Populations</h2><p>Full populations for sampling: JSON Lines as collected, and CSV for spreadsheets (cells that start with <code>=</code>, <code>+</code>, <code>-</code> or <code>@</code> are prefixed with <code>'</code> so they are never run as formulas).</p><table><thead><tr><th>Collector</th><th>Population</th><th>JSON Lines</th><th>CSV</th></tr></thead><tbody>");
    for (collector, population, jsonl, csv) in populations {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td><a href=\"{}\">{}</a></td></tr>",
            escape_html(collector),
            escape_html(population),
            escape_html(&escape_href(&format!("../{jsonl}"))),
            escape_html(jsonl),
            escape_html(&escape_href(csv)),
            escape_html(csv)
        );
    }
    h.push_str("</tbody></table></section>\n");
}

fn render_verify(h: &mut String) {
    h.push_str("<section id=\"verify\"><h2>Verifying this bundle with stock tools</h2>\
<p>From the directory that holds the unzipped bag (the folder containing <code>bagit.txt</code>), with the organisation's public key in an <code>allowed_signers</code> file:</p>\
<pre>ssh-keygen -Y verify -f allowed_signers -I &lt;signer&gt; -n soc2-evidence \\\n  -s signatures/tagmanifest-sha256.txt.sshsig &lt; tagmanifest-sha256.txt\nsha256sum -c --strict tagmanifest-sha256.txt manifest-sha256.txt</pre>\
<p>The first command proves who signed the tag manifest; the second proves every file matches the manifests. <code>soc2-evidence verify</code> does both, and also rejects any file not listed in a manifest.</p></section>\n");
}
