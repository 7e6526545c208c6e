//! Collector modules and the registry that drives configuration, collection and checks.
//!
//! A [`Module`] is one collector *type* (`okta`, `github`, a plugin's `hr`): its config
//! section, its populations, and how to build its collector and checks. A [`Registry`] holds
//! the modules; it parses `soc2.toml` into a [`RunConfig`] of named instances (`[okta]`, or
//! several `[[okta]]` entries each with a `name`), saves the *effective* config (defaults
//! filled in, no secrets) into the run directory, and rebuilds the same checks from that file
//! so `soc2-evidence check DIR` reproduces `findings.jsonl` byte for byte.
//!
//! See [`Registry`] for a complete small module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::check::Check;
use crate::collector::Collector;
use crate::config::ConfigError;
use crate::http::Secret;
use crate::population::PopulationSpec;
use crate::sink::validate_population_name;

/// Name of the effective config saved in every run directory.
pub const EFFECTIVE_CONFIG_FILE: &str = "config.json";
/// Format tag of [`EFFECTIVE_CONFIG_FILE`].
pub const EFFECTIVE_CONFIG_FORMAT: &str = "soc2-evidence.config/1";

/// Top-level sections the framework itself owns; no module may use these names.
const FRAMEWORK_SECTIONS: &[&str] = &["organization", "ledger", "bundle"];
/// Names no instance may take, because the run directory already uses them.
const RESERVED_INSTANCE_NAMES: &[&str] = &["report", "ledger", "config", "run"];

/// Where secrets come from when collectors are built: the environment, or (for tests, the
/// demo and embedding programs) a map.
pub trait SecretSource: Send + Sync {
    /// The secret held by variable `var`, if it is set and not empty.
    fn secret(&self, var: &str) -> Option<Secret>;
}

/// Secrets from environment variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvSecrets;

impl SecretSource for EnvSecrets {
    fn secret(&self, var: &str) -> Option<Secret> {
        Secret::from_env(var)
    }
}

/// Secrets from a map of variable names to values.
///
/// ```
/// use soc2_evidence_core::{MapSecrets, SecretSource};
/// let s = MapSecrets::default().with("OKTA_API_TOKEN", "00abc");
/// assert_eq!(s.secret("OKTA_API_TOKEN").unwrap().expose(), "00abc");
/// assert!(s.secret("GITHUB_TOKEN").is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MapSecrets(BTreeMap<String, Secret>);

impl MapSecrets {
    /// Adds a secret.
    pub fn with(mut self, var: &str, value: &str) -> Self {
        self.0.insert(var.to_string(), Secret::new(value));
        self
    }
}

impl SecretSource for MapSecrets {
    fn secret(&self, var: &str) -> Option<Secret> {
        self.0.get(var).cloned()
    }
}

/// One instance in a run: its type and its name (= its directory).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceId {
    /// The module type, e.g. `okta`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The instance name, e.g. `okta` or `eu`.
    pub name: String,
}

impl InstanceId {
    /// How config errors and messages name the section: `okta`, or `okta "eu"`.
    pub fn section(&self) -> String {
        if self.name == self.type_name {
            self.type_name.clone()
        } else {
            format!("{} {:?}", self.type_name, self.name)
        }
    }

    /// The prefix findings of this instance carry on their subject ids (`eu:`), or none for
    /// an instance named after its type.
    pub fn subject_prefix(&self) -> Option<String> {
        (self.name != self.type_name).then(|| format!("{}:", self.name))
    }
}

/// What a module gets when it validates its config or builds its collector.
pub struct BuildContext<'a> {
    id: &'a InstanceId,
    base_dir: &'a Path,
    secrets: &'a dyn SecretSource,
}

impl<'a> BuildContext<'a> {
    /// A context for one instance. The registry makes these; tests can too.
    pub fn new(id: &'a InstanceId, base_dir: &'a Path, secrets: &'a dyn SecretSource) -> Self {
        Self {
            id,
            base_dir,
            secrets,
        }
    }

    /// The instance name: the collector's directory and its name in `run.json`.
    pub fn instance(&self) -> &str {
        &self.id.name
    }

