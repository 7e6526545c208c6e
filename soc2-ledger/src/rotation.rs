//! Key rotation: a ledger's signing key changes only through a record the old key signs.

use serde::{Deserialize, Serialize};
use soc2_bundle::{SigningKey, TrustedKey};

use crate::layout::{rotation_key, KEYS_PREFIX};
use crate::{LedgerError, LedgerStorage};

/// Format tag of [`KeyRotation`].
pub const ROTATION_FORMAT: &str = "soc2-evidence.ledger-key-rotation/1";

/// `keys/<seq>.json`: from run `effective_seq` on, runs are signed by `new_key`. The old key
/// signs the statement, so only the holder of the ledger's key can hand it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// Always [`ROTATION_FORMAT`].
    pub format: String,
    /// The first run signed by the new key.
    pub effective_seq: u64,
    /// The key that signed runs before (OpenSSH public key line).
    pub old_key: String,
    /// The key that signs from `effective_seq` on.
    pub new_key: String,
    /// Armoured SSHSIG by `old_key` over [`KeyRotation::statement`].
    pub signature: String,
}

impl KeyRotation {
    /// The exact bytes the old key signs.
    pub fn statement(effective_seq: u64, old_key: &str, new_key: &str) -> Vec<u8> {
        format!(
            "soc2-evidence ledger key rotation\neffective-seq: {effective_seq}\nold-key: {}\nnew-key: {}\n",
            old_key.trim(),
            new_key.trim()
        )
        .into_bytes()
    }

    /// A rotation to `new_key` (OpenSSH line) signed by `old`.
    pub fn sign(effective_seq: u64, old: &SigningKey, new_key: &str) -> Result<Self, LedgerError> {
        let old_key = old.public_key_openssh();
        let signature = old.sign_armored(&Self::statement(effective_seq, &old_key, new_key))?;
        Ok(Self {
            format: ROTATION_FORMAT.into(),
            effective_seq,
            old_key: old_key.trim().to_string(),
            new_key: new_key.trim().to_string(),
            signature,
        })
    }

    /// Checks the signature; returns why not.
    pub fn verify(&self) -> Result<(), String> {
        if self.format != ROTATION_FORMAT {
            return Err(format!(
                "format {:?}, expected {ROTATION_FORMAT:?}",
                self.format
            ));
        }
        let old = TrustedKey::from_openssh(&self.old_key).map_err(|e| e.to_string())?;
        TrustedKey::from_openssh(&self.new_key).map_err(|e| format!("new key: {e}"))?;
        old.verify_armored(
            self.signature.as_bytes(),
            &Self::statement(self.effective_seq, &self.old_key, &self.new_key),
        )
        .map(|_| ())
    }

    /// The old key, trusted.
    pub fn old_trusted(&self) -> Result<TrustedKey, LedgerError> {
        Ok(TrustedKey::from_openssh(&self.old_key)?)
    }

    /// The new key, trusted.
    pub fn new_trusted(&self) -> Result<TrustedKey, LedgerError> {
        Ok(TrustedKey::from_openssh(&self.new_key)?)
    }
}

/// Every rotation in the ledger, in order of `effective_seq`, each checked: its signature,
/// its name, and that it continues from the previous one. Problems are returned, not raised,
/// so `ledger verify` can name them all.
pub async fn load_rotations(
    storage: &dyn LedgerStorage,
) -> Result<(Vec<KeyRotation>, Vec<String>), LedgerError> {
    let mut out: Vec<KeyRotation> = Vec::new();
    let mut problems = Vec::new();
    for key in storage.list(KEYS_PREFIX).await? {
        let Some(bytes) = storage.get(&key).await? else {
            continue;
        };
        let r: KeyRotation = match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{key}: not a key rotation record: {e}"));
                continue;
            }
        };
        if rotation_key(r.effective_seq) != key {
            problems.push(format!(
                "{key}: says it takes effect at run {}, which its name does not",
                r.effective_seq
            ));
            continue;
        }
        if let Err(why) = r.verify() {
            problems.push(format!("{key}: key rotation does not verify: {why}"));
            continue;
        }
        if let Some(prev) = out.last() {
            if prev.new_key != r.old_key {
                problems.push(format!(
                    "{key}: rotates from a key that is not the one {} rotated to",
                    rotation_key(prev.effective_seq)
                ));
                continue;
            }
        }
        out.push(r);
    }
    Ok((out, problems))
}

/// The key in force for run `seq` according to `rotations` (in order), or `None` when no
/// rotation says (the ledger's first key, which the caller pins).
pub fn key_in_force(rotations: &[KeyRotation], seq: u64) -> Option<&str> {
    match rotations.iter().rposition(|r| r.effective_seq <= seq) {
        Some(i) => Some(&rotations[i].new_key),
        None => rotations.first().map(|r| r.old_key.as_str()),
    }
}
