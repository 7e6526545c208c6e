//! Population files as CSV for spreadsheet sampling: RFC 4180 quoting, and cells that a
//! spreadsheet would run as a formula neutralised.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use super::ReportError;

/// Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection"):
/// such a cell gets a leading `'`, which spreadsheets show as text and do not evaluate.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Quotes one cell per RFC 4180 and neutralises formula triggers.
///
/// ```
/// use soc2_evidence::report::csv_cell;
/// assert_eq!(csv_cell("plain"), "plain");
/// assert_eq!(csv_cell("a,b"), "\"a,b\"");
/// assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
/// assert_eq!(csv_cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
/// assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
/// ```
pub fn csv_cell(value: &str) -> String {
    let neutral = if value.starts_with(FORMULA_TRIGGERS) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

fn cell_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Streams the records of a JSON Lines file, skipping blank lines; errors name file and line.
fn records(
    jsonl: &Path,
) -> Result<impl Iterator<Item = Result<serde_json::Value, ReportError>> + '_, ReportError> {
    let read_err = move |source: std::io::Error| ReportError::Io {
        path: jsonl.to_path_buf(),
        source,
    };
    let file = File::open(jsonl).map_err(read_err)?;
    Ok(BufReader::new(file)
        .lines()
        .enumerate()
        .filter_map(move |(i, line)| match line {
            Err(e) => Some(Err(read_err(e))),
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some(
                serde_json::from_str(&l).map_err(|e| ReportError::Malformed {
                    path: jsonl.to_path_buf(),
                    line: i as u64 + 1,
                    message: e.to_string(),
                }),
            ),
        }))
}

/// The CSV columns of the JSON Lines population `jsonl` after `subject_id`: every top-level
/// field of the records' `data`, in the order first seen. Streams the file once.
pub(crate) fn population_columns(jsonl: &Path) -> Result<Vec<String>, ReportError> {
    let mut columns: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for record in records(jsonl)? {
        if let Some(obj) = record?.get("data").and_then(|d| d.as_object()) {
            for k in obj.keys() {
                if seen.insert(k.clone()) {
                    columns.push(k.clone());
                }
            }
        }
    }
    Ok(columns)
}

/// One record's cells, already quoted: `subject_id`, then `columns` of its `data`.
pub(crate) fn population_row(record: &serde_json::Value, columns: &[String]) -> Vec<String> {
    let data = record.get("data");
    std::iter::once(csv_cell(&cell_text(record.get("subject_id"))))
        .chain(
            columns
                .iter()
                .map(|c| csv_cell(&cell_text(data.and_then(|d| d.get(c))))),
        )
        .collect()
}

/// Writes `csv` from the JSON Lines population `jsonl`: one row per record, `subject_id`
/// first, then every top-level field of `data` (nested values as compact JSON). Streams the
/// file twice (once for the columns, once for the rows), so memory stays flat.
pub fn population_to_csv(jsonl: &Path, csv: &Path) -> Result<u64, ReportError> {
    let columns = population_columns(jsonl)?;
    let write_err = |e: std::io::Error| ReportError::Io {
        path: csv.to_path_buf(),
        source: e,
    };
    let mut out = BufWriter::new(File::create(csv).map_err(write_err)?);
    let header: Vec<String> = std::iter::once("subject_id".to_string())
        .chain(columns.iter().cloned())
        .map(|c| csv_cell(&c))
        .collect();
    write!(out, "{}\r\n", header.join(",")).map_err(write_err)?;
    let mut rows = 0u64;
    for record in records(jsonl)? {
        let cells = population_row(&record?, &columns);
        write!(out, "{}\r\n", cells.join(",")).map_err(write_err)?;
        rows += 1;
    }
    out.flush().map_err(write_err)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_injection() {
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("+1-555"), "'+1-555");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("a=b"), "a=b", "only a leading trigger matters");
    }

    #[test]
    fn population_rows_have_every_column() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("p.jsonl");
        std::fs::write(
            &jsonl,
            concat!(
                r#"{"kind":"k","schema_version":1,"subject_id":"u1","data":{"login":"a@x","tags":["x","y"]}}"#,
                "\n",
                r#"{"kind":"k","schema_version":1,"subject_id":"u2","data":{"login":"=cmd|' /C calc'!A0","mfa":false}}"#,
                "\n"
            ),
        )
        .unwrap();
        let csv = dir.path().join("p.csv");
        assert_eq!(population_to_csv(&jsonl, &csv).unwrap(), 2);
        let text = std::fs::read_to_string(&csv).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "subject_id,login,tags,mfa");
        assert_eq!(lines[1], "u1,a@x,\"[\"\"x\"\",\"\"y\"\"]\",");
        assert_eq!(lines[2], "u2,'=cmd|' /C calc'!A0,,false");
    }
}
