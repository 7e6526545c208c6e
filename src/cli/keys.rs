//! `soc2-evidence keygen`, and loading the signing key for `bundle`.

use std::path::Path;

use soc2_bundle::{allowed_signers_line, pub_path, SigningKey};

use super::{CliError, EXIT_OK};

/// Environment variable holding the passphrase of an encrypted signing key.
pub const PASSPHRASE_ENV: &str = "SOC2_EVIDENCE_KEY_PASSPHRASE";

/// Writes a new Ed25519 key pair: `out` (private, mode 0600) and `out.pub`. With the
/// passphrase variable set, the private key is encrypted with it (bcrypt-pbkdf, as ssh-keygen).
pub fn keygen(out: &Path, principal: &str, quiet: bool) -> Result<u8, CliError> {
    let public = pub_path(out);
    for p in [out, public.as_path()] {
        if p.exists() {
            return Err(CliError::Other(format!(
                "{} already exists: refusing to overwrite a key",
                p.display()
            )));
        }
    }
    let key = SigningKey::generate();
    match std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()) {
        Some(pass) => key.write_encrypted(out, &pass),
        None => key.write(out),
    }
    .map_err(|e| CliError::Other(e.to_string()))?;
    if !quiet {
        println!("private key: {} (keep it secret)", out.display());
        println!("public key:  {}", public.display());
        println!("fingerprint: {}", key.fingerprint());
        println!("\nGive your auditor this allowed_signers line:");
        println!("{}", allowed_signers_line(principal, &key));
    }
    Ok(EXIT_OK)
}

/// Loads a signing key (ours or one made by `ssh-keygen -t ed25519`); an encrypted key takes
/// its passphrase from [`PASSPHRASE_ENV`].
pub fn load_signing_key(path: &Path) -> Result<SigningKey, CliError> {
    let pass = std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty());
    SigningKey::load(path, pass.as_deref()).map_err(|e| {
        let hint = if pass.is_none() {
            format!(" (if the key is passphrase-protected, set {PASSPHRASE_ENV})")
        } else {
            String::new()
        };
        CliError::Other(format!("{e}{hint}"))
    })
}
