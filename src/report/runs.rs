//! The report's "Ledger runs" section, for a period assembled from a ledger: every run it was
//! made from, and how its collection time is proven.

use std::fmt::Write;

use soc2_evidence_core::ledger::LedgerPeriod;

use super::html::escape_html;

pub(super) fn render(h: &mut String, period: &LedgerPeriod) {
    let proven = period.runs.iter().filter(|r| r.timestamp_verified).count();
    let _ = writeln!(
        h,
        "<section id=\"ledger-runs\"><h2>Ledger runs</h2><p>Assembled from {} run(s) of <code>{}</code>. \
         {proven} collection time(s) are proven by an RFC 3161 time-stamp verified against the trusted TSA CA; \
         the others are the collecting machine's clock.</p>",
        period.runs.len(),
        escape_html(&period.ledger)
    );
    h.push_str("<table><thead><tr><th>Run</th><th>Collected (as proven)</th><th>Proven by</th><th>Machine clock</th><th>Signer</th><th>Bundle SHA-256</th></tr></thead><tbody>");
    let time = |t: chrono::DateTime<chrono::Utc>| {
        escape_html(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    for r in &period.runs {
        let by = match (r.timestamped_at, r.timestamp_verified) {
            (Some(_), true) => "RFC 3161 time-stamp (verified)".to_string(),
            (Some(t), false) => format!(
                "machine clock; a time-stamp says {} but was not verified (no TSA CA given)",
                time(t)
            ),
            (None, _) => "machine clock (no time-stamp)".to_string(),
        };
        let _ = write!(
            h,
            "<tr><td>{:06}</td><td class=\"mono\">{}</td><td>{by}</td><td class=\"mono\">{}</td><td><code>{}</code></td><td class=\"mono\">{}</td></tr>",
            r.seq,
            time(r.collected_at),
            time(r.clock_at),
            escape_html(&r.signer),
            escape_html(&r.sha256)
        );
    }
    h.push_str("</tbody></table></section>\n");
}
