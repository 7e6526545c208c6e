//! The evidence kinds the Okta collector emits, one population each.
//!
//! Records keep an explicit allow-list of fields: nothing from the Okta payload passes through
//! unchosen, so a field Okta adds tomorrow (or a secret it embeds, such as the TOTP seed inside
//! a pending factor) can never reach the evidence by accident.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use soc2_evidence_core::{Evidence, Population};

/// Source system recorded in every Okta population's provenance.
pub const SOURCE: &str = "Okta Management API";

/// Every user, DEPROVISIONED ones included, as they stand at collection time:
/// `<instance>/users.jsonl`.
pub const USERS: Population<OktaUser> = Population::state("users", SOURCE);
/// Each user's MFA factors at collection time: `<instance>/factors.jsonl`.
pub const FACTORS: Population<OktaFactor> = Population::state("factors", SOURCE);
/// Current admin role holdings, direct and through groups: `<instance>/admin_roles.jsonl`.
pub const ADMIN_ROLES: Population<OktaAdminRole> = Population::state("admin_roles", SOURCE);
/// The period's access-control events from the System Log: `<instance>/system_log.jsonl`.
pub const SYSTEM_LOG: Population<OktaLogEvent> = Population::events("system_log", SOURCE);
/// Password, MFA enrolment, sign-on and access policies with their rules, as configured at
/// collection time: `<instance>/policies.jsonl`.
pub const POLICIES: Population<OktaPolicy> = Population::state("policies", SOURCE);

/// User statuses in which a person can sign in, and so must have MFA.
pub const SIGN_IN_STATUSES: &[&str] = &["ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"];

/// One Okta user, including DEPROVISIONED ones, as it stood at collection time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaUser {
    /// Okta user id (`00u…`).
    pub id: String,
    /// `ACTIVE`, `DEPROVISIONED`, `SUSPENDED`, `STAGED`, …
    pub status: String,
    /// Okta `created`.
    pub created: Option<DateTime<Utc>>,
    /// Okta `activated` (null for users never activated).
    pub activated: Option<DateTime<Utc>>,
    /// Okta `statusChanged`: when the current status began (for a DEPROVISIONED user, the
    /// deactivation).
    pub status_changed: Option<DateTime<Utc>>,
    /// Okta `lastLogin` (null for users who never signed in).
    pub last_login: Option<DateTime<Utc>>,
    /// Okta `lastUpdated`.
    pub last_updated: Option<DateTime<Utc>>,
    /// Okta `passwordChanged`.
    pub password_changed: Option<DateTime<Utc>>,
    /// `profile.login`.
    pub login: Option<String>,
    /// `profile.email`.
    pub email: Option<String>,
    /// `profile.firstName` and `profile.lastName`.
    pub name: Option<String>,
    /// `profile.department`.
    pub department: Option<String>,
    /// `profile.manager`.
    pub manager: Option<String>,
    /// The profile attribute that holds the termination date (config `termination_attribute`).
    pub termination_attribute: String,
    /// That attribute's value, as Okta stores it (a date or a timestamp), if set.
    pub termination_date: Option<String>,
    /// The extra profile attributes named by config `profile_attributes`, when present.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profile: BTreeMap<String, serde_json::Value>,
}

impl Evidence for OktaUser {
    const KIND: &'static str = "okta.user";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.2", "CC6.3"];
    fn subject_id(&self) -> String {
        self.id.clone()
    }
}

impl OktaUser {
    /// Whether the user's status lets them sign in.
    pub fn can_sign_in(&self) -> bool {
        SIGN_IN_STATUSES.contains(&self.status.as_str())
    }

    /// `login` or, failing that, the id: how a person is named in a finding.
    pub fn label(&self) -> &str {
        self.login.as_deref().unwrap_or(&self.id)
    }
}

