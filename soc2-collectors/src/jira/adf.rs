//! Atlassian Document Format (ADF) to plain text.
//!
//! Jira Cloud v3 returns descriptions as ADF trees. An auditor reading a change ticket needs
//! its words — the rollback plan, the risk assessment, who was mentioned — so nothing with
//! text in it is dropped: unknown node types are descended into, and leaf nodes fall back to
//! their `text` attribute.

use serde_json::Value;

/// Renders an ADF document (or a plain string, as Jira Data Center's v2 API returns) to
/// plain text. Blocks are separated by blank lines; list items get `- ` or `N. ` markers,
/// nested lists are indented, code blocks are fenced with three backticks.
///
/// ```
/// use serde_json::json;
/// let doc = json!({"type":"doc","version":1,"content":[
///     {"type":"paragraph","content":[{"type":"text","text":"Ship it"}]}]});
/// assert_eq!(soc2_collectors::jira::adf_to_text(&doc), "Ship it");
/// ```
pub fn adf_to_text(doc: &Value) -> String {
    match doc {
        Value::Null => String::new(),
        Value::String(s) => s.trim().to_string(),
        _ => {
            let mut out = String::new();
            blocks(children(doc), 0, &mut out);
            out.trim_end().to_string()
        }
    }
}

fn children(node: &Value) -> &[Value] {
    node.get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn node_type(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or("")
}

fn attr<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    node.get("attrs").and_then(|a| a.get(name))
}

fn attr_str<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    attr(node, name).and_then(Value::as_str)
}

/// Appends a sequence of block nodes, each followed by a blank line, indented by `indent`
/// spaces (for nested list content).
fn blocks(nodes: &[Value], indent: usize, out: &mut String) {
    for node in nodes {
        let text = block(node, indent);
        if text.trim().is_empty() {
            continue;
        }
        out.push_str(&text);
        out.push_str("\n\n");
    }
}

