//! RFC 3161 trusted time-stamps over a bundle's `tagmanifest-sha256.txt`: proof from a party
//! other than the organisation of when the evidence existed.
//!
//! The bundle writer asks a [`Timestamper`] (the CLI's is an HTTP client for a TSA URL) for a
//! token over the SHA-256 of the tag manifest, with a fresh nonce and `certReq` set so the
//! token embeds the TSA's certificate. It checks the answer ([`check_response`]: granted,
//! over our digest, our nonce) and stores the DER `TimeStampResp` as
//! `signatures/tagmanifest-sha256.txt.tsr`, which `openssl ts -verify` reads as it is.
//! [`verify_token`] is the auditor's full check: message imprint, the CMS signature, the chain
//! to a CA the auditor trusts, and the timeStamping extended key usage.
//!
//! ```
//! use soc2_bundle::timestamp::{request, check_response, TimestampError};
//! let query = request(b"tag manifest bytes");
//! assert_eq!(query.der[0], 0x30); // a DER SEQUENCE: TimeStampReq
//! // Anything that is not a TimeStampResp is refused, with the reason.
//! let err = check_response(b"<html>busy</html>", &query).unwrap_err();
//! assert!(matches!(err, TimestampError::Malformed(_)));
//! ```

mod chain;
mod token;

use chrono::{DateTime, Utc};
use der::asn1::{Int, OctetString};
use der::{Any, Encode};
use sha2::{Digest, Sha256};
use x509_cert::spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

pub use token::TokenInfo;

/// id-sha256.
pub(crate) const SHA256_OID: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// Why a time-stamp could not be obtained or does not prove what it should.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The TSA could not be reached or answered with an HTTP error.
    #[error("time-stamp authority {url}: {detail}")]
    Unreachable {
        /// The TSA's URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The TSA refused the request (PKIStatus rejection, waiting, ...).
    #[error("the time-stamp authority refused the request: {0}")]
    Refused(String),
    /// The bytes are not a well-formed TimeStampResp / token.
    #[error("not a valid RFC 3161 time-stamp response: {0}")]
    Malformed(String),
    /// The token is over other data than the tag manifest.
    #[error("the time-stamp token is over other data: its message imprint is {token}, the tag manifest's SHA-256 is {expected}")]
    WrongImprint {
        /// The imprint in the token (hex).
        token: String,
        /// The digest of the data given (hex).
        expected: String,
    },
    /// The token answers another request (nonce differs).
    #[error(
        "the time-stamp token's nonce does not match the request's (a replayed or foreign token)"
    )]
    WrongNonce,
    /// The CMS signature over the token does not verify.
    #[error("the time-stamp token's signature does not verify: {0}")]
    BadSignature(String),
    /// The signer's certificate does not chain to the trusted CA.
    #[error("the time-stamp authority's certificate does not chain to the trusted CA: {0}")]
    Untrusted(String),
    /// The signer's certificate is not for time-stamping.
    #[error("the time-stamp authority's certificate is not for time-stamping: {0}")]
    NotForTimestamping(String),
    /// The CA file cannot be read as PEM certificates.
    #[error("the trusted CA file: {0}")]
    BadCa(String),
}

/// Something that turns a time-stamp request (DER `TimeStampReq`) into the TSA's answer (DER
/// `TimeStampResp`): an HTTP client for a TSA URL, or a test double.
pub trait Timestamper: Send + Sync {
    /// Sends `query` and returns the response body.
    fn timestamp(&self, query: &[u8]) -> Result<Vec<u8>, TimestampError>;
}

/// A time-stamp request and what its answer must match.
#[derive(Debug, Clone)]
pub struct TimestampQuery {
    /// The DER `TimeStampReq`, sent as `application/timestamp-query`.
    pub der: Vec<u8>,
    /// SHA-256 of the data.
    pub digest: [u8; 32],
    /// The nonce, as DER INTEGER content bytes.
    pub nonce: Vec<u8>,
}

