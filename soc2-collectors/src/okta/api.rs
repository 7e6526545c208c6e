//! The Okta Management API as the collector sees it: wire formats (only the fields we read).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::records::{
    LogParty, OktaAdminRole, OktaFactor, OktaLogEvent, OktaPolicy, OktaPolicyRule, OktaUser,
};

/// `GET /api/v1/users` item. Unknown fields (credentials, `_links`, `type`) are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUser {
    pub id: String,
    pub status: String,
    pub created: Option<DateTime<Utc>>,
    pub activated: Option<DateTime<Utc>>,
    pub status_changed: Option<DateTime<Utc>>,
    pub last_login: Option<DateTime<Utc>>,
    pub last_updated: Option<DateTime<Utc>>,
    pub password_changed: Option<DateTime<Utc>>,
    #[serde(default)]
    pub profile: serde_json::Map<String, serde_json::Value>,
}

fn profile_str(profile: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<String> {
    match profile.get(key)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl WireUser {
    /// Keeps the lifecycle fields, the well-known profile attributes and the configured ones.
    pub fn into_record(self, termination_attribute: &str, extra: &[String]) -> OktaUser {
        let p = &self.profile;
        let name = match (profile_str(p, "firstName"), profile_str(p, "lastName")) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (f, l) => f.or(l),
        };
        let profile: BTreeMap<String, serde_json::Value> = extra
            .iter()
            .filter_map(|k| {
                p.get(k)
                    .filter(|v| !v.is_null())
                    .map(|v| (k.clone(), v.clone()))
            })
            .collect();
        OktaUser {
            login: profile_str(p, "login"),
            email: profile_str(p, "email"),
            name,
            department: profile_str(p, "department"),
            manager: profile_str(p, "manager"),
            termination_attribute: termination_attribute.to_string(),
            termination_date: profile_str(p, termination_attribute),
            profile,
            id: self.id,
            status: self.status,
            created: self.created,
            activated: self.activated,
            status_changed: self.status_changed,
            last_login: self.last_login,
            last_updated: self.last_updated,
            password_changed: self.password_changed,
        }
    }
}

/// `GET /api/v1/users/{id}/factors` item. Deliberately no `profile`, `_embedded` or `_links`:
/// a PENDING_ACTIVATION factor embeds its TOTP seed (`_embedded.activation.sharedSecret`) and
/// QR code there, and serde drops what the struct does not name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireFactor {
    pub id: String,
    pub factor_type: String,
    pub provider: Option<String>,
    pub vendor_name: Option<String>,
    pub status: String,
    pub created: Option<DateTime<Utc>>,
    pub last_updated: Option<DateTime<Utc>>,
}

