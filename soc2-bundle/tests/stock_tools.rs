//! End-to-end proof with stock tools: unzip, ssh-keygen -Y verify, sha256sum -c --strict and
//! the Library of Congress validator bagit.py; then tampering, which our verifier must catch.
//! A machine without these tools skips the tests that need them (`soc2_sample::stock_tools`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

/// Entries of an archive, as (name, content).
type Entries = Vec<(String, Vec<u8>)>;

use soc2_bundle::{allowed_signers_line, verify_bundle, Problem, SigningKey, VerifyOptions};
use soc2_sample::stock_tools::{self, StockTool};

/// Everything the bundle test runs.
const TOOLS: [StockTool; 4] = [
    StockTool::Unzip,
    StockTool::SshKeygen,
    StockTool::Sha256sum,
    StockTool::BagitPy,
];

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("spawn");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn ssh_verify(bag: &Path, allowed: &Path) -> (bool, String) {
    let tm = fs::File::open(bag.join("tagmanifest-sha256.txt")).unwrap();
    run(Command::new("ssh-keygen")
        .current_dir(bag)
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args([
            "-I",
            "audit@acme.example",
            "-n",
            "soc2-evidence",
            "-s",
            "signatures/tagmanifest-sha256.txt.sshsig",
        ])
        .stdin(tm))
}

#[test]
fn stock_tools_accept_bundle_and_verifier_rejects_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, zip, summary) = common::build(tmp.path());
    let allowed = tmp.path().join("allowed_signers");
    fs::write(
        &allowed,
        format!("{}\n", allowed_signers_line("audit@acme.example", &key)),
    )
    .unwrap();
    let other = SigningKey::generate();

    // Without the stock tools only their part is skipped: the tampering cases need only our
    // verifier, and a fresh machine should still run them.
    if stock_tools::find(TOOLS).is_some() {
        stock_tools_accept(tmp.path(), &zip, &summary.root, &allowed, &other);
    }

    // Our verifier agrees, with allowed_signers.
    let trust = soc2_bundle::TrustedKey::from_file(&allowed).unwrap();
    let r = verify_bundle(&zip, &trust, &VerifyOptions::default()).unwrap();
    assert!(r.is_ok(), "{r}");

    tamper_cases(tmp.path(), &zip, &summary.root, &trust, &other);
}

/// unzip, ssh-keygen, sha256sum and bagit.py all accept the bundle, and ssh-keygen rejects a
/// signature by `other`.
fn stock_tools_accept(dir: &Path, zip: &Path, root: &str, allowed: &Path, other: &SigningKey) {
    // unzip
    let x = dir.join("x");
    let (ok, out) = run(Command::new("unzip").arg("-q").arg(zip).arg("-d").arg(&x));
    assert!(ok, "unzip: {out}");
    let tops: Vec<_> = fs::read_dir(&x).unwrap().collect();
    assert_eq!(tops.len(), 1, "exactly one top-level folder");
    let bag = x.join(root);

    // ssh-keygen -Y verify
    let (ok, out) = ssh_verify(&bag, allowed);
    assert!(ok, "ssh-keygen -Y verify: {out}");

    // sha256sum -c --strict over both manifests
    let (ok, out) = run(Command::new("sha256sum").current_dir(&bag).args([
        "-c",
        "--strict",
        "tagmanifest-sha256.txt",
        "manifest-sha256.txt",
    ]));
    assert!(ok, "sha256sum: {out}");

    // bagit.py --validate
    let (ok, out) = run(Command::new("bagit.py").arg("--validate").arg(&bag));
    assert!(ok, "bagit.py: {out}");

    // Nothing outside the manifests but the tag manifest and its signature.
    let manifest = fs::read_to_string(bag.join("manifest-sha256.txt")).unwrap();
    let tagmanifest = fs::read_to_string(bag.join("tagmanifest-sha256.txt")).unwrap();
    let mut listed: Vec<String> = manifest
        .lines()
        .chain(tagmanifest.lines())
        .map(|l| l[66..].to_string())
        .collect();
    listed.push("tagmanifest-sha256.txt".into());
    listed.push("signatures/tagmanifest-sha256.txt.sshsig".into());
    listed.sort();
    let mut on_disk = Vec::new();
    walk(&bag, &bag, &mut on_disk);
    on_disk.sort();
    assert_eq!(listed, on_disk);

    // A re-signature by another key fails ssh-keygen as well.
    let sig = other.sign_armored(tagmanifest.as_bytes()).unwrap();
    fs::write(bag.join("signatures/tagmanifest-sha256.txt.sshsig"), &sig).unwrap();
    let (ok, _) = ssh_verify(&bag, allowed);
    assert!(!ok, "ssh-keygen must reject a signature by another key");
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(base, &p, out);
        } else {
            out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
        }
    }
}

