//! Ed25519 signing keys in OpenSSH format, trusted (pinned) public keys, and SSHSIG helpers.
//!
//! Keys are interchangeable with `ssh-keygen -t ed25519`: a key written here can be used by
//! `ssh-keygen -Y sign`, and an existing (optionally passphrase-protected) `ssh-keygen` key can
//! sign bundles.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::error::BundleError;

/// The SSHSIG namespace every bundle signature is made in.
pub const SIGNATURE_NAMESPACE: &str = "soc2-evidence";

/// The comment written into newly generated keys.
const DEFAULT_COMMENT: &str = "soc2-evidence";

/// An Ed25519 private key used to sign bundles.
///
/// `Debug` prints only the public fingerprint; the private half never appears in logs or errors.
#[derive(Clone)]
pub struct SigningKey {
    key: PrivateKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh Ed25519 key from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// Only if the operating system cannot provide randomness, which nothing else could
    /// recover from either.
    pub fn generate() -> Self {
        let mut rng = ssh_key::rand_core::OsRng;
        #[allow(clippy::expect_used)]
        let mut key = PrivateKey::random(&mut rng, Algorithm::Ed25519)
            .expect("Ed25519 key generation from the OS random number generator failed");
        key.set_comment(DEFAULT_COMMENT);
        Self { key }
    }

    /// Loads an OpenSSH private key (as written by `ssh-keygen -t ed25519` or [`write`](Self::write)).
    ///
    /// A passphrase-protected key needs `passphrase`; an unprotected key ignores it.
    pub fn load(path: &Path, passphrase: Option<&str>) -> Result<Self, BundleError> {
        let text = fs::read(path).map_err(|e| BundleError::io(path, e))?;
        let key = PrivateKey::from_openssh(&text).map_err(|e| BundleError::KeyFormat {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(BundleError::UnsupportedKeyAlgorithm {
                path: path.to_path_buf(),
                algorithm: key.algorithm().to_string(),
            });
        }
        let key = if key.is_encrypted() {
            let pass = passphrase.ok_or_else(|| BundleError::PassphraseRequired {
                path: path.to_path_buf(),
            })?;
            key.decrypt(pass)
                .map_err(|_| BundleError::WrongPassphrase {
                    path: path.to_path_buf(),
                })?
        } else {
            key
        };
        Ok(Self { key })
    }

    /// Writes the private key to `path` (OpenSSH format, unencrypted, mode 0600 on Unix) and the
    /// public key to `path` + `.pub`. Refuses to overwrite either file.
    pub fn write(&self, path: &Path) -> Result<(), BundleError> {
        self.write_inner(path, None)
    }

    /// Like [`write`](Self::write), but encrypts the private key with `passphrase`
    /// (bcrypt-pbkdf + aes256-ctr, the `ssh-keygen` default).
    pub fn write_encrypted(&self, path: &Path, passphrase: &str) -> Result<(), BundleError> {
        self.write_inner(path, Some(passphrase))
    }

    fn write_inner(&self, path: &Path, passphrase: Option<&str>) -> Result<(), BundleError> {
        let pub_path = pub_path(path);
        for p in [path, pub_path.as_path()] {
            if p.symlink_metadata().is_ok() {
                return Err(BundleError::KeyExists {
                    path: p.to_path_buf(),
                });
            }
        }
        let key = match passphrase {
            Some(pass) => {
                let mut rng = ssh_key::rand_core::OsRng;
                self.key
                    .encrypt(&mut rng, pass)
                    .map_err(|e| BundleError::Signing(format!("encrypting the key: {e}")))?
            }
            None => self.key.clone(),
        };
        let pem = key
            .to_openssh(LineEnding::LF)
            .map_err(|e| BundleError::Signing(format!("encoding the key: {e}")))?;
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| BundleError::io(path, e))?;
        f.write_all(pem.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| BundleError::io(path, e))?;
        let mut line = self.public_key_openssh();
        line.push('\n');
        fs::write(&pub_path, line).map_err(|e| BundleError::io(&pub_path, e))?;
        Ok(())
    }

    /// The public key's SHA-256 fingerprint exactly as `ssh-keygen -l` prints it
    /// (`SHA256:` followed by unpadded base64).
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The public key as one OpenSSH line (`ssh-ed25519 AAAA... comment`), the content of `NAME.pub`.
    pub fn public_key_openssh(&self) -> String {
        openssh_line(self.key.public_key())
    }

    /// The public half, usable as a [`TrustedKey`].
    pub fn trusted_key(&self) -> TrustedKey {
        TrustedKey {
            keys: vec![TrustedEntry {
                principal: None,
                key: self.key.public_key().clone(),
            }],
        }
    }

