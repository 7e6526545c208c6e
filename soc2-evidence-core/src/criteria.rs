//! The SOC 2 Trust Services Criteria catalogue (2017 TSC, with the 2022 revised points of focus).

use std::fmt;

use serde::Serialize;

/// The Trust Services Category a criterion belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Security: the common criteria CC1–CC9, in scope for every SOC 2 report.
    Security,
    /// Availability (A1).
    Availability,
    /// Confidentiality (C1).
    Confidentiality,
    /// Processing integrity (PI1).
    ProcessingIntegrity,
    /// Privacy (P1–P8).
    Privacy,
}

/// One Trust Services Criterion: its id (`CC6.1`), the group it sits in, and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// The criterion id, e.g. `CC6.1`.
    pub id: &'static str,
    /// The category it belongs to.
    pub category: Category,
    /// The group heading, e.g. "Logical and Physical Access Controls".
    pub group: &'static str,
    /// The criterion's statement.
    pub title: &'static str,
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.title)
    }
}

/// A criterion id that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SOC 2 criterion {id:?}: expected an id such as CC6.1, A1.2, C1.1, PI1.3 or P4.2")]
pub struct UnknownCriterion {
    /// The id as given.
    pub id: String,
}

/// Looks up a criterion by id (case-insensitive, surrounding whitespace ignored).
///
/// ```
/// use soc2_evidence_core::criteria;
/// assert_eq!(criteria::lookup("cc8.1").unwrap().group, "Change Management");
/// assert!(criteria::lookup("CC10.1").is_err());
/// ```
pub fn lookup(id: &str) -> Result<&'static Criterion, UnknownCriterion> {
    let wanted = id.trim();
    CATALOGUE
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| UnknownCriterion { id: id.to_string() })
}

/// Checks that every id in `ids` is a known criterion; the first unknown one is the error.
pub fn validate<'a>(ids: impl IntoIterator<Item = &'a str>) -> Result<(), UnknownCriterion> {
    ids.into_iter().try_for_each(|id| lookup(id).map(|_| ()))
}

/// The whole catalogue, in the order the AICPA publishes it.
pub fn all() -> &'static [Criterion] {
    CATALOGUE
}

macro_rules! catalogue {
    ($( $id:literal, $cat:ident, $group:literal, $title:literal; )*) => {
        const CATALOGUE: &[Criterion] = &[
            $( Criterion { id: $id, category: Category::$cat, group: $group, title: $title }, )*
        ];
    };
}

