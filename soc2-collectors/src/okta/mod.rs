//! The Okta collector (DESIGN §5): identities, MFA factors, admin access, the System Log and
//! sign-on policies from the Okta Management API, with the CC6.1–CC6.3 checks over them.
//!
//! **Continuous collection.** Users, factors, admin roles and policies are *state*,
//! snapshotted on every run; the System Log is the one *event* population. Its high-water
//! mark is `published`: an incremental run reads [`CollectContext::period`] (from the
//! previous successful run's time less a day of overlap, to today), and the overlap is
//! deduplicated by event `uuid`. Factors and roles cost a request per user, so an
//! incremental run (one with [`CollectContext::previous`]) re-reads them only for users new
//! since the previous run, with `created`, `activated`, `lastUpdated`, `statusChanged` or
//! `passwordChanged` at or after its collection time less a day, or named (actor or target)
//! in the window's MFA events (`user.mfa.*`) or privilege events
//! (`user.account.privilege.*`, `group.privilege.*`, `iam.*`); roles also for every user who
//! held one in the previous run or is on the assignee list now. Everybody else's records are
//! carried forward from the previous run, and provenance says so in a note and a cursor
//! (`full_refresh_at`). Every user is read again when the last full read is
//! `full_refresh_days` old (default 7), when the previous population is incomplete or
//! missing, when it came from another org, or, for factors, when the window shows an
//! org-wide factor change (`system.mfa.factor.*`); the note says which.
//!
//! [`CollectContext::period`]: soc2_evidence_core::CollectContext::period
//! [`CollectContext::previous`]: soc2_evidence_core::CollectContext::previous
//!
//! ```toml
//! [okta]
//! base_url = "https://acme.okta.com"        # the org URL, or its custom domain
//! token_env = "OKTA_API_TOKEN"              # SSWS API token (read-only admin is enough)
//! termination_attribute = "terminationDate" # profile attribute fed by HR
//! profile_attributes = ["title", "employeeNumber"]
//! concurrency = 16                          # per-user requests in flight, at most
//! page_size = 200                           # users and group members per page
//! timeout_secs = 30                         # per request
//! full_refresh_days = 7                     # incremental runs: read every user's factors and roles this often
//! deprovision_within_hours = 24
//! dormant_days = 90
//! password_min_length = 12
//! password_max_lockout_attempts = 10
//! weak_factors = ["sms", "call", "email", "question"] # not strong MFA (okta.mfa_strength)
//! ```
//!
//! `weak_factors` names Okta `factorType` strings ([`KNOWN_FACTOR_TYPES`]: `call`, `email`,
//! `hotp`, `push`, `question`, `signed_nonce`, `sms`, `token`, `token:hardware`, `token:hotp`,
//! `token:software:totp`, `u2f`, `web`, `webauthn`); anything else is a config error naming
//! the key. A user passes `okta.mfa_strength` only with an ACTIVE factor not in the list.
//!
//! Several orgs are several `[[okta]]` entries, each with a `name`: each instance writes
//! `<name>/…` and its findings' subjects are prefixed `<name>:` (an instance named `okta`,
//! the default for a single `[okta]`, keeps plain subjects).
//!
//! Populations ([`USERS`], [`FACTORS`], [`ADMIN_ROLES`], [`SYSTEM_LOG`], [`POLICIES`]), each
//! with provenance (endpoints, pages, records, body digest) written by the sink:
//!
//! | file | kind | mode | what |
//! |---|---|---|---|
//! | `okta/users.jsonl` | `okta.user` | state | every user, DEPROVISIONED ones included (Okta leaves them out of an unfiltered list, so they are fetched with `filter=status eq "DEPROVISIONED"`) |
//! | `okta/factors.jsonl` | `okta.factor` | state | each user's factors: type, provider, status, dates — never secrets |
//! | `okta/admin_roles.jsonl` | `okta.admin_role` | state | current admin roles, direct and through groups (resolved to members) |
//! | `okta/system_log.jsonl` | `okta.log_event` | events | the period's (or window's) lifecycle, MFA, privilege, membership, sign-in and policy events |
//! | `okta/policies.jsonl` | `okta.policy` | state | password, MFA enrolment, sign-on and access policies with their rules |
//!
//! **System Log retention.** Okta keeps 90 days of System Log
//! ([`SYSTEM_LOG_RETENTION_DAYS`]). When the period starts before collection time minus 90
//! days, `system_log` is recorded `complete: false` with `covers {from, until, "Okta keeps 90
//! days of System Log"}`. The checks that rely on the log then report `error` for a subject
//! whose relevant time lies before the window ("cannot establish before 2026-04-02 00:00 UTC:
//! Okta keeps 90 days of System Log; collect continuously to cover the whole period"):
//! `okta.timely_deprovisioning` for a termination before the window that would otherwise pass
//! (the deactivation and sign-in events may be gone), and `okta.dormant_accounts` for an
//! ACTIVE user whose `lastLogin` is after "now" and who has no sign-in in the log when the
//! dormancy window starts before the log window. A gap shown (a late deactivation, a sign-in
//! after termination, a `lastLogin` older than the dormancy limit) stays a `fail` wherever it
//! lies; subjects inside the window are judged as before.
//!
//! **Other real-world shapes.** A PASSWORD policy whose `conditions.authProvider.provider` is
//! `ACTIVE_DIRECTORY` or `LDAP` is `not_applicable` ("rules enforced by Active Directory"):
//! Okta's settings on it do not govern those passwords. A user the role-assignee list
//! (`/api/v1/iam/assignees/users`) names but whose `/roles` returns no role record is kept as
//! an `okta.admin_role` record with `unresolved: true` (role type `UNRESOLVED`) and is an
//! `error` of `okta.admin_phishing_resistant_mfa` naming the user. Custom roles keep their
//! `role` and `resource-set` ids. An org with nobody who can sign in gives every check one
//! `not_applicable` ("no ACTIVE users").
//!
//! Checks ([`checks`]): `okta.mfa_enrolled`, `okta.mfa_strength`,
//! `okta.admin_phishing_resistant_mfa` (CC6.1, CC6.3), `okta.timely_deprovisioning`
//! (CC6.2, CC6.3), `okta.dormant_accounts` (CC6.2), `okta.password_policy` and
//! `okta.sign_on_mfa_required` (CC6.1).
//!
//! Per-user calls (`/users/{id}/factors`, `/users/{id}/roles`) run concurrently, and the
//! concurrency follows Okta's `X-Rate-Limit-Remaining` so the collector slows down before a
//! window is used up; a 429 that happens anyway is retried after `X-Rate-Limit-Reset` by the
//! HTTP toolkit. A 401 fails the collector with a message naming the org, never the token.
//!
//! Used as a library, without a config file: the registry parses the section and the
//! secret comes from a map instead of the environment.
//!
//! ```no_run
//! use soc2_evidence_core::{MapSecrets, Runner};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = soc2_collectors::registry().parse_config(
//!     "[okta]\nbase_url = \"https://acme.okta.com\"\n",
//!     "soc2.toml",
//!     ".".as_ref(),
//! )?;
//! let secrets = MapSecrets::default().with("OKTA_API_TOKEN", "00…");
//! let manifest = Runner::from_config(&config, &secrets)?
//!     .run("2026-01-01..2026-06-30".parse()?, "evidence".as_ref())
//!     .await?;
//! # let _ = manifest; Ok(()) }
//! ```
//!
//! [`OktaSettings`] and [`OktaCollector::new`] remain for programs that need what the config
//! does not offer (a retry policy of their own, say); [`checks`] builds the checks for an
//! instance name.