/// The instant a termination-date value takes effect.
///
/// A plain date (`2026-03-13`, how HR systems usually feed Okta) means the person worked
/// through that day, so access should end from the following midnight UTC; a timestamp
/// (RFC 3339, or without an offset, read as UTC) is taken as given. `None` when the value is
/// none of these.
///
/// ```
/// use soc2_collectors::okta::termination_instant;
/// assert_eq!(termination_instant("2026-03-13").unwrap().to_rfc3339(), "2026-03-14T00:00:00+00:00");
/// assert_eq!(termination_instant("2026-03-13T17:00:00Z").unwrap().to_rfc3339(), "2026-03-13T17:00:00+00:00");
/// assert!(termination_instant("last friday").is_none());
/// ```
pub fn termination_instant(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return d
            .succ_opt()
            .map(|next| next.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// One MFA factor of one user. Only identifying and lifecycle fields are kept: never the
/// factor profile, enrolment activation data (`sharedSecret`, QR codes), links or tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaFactor {
    /// The user the factor belongs to.
    pub user_id: String,
    /// Factor id.
    pub factor_id: String,
    /// Okta `factorType`: `push`, `webauthn`, `sms`, `token:software:totp`, …
    pub factor_type: String,
    /// Okta `provider`: `OKTA`, `GOOGLE`, `FIDO`, …
    pub provider: Option<String>,
    /// Okta `vendorName`.
    pub vendor_name: Option<String>,
    /// `ACTIVE`, `PENDING_ACTIVATION`, `ENROLLED`, `INACTIVE`, …
    pub status: String,
    /// Okta `created`.
    pub created: Option<DateTime<Utc>>,
    /// Okta `lastUpdated`.
    pub last_updated: Option<DateTime<Utc>>,
}

impl Evidence for OktaFactor {
    const KIND: &'static str = "okta.factor";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1"];
    /// The user's id: a finding about a user points at all of that user's factors.
    fn subject_id(&self) -> String {
        self.user_id.clone()
    }
}

impl OktaFactor {
    /// Only `ACTIVE` factors count as enrolled MFA.
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// One current admin role held by one user, directly or through a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaAdminRole {
    /// The user who holds the role.
    pub user_id: String,
    /// The user's login, when known.
    pub login: Option<String>,
    /// Role `type`: `SUPER_ADMIN`, `ORG_ADMIN`, `HELP_DESK_ADMIN`, `CUSTOM`, …
    pub role_type: String,
    /// Role `label`, e.g. "Organization Administrator".
    pub role_label: Option<String>,
    /// The role assignment id.
    pub assignment_id: String,
    /// Assignment `status`.
    pub status: Option<String>,
    /// `USER` (assigned to the user) or `GROUP` (held through group membership).
    pub assignment_type: String,
    /// For `GROUP` assignments, the group that holds the role.
    pub group_id: Option<String>,
    /// That group's name.
    pub group_name: Option<String>,
    /// Assignment `created`.
    pub created: Option<DateTime<Utc>>,
    /// Assignment `lastUpdated`.
    pub last_updated: Option<DateTime<Utc>>,
    /// For a `CUSTOM` role, the custom role's id (`role`, `cr0…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// For a `CUSTOM` role, the resource set it is bound to (`resource-set`, `iam…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_set: Option<String>,
    /// `true` for a user Okta's role-assignee list (`/api/v1/iam/assignees/users`) names but
    /// whose `/roles` returned no role record: an admin whose roles are not in evidence.
    /// `role_type` is then `UNRESOLVED` and `assignment_type` `ASSIGNEE_LIST`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unresolved: bool,
}

impl Evidence for OktaAdminRole {
    const KIND: &'static str = "okta.admin_role";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.3"];
    fn subject_id(&self) -> String {
        self.user_id.clone()
    }
}

/// An actor or target of a System Log event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogParty {
    /// Okta id of the user, group, app, …
    pub id: Option<String>,
    /// `User`, `UserGroup`, `AppInstance`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `alternateId` (a login for users).
    pub alternate_id: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
}

/// One System Log event that matters for access control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaLogEvent {
    /// Event `uuid`.
    pub uuid: String,
    /// When Okta published the event.
    pub published: DateTime<Utc>,
    /// `eventType`, e.g. `user.lifecycle.deactivate`.
    pub event_type: String,
    /// `displayMessage`.
    pub display_message: Option<String>,
    /// `severity`.
    pub severity: Option<String>,
    /// `outcome.result`: `SUCCESS`, `FAILURE`, `DENY`, …
    pub outcome: Option<String>,
    /// `outcome.reason`.
    pub outcome_reason: Option<String>,
    /// Who acted.
    pub actor: Option<LogParty>,
    /// What was acted on.
    #[serde(default)]
    pub targets: Vec<LogParty>,
    /// `client.ipAddress`.
    pub client_ip: Option<String>,
    /// `transaction.id`, to join events of one request.
    pub transaction_id: Option<String>,
    /// `debugContext.debugData.privilegeGranted` on privilege grants: the role(s) granted.
    pub privilege_granted: Option<String>,
    /// `debugContext.debugData.privilegeRevoked` on privilege revocations.
    pub privilege_revoked: Option<String>,
}

