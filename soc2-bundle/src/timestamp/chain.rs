//! Who signed a token: the CMS signature with the signer's certificate, the chain from that
//! certificate to the auditor's CA, and the timeStamping key usage. Signatures are checked
//! with ring (RSA PKCS#1 v1.5 and ECDSA P-256/P-384, what TSAs use).

use chrono::{DateTime, Utc};
use cms::signed_data::{SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::oid::ObjectIdentifier;
use der::Encode;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use super::token::{Parsed, ID_CT_TST_INFO};
use super::TimestampError;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}
const ID_CONTENT_TYPE: ObjectIdentifier = oid("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = oid("1.2.840.113549.1.9.4");
const ID_KP_TIME_STAMPING: ObjectIdentifier = oid("1.3.6.1.5.5.7.3.8");
const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");
const RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.1");
const RSA_SHA256: ObjectIdentifier = oid("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = oid("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = oid("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: ObjectIdentifier = oid("1.2.840.10045.2.1");
const P256: ObjectIdentifier = oid("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = oid("1.3.132.0.34");
const ECDSA_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = oid("1.2.840.10045.4.3.3");

/// Longest chain from the TSA certificate to the CA that is followed.
const MAX_DEPTH: usize = 6;

/// The certificate the signer info names, among those the token embeds.
pub(super) fn signer_certificate<'a>(
    signer: &SignerInfo,
    certs: &'a [Certificate],
) -> Option<&'a Certificate> {
    certs.iter().find(|c| match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            c.tbs_certificate.issuer == ias.issuer
                && c.tbs_certificate.serial_number == ias.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .tbs_certificate
            .get::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, k)| k == *ski),
    })
}

/// Checks the signed attributes (content type TSTInfo, message digest of the TSTInfo) and the
/// signature over them; returns the signer's certificate.
pub(super) fn check_signature(p: &Parsed) -> Result<&Certificate, TimestampError> {
    let bad = |s: String| TimestampError::BadSignature(s);
    let cert = signer_certificate(&p.signer, &p.certificates).ok_or_else(|| {
        bad("the token does not embed the certificate that signed it (the request sets certReq; pass the TSA certificate with the CA file otherwise)".into())
    })?;
    let attrs = p
        .signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("the signer info has no signed attributes".into()))?;
    let attr = |id: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == id)
            .and_then(|a| a.values.iter().next())
    };
    let content_type = attr(ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| bad("no content-type attribute".into()))?;
    if content_type != ID_CT_TST_INFO {
        return Err(bad(format!("content-type attribute is {content_type}")));
    }
    let digest = attr(ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| bad("no message-digest attribute".into()))?;
    let digest_alg = p.signer.digest_alg.oid;
    let actual = hash(digest_alg, &p.econtent)
        .ok_or_else(|| bad(format!("unsupported digest algorithm {digest_alg}")))?;
    if digest.as_bytes() != actual.as_slice() {
        return Err(bad(
            "the message-digest attribute does not match the TSTInfo (the token was altered)"
                .into(),
        ));
    }
    // The signature covers the attributes DER-encoded as a SET OF (RFC 5652 5.4).
    let signed = attrs
        .to_der()
        .map_err(|e| bad(format!("signed attributes: {e}")))?;
    verify(
        &cert.tbs_certificate.subject_public_key_info,
        p.signer.signature_algorithm.oid,
        Some(digest_alg),
        &signed,
        p.signer.signature.as_bytes(),
    )
    .map_err(bad)?;
    Ok(cert)
}

/// RFC 3161 2.3: the TSA certificate's extended key usage is timeStamping only, and critical.
pub(super) fn check_timestamping_eku(cert: &Certificate) -> Result<(), TimestampError> {
    let who = cert.tbs_certificate.subject.to_string();
    let no = |s: String| TimestampError::NotForTimestamping(s);
    match cert.tbs_certificate.get::<ExtendedKeyUsage>() {
        Ok(Some((critical, eku))) => {
            if !eku.0.contains(&ID_KP_TIME_STAMPING) {
                return Err(no(format!(
                    "{who}: its extended key usage does not include timeStamping"
                )));
            }
            if !critical {
                return Err(no(format!(
                    "{who}: its extended key usage is not marked critical"
                )));
            }
            Ok(())
        }
        Ok(None) => Err(no(format!("{who}: it has no extended key usage"))),
        Err(e) => Err(no(format!("{who}: extended key usage: {e}"))),
    }
}