    /// Signs `msg` as SSHSIG (Ed25519, SHA-512, namespace [`SIGNATURE_NAMESPACE`]) and returns the
    /// armoured signature (`-----BEGIN SSH SIGNATURE-----` ...), as `ssh-keygen -Y sign` writes it.
    pub fn sign_armored(&self, msg: &[u8]) -> Result<String, BundleError> {
        let sig = self
            .key
            .sign(SIGNATURE_NAMESPACE, HashAlg::Sha512, msg)
            .map_err(|e| BundleError::Signing(e.to_string()))?;
        sig.to_pem(LineEnding::LF)
            .map_err(|e| BundleError::Signing(e.to_string()))
    }
}

fn openssh_line(key: &PublicKey) -> String {
    // Encoding an in-memory Ed25519 public key cannot fail; fall back to the fingerprint-free
    // key data rendering just in case.
    key.to_openssh()
        .unwrap_or_else(|_| format!("{} <unencodable key>", key.algorithm()))
}

/// `path` with `.pub` appended (`id_ed25519` -> `id_ed25519.pub`).
pub fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// The `allowed_signers` line an auditor needs for
/// `ssh-keygen -Y verify -f allowed_signers -I <principal> -n soc2-evidence ...`.
///
/// The line restricts the key to the `soc2-evidence` namespace, e.g.
/// `security@acme.example namespaces="soc2-evidence" ssh-ed25519 AAAA...`.
pub fn allowed_signers_line(principal: &str, key: &SigningKey) -> String {
    let pk = key.key.public_key();
    let mut bare = pk.clone();
    bare.set_comment("");
    let key_text = openssh_line(&bare);
    format!(
        "{principal} namespaces=\"{SIGNATURE_NAMESPACE}\" {}",
        key_text.trim_end()
    )
}

#[derive(Clone, Debug)]
struct TrustedEntry {
    principal: Option<String>,
    key: PublicKey,
}

/// The public key(s) a bundle must be signed by: the pinned key of the organisation.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    keys: Vec<TrustedEntry>,
}

impl TrustedKey {
    /// Reads a pinned key from an OpenSSH `.pub` file or an `allowed_signers` file
    /// (`principals [options] ssh-ed25519 AAAA...`; entries whose `namespaces=` option excludes
    /// `soc2-evidence`, and `cert-authority` entries, are ignored).
    pub fn from_file(path: &Path) -> Result<Self, BundleError> {
        let text = fs::read_to_string(path).map_err(|e| BundleError::io(path, e))?;
        let keys = parse_trusted(&text);
        if keys.is_empty() {
            return Err(BundleError::NoTrustedKey {
                path: path.to_path_buf(),
            });
        }
        Ok(Self { keys })
    }

    /// Parses a single OpenSSH public key line (`ssh-ed25519 AAAA... comment`).
    pub fn from_openssh(line: &str) -> Result<Self, BundleError> {
        let key = PublicKey::from_openssh(line.trim()).map_err(|e| BundleError::KeyFormat {
            path: PathBuf::from("<public key>"),
            detail: e.to_string(),
        })?;
        Ok(Self {
            keys: vec![TrustedEntry {
                principal: None,
                key,
            }],
        })
    }

    /// The SHA-256 fingerprints (`SHA256:...`) of the trusted keys.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| k.key.fingerprint(HashAlg::Sha256).to_string())
            .collect()
    }

    /// The principals named in an `allowed_signers` file (empty for a `.pub` file).
    pub fn principals(&self) -> Vec<String> {
        self.keys
            .iter()
            .filter_map(|k| k.principal.clone())
            .collect()
    }

    /// Checks an armoured SSHSIG (namespace `soc2-evidence`) over `msg` by one of these keys
    /// and returns the signer's fingerprint, or says why it does not check out. Ledger key
    /// rotations are signed this way.
    ///
    /// ```
    /// let key = soc2_bundle::SigningKey::generate();
    /// let sig = key.sign_armored(b"hello").unwrap();
    /// let trust = key.trusted_key();
    /// assert_eq!(trust.verify_armored(sig.as_bytes(), b"hello").unwrap(), key.fingerprint());
    /// assert!(trust.verify_armored(sig.as_bytes(), b"other").is_err());
    /// ```
    pub fn verify_armored(&self, armored: &[u8], msg: &[u8]) -> Result<String, String> {
        self.check_signature(armored, msg).map_err(|e| match e {
            SigCheck::Malformed(m) => format!("not an SSH signature: {m}"),
            SigCheck::Namespace(n) => {
                format!("signed for namespace {n:?}, not {SIGNATURE_NAMESPACE:?}")
            }
            SigCheck::Untrusted(fp) => format!("signed by {fp}, which is not the trusted key"),
            SigCheck::Invalid(m) => format!("the signature does not match: {m}"),
        })
    }

    /// Checks an armoured SSHSIG over `msg`.
    pub(crate) fn check_signature(&self, armored: &[u8], msg: &[u8]) -> Result<String, SigCheck> {
        let sig = SshSig::from_pem(armored).map_err(|e| SigCheck::Malformed(e.to_string()))?;
        if sig.namespace() != SIGNATURE_NAMESPACE {
            return Err(SigCheck::Namespace(sig.namespace().to_string()));
        }
        let signer_fp = ssh_key::Fingerprint::new(HashAlg::Sha256, sig.public_key()).to_string();
        let Some(entry) = self
            .keys
            .iter()
            .find(|k| k.key.key_data() == sig.public_key())
        else {
            return Err(SigCheck::Untrusted(signer_fp));
        };
        entry
            .key
            .verify(SIGNATURE_NAMESPACE, msg, &sig)
            .map_err(|e| SigCheck::Invalid(e.to_string()))?;
        Ok(signer_fp)
    }
}