catalogue! {
    "CC1.1", Security, "Control Environment", "The entity demonstrates a commitment to integrity and ethical values.";
    "CC1.2", Security, "Control Environment", "The board of directors demonstrates independence from management and exercises oversight of the development and performance of internal control.";
    "CC1.3", Security, "Control Environment", "Management establishes, with board oversight, structures, reporting lines, and appropriate authorities and responsibilities in the pursuit of objectives.";
    "CC1.4", Security, "Control Environment", "The entity demonstrates a commitment to attract, develop, and retain competent individuals in alignment with objectives.";
    "CC1.5", Security, "Control Environment", "The entity holds individuals accountable for their internal control responsibilities in the pursuit of objectives.";
    "CC2.1", Security, "Communication and Information", "The entity obtains or generates and uses relevant, quality information to support the functioning of internal control.";
    "CC2.2", Security, "Communication and Information", "The entity internally communicates information, including objectives and responsibilities for internal control, necessary to support the functioning of internal control.";
    "CC2.3", Security, "Communication and Information", "The entity communicates with external parties regarding matters affecting the functioning of internal control.";
    "CC3.1", Security, "Risk Assessment", "The entity specifies objectives with sufficient clarity to enable the identification and assessment of risks relating to objectives.";
    "CC3.2", Security, "Risk Assessment", "The entity identifies risks to the achievement of its objectives across the entity and analyzes risks as a basis for determining how the risks should be managed.";
    "CC3.3", Security, "Risk Assessment", "The entity considers the potential for fraud in assessing risks to the achievement of objectives.";
    "CC3.4", Security, "Risk Assessment", "The entity identifies and assesses changes that could significantly impact the system of internal control.";
    "CC4.1", Security, "Monitoring Activities", "The entity selects, develops, and performs ongoing and/or separate evaluations to ascertain whether the components of internal control are present and functioning.";
    "CC4.2", Security, "Monitoring Activities", "The entity evaluates and communicates internal control deficiencies in a timely manner to those parties responsible for taking corrective action, including senior management and the board of directors, as appropriate.";
    "CC5.1", Security, "Control Activities", "The entity selects and develops control activities that contribute to the mitigation of risks to the achievement of objectives to acceptable levels.";
    "CC5.2", Security, "Control Activities", "The entity also selects and develops general control activities over technology to support the achievement of objectives.";
    "CC5.3", Security, "Control Activities", "The entity deploys control activities through policies that establish what is expected and in procedures that put policies into action.";
    "CC6.1", Security, "Logical and Physical Access Controls", "The entity implements logical access security software, infrastructure, and architectures over protected information assets to protect them from security events to meet the entity's objectives.";
    "CC6.2", Security, "Logical and Physical Access Controls", "Prior to issuing system credentials and granting system access, the entity registers and authorizes new internal and external users whose access is administered by the entity; user system credentials are removed when user access is no longer authorized.";
    "CC6.3", Security, "Logical and Physical Access Controls", "The entity authorizes, modifies, or removes access to data, software, functions, and other protected information assets based on roles, responsibilities, or the system design and changes, giving consideration to the concepts of least privilege and segregation of duties.";
    "CC6.4", Security, "Logical and Physical Access Controls", "The entity restricts physical access to facilities and protected information assets to authorized personnel to meet the entity's objectives.";
    "CC6.5", Security, "Logical and Physical Access Controls", "The entity discontinues logical and physical protections over physical assets only after the ability to read or recover data and software from those assets has been diminished and is no longer required.";
    "CC6.6", Security, "Logical and Physical Access Controls", "The entity implements logical access security measures to protect against threats from sources outside its system boundaries.";
    "CC6.7", Security, "Logical and Physical Access Controls", "The entity restricts the transmission, movement, and removal of information to authorized internal and external users and processes, and protects it during transmission, movement, or removal.";
    "CC6.8", Security, "Logical and Physical Access Controls", "The entity implements controls to prevent or detect and act upon the introduction of unauthorized or malicious software.";
    "CC7.1", Security, "System Operations", "To meet its objectives, the entity uses detection and monitoring procedures to identify changes to configurations that introduce new vulnerabilities, and susceptibilities to newly discovered vulnerabilities.";
    "CC7.2", Security, "System Operations", "The entity monitors system components and their operation for anomalies indicative of malicious acts, natural disasters, and errors; anomalies are analyzed to determine whether they represent security events.";
    "CC7.3", Security, "System Operations", "The entity evaluates security events to determine whether they could or have resulted in a failure to meet its objectives (security incidents) and, if so, takes actions to prevent or address such failures.";
    "CC7.4", Security, "System Operations", "The entity responds to identified security incidents by executing a defined incident response program to understand, contain, remediate, and communicate security incidents, as appropriate.";
    "CC7.5", Security, "System Operations", "The entity identifies, develops, and implements activities to recover from identified security incidents.";
    "CC8.1", Security, "Change Management", "The entity authorizes, designs, develops or acquires, configures, documents, tests, approves, and implements changes to infrastructure, data, software, and procedures to meet its objectives.";
    "CC9.1", Security, "Risk Mitigation", "The entity identifies, selects, and develops risk mitigation activities for risks arising from potential business disruptions.";
    "CC9.2", Security, "Risk Mitigation", "The entity assesses and manages risks associated with vendors and business partners.";
    "A1.1", Availability, "Additional Criteria for Availability", "The entity maintains, monitors, and evaluates current processing capacity and use of system components to manage capacity demand and to enable the implementation of additional capacity to help meet its objectives.";
    "A1.2", Availability, "Additional Criteria for Availability", "The entity authorizes, designs, develops or acquires, implements, operates, approves, maintains, and monitors environmental protections, software, data back-up processes, and recovery infrastructure to meet its objectives.";
    "A1.3", Availability, "Additional Criteria for Availability", "The entity tests recovery plan procedures supporting system recovery to meet its objectives.";
    "C1.1", Confidentiality, "Additional Criteria for Confidentiality", "The entity identifies and maintains confidential information to meet the entity's objectives related to confidentiality.";
    "C1.2", Confidentiality, "Additional Criteria for Confidentiality", "The entity disposes of confidential information to meet the entity's objectives related to confidentiality.";
    "PI1.1", ProcessingIntegrity, "Additional Criteria for Processing Integrity", "The entity obtains or generates, uses, and communicates relevant, quality information regarding the objectives related to processing, including definitions of data processed and product and service specifications.";
    "PI1.2", ProcessingIntegrity, "Additional Criteria for Processing Integrity", "The entity implements policies and procedures over system inputs, including controls over completeness and accuracy, to result in products, services, and reporting to meet the entity's objectives.";
    "PI1.3", ProcessingIntegrity, "Additional Criteria for Processing Integrity", "The entity implements policies and procedures over system processing to result in products, services, and reporting to meet the entity's objectives.";
    "PI1.4", ProcessingIntegrity, "Additional Criteria for Processing Integrity", "The entity implements policies and procedures to make available or deliver output completely, accurately, and timely in accordance with specifications.";
    "PI1.5", ProcessingIntegrity, "Additional Criteria for Processing Integrity", "The entity implements policies and procedures to store inputs, items in processing, and outputs completely, accurately, and timely in accordance with system specifications.";
    "P1.1", Privacy, "Notice and Communication of Objectives Related to Privacy", "The entity provides notice to data subjects about its privacy practices to meet the entity's objectives related to privacy.";
    "P2.1", Privacy, "Choice and Consent", "The entity communicates choices available regarding the collection, use, retention, disclosure, and disposal of personal information to data subjects, and obtains consent where required.";
    "P3.1", Privacy, "Collection", "Personal information is collected consistent with the entity's objectives related to privacy.";
    "P3.2", Privacy, "Collection", "For information requiring explicit consent, the entity communicates the need for such consent and the consequences of refusing it, and obtains the consent prior to collection.";
    "P4.1", Privacy, "Use, Retention, and Disposal", "The entity limits the use of personal information to the purposes identified in the entity's objectives related to privacy.";
    "P4.2", Privacy, "Use, Retention, and Disposal", "The entity retains personal information consistent with the entity's objectives related to privacy.";
    "P4.3", Privacy, "Use, Retention, and Disposal", "The entity securely disposes of personal information to meet the entity's objectives related to privacy.";
    "P5.1", Privacy, "Access", "The entity grants identified and authenticated data subjects the ability to access their stored personal information for review and, upon request, provides copies of that information.";
    "P5.2", Privacy, "Access", "The entity corrects, amends, or appends personal information based on information provided by data subjects and communicates such information to third parties, as committed or required.";
    "P6.1", Privacy, "Disclosure and Notification", "The entity discloses personal information to third parties with the explicit consent of data subjects, and such consent is obtained prior to disclosure.";
    "P6.2", Privacy, "Disclosure and Notification", "The entity creates and retains a complete, accurate, and timely record of authorized disclosures of personal information.";
    "P6.3", Privacy, "Disclosure and Notification", "The entity creates and retains a complete, accurate, and timely record of detected or reported unauthorized disclosures (including breaches) of personal information.";
    "P6.4", Privacy, "Disclosure and Notification", "The entity obtains privacy commitments from vendors and other third parties who have access to personal information.";
    "P6.5", Privacy, "Disclosure and Notification", "The entity obtains commitments from vendors and other third parties with access to personal information to notify the entity of actual or suspected unauthorized disclosures.";
    "P6.6", Privacy, "Disclosure and Notification", "The entity provides notification of breaches and incidents to affected data subjects, regulators, and others to meet the entity's objectives related to privacy.";
    "P6.7", Privacy, "Disclosure and Notification", "The entity provides data subjects with an accounting of the personal information held and its disclosures, upon the data subjects' request.";
    "P7.1", Privacy, "Quality", "The entity collects and maintains accurate, up-to-date, complete, and relevant personal information to meet the entity's objectives related to privacy.";
    "P8.1", Privacy, "Monitoring and Enforcement", "The entity implements a process for receiving, addressing, resolving, and communicating the resolution of inquiries, complaints, and disputes from data subjects and others, and periodically monitors compliance.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalogue_is_complete_and_unique() {
        let ids: Vec<&str> = all().iter().map(|c| c.id).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "duplicate ids");
        // CC1.1-1.5, CC2.1-2.3, CC3.1-3.4, CC4.1-4.2, CC5.1-5.3, CC6.1-6.8, CC7.1-7.5, CC8.1, CC9.1-9.2
        let cc = 5 + 3 + 4 + 2 + 3 + 8 + 5 + 1 + 2;
        // A1.1-1.3, C1.1-1.2, PI1.1-1.5, P1.1, P2.1, P3.1-3.2, P4.1-4.3, P5.1-5.2, P6.1-6.7, P7.1, P8.1
        let rest = 3 + 2 + 5 + 1 + 1 + 2 + 3 + 2 + 7 + 1 + 1;
        assert_eq!(ids.len(), cc + rest);
        for id in [
            "CC1.1", "CC6.8", "CC9.2", "A1.3", "C1.2", "PI1.5", "P6.7", "P8.1",
        ] {
            assert!(unique.contains(id), "{id} missing");
        }
        assert!(all()
            .iter()
            .all(|c| !c.title.is_empty() && c.title.ends_with('.')));
    }

    #[test]
    fn lookup_is_strict() {
        assert_eq!(lookup(" cc6.1 ").unwrap().id, "CC6.1");
        assert_eq!(lookup("A1.2").unwrap().category, Category::Availability);
        for bad in ["CC6.9", "CC10.1", "", "A1", "P9.1", "cc6.1x"] {
            let err = lookup(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        assert!(validate(["CC6.1", "CC8.1"]).is_ok());
        assert_eq!(validate(["CC6.1", "XX1.1"]).unwrap_err().id, "XX1.1");
    }
}