/// Follows issuers from `leaf` through the embedded certificates to one of `anchors`, checking
/// each signature and that each certificate is valid at `at`.
pub(super) fn check_chain(
    leaf: &Certificate,
    embedded: &[Certificate],
    anchors: &[Certificate],
    at: DateTime<Utc>,
) -> Result<(), TimestampError> {
    let untrusted = |s: String| TimestampError::Untrusted(s);
    let mut current = leaf;
    for _ in 0..MAX_DEPTH {
        valid_at(current, at)?;
        if anchors.contains(current) {
            return Ok(());
        }
        let issuer = &current.tbs_certificate.issuer;
        if let Some(anchor) = anchors
            .iter()
            .find(|a| &a.tbs_certificate.subject == issuer && signed_by(current, a))
        {
            return valid_at(anchor, at);
        }
        match embedded.iter().find(|c| {
            *c != current
                && &c.tbs_certificate.subject == issuer
                && is_ca(c)
                && signed_by(current, c)
        }) {
            Some(next) => current = next,
            None => {
                return Err(untrusted(format!(
                    "no certificate of the CA file issued {} (its issuer is {issuer})",
                    current.tbs_certificate.subject
                )))
            }
        }
    }
    Err(untrusted(format!(
        "no trusted CA within {MAX_DEPTH} certificates of the TSA"
    )))
}

fn valid_at(cert: &Certificate, at: DateTime<Utc>) -> Result<(), TimestampError> {
    let v = &cert.tbs_certificate.validity;
    let from = super::to_utc(v.not_before.to_date_time());
    let until = super::to_utc(v.not_after.to_date_time());
    if at < from || at > until {
        return Err(TimestampError::Untrusted(format!(
            "{} is valid from {from} to {until}, not at the token's time {at}",
            cert.tbs_certificate.subject
        )));
    }
    Ok(())
}

fn is_ca(cert: &Certificate) -> bool {
    matches!(cert.tbs_certificate.get::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca)
}

fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    verify(
        &issuer.tbs_certificate.subject_public_key_info,
        cert.signature_algorithm.oid,
        None,
        &tbs,
        sig,
    )
    .is_ok()
}

fn hash(alg: ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg {
        a if a == super::SHA256_OID => Sha256::digest(data).to_vec(),
        a if a == SHA384 => Sha384::digest(data).to_vec(),
        a if a == SHA512 => Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

/// Verifies `sig` over `msg` with `spki` under the signature algorithm `sig_alg` (for a bare
/// `rsaEncryption`, as CMS signer infos may give, the digest comes from `digest_alg`).
fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    sig_alg: ObjectIdentifier,
    digest_alg: Option<ObjectIdentifier>,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| "the public key is not a whole number of bytes".to_string())?;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let key_alg = spki.algorithm.oid;
    let alg: &'static dyn VerificationAlgorithm = match (key_alg, sig_alg) {
        (RSA, RSA_SHA256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (RSA, RSA_SHA384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (RSA, RSA_SHA512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (RSA, RSA) => match digest_alg {
            Some(d) if d == super::SHA256_OID => &signature::RSA_PKCS1_2048_8192_SHA256,
            Some(SHA384) => &signature::RSA_PKCS1_2048_8192_SHA384,
            Some(SHA512) => &signature::RSA_PKCS1_2048_8192_SHA512,
            _ => return Err(format!("unsupported digest {digest_alg:?} for RSA")),
        },
        (EC_PUBLIC_KEY, ECDSA_SHA256) if curve == Some(P256) => &signature::ECDSA_P256_SHA256_ASN1,
        (EC_PUBLIC_KEY, ECDSA_SHA384) if curve == Some(P256) => &signature::ECDSA_P256_SHA384_ASN1,
        (EC_PUBLIC_KEY, ECDSA_SHA256) if curve == Some(P384) => &signature::ECDSA_P384_SHA256_ASN1,
        (EC_PUBLIC_KEY, ECDSA_SHA384) if curve == Some(P384) => &signature::ECDSA_P384_SHA384_ASN1,
        _ => {
            return Err(format!(
                "unsupported signature algorithm {sig_alg} with key {key_alg}"
            ))
        }
    };
    UnparsedPublicKey::new(alg, key)
        .verify(msg, sig)
        .map_err(|_| "the signature does not match".to_string())
}
