//! Taking a DER `TimeStampResp` apart: status, the CMS SignedData token, its TSTInfo.

use chrono::{DateTime, Utc};
use cms::cert::CertificateChoices;
use cms::signed_data::{SignedData, SignerInfo};
use der::oid::ObjectIdentifier;
use der::Decode;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;
use x509_tsp::{TimeStampResp, TstInfo};

use super::TimestampError;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo.
pub(super) const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The time the TSA vouches for (`genTime`).
    pub gen_time: DateTime<Utc>,
    /// The token's serial number, hex.
    pub serial: String,
    /// The TSA policy the token was issued under (an OID).
    pub policy: String,
    /// The hash algorithm of the message imprint (an OID).
    #[serde(skip)]
    pub imprint_algorithm: String,
    /// The message imprint.
    #[serde(skip)]
    pub imprint: Vec<u8>,
    /// The nonce, as DER INTEGER content bytes.
    #[serde(skip)]
    pub nonce: Option<Vec<u8>>,
    /// The signing certificate's subject, when the token embeds it.
    pub tsa: Option<String>,
}

/// A parsed token.
pub(super) struct Parsed {
    pub info: TokenInfo,
    /// The DER TSTInfo the signature covers (through the messageDigest attribute).
    pub econtent: Vec<u8>,
    pub signer: SignerInfo,
    pub certificates: Vec<Certificate>,
}

fn malformed(what: &str, e: impl std::fmt::Display) -> TimestampError {
    TimestampError::Malformed(format!("{what}: {e}"))
}

pub(super) fn parse(response: &[u8]) -> Result<Parsed, TimestampError> {
    let resp = TimeStampResp::from_der(response).map_err(|e| malformed("TimeStampResp", e))?;
    let status = resp.status.status as u8;
    // 0 granted, 1 granted with modifications; anything else is a refusal.
    if status > 1 {
        let text: Vec<String> = resp
            .status
            .status_string
            .iter()
            .flat_map(|s| s.iter().map(|t| t.as_str().to_string()))
            .collect();
        return Err(TimestampError::Refused(format!(
            "PKIStatus {:?}{}{}",
            resp.status.status,
            if text.is_empty() { "" } else { ": " },
            text.join("; ")
        )));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| TimestampError::Malformed("granted, but no timeStampToken".into()))?;
    if token.content_type != ID_SIGNED_DATA {
        return Err(TimestampError::Malformed(format!(
            "the token is {}, not CMS SignedData",
            token.content_type
        )));
    }
    let signed: SignedData = token
        .content
        .decode_as()
        .map_err(|e| malformed("SignedData", e))?;
    if signed.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(TimestampError::Malformed(format!(
            "the signed content is {}, not TSTInfo",
            signed.encap_content_info.econtent_type
        )));
    }
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("no TSTInfo in the token".into()))?;
    // eContent is an OCTET STRING holding the DER TSTInfo.
    let econtent = econtent.value().to_vec();
    let tst = TstInfo::from_der(&econtent).map_err(|e| malformed("TSTInfo", e))?;
    let mut signers = signed.signer_infos.0.iter();
    let signer = match (signers.next(), signers.next()) {
        (Some(s), None) => s.clone(),
        _ => {
            return Err(TimestampError::Malformed(
                "a time-stamp token has exactly one signer".into(),
            ))
        }
    };
    let certificates: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let gen_time = tst.gen_time.to_date_time();
    let tsa = super::chain::signer_certificate(&signer, &certificates)
        .map(|c| c.tbs_certificate.subject.to_string());
    let info = TokenInfo {
        gen_time: super::to_utc(gen_time),
        serial: hex::encode(tst.serial_number.as_bytes()),
        policy: tst.policy.to_string(),
        imprint_algorithm: tst.message_imprint.hash_algorithm.oid.to_string(),
        imprint: tst.message_imprint.hashed_message.as_bytes().to_vec(),
        nonce: tst.nonce.as_ref().map(|n| n.as_bytes().to_vec()),
        tsa,
    };
    Ok(Parsed {
        info,
        econtent,
        signer,
        certificates,
    })
}