/// Renders one block node (without trailing separator).
fn block(node: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match node_type(node) {
        "paragraph" => indent_lines(&inline(children(node)), &pad),
        "heading" => indent_lines(&inline(children(node)), &pad),
        "bulletList" => list(node, indent, None),
        "orderedList" => {
            let start = attr(node, "order").and_then(Value::as_u64).unwrap_or(1);
            list(node, indent, Some(start))
        }
        "codeBlock" => {
            let code = inline(children(node));
            let lang = attr_str(node, "language").unwrap_or("");
            indent_lines(&format!("```{lang}\n{code}\n```"), &pad)
        }
        "blockquote" => {
            let mut inner = String::new();
            blocks(children(node), 0, &mut inner);
            let quoted: Vec<String> = inner
                .trim_end()
                .lines()
                .map(|l| format!("> {l}").trim_end().to_string())
                .collect();
            indent_lines(&quoted.join("\n"), &pad)
        }
        "rule" => format!("{pad}---"),
        "table" => {
            let rows: Vec<String> = children(node)
                .iter()
                .map(|row| {
                    children(row)
                        .iter()
                        .map(|cell| {
                            let mut c = String::new();
                            blocks(children(cell), 0, &mut c);
                            c.trim().replace("\n\n", " ").replace('\n', " ")
                        })
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .collect();
            indent_lines(&rows.join("\n"), &pad)
        }
        "mediaSingle" | "mediaGroup" | "media" | "mediaInline" => {
            let mut names = Vec::new();
            collect_media(node, &mut names);
            names
                .iter()
                .map(|n| format!("{pad}[attachment: {n}]"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        // Inline content at block level (or an unknown block holding inline nodes).
        "text" | "mention" | "hardBreak" | "emoji" | "inlineCard" | "date" | "status" => {
            indent_lines(&inline(std::slice::from_ref(node)), &pad)
        }
        // panel, expand, nestedExpand, layoutSection, layoutColumn, decisionList, taskList …:
        // containers whose children carry the text.
        _ => {
            let kids = children(node);
            if kids.is_empty() {
                return attr_str(node, "text")
                    .map(|t| format!("{pad}{t}"))
                    .unwrap_or_default();
            }
            if kids.iter().all(is_inline) {
                return indent_lines(&inline(kids), &pad);
            }
            let mut inner = String::new();
            blocks(kids, indent, &mut inner);
            inner.trim_end().to_string()
        }
    }
}

fn is_inline(node: &Value) -> bool {
    matches!(
        node_type(node),
        "text" | "mention" | "hardBreak" | "emoji" | "inlineCard" | "date" | "status"
    )
}

fn collect_media(node: &Value, names: &mut Vec<String>) {
    if matches!(node_type(node), "media" | "mediaInline") {
        let name = attr_str(node, "alt")
            .or_else(|| attr_str(node, "id"))
            .unwrap_or("media");
        names.push(name.to_string());
    }
    for c in children(node) {
        collect_media(c, names);
    }
}

/// A bullet (`start == None`) or ordered list; items' first lines carry the marker, their
/// continuation lines and nested lists are indented under it.
fn list(node: &Value, indent: usize, start: Option<u64>) -> String {
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    for (i, item) in children(node).iter().enumerate() {
        let marker = match start {
            Some(s) => format!("{}. ", s + i as u64),
            None => "- ".to_string(),
        };
        let inner_indent = indent + marker.len();
        let mut body = String::new();
        for child in children(item) {
            let text = block(child, inner_indent);
            if text.trim().is_empty() {
                continue;
            }
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(&text);
        }
        // The first line's indentation is replaced by the marker.
        let body = body
            .strip_prefix(&" ".repeat(inner_indent))
            .unwrap_or(body.trim_start());
        lines.push(format!("{pad}{marker}{body}"));
    }
    lines.join("\n")
}

fn indent_lines(text: &str, pad: &str) -> String {
    if pad.is_empty() {
        return text.to_string();
    }
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders inline nodes: text with code and link marks, mentions, hard breaks, emoji, cards,
/// dates and status lozenges.
fn inline(nodes: &[Value]) -> String {
    let mut out = String::new();
    for node in nodes {
        match node_type(node) {
            "text" => {
                let text = node.get("text").and_then(Value::as_str).unwrap_or("");
                let marks = node
                    .get("marks")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let mut rendered = text.to_string();
                if marks.iter().any(|m| node_type(m) == "code") {
                    rendered = format!("`{rendered}`");
                }
                if let Some(href) = marks
                    .iter()
                    .find(|m| node_type(m) == "link")
                    .and_then(|m| attr_str(m, "href"))
                {
                    if href != text {
                        rendered = format!("{rendered} ({href})");
                    }
                }
                out.push_str(&rendered);
            }
            "mention" => {
                let text = attr_str(node, "text").unwrap_or("");
                if text.is_empty() {
                    out.push('@');
                    out.push_str(attr_str(node, "id").unwrap_or("unknown"));
                } else if text.starts_with('@') {
                    out.push_str(text);
                } else {
                    out.push('@');
                    out.push_str(text);
                }
            }
            "hardBreak" => out.push('\n'),
            "emoji" => out.push_str(
                attr_str(node, "text")
                    .or_else(|| attr_str(node, "shortName"))
                    .unwrap_or(""),
            ),
            "inlineCard" | "blockCard" | "embedCard" => {
                out.push_str(attr_str(node, "url").unwrap_or(""))
            }
            "date" => {
                let ts = attr(node, "timestamp").and_then(|t| match t {
                    Value::String(s) => s.parse::<i64>().ok(),
                    Value::Number(n) => n.as_i64(),
                    _ => None,
                });
                if let Some(d) = ts.and_then(chrono::DateTime::from_timestamp_millis) {
                    out.push_str(&d.format("%Y-%m-%d").to_string());
                }
            }
            "status" => out.push_str(attr_str(node, "text").unwrap_or("")),
            _ => {
                // An unknown inline node: keep whatever text it has.
                if let Some(t) = node.get("text").and_then(Value::as_str) {
                    out.push_str(t);
                } else if let Some(t) = attr_str(node, "text") {
                    out.push_str(t);
                } else {
                    out.push_str(&inline(children(node)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(text: &str) -> Value {
        json!({"type": "text", "text": text})
    }
    fn p(content: Vec<Value>) -> Value {
        json!({"type": "paragraph", "content": content})
    }
    fn li(content: Vec<Value>) -> Value {
        json!({"type": "listItem", "content": content})
    }

    #[test]
    fn paragraphs_headings_lists_code_mentions_links() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [t("Rollout plan")]},
            p(vec![
                t("Owner: "),
                json!({"type": "mention", "attrs": {"id": "712020:0a1b2c3d-carol", "text": "@Carol Schmidt", "accessLevel": ""}}),
                json!({"type": "hardBreak"}),
                t("Run "),
                json!({"type": "text", "text": "make deploy", "marks": [{"type": "code"}]}),
                t(" then see "),
                json!({"type": "text", "text": "the runbook", "marks": [{"type": "link", "attrs": {"href": "https://acme.atlassian.net/wiki/x/AbC"}}]}),
            ]),
            {"type": "bulletList", "content": [
                li(vec![p(vec![t("Back up the database")])]),
                li(vec![
                    p(vec![t("Deploy")]),
                    json!({"type": "orderedList", "attrs": {"order": 1}, "content": [
                        li(vec![p(vec![t("canary")])]),
                        li(vec![p(vec![t("everyone")])]),
                    ]}),
                ]),
            ]},
            {"type": "orderedList", "attrs": {"order": 3}, "content": [li(vec![p(vec![t("Verify")])])]},
            {"type": "codeBlock", "attrs": {"language": "sql"}, "content": [t("ALTER TABLE t ADD c int;\nCOMMIT;")]},
            {"type": "mention", "attrs": {"id": "557058:abc"}},
        ]});
        let text = adf_to_text(&doc);
        let expected = "Rollout plan\n\n\
            Owner: @Carol Schmidt\nRun `make deploy` then see the runbook (https://acme.atlassian.net/wiki/x/AbC)\n\n\
            - Back up the database\n- Deploy\n  1. canary\n  2. everyone\n\n\
            3. Verify\n\n\
            ```sql\nALTER TABLE t ADD c int;\nCOMMIT;\n```\n\n\
            @557058:abc";
        assert_eq!(text, expected);
    }

    #[test]
    fn null_string_and_unknown_nodes() {
        assert_eq!(adf_to_text(&Value::Null), "");
        assert_eq!(adf_to_text(&json!("h1. wiki markup")), "h1. wiki markup");
        // A panel and an expand keep their text; a status lozenge and emoji keep theirs; a
        // mention whose text lacks the @ gets one.
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "panel", "attrs": {"panelType": "warning"}, "content": [p(vec![t("Risk: high")])]},
            {"type": "expand", "attrs": {"title": "Details"}, "content": [p(vec![
                json!({"type": "status", "attrs": {"text": "BLOCKED", "color": "red"}}),
                t(" "),
                json!({"type": "emoji", "attrs": {"shortName": ":warning:", "text": "⚠️"}}),
                t(" "),
                json!({"type": "mention", "attrs": {"id": "x", "text": "Bob"}}),
            ])]},
            {"type": "rule"},
            {"type": "blockquote", "content": [p(vec![t("quoted")])]},
            {"type": "table", "content": [
                {"type": "tableRow", "content": [
                    {"type": "tableHeader", "content": [p(vec![t("Env")])]},
                    {"type": "tableHeader", "content": [p(vec![t("When")])]}]},
                {"type": "tableRow", "content": [
                    {"type": "tableCell", "content": [p(vec![t("prod")])]},
                    {"type": "tableCell", "content": [p(vec![json!({"type": "date", "attrs": {"timestamp": "1773273600000"}})])]}]}
            ]},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "abc", "type": "file", "alt": "diagram.png"}}]},
            {"type": "someFutureNode", "attrs": {"text": "future text"}},
        ]});
        assert_eq!(
            adf_to_text(&doc),
            "Risk: high\n\nBLOCKED ⚠️ @Bob\n\n---\n\n> quoted\n\nEnv | When\nprod | 2026-03-12\n\n[attachment: diagram.png]\n\nfuture text"
        );
    }
}