impl WireFactor {
    pub fn into_record(self, user_id: &str) -> OktaFactor {
        OktaFactor {
            user_id: user_id.to_string(),
            factor_id: self.id,
            factor_type: self.factor_type,
            provider: self.provider,
            vendor_name: self.vendor_name,
            status: self.status,
            created: self.created,
            last_updated: self.last_updated,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Href {
    pub href: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RoleLinks {
    #[serde(default)]
    pub assignee: Href,
}

/// `GET /api/v1/users/{id}/roles` or `/api/v1/groups/{id}/roles` item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireRole {
    pub id: String,
    #[serde(rename = "type")]
    pub role_type: String,
    pub label: Option<String>,
    pub status: Option<String>,
    pub assignment_type: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub last_updated: Option<DateTime<Utc>>,
    /// A CUSTOM role's id (`cr0…`).
    pub role: Option<String>,
    /// A CUSTOM role's resource set (`iam…`).
    #[serde(rename = "resource-set")]
    pub resource_set: Option<String>,
    #[serde(default, rename = "_links")]
    pub links: RoleLinks,
}

impl WireRole {
    /// The group a GROUP assignment comes from: the last path segment of
    /// `_links.assignee.href` (`…/api/v1/groups/{groupId}`).
    pub fn assignee_group(&self) -> Option<String> {
        let href = self.links.assignee.href.as_deref()?;
        let path = Url::parse(href)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| href.to_string());
        let mut segments = path.trim_end_matches('/').rsplit('/');
        let id = segments.next()?;
        (segments.next() == Some("groups") && !id.is_empty()).then(|| id.to_string())
    }

    pub fn into_record(
        self,
        user_id: &str,
        login: Option<&str>,
        group: Option<(&str, Option<&str>)>,
    ) -> OktaAdminRole {
        OktaAdminRole {
            user_id: user_id.to_string(),
            login: login.map(str::to_string),
            role_type: self.role_type,
            role_label: self.label,
            assignment_id: self.id,
            status: self.status,
            assignment_type: match group {
                Some(_) => "GROUP".into(),
                None => self.assignment_type.unwrap_or_else(|| "USER".into()),
            },
            group_id: group.map(|(id, _)| id.to_string()),
            group_name: group.and_then(|(_, n)| n.map(str::to_string)),
            created: self.created,
            last_updated: self.last_updated,
            role_id: self.role,
            resource_set: self.resource_set,
            unresolved: false,
        }
    }
}

/// `GET /api/v1/iam/assignees/users`: paginated in the body.
#[derive(Debug, Deserialize)]
pub(crate) struct WireAssignees {
    #[serde(default)]
    pub value: Vec<WireAssignee>,
    #[serde(default, rename = "_links")]
    pub links: AssigneeLinks,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireAssignee {
    pub id: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssigneeLinks {
    #[serde(default)]
    pub next: Option<Href>,
}

/// `GET /api/v1/groups/{id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireGroup {
    #[serde(default)]
    pub profile: WireGroupProfile,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireGroupProfile {
    pub name: Option<String>,
}

/// `GET /api/v1/groups/{id}/users` item: only who the member is.
#[derive(Debug, Deserialize)]
pub(crate) struct WireMember {
    pub id: String,
    #[serde(default)]
    pub profile: serde_json::Map<String, serde_json::Value>,
}

impl WireMember {
    pub fn login(&self) -> Option<String> {
        profile_str(&self.profile, "login")
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireParty {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub alternate_id: Option<String>,
    pub display_name: Option<String>,
}

impl From<WireParty> for LogParty {
    fn from(p: WireParty) -> Self {
        LogParty {
            id: p.id,
            kind: p.kind,
            alternate_id: p.alternate_id,
            display_name: p.display_name,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireOutcome {
    pub result: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireClient {
    pub ip_address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireTransaction {
    pub id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireDebugContext {
    #[serde(default)]
    pub debug_data: WireDebugData,
}

/// Only the debug data we keep; the rest (request URIs, device fingerprints) is dropped.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireDebugData {
    pub privilege_granted: Option<String>,
    pub privilege_revoked: Option<String>,
}

/// `GET /api/v1/logs` item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireLogEvent {
    pub uuid: String,
    pub published: DateTime<Utc>,
    pub event_type: String,
    pub display_message: Option<String>,
    pub severity: Option<String>,
    #[serde(default)]
    pub outcome: Option<WireOutcome>,
    pub actor: Option<WireParty>,
    #[serde(default)]
    pub target: Option<Vec<WireParty>>,
    #[serde(default)]
    pub client: Option<WireClient>,
    #[serde(default)]
    pub transaction: Option<WireTransaction>,
    #[serde(default)]
    pub debug_context: Option<WireDebugContext>,
}

impl From<WireLogEvent> for OktaLogEvent {
    fn from(e: WireLogEvent) -> Self {
        let outcome = e.outcome.unwrap_or_default();
        let debug = e.debug_context.unwrap_or_default().debug_data;
        OktaLogEvent {
            uuid: e.uuid,
            published: e.published,
            event_type: e.event_type,
            display_message: e.display_message,
            severity: e.severity,
            outcome: outcome.result,
            outcome_reason: outcome.reason,
            actor: e.actor.map(LogParty::from),
            targets: e
                .target
                .unwrap_or_default()
                .into_iter()
                .map(LogParty::from)
                .collect(),
            client_ip: e.client.and_then(|c| c.ip_address),
            transaction_id: e.transaction.and_then(|t| t.id),
            privilege_granted: debug.privilege_granted,
            privilege_revoked: debug.privilege_revoked,
        }
    }
}

/// `GET /api/v1/policies?type=…` item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WirePolicy {
    pub id: String,
    #[serde(rename = "type")]
    pub policy_type: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub priority: Option<i64>,
    pub system: Option<bool>,
    pub created: Option<DateTime<Utc>>,
    pub last_updated: Option<DateTime<Utc>>,
    pub conditions: Option<serde_json::Value>,
    pub settings: Option<serde_json::Value>,
}

impl WirePolicy {
    pub fn into_record(self, rules: Vec<OktaPolicyRule>) -> OktaPolicy {
        OktaPolicy {
            id: self.id,
            policy_type: self.policy_type,
            name: self.name,
            status: self.status,
            priority: self.priority,
            system: self.system,
            created: self.created,
            last_updated: self.last_updated,
            conditions: self.conditions,
            settings: self.settings,
            rules,
        }
    }
}

/// `GET /api/v1/policies/{id}/rules` item.
#[derive(Debug, Deserialize)]
pub(crate) struct WireRule {
    pub id: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub priority: Option<i64>,
    pub system: Option<bool>,
    #[serde(rename = "type")]
    pub rule_type: Option<String>,
    pub conditions: Option<serde_json::Value>,
    pub actions: Option<serde_json::Value>,
}

impl From<WireRule> for OktaPolicyRule {
    fn from(r: WireRule) -> Self {
        OktaPolicyRule {
            id: r.id,
            name: r.name,
            status: r.status,
            priority: r.priority,
            system: r.system,
            rule_type: r.rule_type,
            conditions: r.conditions,
            actions: r.actions,
        }
    }
}