fn tamper_cases(
    dir: &Path,
    zip: &Path,
    root: &str,
    trust: &soc2_bundle::TrustedKey,
    other: &SigningKey,
) {
    let users = format!("{root}/data/okta/users.jsonl");
    let check = |name: &str, f: &dyn Fn(&mut Entries), expect: &dyn Fn(&Problem) -> bool| {
        let dst = dir.join(format!("{name}.zip"));
        common::rewrite(zip, &dst, f);
        let r = verify_bundle(&dst, trust, &VerifyOptions::default()).unwrap();
        assert!(!r.is_ok(), "{name}: tampered bundle verified");
        assert!(
            r.problems.iter().any(expect),
            "{name}: unexpected problems: {r}"
        );
    };

    // The untouched rewrite still verifies (the helper itself does not break bundles).
    let same = dir.join("same.zip");
    common::rewrite(zip, &same, |_| {});
    assert!(verify_bundle(&same, trust, &VerifyOptions::default())
        .unwrap()
        .is_ok());

    check(
        "one-byte",
        &|e| {
            let c = &mut e.iter_mut().find(|(n, _)| *n == users).unwrap().1;
            c[10] ^= 0x01;
        },
        &|p| matches!(p, Problem::DigestMismatch { entry, .. } if *entry == users),
    );
    check(
        "added",
        &|e| e.push((format!("{root}/data/okta/extra.jsonl"), b"{}\n".to_vec())),
        &|p| matches!(p, Problem::ExtraFile { entry } if entry.ends_with("data/okta/extra.jsonl")),
    );
    check(
        "added-tag",
        &|e| e.push((format!("{root}/notes.txt"), b"hi\n".to_vec())),
        &|p| matches!(p, Problem::ExtraFile { entry } if entry.ends_with("/notes.txt")),
    );
    check(
        "removed",
        &|e| e.retain(|(n, _)| *n != users),
        &|p| matches!(p, Problem::MissingFile { entry } if *entry == users),
    );
    check(
        "bag-info",
        &|e| {
            let c = &mut e
                .iter_mut()
                .find(|(n, _)| n.ends_with("/bag-info.txt"))
                .unwrap()
                .1;
            let s = String::from_utf8(c.clone())
                .unwrap()
                .replace("Acme Corp", "Evil Corp");
            *c = s.into_bytes();
        },
        &|p| matches!(p, Problem::DigestMismatch { entry, .. } if entry.ends_with("/bag-info.txt")),
    );
    check(
        "resigned",
        &|e| {
            let tm = e
                .iter()
                .find(|(n, _)| n.ends_with("/tagmanifest-sha256.txt"))
                .unwrap()
                .1
                .clone();
            let sig = other.sign_armored(&tm).unwrap();
            e.iter_mut()
                .find(|(n, _)| n.ends_with(".sshsig"))
                .unwrap()
                .1 = sig.into_bytes();
        },
        &|p| matches!(p, Problem::UntrustedSigner { .. }),
    );
    check(
        "no-signature",
        &|e| e.retain(|(n, _)| !n.ends_with(".sshsig")),
        &|p| matches!(p, Problem::MissingFile { entry } if entry.ends_with(".sshsig")),
    );
}

#[test]
fn ssh_keygen_keys_are_interchangeable() {
    if stock_tools::find([StockTool::SshKeygen]).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // An existing passphrase-protected ssh-keygen key signs bundles.
    let k = tmp.path().join("id_ed25519");
    let (ok, out) = run(Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "correct horse",
            "-C",
            "ci",
            "-f",
        ])
        .arg(&k));
    assert!(ok, "{out}");
    let key = SigningKey::load(&k, Some("correct horse")).unwrap();
    let (ok, fp) = run(Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(soc2_bundle::pub_path(&k)));
    assert!(ok);
    assert!(
        fp.contains(&key.fingerprint()),
        "{fp} vs {}",
        key.fingerprint()
    );
    let run_dir = common::make_run_dir(tmp.path());
    let zip = tmp.path().join("b.zip");
    soc2_bundle::build_bundle(&run_dir, &key, &common::meta(), &zip, &Default::default()).unwrap();
    let trust = soc2_bundle::TrustedKey::from_file(&soc2_bundle::pub_path(&k)).unwrap();
    assert!(verify_bundle(&zip, &trust, &VerifyOptions::default())
        .unwrap()
        .is_ok());

    // A key we write is usable by ssh-keygen -Y sign, and ssh-keygen reads its .pub.
    let ours = tmp.path().join("signer");
    let key = SigningKey::generate();
    key.write(&ours).unwrap();
    let msg = tmp.path().join("msg");
    fs::write(&msg, "hello").unwrap();
    let (ok, out) = run(Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "soc2-evidence", "-f"])
        .arg(&ours)
        .arg(&msg));
    assert!(ok, "ssh-keygen -Y sign with our key: {out}");
    let (ok, fp) = run(Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(soc2_bundle::pub_path(&ours)));
    assert!(ok && fp.contains(&key.fingerprint()), "{fp}");
}
