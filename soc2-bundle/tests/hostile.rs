//! Crafted hostile archives: each must be rejected, naming the entry, without panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;

use soc2_bundle::{verify_bundle, Limits, Problem, TrustedKey, VerifyOptions, VerifyReport};
use zip::write::SimpleFileOptions;

fn verify(zip: &Path, trust: &TrustedKey, limits: Limits) -> VerifyReport {
    let opts = VerifyOptions {
        limits,
        ..Default::default()
    };
    verify_bundle(zip, trust, &opts).unwrap()
}

/// A valid bundle's entries plus extra raw entries written with the zip crate.
fn with_extra(
    dir: &Path,
    name: &str,
    extra: impl FnOnce(&mut zip::ZipWriter<fs::File>),
) -> (TrustedKey, std::path::PathBuf, String) {
    let (key, zip, s) = common::build(dir);
    let entries = common::read_entries(&zip);
    let dst = dir.join(format!("{name}.zip"));
    let mut w = zip::ZipWriter::new(fs::File::create(&dst).unwrap());
    let o = SimpleFileOptions::default();
    for (n, c) in &entries {
        w.start_file(n.as_str(), o).unwrap();
        w.write_all(c).unwrap();
    }
    extra(&mut w);
    w.finish().unwrap();
    (key.trusted_key(), dst, s.root)
}

fn add(w: &mut zip::ZipWriter<fs::File>, name: &str, data: &[u8]) {
    w.start_file(name, SimpleFileOptions::default()).unwrap();
    w.write_all(data).unwrap();
}

/// Replaces every occurrence of `from` with `to` (same length) in the file's bytes.
fn patch_bytes(path: &Path, from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut b = fs::read(path).unwrap();
    let mut i = 0;
    let mut n = 0;
    while i + from.len() <= b.len() {
        if &b[i..i + from.len()] == from {
            b[i..i + from.len()].copy_from_slice(to);
            n += 1;
        }
        i += 1;
    }
    assert!(n > 0, "pattern not found");
    fs::write(path, b).unwrap();
}

/// Edits the fixed part of the local (30 bytes) and central (46 bytes) headers of `name`.
fn patch_headers(path: &Path, name: &[u8], local: impl Fn(&mut [u8]), central: impl Fn(&mut [u8])) {
    let mut b = fs::read(path).unwrap();
    let mut i = 0;
    while i + 4 <= b.len() {
        if b[i..i + 4] == [0x50, 0x4b, 0x03, 0x04]
            && b.get(i + 30..i + 30 + name.len()) == Some(name)
        {
            local(&mut b[i..i + 30]);
        }
        if b[i..i + 4] == [0x50, 0x4b, 0x01, 0x02]
            && b.get(i + 46..i + 46 + name.len()) == Some(name)
        {
            central(&mut b[i..i + 46]);
        }
        i += 1;
    }
    fs::write(path, b).unwrap();
}

#[test]
fn absolute_path() {
    let t = tempfile::tempdir().unwrap();
    let (k, z, _) = with_extra(t.path(), "abs", |w| add(w, "/etc/cron.d/x", b"x"));
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems.contains(&Problem::AbsolutePath {
            entry: "/etc/cron.d/x".into()
        }),
        "{r}"
    );
}

#[test]
fn parent_traversal() {
    let t = tempfile::tempdir().unwrap();
    let name = "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/../../evil";
    let (k, z, _) = with_extra(t.path(), "dotdot", |w| add(w, name, b"x"));
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems
            .contains(&Problem::ParentTraversal { entry: name.into() }),
        "{r}"
    );
}

#[test]
fn backslash() {
    let t = tempfile::tempdir().unwrap();
    let (k, z, _) = with_extra(t.path(), "bs", |w| add(w, "x\\..\\evil", b"x"));
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems.contains(&Problem::Backslash {
            entry: "x\\..\\evil".into()
        }),
        "{r}"
    );
}

#[test]
fn duplicate_entry() {
    let t = tempfile::tempdir().unwrap();
    let (k, z, root) = with_extra(t.path(), "dup", |w| {
        add(
            w,
            "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/zzzA",
            b"one",
        );
        add(
            w,
            "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/zzzB",
            b"two",
        );
    });
    patch_bytes(&z, b"data/zzzB", b"data/zzzA");
    let r = verify(&z, &k, Limits::default());
    let entry = format!("{root}/data/zzzA");
    assert!(
        r.problems.contains(&Problem::DuplicateEntry { entry }),
        "{r}"
    );
}

#[test]
fn non_utf8_name() {
    let t = tempfile::tempdir().unwrap();
    let (k, z, _) = with_extra(t.path(), "nonutf8", |w| {
        add(
            w,
            "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/qqqX",
            b"x",
        )
    });
    patch_bytes(&z, b"data/qqqX", b"data/qqq\xff");
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::NonUtf8Name { entry } if entry.contains("qqq"))),
        "{r}"
    );
}