    /// The instance's type and name.
    pub fn id(&self) -> &InstanceId {
        self.id
    }

    /// Resolves a path from the config against the config file's directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The directory relative paths are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.base_dir
    }

    /// Reads a secret, or fails naming the variable, the section and what it should hold.
    pub fn require_secret(&self, var: &str, what: &str) -> Result<Secret, ConfigError> {
        self.secrets
            .secret(var)
            .ok_or_else(|| ConfigError::MissingSecret {
                section: self.id.section(),
                var: var.to_string(),
                what: what.to_string(),
            })
    }

    /// Parses a base URL from the config: it must be an absolute `http(s)` URL with a host.
    /// `example` is shown in the error (`https://acme.okta.com`). Modules add their own
    /// rules (no API path, say) on the returned URL.
    pub fn base_url(&self, key: &str, raw: &str, example: &str) -> Result<url::Url, ConfigError> {
        let url = url::Url::parse(raw.trim()).map_err(|e| {
            self.invalid(
                key,
                format!("{raw:?} is not a URL ({e}); use e.g. {example}"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(self.invalid(
                key,
                format!("{raw:?} must be an http(s) URL with a host, e.g. {example}"),
            ));
        }
        Ok(url)
    }

    /// An error about one key of this instance's section.
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            section: self.id.section(),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// What a module gets when it builds its checks: its own instance and every instance in the
/// run, so a cross-collector check can find another module's populations.
pub struct CheckContext<'a> {
    id: &'a InstanceId,
    instances: &'a [InstanceId],
}

impl<'a> CheckContext<'a> {
    /// A context for one instance among `instances`.
    pub fn new(id: &'a InstanceId, instances: &'a [InstanceId]) -> Self {
        Self { id, instances }
    }

    /// This instance's name (its directory).
    pub fn instance(&self) -> &str {
        &self.id.name
    }

    /// This instance's type and name.
    pub fn id(&self) -> &InstanceId {
        self.id
    }

    /// The names of the run's instances of `type_name`, in config order.
    pub fn instances_of(&self, type_name: &str) -> Vec<String> {
        self.instances
            .iter()
            .filter(|i| i.type_name == type_name)
            .map(|i| i.name.clone())
            .collect()
    }
}

/// One collector type: config section, populations, collector and checks.
///
/// The config is plain serde: it holds the names of environment variables, never secrets,
/// so the effective config can be saved into the run directory and bundled. `#[serde(
/// deny_unknown_fields)]` on it makes a typo an error naming the key. `name` is taken by the
/// framework (the instance name) and never reaches the module. A complete module is the HR
/// roster plugin in the repository's `examples/custom_collector.rs`; a small one is on
/// [`Registry`].
pub trait Module: Send + Sync + 'static {
    /// The section's shape.
    type Config: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The type name: the config section (`[okta]` / `[[okta]]`), the default instance name
    /// and the prefix of every check id (`okta.mfa_enrolled`).
    const TYPE: &'static str;

    /// The module's version, recorded in provenance (`env!("CARGO_PKG_VERSION")`).
    fn version(&self) -> &'static str;

    /// The populations an instance with this config writes.
    fn populations(&self, config: &Self::Config) -> Vec<PopulationSpec>;

    /// Checks what serde cannot (URLs, ranges), before anything runs. No secrets are read
    /// here.
    fn validate(&self, config: &Self::Config, ctx: &BuildContext<'_>) -> Result<(), ConfigError> {
        let _ = (config, ctx);
        Ok(())
    }

    /// Builds the collector, reading its secrets through `ctx`.
    fn collector(
        &self,
        config: &Self::Config,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Collector>, ConfigError>;

    /// Builds the checks over this instance's populations (and, for cross-collector checks,
    /// other instances' populations found through `ctx`).
    fn checks(&self, config: &Self::Config, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>>;
}

/// A module with its config type erased, as the registry holds it.
pub trait DynModule: Send + Sync {
    /// The type name.
    fn type_name(&self) -> &'static str;
    /// The module's version.
    fn version(&self) -> &'static str;
    /// Parses one TOML section into an instance config.
    fn parse_toml(
        &self,
        value: toml::Value,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn InstanceConfig>, ConfigError>;
    /// Parses one saved effective config.
    fn parse_json(
        &self,
        value: serde_json::Value,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn InstanceConfig>, ConfigError>;
}

/// One instance's parsed config, type erased.
pub trait InstanceConfig: Send + Sync {
    /// The populations it writes.
    fn populations(&self) -> Vec<PopulationSpec>;
    /// The effective config as JSON (defaults filled in; no secrets, by construction).
    fn effective(&self) -> Result<serde_json::Value, ConfigError>;
    /// Builds the collector.
    fn collector(&self, ctx: &BuildContext<'_>) -> Result<Box<dyn Collector>, ConfigError>;
    /// Builds the checks.
    fn checks(&self, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>>;
}

struct Erased<M: Module>(Arc<M>);

struct TypedInstance<M: Module> {
    module: Arc<M>,
    config: M::Config,
}

impl<M: Module> TypedInstance<M> {
    fn boxed(
        module: &Arc<M>,
        config: M::Config,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn InstanceConfig>, ConfigError> {
        module.validate(&config, ctx)?;
        Ok(Box::new(TypedInstance {
            module: module.clone(),
            config,
        }))
    }
}

fn parse_error(
    ctx: &BuildContext<'_>,
    origin: &str,
    message: impl std::fmt::Display,
) -> ConfigError {
    ConfigError::Parse {
        path: origin.to_string(),
        message: format!(
            "[{}]: {}",
            ctx.id().section(),
            message.to_string().trim_end()
        ),
    }
}

impl<M: Module> DynModule for Erased<M> {
    fn type_name(&self) -> &'static str {
        M::TYPE
    }
    fn version(&self) -> &'static str {
        self.0.version()
    }
    fn parse_toml(
        &self,
        value: toml::Value,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn InstanceConfig>, ConfigError> {
        let config = M::Config::deserialize(value).map_err(|e| parse_error(ctx, "config", e))?;
        TypedInstance::boxed(&self.0, config, ctx)
    }
    fn parse_json(
        &self,
        value: serde_json::Value,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn InstanceConfig>, ConfigError> {
        let config = M::Config::deserialize(value)
            .map_err(|e| parse_error(ctx, EFFECTIVE_CONFIG_FILE, e))?;
        TypedInstance::boxed(&self.0, config, ctx)
    }
}

impl<M: Module> InstanceConfig for TypedInstance<M> {
    fn populations(&self) -> Vec<PopulationSpec> {
        self.module.populations(&self.config)
    }
    fn effective(&self) -> Result<serde_json::Value, ConfigError> {
        serde_json::to_value(&self.config).map_err(|e| ConfigError::Parse {
            path: EFFECTIVE_CONFIG_FILE.into(),
            message: format!("[{}]: {e}", M::TYPE),
        })
    }
    fn collector(&self, ctx: &BuildContext<'_>) -> Result<Box<dyn Collector>, ConfigError> {
        self.module.collector(&self.config, ctx)
    }
    fn checks(&self, ctx: &CheckContext<'_>) -> Vec<Box<dyn Check>> {
        self.module.checks(&self.config, ctx)
    }
}

/// The collector modules a program knows: ours, a plugin's, or both.
///
/// `soc2_collectors::registry()` gives the built-in modules; a plugin adds its own with
/// [`Registry::with`] and hands the result to `soc2_evidence::cli::main_with`.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use soc2_evidence_core::*;
///
/// #[derive(Serialize, Deserialize)]
/// struct Ping { host: String }
/// impl Evidence for Ping {
///     const KIND: &'static str = "ping.result";
///     const SCHEMA_VERSION: u32 = 1;
///     const CRITERIA: &'static [&'static str] = &["A1.1"];
///     fn subject_id(&self) -> String { self.host.clone() }
/// }
/// const RESULTS: Population<Ping> = Population::events("results", "ping");
///
/// #[derive(Clone, Serialize, Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct PingConfig { hosts: Vec<String> }
///
/// struct PingCollector { hosts: Vec<String> }
/// #[async_trait]
/// impl Collector for PingCollector {
///     fn name(&self) -> &str { "ping" }
///     async fn collect(&self, _: &CollectContext, sink: &mut dyn EvidenceSink) -> Result<(), CollectError> {
///         let mut w = sink.open(&RESULTS)?;
///         for h in &self.hosts { w.emit(&Ping { host: h.clone() })?; }
///         w.finish()?;
///         Ok(())
///     }
/// }
///
/// struct PingModule;
/// impl Module for PingModule {
///     type Config = PingConfig;
///     const TYPE: &'static str = "ping";
///     fn version(&self) -> &'static str { "1.0.0" }
///     fn populations(&self, _: &PingConfig) -> Vec<PopulationSpec> { vec![RESULTS.spec()] }
///     fn collector(&self, c: &PingConfig, _: &BuildContext) -> Result<Box<dyn Collector>, ConfigError> {
///         Ok(Box::new(PingCollector { hosts: c.hosts.clone() }))
///     }
///     fn checks(&self, _: &PingConfig, _: &CheckContext) -> Vec<Box<dyn Check>> { Vec::new() }
/// }
///
/// let registry = Registry::new().with(PingModule);
/// let config = registry
///     .parse_config("[[ping]]\nname = \"eu\"\nhosts = [\"a\"]\n[[ping]]\nname = \"us\"\nhosts = []\n", "soc2.toml", ".".as_ref())
///     .unwrap();
/// let names: Vec<&str> = config.instances.iter().map(|i| i.name()).collect();
/// assert_eq!(names, ["eu", "us"]);
/// assert!(registry.parse_config("[pnig]\n", "soc2.toml", ".".as_ref()).is_err());
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    modules: Vec<Arc<dyn DynModule>>,
    cross: Vec<CrossChecks>,
}

/// Builds checks that read the populations of several modules' instances, given every
/// instance in the run.
pub type CrossCheckFactory = Arc<dyn Fn(&[InstanceId]) -> Vec<Box<dyn Check>> + Send + Sync>;

/// Checks across modules under one namespace (`change.pr_has_ticket` reads GitHub and
/// Jira). They run whatever instances a config has; with a module they need missing, they
/// say `not_applicable`.
#[derive(Clone)]
struct CrossChecks {
    namespace: &'static str,
    make: CrossCheckFactory,
}

impl std::fmt::Debug for CrossChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.namespace)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.types()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a module; a module of the same type registered earlier is replaced.
    pub fn with<M: Module>(mut self, module: M) -> Self {
        self.register(module);
        self
    }

    /// Adds a module in place; a module of the same type registered earlier is replaced.
    pub fn register<M: Module>(&mut self, module: M) {
        self.modules.retain(|m| m.type_name() != M::TYPE);
        self.modules.push(Arc::new(Erased(Arc::new(module))));
    }

    /// Adds checks across modules under `namespace` (their ids are `<namespace>.<control>`,
    /// their subjects unprefixed). `make` receives every instance of the run.
    ///
    /// ```
    /// use soc2_evidence_core::{Check, InstanceId, Registry};
    /// let registry = Registry::new().with_cross_checks("change", |_: &[InstanceId]| {
    ///     Vec::<Box<dyn Check>>::new()
    /// });
    /// assert_eq!(registry.cross_namespaces(), ["change"]);
    /// ```
    pub fn with_cross_checks(
        mut self,
        namespace: &'static str,
        make: impl Fn(&[InstanceId]) -> Vec<Box<dyn Check>> + Send + Sync + 'static,
    ) -> Self {
        self.cross.retain(|c| c.namespace != namespace);
        self.cross.push(CrossChecks {
            namespace,
            make: Arc::new(make),
        });
        self
    }

    /// The namespaces of the cross-module checks, in registration order.
    pub fn cross_namespaces(&self) -> Vec<&'static str> {
        self.cross.iter().map(|c| c.namespace).collect()
    }

    /// The module of a type.
    pub fn module(&self, type_name: &str) -> Option<&Arc<dyn DynModule>> {
        self.modules.iter().find(|m| m.type_name() == type_name)
    }

    /// Every registered type, in registration order.
    pub fn types(&self) -> Vec<&'static str> {
        self.modules.iter().map(|m| m.type_name()).collect()
    }

    /// Reads and parses a config file; relative paths in it resolve against its directory.
    pub fn load_config(&self, path: &Path) -> Result<RunConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        self.parse_config(&text, &path.display().to_string(), base)
    }

    /// Parses config text; `origin` names it in errors, `base_dir` resolves relative paths.
    pub fn parse_config(
        &self,
        text: &str,
        origin: &str,
        base_dir: &Path,
    ) -> Result<RunConfig, ConfigError> {
        let parse = |message: String| ConfigError::Parse {
            path: origin.to_string(),
            message,
        };
        let table: toml::Table =
            toml::from_str(text).map_err(|e| parse(e.to_string().trim_end().to_string()))?;
        let mut organization = None;
        let mut ledger = None;
        let mut bundle = None;
        let mut instances = Vec::new();
        for (key, value) in table {
            if key == "organization" {
                organization = Some(parse_organization(value).map_err(parse)?);
                continue;
            }
            if key == "ledger" {
                ledger = Some(crate::ledger::LedgerSettings::from_toml(value).map_err(parse)?);
                continue;
            }
            if key == "bundle" {
                bundle = Some(crate::BundleSettings::from_toml(value).map_err(parse)?);
                continue;
            }
            let Some(module) = self.module(&key) else {
                let mut known: Vec<&str> = FRAMEWORK_SECTIONS.to_vec();
                known.extend(self.types());
                return Err(parse(format!(
                    "unknown section [{key}] (known: {})",
                    known.join(", ")
                )));
            };
            let entries = match value {
                toml::Value::Table(t) => vec![(t, false)],
                toml::Value::Array(items) => items
                    .into_iter()
                    .map(|v| match v {
                        toml::Value::Table(t) => Ok((t, true)),
                        other => Err(parse(format!(
                            "[[{key}]] entries must be tables, found {}",
                            other.type_str()
                        ))),
                    })
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(parse(format!(
                        "[{key}] must be a table, found {}",
                        other.type_str()
                    )))
                }
            };
            for (mut table, _array) in entries {
                let name = match table.remove("name") {
                    None => key.clone(),
                    Some(toml::Value::String(s)) => s,
                    Some(other) => {
                        return Err(parse(format!(
                            "[{key}] name must be a string, found {}",
                            other.type_str()
                        )))
                    }
                };
                let id = InstanceId {
                    type_name: module.type_name().to_string(),
                    name,
                };
                let ctx = BuildContext::new(&id, base_dir, &EnvSecrets);
                let config = module
                    .parse_toml(toml::Value::Table(table), &ctx)
                    .map_err(|e| relabel(e, origin))?;
                instances.push(ConfiguredInstance {
                    id,
                    module: module.clone(),
                    config,
                });
            }
        }
        RunConfig::new(organization, instances, base_dir.to_path_buf(), origin).map(|mut c| {
            c.ledger = ledger;
            c.bundle = bundle;
            c.with_cross(self.cross.clone())
        })
    }

    /// Rebuilds a run's config from the effective config it saved (`config.json`).
    pub fn load_effective(&self, run_dir: &Path) -> Result<RunConfig, ConfigError> {
        let path = run_dir.join(EFFECTIVE_CONFIG_FILE);
        let origin = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| ConfigError::Read {
            path: origin.clone(),
            message: format!(
                "{e} (runs written before soc2-evidence 0.2 have no saved config: pass --config)"
            ),
        })?;
        let doc: EffectiveConfig =
            serde_json::from_slice(&bytes).map_err(|e| ConfigError::Parse {
                path: origin.clone(),
                message: e.to_string(),
            })?;
        if doc.format != EFFECTIVE_CONFIG_FORMAT {
            return Err(ConfigError::Parse {
                path: origin,
                message: format!(
                    "format {:?}, expected {EFFECTIVE_CONFIG_FORMAT:?}",
                    doc.format
                ),
            });
        }
        let base_dir = PathBuf::from(&doc.base_dir);
        let mut instances = Vec::new();
        for saved in doc.instances {
            let Some(module) = self.module(&saved.id.type_name) else {
                return Err(ConfigError::Parse {
                    path: origin.clone(),
                    message: format!(
                        "the run used collector type {:?}, which this program does not have (known: {}); run `check` with the binary that collected it",
                        saved.id.type_name,
                        self.types().join(", ")
                    ),
                });
            };
            let ctx = BuildContext::new(&saved.id, &base_dir, &EnvSecrets);
            let config = module.parse_json(saved.config, &ctx)?;
            instances.push(ConfiguredInstance {
                id: saved.id,
                module: module.clone(),
                config,
            });
        }
        // A saved config was valid when it was written; a hand-edited one must still be.
        let invalid = |message: String| ConfigError::Parse {
            path: origin.clone(),
            message,
        };
        if let Some(l) = &doc.ledger {
            l.validate().map_err(invalid)?;
        }
        if let Some(b) = &doc.bundle {
            b.validate().map_err(invalid)?;
        }
        let (ledger, bundle) = (doc.ledger, doc.bundle);
        RunConfig::new(doc.organization, instances, base_dir, &origin).map(|mut c| {
            c.ledger = ledger;
            c.bundle = bundle;
            c.assembled_period = doc.assembled_period;
            c.with_cross(self.cross.clone())
        })
    }
}

