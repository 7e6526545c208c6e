//! Parsers for each tool's output, over a shared streaming line reader.
//!
//! Every parser reads a file line by line through [`Lines`], which hashes the bytes (so the
//! file's SHA-256 comes for free), counts lines, skips lines that are not JSON (warnings,
//! shell noise) and gathers multi-line JSON documents (pretty-printed `borg create --json`,
//! AWS CLI output) into one piece. A line that starts like JSON but does not parse is a
//! corrupt file: the parser stops with the file and line.

pub mod aws;
pub mod borg;
pub mod jsonl;
pub mod pgbackrest;
pub mod restic;

use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use super::records::{BackupJob, RestoreJob};

/// Largest multi-line JSON document read whole (a `snapshots --json` array, an AWS export).
pub const MAX_DOCUMENT: usize = 256 * 1024 * 1024;

/// What a parser needs to know about the file and its source.
#[derive(Debug, Clone)]
pub struct FileContext {
    /// Configured source name.
    pub source: String,
    /// Zone for timestamps without an offset.
    pub tz: Tz,
    /// The file as shown in records and errors.
    pub file: String,
    /// A time for runs whose log carries none (a failed restic run): from the file name, else
    /// the file's modification time; with a description of where it came from.
    pub fallback_time: Option<(DateTime<FixedOffset>, String)>,
}

impl FileContext {
    /// `file:line`.
    pub fn at(&self, line: u64) -> String {
        format!("{}:{line}", self.file)
    }
}

/// A parse failure: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line where the problem starts (0 for the whole file).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// An error at `line`.
    pub fn at(line: u64, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// What one file yielded.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Backup runs and snapshots.
    pub jobs: Vec<BackupJob>,
    /// Restores.
    pub restores: Vec<RestoreJob>,
    /// Remarks for provenance (e.g. an AWS export with a `NextToken`).
    pub notes: Vec<String>,
    /// Resources the file describes, with the tool's status for each (pgBackRest stanzas,
    /// including those without backups). Resources named by jobs are added by the collector.
    pub resources: Vec<super::records::Resource>,
}

/// Counters and digest of one file.
#[derive(Debug, Clone, Default)]
pub struct FileStats {
    /// Bytes read.
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Non-JSON lines skipped.
    pub skipped: u64,
    /// JSON documents found.
    pub documents: u64,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
}

/// One JSON document from the file.
#[derive(Debug)]
pub struct Doc {
    /// Line it starts on.
    pub line: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Doc {
    /// Deserialises the document, naming the line of any error.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, ParseError> {
        serde_json::from_slice(&self.bytes).map_err(|e| {
            ParseError::at(
                self.line + e.line().saturating_sub(1) as u64,
                format!("not a valid {what}: {e}"),
            )
        })
    }
}

/// A streaming line reader that hashes and counts what it reads.
pub struct Lines<R> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    hasher: Sha256,
    stats: FileStats,
}

impl<R: Read> Lines<R> {
    /// Wraps a reader.
    pub fn new(reader: R) -> Self {
        Self {
            reader: BufReader::with_capacity(256 * 1024, reader),
            buf: Vec::with_capacity(4096),
            hasher: Sha256::new(),
            stats: FileStats::default(),
        }
    }