#[test]
fn symlink() {
    let t = tempfile::tempdir().unwrap();
    let name = "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/link";
    let (k, z, _) = with_extra(t.path(), "link", |w| {
        w.add_symlink(name, "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
    });
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems
            .contains(&Problem::Symlink { entry: name.into() }),
        "{r}"
    );
}

#[test]
fn encrypted_entry() {
    let t = tempfile::tempdir().unwrap();
    let name = "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/secret";
    let (k, z, _) = with_extra(t.path(), "enc", |w| add(w, name, b"x"));
    patch_headers(&z, name.as_bytes(), |l| l[6] |= 1, |c| c[8] |= 1);
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems
            .contains(&Problem::Encrypted { entry: name.into() }),
        "{r}"
    );
}

#[test]
fn unsupported_compression() {
    let t = tempfile::tempdir().unwrap();
    let name = "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/zstd";
    let (k, z, _) = with_extra(t.path(), "zstd", |w| add(w, name, b"x"));
    patch_headers(&z, name.as_bytes(), |l| l[8] = 93, |c| c[10] = 93);
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems.contains(&Problem::UnsupportedCompression {
            entry: name.into(),
            method: 93
        }),
        "{r}"
    );
}

#[test]
fn real_size_differs_from_declared() {
    let t = tempfile::tempdir().unwrap();
    let (key, zip, s) = common::build(t.path());
    let name = format!("{}/data/findings.jsonl", s.root);
    // Declare 10 bytes fewer than the entry really holds (central directory size field).
    patch_headers(
        &zip,
        name.as_bytes(),
        |_| {},
        |c| {
            let n = u32::from_le_bytes(c[24..28].try_into().unwrap()) - 10;
            c[24..28].copy_from_slice(&n.to_le_bytes());
        },
    );
    let r = verify(&zip, &key.trusted_key(), Limits::default());
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::SizeMismatch { entry, .. } if *entry == name)),
        "{r}"
    );
}

#[test]
fn limits_total_count_ratio() {
    let t = tempfile::tempdir().unwrap();
    let name = "soc2-evidence-acme-corp-2026-01-01-2026-06-30/data/zeros";
    let (k, z, _) = with_extra(t.path(), "bomb", |w| add(w, name, &vec![0u8; 4 << 20]));
    let r = verify(
        &z,
        &k,
        Limits {
            max_total_uncompressed: 1 << 20,
            ..Limits::default()
        },
    );
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::TooLarge { .. })),
        "{r}"
    );
    let r = verify(
        &z,
        &k,
        Limits {
            max_entries: 3,
            ..Limits::default()
        },
    );
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::TooManyEntries { .. })),
        "{r}"
    );
    let r = verify(
        &z,
        &k,
        Limits {
            max_compression_ratio: 100,
            ..Limits::default()
        },
    );
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::CompressionRatio { entry, .. } if entry == name)),
        "{r}"
    );
}

#[test]
fn entry_outside_root_and_not_a_zip() {
    let t = tempfile::tempdir().unwrap();
    let (k, z, _) = with_extra(t.path(), "outside", |w| add(w, "README.txt", b"x"));
    let r = verify(&z, &k, Limits::default());
    assert!(
        r.problems.contains(&Problem::OutsideRoot {
            entry: "README.txt".into()
        }),
        "{r}"
    );

    let junk = t.path().join("junk.zip");
    fs::write(&junk, b"this is not a zip file at all, not even close").unwrap();
    let r = verify(&junk, &k, Limits::default());
    assert!(matches!(r.problems[..], [Problem::NotAZip { .. }]), "{r}");

    // Truncated archive.
    let b = fs::read(&z).unwrap();
    let cut = t.path().join("cut.zip");
    fs::write(&cut, &b[..b.len() / 2]).unwrap();
    let r = verify(&cut, &k, Limits::default());
    assert!(!r.is_ok());

    // A missing file is an Err (I/O on the zip itself), not a report.
    assert!(verify_bundle(&t.path().join("nope.zip"), &k, &VerifyOptions::default()).is_err());
}

#[test]
fn report_is_json_and_display() {
    let t = tempfile::tempdir().unwrap();
    let (k, z, _) = with_extra(t.path(), "json", |w| add(w, "/abs", b"x"));
    let r = verify(&z, &k, Limits::default());
    let j = serde_json::to_string(&r).unwrap();
    assert!(j.contains("\"kind\":\"absolute_path\""), "{j}");
    let back: VerifyReport = serde_json::from_str(&j).unwrap();
    assert_eq!(back, r);
    assert!(r.to_string().contains("/abs: absolute path"), "{r}");
}