mod api;
mod checks;
mod collector;
mod config;
mod incremental;
mod module;
mod records;
mod retry;

pub use checks::{
    checks, AdminPhishingResistantMfa, DormantAccounts, MfaEnrolled, MfaStrength, PasswordPolicy,
    SignOnRequiresMfa, TimelyDeprovisioning, PHISHING_RESISTANT_FACTORS, WEAK_FACTORS,
};
pub use collector::{OktaCollector, LOG_EVENT_TYPES, POLICY_TYPES, SYSTEM_LOG_RETENTION_DAYS};
pub use config::{
    OktaCheckSettings, OktaConfig, OktaSettings, DEFAULT_CONCURRENCY, DEFAULT_FULL_REFRESH_DAYS,
    DEFAULT_PAGE_SIZE, DEFAULT_TERMINATION_ATTRIBUTE, DEFAULT_TIMEOUT_SECS, DEFAULT_TOKEN_ENV,
    KNOWN_FACTOR_TYPES,
};
pub use module::OktaModule;
pub use records::{
    termination_instant, LogParty, OktaAdminRole, OktaFactor, OktaLogEvent, OktaPolicy,
    OktaPolicyRule, OktaUser, ADMIN_ROLES, FACTORS, POLICIES, SIGN_IN_STATUSES, SOURCE, SYSTEM_LOG,
    USERS,
};
pub use retry::OktaRetry;