fn relabel(e: ConfigError, origin: &str) -> ConfigError {
    match e {
        ConfigError::Parse { path, message } if path == "config" => ConfigError::Parse {
            path: origin.to_string(),
            message,
        },
        other => other,
    }
}

fn parse_organization(value: toml::Value) -> Result<String, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Organization {
        name: String,
    }
    Organization::deserialize(value)
        .map(|o| o.name)
        .map_err(|e| format!("[organization]: {}", e.to_string().trim_end()))
}

/// One configured instance: its id, its module and its parsed config.
pub struct ConfiguredInstance {
    id: InstanceId,
    module: Arc<dyn DynModule>,
    config: Box<dyn InstanceConfig>,
}

impl std::fmt::Debug for ConfiguredInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredInstance")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ConfiguredInstance {
    /// The instance name.
    pub fn name(&self) -> &str {
        &self.id.name
    }
    /// The type and name.
    pub fn id(&self) -> &InstanceId {
        &self.id
    }
    /// The module's version.
    pub fn version(&self) -> &'static str {
        self.module.version()
    }
    /// The populations it writes.
    pub fn populations(&self) -> Vec<PopulationSpec> {
        self.config.populations()
    }
}

/// A parsed configuration: the organisation and the instances to run, in file order.
#[derive(Debug)]
pub struct RunConfig {
    /// `[organization] name`.
    pub organization: Option<String>,
    /// The instances.
    pub instances: Vec<ConfiguredInstance>,
    /// Where relative paths resolve.
    pub base_dir: PathBuf,
    /// `[ledger]`, when the config has one.
    pub ledger: Option<crate::ledger::LedgerSettings>,
    /// `[bundle]`, when the config has one.
    pub bundle: Option<crate::BundleSettings>,
    /// Whether this is the config of a period assembled from a ledger: its checks then
    /// include `ledger.coverage`. Only `soc2-evidence period` sets it.
    pub assembled_period: bool,
    cross: Vec<CrossChecks>,
}