/// Builds a request for a token over the SHA-256 of `data`, with a random 64-bit nonce and
/// `certReq` set.
pub fn request(data: &[u8]) -> TimestampQuery {
    let digest: [u8; 32] = Sha256::digest(data).into();
    // A positive INTEGER: a leading zero byte keeps the high bit from making it negative.
    let mut nonce = vec![0u8];
    nonce.extend_from_slice(&fastrand::u64(1..).to_be_bytes());
    let nonce = trim_integer(&nonce);
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier::<Any> {
                oid: SHA256_OID,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(digest.to_vec())
                .expect("32 bytes are a valid OCTET STRING"),
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce).expect("a minimal positive integer")),
        cert_req: true,
        extensions: None,
    };
    TimestampQuery {
        der: req.to_der().expect("a TimeStampReq of fixed shape encodes"),
        digest,
        nonce,
    }
}

/// Checks the TSA's answer to `query` before it is stored: status granted, a token over the
/// queried digest with the queried nonce. Returns the token's time.
///
/// This does not check who signed it; that needs the auditor's CA ([`verify_token`]).
pub fn check_response(
    response: &[u8],
    query: &TimestampQuery,
) -> Result<TokenInfo, TimestampError> {
    let parsed = token::parse(response)?;
    check_imprint(&parsed.info, &query.digest)?;
    if parsed.info.nonce.as_deref() != Some(query.nonce.as_slice()) {
        return Err(TimestampError::WrongNonce);
    }
    Ok(parsed.info)
}

/// Reads a stored `TimeStampResp` over `data` without a trusted CA: well formed, granted, and
/// over the SHA-256 of `data`. Who signed it is not checked; use [`verify_token`] for that.
pub fn inspect_token(response: &[u8], data: &[u8]) -> Result<TokenInfo, TimestampError> {
    let parsed = token::parse(response)?;
    let digest: [u8; 32] = Sha256::digest(data).into();
    check_imprint(&parsed.info, &digest)?;
    Ok(parsed.info)
}

/// Verifies a stored `TimeStampResp` over `data` against the trusted CA certificates in
/// `ca_pem` (one or more PEM certificates: the root, and intermediates if the token does not
/// embed them): the message imprint is the SHA-256 of `data`, the CMS signature verifies with
/// the signer's certificate, that certificate chains to a certificate of `ca_pem` and is valid
/// at the token's time, and it carries the critical timeStamping extended key usage.
pub fn verify_token(
    response: &[u8],
    data: &[u8],
    ca_pem: &[u8],
) -> Result<TokenInfo, TimestampError> {
    let anchors = x509_cert::Certificate::load_pem_chain(ca_pem)
        .map_err(|e| TimestampError::BadCa(format!("not PEM certificates: {e}")))?;
    if anchors.is_empty() {
        return Err(TimestampError::BadCa("holds no certificate".into()));
    }
    let parsed = token::parse(response)?;
    let digest: [u8; 32] = Sha256::digest(data).into();
    check_imprint(&parsed.info, &digest)?;
    let signer = chain::check_signature(&parsed)?;
    chain::check_timestamping_eku(signer)?;
    chain::check_chain(signer, &parsed.certificates, &anchors, parsed.info.gen_time)?;
    Ok(parsed.info)
}

fn check_imprint(info: &TokenInfo, digest: &[u8; 32]) -> Result<(), TimestampError> {
    if info.imprint_algorithm != SHA256_OID.to_string() || info.imprint != digest.as_slice() {
        return Err(TimestampError::WrongImprint {
            token: hex::encode(&info.imprint),
            expected: hex::encode(digest),
        });
    }
    Ok(())
}

/// The minimal two's-complement form of a non-negative big-endian integer.
fn trim_integer(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes;
    while b.len() > 1 && b[0] == 0 && b[1] & 0x80 == 0 {
        b = &b[1..];
    }
    b.to_vec()
}

/// The token's time as a chrono instant.
pub(crate) fn to_utc(t: der::DateTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::UNIX_EPOCH + t.unix_duration())
}
