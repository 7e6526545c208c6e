//! The verifier never panics: not on arbitrary bytes, not on randomly mutated valid bundles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use soc2_bundle::{verify_bundle, TrustedKey, VerifyOptions};

struct Fixture {
    bytes: Vec<u8>,
    trust: TrustedKey,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (key, zip, _) = common::build(dir.path());
        // Keep only the bytes: a static is never dropped, so the directory goes now.
        let bytes = std::fs::read(&zip).unwrap();
        drop(dir);
        Fixture {
            bytes,
            trust: key.trusted_key(),
        }
    })
}

fn check(bytes: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let p: PathBuf = dir.path().join("b.zip");
    std::fs::write(&p, bytes).unwrap();
    let r = verify_bundle(&p, &fixture().trust, &VerifyOptions::default()).unwrap();
    let _ = r.to_string();
    r.is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(!check(&bytes));
    }

    #[test]
    fn mutated_bundles_never_panic(
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let f = fixture();
        let mut b = f.bytes.clone();
        for (i, v) in &flips {
            let i = i.index(b.len());
            b[i] ^= v | 1;
        }
        if let Some(c) = cut {
            b.truncate(c.index(b.len()));
        }
        // Any mutation either breaks verification or hits bytes nothing depends on
        // (e.g. the zip timestamp); the point is that it never panics.
        let _ = check(&b);
    }
}

#[test]
fn fixture_verifies() {
    assert!(check(&fixture().bytes));
}