/// One collector instance ready to run: the collector and what it declares.
pub struct BuiltInstance {
    /// Type and name.
    pub id: InstanceId,
    /// Module version, for provenance.
    pub version: String,
    /// Declared populations.
    pub populations: Vec<PopulationSpec>,
    /// The collector.
    pub collector: Box<dyn Collector>,
}

/// The checks of one instance; the runner prefixes their subjects with the instance name.
pub struct InstanceChecks {
    /// Type and name.
    pub id: InstanceId,
    /// The checks.
    pub checks: Vec<Box<dyn Check>>,
}

#[derive(Serialize, Deserialize)]
struct EffectiveConfig {
    format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organization: Option<String>,
    base_dir: String,
    instances: Vec<SavedInstance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ledger: Option<crate::ledger::LedgerSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bundle: Option<crate::BundleSettings>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    assembled_period: bool,
}

#[derive(Serialize, Deserialize)]
struct SavedInstance {
    #[serde(flatten)]
    id: InstanceId,
    version: String,
    config: serde_json::Value,
}

impl RunConfig {
    fn new(
        organization: Option<String>,
        instances: Vec<ConfiguredInstance>,
        base_dir: PathBuf,
        origin: &str,
    ) -> Result<Self, ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for i in &instances {
            let bad = |message: String| ConfigError::Invalid {
                section: i.id.section(),
                key: "name".into(),
                message,
            };
            validate_population_name(&i.id.name).map_err(|_| {
                bad(format!(
                    "{:?} is not allowed: the name is a directory, so use lower-case letters, digits, `_` and `-`",
                    i.id.name
                ))
            })?;
            if RESERVED_INSTANCE_NAMES.contains(&i.id.name.as_str()) {
                return Err(bad(format!(
                    "{:?} is reserved for the run directory's own files",
                    i.id.name
                )));
            }
            if !seen.insert(i.id.name.clone()) {
                return Err(bad(format!(
                    "two instances in {origin} are named {:?}: give each [[{}]] entry its own `name`",
                    i.id.name, i.id.type_name
                )));
            }
        }
        Ok(Self {
            organization,
            instances,
            base_dir,
            ledger: None,
            bundle: None,
            assembled_period: false,
            cross: Vec::new(),
        })
    }

    fn with_cross(mut self, cross: Vec<CrossChecks>) -> Self {
        self.cross = cross;
        self
    }

    /// Every instance's id, in config order.
    pub fn instance_ids(&self) -> Vec<InstanceId> {
        self.instances.iter().map(|i| i.id.clone()).collect()
    }

    /// The effective config saved as `config.json`: every instance's config with defaults
    /// filled in. It never holds a secret: configs name environment variables, not values.
    pub fn effective_json(&self) -> Result<Vec<u8>, ConfigError> {
        let doc = EffectiveConfig {
            format: EFFECTIVE_CONFIG_FORMAT.into(),
            organization: self.organization.clone(),
            base_dir: self.base_dir.display().to_string(),
            instances: self
                .instances
                .iter()
                .map(|i| {
                    Ok(SavedInstance {
                        id: i.id.clone(),
                        version: i.version().to_string(),
                        config: i.config.effective()?,
                    })
                })
                .collect::<Result<_, ConfigError>>()?,
            ledger: self.ledger.clone(),
            bundle: self.bundle.clone(),
            assembled_period: self.assembled_period,
        };
        let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| ConfigError::Parse {
            path: EFFECTIVE_CONFIG_FILE.into(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Builds every instance's collector, reading secrets from `secrets` — all of them
    /// before anything runs, so a missing one is a config error, not a half-finished run.
    pub fn build(&self, secrets: &dyn SecretSource) -> Result<Vec<BuiltInstance>, ConfigError> {
        self.instances
            .iter()
            .map(|i| {
                let ctx = BuildContext::new(&i.id, &self.base_dir, secrets);
                Ok(BuiltInstance {
                    id: i.id.clone(),
                    version: i.version().to_string(),
                    populations: i.populations(),
                    collector: i.config.collector(&ctx)?,
                })
            })
            .collect()
    }

    /// Every instance's checks, in config order, then the registry's cross-module checks
    /// (their group's id has an empty type and the namespace as name).
    pub fn checks(&self) -> Vec<InstanceChecks> {
        let ids = self.instance_ids();
        let mut groups: Vec<InstanceChecks> = self
            .instances
            .iter()
            .map(|i| InstanceChecks {
                id: i.id.clone(),
                checks: i.config.checks(&CheckContext::new(&i.id, &ids)),
            })
            .collect();
        for c in &self.cross {
            groups.push(InstanceChecks {
                id: InstanceId {
                    type_name: String::new(),
                    name: c.namespace.to_string(),
                },
                checks: (c.make)(&ids),
            });
        }
        if self.assembled_period {
            let max_gap = self
                .ledger
                .as_ref()
                .map(|l| l.max_gap_days)
                .unwrap_or(crate::ledger::DEFAULT_MAX_GAP_DAYS);
            groups.push(InstanceChecks {
                id: InstanceId {
                    type_name: String::new(),
                    name: crate::ledger::LEDGER_INSTANCE.to_string(),
                },
                checks: vec![Box::new(crate::ledger::CoverageCheck::new(max_gap))],
            });
        }
        groups
    }
}