/// Why a signature did not check out.
pub(crate) enum SigCheck {
    Malformed(String),
    Namespace(String),
    Untrusted(String),
    Invalid(String),
}

/// Splits an allowed_signers line into whitespace-separated fields, keeping double-quoted
/// sections (which may contain spaces) together.
fn split_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse_trusted(text: &str) -> Vec<TrustedEntry> {
    let mut keys = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = split_fields(line);
        let Some(pos) = fields
            .iter()
            .position(|f| f.starts_with("ssh-") || f.starts_with("ecdsa-") || f.starts_with("sk-"))
        else {
            continue;
        };
        let Some(blob) = fields.get(pos + 1) else {
            continue;
        };
        let Ok(key) = PublicKey::from_openssh(&format!("{} {}", fields[pos], blob)) else {
            continue;
        };
        if key.algorithm() != Algorithm::Ed25519 {
            continue;
        }
        let (principal, options) = match pos {
            0 => (None, ""),
            1 => (Some(fields[0].clone()), ""),
            _ => (Some(fields[0].clone()), fields[1].as_str()),
        };
        if !options_allow(options) {
            continue;
        }
        keys.push(TrustedEntry { principal, key });
    }
    keys
}

/// Whether an allowed_signers options field lets the key sign in our namespace.
fn options_allow(options: &str) -> bool {
    for opt in split_options(options) {
        let lower = opt.to_ascii_lowercase();
        if lower == "cert-authority" {
            return false;
        }
        if let Some(v) = lower.strip_prefix("namespaces=") {
            let v = v.trim_matches('"');
            if !v.split(',').any(|ns| ns.trim() == SIGNATURE_NAMESPACE) {
                return false;
            }
        }
    }
    true
}

fn split_options(options: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in options.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_private_key() {
        let k = SigningKey::generate();
        let dbg = format!("{k:?}");
        assert!(dbg.contains("SHA256:"));
        assert!(!dbg.contains("PRIVATE"));
    }

    #[test]
    fn write_load_roundtrip_and_modes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("signer");
        let k = SigningKey::generate();
        k.write(&path).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let loaded = SigningKey::load(&path, None).expect("load");
        assert_eq!(loaded.fingerprint(), k.fingerprint());
        let t = TrustedKey::from_file(&pub_path(&path)).expect("pub");
        assert_eq!(t.fingerprints(), vec![k.fingerprint()]);
        assert!(matches!(k.write(&path), Err(BundleError::KeyExists { .. })));
    }

    #[test]
    fn encrypted_key_needs_passphrase() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("enc");
        let k = SigningKey::generate();
        k.write_encrypted(&path, "s3cret").expect("write");
        assert!(matches!(
            SigningKey::load(&path, None),
            Err(BundleError::PassphraseRequired { .. })
        ));
        assert!(matches!(
            SigningKey::load(&path, Some("nope")),
            Err(BundleError::WrongPassphrase { .. })
        ));
        let ok = SigningKey::load(&path, Some("s3cret")).expect("load");
        assert_eq!(ok.fingerprint(), k.fingerprint());
    }

    #[test]
    fn allowed_signers_roundtrip_and_namespaces() {
        let k = SigningKey::generate();
        let other = SigningKey::generate();
        let line = allowed_signers_line("audit@acme.example", &k);
        assert!(line.starts_with("audit@acme.example namespaces=\"soc2-evidence\" ssh-ed25519 "));
        let text = format!(
            "# comment\n{line}\nx@y namespaces=\"git,file\" {}\n",
            other.public_key_openssh()
        );
        let keys = parse_trusted(&text);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].principal.as_deref(), Some("audit@acme.example"));
        assert_eq!(
            keys[0].key.fingerprint(HashAlg::Sha256).to_string(),
            k.fingerprint()
        );
    }

    #[test]
    fn signature_checks() {
        let k = SigningKey::generate();
        let sig = k.sign_armored(b"hello").expect("sign");
        let t = k.trusted_key();
        assert!(t.check_signature(sig.as_bytes(), b"hello").is_ok());
        assert!(matches!(
            t.check_signature(sig.as_bytes(), b"hellO"),
            Err(SigCheck::Invalid(_))
        ));
        let other = SigningKey::generate().trusted_key();
        assert!(matches!(
            other.check_signature(sig.as_bytes(), b"hello"),
            Err(SigCheck::Untrusted(_))
        ));
    }
}