impl Evidence for OktaLogEvent {
    const KIND: &'static str = "okta.log_event";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1", "CC6.2", "CC6.3"];
    fn subject_id(&self) -> String {
        self.uuid.clone()
    }
}

impl OktaLogEvent {
    /// The first target of type `User`, if any.
    pub fn target_user(&self) -> Option<&str> {
        self.targets
            .iter()
            .find(|t| t.kind.as_deref() == Some("User"))
            .and_then(|t| t.id.as_deref())
    }

    /// Whether the outcome was a success (events without an outcome count as such).
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome.as_deref(), None | Some("SUCCESS" | "ALLOW"))
    }
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaPolicyRule {
    /// Rule id.
    pub id: String,
    /// Rule name.
    pub name: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// Evaluation order (lower first).
    pub priority: Option<i64>,
    /// Whether Okta created it (the default rule).
    pub system: Option<bool>,
    /// Rule `type`, e.g. `SIGN_ON`, `PASSWORD`, `MFA_ENROLL`.
    #[serde(rename = "type")]
    pub rule_type: Option<String>,
    /// Okta `conditions`, as configured.
    pub conditions: Option<serde_json::Value>,
    /// Okta `actions` (for sign-on rules, `signon.access`, `signon.requireFactor`, …).
    pub actions: Option<serde_json::Value>,
}

/// One password, MFA enrolment or sign-on policy, with its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OktaPolicy {
    /// Policy id (`00p…`).
    pub id: String,
    /// `PASSWORD`, `MFA_ENROLL`, `OKTA_SIGN_ON`, `ACCESS_POLICY`.
    #[serde(rename = "type")]
    pub policy_type: String,
    /// Policy name.
    pub name: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// Evaluation order (lower first).
    pub priority: Option<i64>,
    /// Whether it is Okta's default policy.
    pub system: Option<bool>,
    /// Okta `created`.
    pub created: Option<DateTime<Utc>>,
    /// Okta `lastUpdated`.
    pub last_updated: Option<DateTime<Utc>>,
    /// Okta `conditions` (who the policy applies to).
    pub conditions: Option<serde_json::Value>,
    /// Okta `settings` (for password policies: `password.complexity`, `.age`, `.lockout`).
    pub settings: Option<serde_json::Value>,
    /// The policy's rules, in the order Okta returned them.
    #[serde(default)]
    pub rules: Vec<OktaPolicyRule>,
}

impl Evidence for OktaPolicy {
    const KIND: &'static str = "okta.policy";
    const SCHEMA_VERSION: u32 = 1;
    const CRITERIA: &'static [&'static str] = &["CC6.1"];
    fn subject_id(&self) -> String {
        self.id.clone()
    }
}

impl OktaPolicy {
    /// Whether the policy is active (a missing status counts as active, as Okta defaults it).
    pub fn is_active(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "ACTIVE")
    }

    /// `conditions.authProvider.provider`: `OKTA`, or `ACTIVE_DIRECTORY` / `LDAP` when the
    /// policy applies to users mastered by a directory.
    pub fn auth_provider(&self) -> Option<&str> {
        self.conditions
            .as_ref()?
            .pointer("/authProvider/provider")?
            .as_str()
    }

    /// The directory that enforces this password policy's rules instead of Okta ("Active
    /// Directory", "LDAP"), when its users are mastered by one.
    pub fn delegated_directory(&self) -> Option<&'static str> {
        match self.auth_provider()?.trim().to_ascii_uppercase().as_str() {
            "ACTIVE_DIRECTORY" => Some("Active Directory"),
            "LDAP" => Some("LDAP"),
            _ => None,
        }
    }
}
