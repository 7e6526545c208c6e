//! The report's "changes since the previous bundle" section and its JSON twin.

use std::fmt::Write;

use super::html::{escape_html, status_class};
use crate::diff::{RunDiff, Side};

/// At most this many subject ids per list are shown on the page; the JSON file has them all.
const SHOWN: usize = 200;

/// The previous bundle a report is compared with.
#[derive(Debug, Clone)]
pub struct PreviousBundle {
    /// Its file name, as shown in the report.
    pub name: String,
    /// Its SHA-256, lowercase hex (also the chain link in bag-info.txt).
    pub sha256: String,
    /// What changed from it to this run.
    pub diff: RunDiff,
}

/// File name of the full diff inside the report directory.
pub const CHANGES_JSON: &str = "changes-since-previous.json";

pub(super) fn render(h: &mut String, previous: &PreviousBundle) {
    let d = &previous.diff;
    let _ = writeln!(
        h,
        "<section id=\"changes\"><h2>Changes since the previous bundle</h2>\
         <p>Compared with <code>{}</code> (SHA-256 <code>{}</code>): {} population(s) compared, {} differ; \
         {} finding(s) changed status, {} only in the previous bundle, {} new. \
         Every subject id is in <a href=\"./{CHANGES_JSON}\"><code>{CHANGES_JSON}</code></a>.</p>",
        escape_html(&previous.name),
        escape_html(&previous.sha256),
        d.populations_compared,
        d.populations.len(),
        d.status_changed.len(),
        d.only_old.len(),
        d.only_new.len()
    );
    if d.is_empty() {
        h.push_str(
            "<p>No differences: the same subjects, records and finding statuses.</p></section>\n",
        );
        return;
    }
    if !d.populations.is_empty() {
        h.push_str("<table><thead><tr><th>Population</th><th>Records before</th><th>Records now</th><th>Added</th><th>Removed</th><th>Changed</th></tr></thead><tbody>");
        for p in &d.populations {
            let note = match p.only_in {
                Some(Side::Old) => " (only in the previous bundle)",
                Some(Side::New) => " (new in this bundle)",
                None => "",
            };
            let _ = write!(
                h,
                "<tr><td><code>{}</code>{note}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape_html(&p.population),
                p.old_count,
                p.new_count,
                ids(&p.added),
                ids(&p.removed),
                ids(&p.changed)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    if !(d.status_changed.is_empty() && d.only_old.is_empty() && d.only_new.is_empty()) {
        h.push_str("<table><thead><tr><th>Check</th><th>Subject</th><th>Before</th><th>Now</th><th>Summary</th></tr></thead><tbody>");
        let none = "<span class=\"na\">absent</span>".to_string();
        let status = |s| format!("<span class=\"{}\">{s}</span>", status_class(s));
        for c in &d.status_changed {
            row(
                h,
                &c.check_id,
                &c.subject_id,
                status(c.old_status),
                status(c.new_status),
                &c.summary,
            );
        }
        for o in &d.only_old {
            row(
                h,
                &o.check_id,
                &o.subject_id,
                status(o.status),
                none.clone(),
                &o.summary,
            );
        }
        for o in &d.only_new {
            row(
                h,
                &o.check_id,
                &o.subject_id,
                none.clone(),
                status(o.status),
                &o.summary,
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
}

fn row(h: &mut String, check: &str, subject: &str, before: String, now: String, summary: &str) {
    let _ = write!(
        h,
        "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{before}</td><td>{now}</td><td>{}</td></tr>",
        escape_html(check),
        escape_html(subject),
        escape_html(summary)
    );
}

/// A count, with the ids (up to [`SHOWN`]) behind a disclosure.
fn ids(list: &[String]) -> String {
    if list.is_empty() {
        return "0".into();
    }
    let mut out = format!("<details><summary>{}</summary>", list.len());
    for id in list.iter().take(SHOWN) {
        let _ = write!(out, "<code>{}</code> ", escape_html(id));
    }
    if list.len() > SHOWN {
        let _ = write!(out, "… and {} more", list.len() - SHOWN);
    }
    out.push_str("</details>");
    out
}