    /// Reads the next line; `false` at end of file.
    pub fn advance(&mut self) -> Result<bool, ParseError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| ParseError::at(self.stats.lines + 1, format!("could not read: {e}")))?;
        if n == 0 {
            return Ok(false);
        }
        self.hasher.update(&self.buf);
        self.stats.bytes += n as u64;
        self.stats.lines += 1;
        Ok(true)
    }

    /// The current line, without surrounding whitespace.
    pub fn line(&self) -> &[u8] {
        self.buf.trim_ascii()
    }

    /// The current line's number (1-based).
    pub fn line_no(&self) -> u64 {
        self.stats.lines
    }

    /// Counts the current line as a JSON document handled without [`Lines::document`].
    pub fn count_document(&mut self) {
        self.stats.documents += 1;
    }

    /// Marks the current line as skipped noise.
    pub fn skip(&mut self) {
        self.stats.skipped += 1;
    }

    /// If the current line starts a JSON document, returns the whole document (reading more
    /// lines when it spans several). Otherwise counts the line as skipped and returns `None`.
    pub fn document(&mut self) -> Result<Option<Doc>, ParseError> {
        let start = self.line_no();
        let line = self.line();
        if line.is_empty() {
            return Ok(None);
        }
        if !starts_json(line) {
            self.skip();
            return Ok(None);
        }
        let mut depth = Depth::default();
        depth.feed(line);
        let mut bytes = line.to_vec();
        let opens_block = matches!(line.last(), Some(b'{' | b'[' | b',' | b':'));
        if !depth.closed() && !opens_block {
            // A one-line record cut short: report serde's reading of it.
            let message = match serde_json::from_slice::<serde_json::Value>(line) {
                Err(e) => format!("not valid JSON (cut off or corrupt line): {e}"),
                Ok(_) => "not valid JSON (unbalanced brackets)".to_string(),
            };
            return Err(ParseError::at(start, message));
        }
        while !depth.closed() {
            if !self.advance()? {
                return Err(ParseError::at(
                    start,
                    "JSON document starting here is cut off at the end of the file",
                ));
            }
            let more = self.line();
            depth.feed(more);
            bytes.push(b'\n');
            bytes.extend_from_slice(more);
            if bytes.len() > MAX_DOCUMENT {
                return Err(ParseError::at(
                    start,
                    format!(
                        "JSON document starting here is larger than {} MiB; split the export",
                        MAX_DOCUMENT / (1024 * 1024)
                    ),
                ));
            }
        }
        if depth.depth < 0 {
            return Err(ParseError::at(start, "unbalanced brackets: not valid JSON"));
        }
        self.stats.documents += 1;
        Ok(Some(Doc { line: start, bytes }))
    }

    /// Reads to the end (so the digest covers the whole file) and returns the counters.
    pub fn finish(mut self) -> Result<FileStats, ParseError> {
        while self.advance()? {}
        self.stats.sha256 = hex::encode(self.hasher.finalize());
        Ok(self.stats)
    }
}

/// Whether a line starts a JSON object or array (and is not, e.g., `[0:01] 10% done`).
fn starts_json(line: &[u8]) -> bool {
    let next = line
        .get(1..)
        .and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()));
    match line.first() {
        Some(b'{') => matches!(next, None | Some(b'"' | b'}')),
        Some(b'[') => matches!(next, None | Some(b'{' | b'[' | b']' | b'"')),
        _ => false,
    }
}

/// Bracket depth across lines, aware of strings.
#[derive(Default)]
struct Depth {
    depth: i64,
    in_string: bool,
    escaped: bool,
    started: bool,
}

impl Depth {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    self.started = true;
                }
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
        }
    }

    fn closed(&self) -> bool {
        self.started && self.depth <= 0
    }
}

/// A field as text, for messages.
pub fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_noise_and_digest() {
        let input =
            b"Warning: noise\n{\"a\":1}\n[0:01] 10% done\n{\n  \"b\": \"}{\",\n  \"c\": [1]\n}\n";
        let mut lines = Lines::new(&input[..]);
        let mut docs = Vec::new();
        while lines.advance().unwrap() {
            if let Some(d) = lines.document().unwrap() {
                docs.push(d);
            }
        }
        let stats = lines.finish().unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].line, 4);
        let v: serde_json::Value = docs[1].parse("test").unwrap();
        assert_eq!(v["b"], "}{");
        assert_eq!((stats.lines, stats.skipped), (7, 2));
        assert_eq!(stats.sha256, hex::encode(Sha256::digest(input)));
    }

    #[test]
    fn cut_off_and_corrupt_documents_name_the_line() {
        let mut lines = Lines::new(&b"{\"a\":1}\n{\"b\":\n"[..]);
        lines.advance().unwrap();
        lines.document().unwrap();
        lines.advance().unwrap();
        let err = lines.document().unwrap_err();
        assert_eq!(err.line, 2);
        let mut lines = Lines::new(&b"\n\n{\"a\" 1}\n"[..]);
        for _ in 0..3 {
            lines.advance().unwrap();
        }
        let doc = lines.document().unwrap().unwrap();
        let err = doc.parse::<serde_json::Value>("thing").unwrap_err();
        assert_eq!(err.line, 3);
    }
}
