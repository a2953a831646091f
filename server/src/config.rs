//! Configuration: defaults, then a TOML file, then `SWITCHYARD_*` environment variables (the
//! environment wins). Every value is parsed here, once; a bad one stops startup with a message
//! naming the key it came from.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use app::{
    backend::{
        backups::BackupSettings,
        deployments::webhooks::{secret_setting, WebhookSettings},
        operations::settings::OperationSettings,
        AuthSettings, Engine,
    },
    domain::{
        backups::{Retention, Schedule},
        deployments::webhook::GithubMapping,
        outbound::OutboundPolicy,
    },
};
use tracing_subscriber::EnvFilter;

/// The settings Switchyard runs with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// `sqlite://PATH` (default `./data/switchyard.db`) or `postgres://…`.
    pub database_url: String,
    /// The folder cargo-leptos writes the compiled site into (`pkg/` with WASM, JS and CSS).
    pub site_root: PathBuf,
    /// `json` for machines (default) or `pretty` for people at a terminal.
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `info,sqlx=warn`.
    pub log_level: String,
    /// The largest request body accepted, in bytes.
    pub request_body_limit: usize,
    /// How often each slot's health URL is checked in the background.
    pub health_check_interval: Duration,
    /// How long requests in flight may take to finish after a stop is asked for; after it,
    /// Switchyard logs what was still running and exits anyway.
    pub shutdown_timeout: Duration,
    /// How long a client may take to send its request headers, or the next part of a body it
    /// is sending; an idle kept-alive connection is closed after it too.
    pub client_timeout: Duration,
    /// Session idle timeout and absolute lifetime.
    pub auth: AuthSettings,
    /// Whether the session cookie is marked `Secure` (sent over https only). Turn on whenever
    /// Switchyard is reached over https, as behind a TLS-terminating proxy.
    pub secure_cookies: bool,
    /// Reverse proxies in front of Switchyard: from these peers, the client address (for the
    /// login throttle and the audit log) is read from `X-Forwarded-For`.
    pub trusted_proxies: Vec<IpAddr>,
    /// The CI webhooks' secrets and GitHub name mapping.
    pub webhooks: WebhookSettings,
    /// Drivers and health checks per environment, from the file's `[[environment]]` tables.
    pub operations: OperationSettings,
    /// The bearer token Prometheus scrapes `/api/v1/prometheus` with; none turns it off.
    pub prometheus_token: Option<secrecy::SecretString>,
    /// Host names and address blocks slot upstreams and health URLs may point at; empty allows
    /// any address but link-local, multicast and unspecified ones (see `domain::outbound`).
    pub slot_hosts: Vec<String>,
    /// Where scheduled backups go; none turns them off.
    pub backup_dir: Option<PathBuf>,
    /// When they run (`backup_at` in `backup_time_zone`).
    pub backup_schedule: Schedule,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {key}: {message}")]
    Invalid { key: String, message: String },
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: "sqlite://data/switchyard.db".to_owned(),
            site_root: PathBuf::from("target/site"),
            log_format: LogFormat::Json,
            log_level: "info".to_owned(),
            request_body_limit: 1024 * 1024,
            shutdown_timeout: Duration::from_secs(20),
            client_timeout: Duration::from_secs(10),
            health_check_interval: Duration::from_secs(30),
            auth: AuthSettings::default(),
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            webhooks: WebhookSettings::default(),
            prometheus_token: None,
            operations: OperationSettings::default(),
            slot_hosts: Vec::new(),
            backup_dir: None,
            backup_schedule: Schedule::default(),
        }
    }
}

/// One setting: its name in the TOML file and in the environment, and how to apply a value.
struct Key {
    name: &'static str,
    apply: fn(&mut Config, &str) -> Result<(), String>,
}

/// Every setting there is. A new setting is one row here and one field above.
const KEYS: &[Key] = &[
    Key {
        name: "addr",
        apply: |c, v| parse_addr(v).map(|a| c.addr = a),
    },
    Key {
        name: "database_url",
        apply: |c, v| parse_database_url(v).map(|u| c.database_url = u),
    },
    Key {
        name: "site_root",
        apply: |c, v| parse_nonempty(v).map(|p| c.site_root = p.into()),
    },
    Key {
        name: "log_format",
        apply: |c, v| parse_log_format(v).map(|f| c.log_format = f),
    },
    Key {
        name: "log_level",
        apply: |c, v| parse_log_level(v).map(|l| c.log_level = l),
    },
    Key {
        name: "request_body_limit",
        apply: |c, v| parse_byte_size(v).map(|n| c.request_body_limit = n),
    },
    Key {
        name: "health_check_interval",
        apply: |c, v| parse_duration(v).map(|d| c.health_check_interval = d),
    },
    Key {
        name: "shutdown_timeout",
        apply: |c, v| parse_duration(v).map(|d| c.shutdown_timeout = d),
    },
    Key {
        name: "client_timeout",
        apply: |c, v| parse_duration(v).map(|d| c.client_timeout = d),
    },
    Key {
        name: "session_idle_timeout",
        apply: |c, v| parse_duration(v).map(|d| c.auth.session_idle_timeout = d),
    },
    Key {
        name: "session_lifetime",
        apply: |c, v| parse_duration(v).map(|d| c.auth.session_lifetime = d),
    },
    Key {
        name: "secure_cookies",
        apply: |c, v| parse_bool(v).map(|b| c.secure_cookies = b),
    },
    Key {
        name: "trusted_proxies",
        apply: |c, v| parse_ip_list(v).map(|l| c.trusted_proxies = l),
    },
    Key {
        name: "github_webhook_secret",
        apply: |c, v| {
            c.webhooks.github_secret = secret_setting(v);
            Ok(())
        },
    },
    Key {
        name: "github_webhook_services",
        apply: |c, v| GithubMapping::parse_pairs(v).map(|p| c.webhooks.github_mapping.services = p),
    },
    Key {
        name: "github_webhook_environments",
        apply: |c, v| {
            GithubMapping::parse_pairs(v).map(|p| c.webhooks.github_mapping.environments = p)
        },
    },
    Key {
        name: "generic_webhook_secret",
        apply: |c, v| {
            c.webhooks.generic_secret = secret_setting(v);
            Ok(())
        },
    },
    Key {
        name: "slot_hosts",
        apply: |c, v| {
            let hosts: Vec<String> = v
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect();
            OutboundPolicy::new(&hosts, &[]).map(|_| c.slot_hosts = hosts)
        },
    },
    Key {
        name: "backup_dir",
        apply: |c, v| {
            c.backup_dir = Some(v.trim()).filter(|d| !d.is_empty()).map(PathBuf::from);
            Ok(())
        },
    },
    Key {
        name: "backup_at",
        apply: |c, v| Schedule::parse_at(v).map(|at| c.backup_schedule.at = at),
    },
    Key {
        name: "backup_time_zone",
        apply: |c, v| Schedule::parse_zone(v).map(|zone| c.backup_schedule.zone = zone),
    },
    Key {
        name: "prometheus_token",
        apply: |c, v| {
            c.prometheus_token = secret_setting(v);
            Ok(())
        },
    },
];

/// The name of every setting, as the file writes it.
pub fn keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.name)
}

/// The environment variable that sets a key: `SWITCHYARD_` and the key in capitals.
pub fn env_name(key: &str) -> String {
    format!("SWITCHYARD_{}", key.to_ascii_uppercase())
}

/// `SWITCHYARD_*` variables that name no setting: most likely typos, worth a warning.
pub fn unknown_env_keys(env: &HashMap<String, String>) -> Vec<String> {
    let mut unknown: Vec<String> = env
        .keys()
        .filter(|var| var.starts_with("SWITCHYARD_") && var.as_str() != CONFIG_FILE_VAR)
        .filter(|var| !keys().any(|k| env_name(k) == **var))
        .cloned()
        .collect();
    unknown.sort();
    unknown
}

/// The file's array of tables configuring operations per environment.
const ENVIRONMENT_TABLES: &str = "environment";

/// The environment variable naming the configuration file (like `--config`).
pub const CONFIG_FILE_VAR: &str = "SWITCHYARD_CONFIG";

impl Config {
    /// Loads the configuration from an optional TOML file's text (with the path it came from,
    /// for messages) and the process environment given as a map, so tests need not touch the
    /// real environment.
    pub fn load(
        file: Option<(&str, &str)>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some((path, text)) = file {
            config.apply_file(path, text)?;
        }
        for key in KEYS {
            let var = env_name(key.name);
            if let Some(value) = env.get(&var) {
                (key.apply)(&mut config, value).map_err(|message| ConfigError::Invalid {
                    key: var.clone(),
                    message,
                })?;
            }
        }
        Ok(config)
    }

    /// Scheduled backups with the guide's retention, when `backup_dir` is set.
    pub fn backups(&self) -> Option<BackupSettings> {
        Some(BackupSettings {
            dir: self.backup_dir.clone()?,
            schedule: self.backup_schedule,
            retention: Retention::GUIDE,
        })
    }

    /// Where Switchyard may send requests: `slot_hosts` and the hosts of the URLs in the
    /// `[[environment]]` tables.
    pub fn outbound_policy(&self) -> Result<OutboundPolicy, ConfigError> {
        OutboundPolicy::new(&self.slot_hosts, &self.operations.urls()).map_err(|message| {
            ConfigError::Invalid {
                key: "slot_hosts".into(),
                message,
            }
        })
    }

    /// Settings that work but leave users exposed, each said in words an operator can act on;
    /// logged at startup.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if !self.addr.ip().is_loopback() && !self.secure_cookies {
            warnings.push(
                "listening on a non-loopback address with secure_cookies off: session cookies \
                 may cross the network in clear text. Put Switchyard behind https and set \
                 secure_cookies = true.",
            );
        }
        warnings
    }

    /// Reads the file named by `--config` or `SWITCHYARD_CONFIG`, then applies the environment.
    pub fn from_file_and_env(
        path: Option<&str>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Self::load(None, env);
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::load(Some((path, &text)), env)
    }

    fn apply_file(&mut self, path: &str, text: &str) -> Result<(), ConfigError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?;
        // A `[section]` table's keys are the settings `section_key`: `[backup] dir` is
        // `backup_dir`, as the environment's SWITCHYARD_BACKUP_DIR is.
        let mut settings: Vec<(String, &toml::Value)> = Vec::new();
        for (name, value) in &table {
            match value {
                toml::Value::Table(section) if name != ENVIRONMENT_TABLES => settings.extend(
                    section
                        .iter()
                        .map(|(key, value)| (format!("{name}_{key}"), value)),
                ),
                _ => settings.push((name.clone(), value)),
            }
        }
        for (name, value) in settings {
            let name = name.as_str();
            let invalid = |message: String| ConfigError::Invalid {
                key: format!("{name} (in {path})"),
                message,
            };
            if name == ENVIRONMENT_TABLES {
                self.operations =
                    operations::parse(value).map_err(|(key, message)| ConfigError::Invalid {
                        key: format!("{key} (in {path})"),
                        message,
                    })?;
                continue;
            }
            let key = KEYS.iter().find(|k| k.name == name).ok_or_else(|| {
                let known: Vec<_> = keys().collect();
                invalid(format!(
                    "unknown key; known keys are {} and [[{ENVIRONMENT_TABLES}]] tables",
                    known.join(", ")
                ))
            })?;
            let text = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(invalid(format!(
                        "expected a string, a number or a boolean, found {}",
                        other.type_str()
                    )))
                }
            };
            (key.apply)(self, &text).map_err(invalid)?;
        }
        Ok(())
    }
}

fn parse_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not an address and port such as 127.0.0.1:3000"))
}

fn parse_database_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    Engine::from_url(value)
        .map(|_| value.to_owned())
        .ok_or_else(|| "expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE".to_owned())
}

fn parse_nonempty(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(value.to_owned())
    }
}

fn parse_log_format(value: &str) -> Result<LogFormat, String> {
    match value.trim() {
        "json" => Ok(LogFormat::Json),
        "pretty" => Ok(LogFormat::Pretty),
        other => Err(format!("{other:?} is not a log format; use json or pretty")),
    }
}

/// A tracing filter of `target=level` directives, maybe naming spans. Field filters
/// (`[span{field=value}]`) are refused: tracing compiles their values into automata whose size
/// can grow exponentially with the pattern: the fuzzer found one that held startup for
/// minutes and took gigabytes.
fn parse_log_level(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.contains('{') {
        return Err(format!(
            "{value:?} has a field filter ({{…}}), which Switchyard does not accept; use \
             target=level directives such as info,sqlx=warn"
        ));
    }
    EnvFilter::try_new(value)
        .map(|_| value.to_owned())
        .map_err(|e| format!("{value:?} is not a log filter such as info or info,sqlx=warn ({e})"))
}

/// Bytes, with an optional unit: `1048576`, `512KiB`, `2MiB`.
fn parse_byte_size(value: &str) -> Result<usize, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let multiplier = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1024,
        "MiB" => 1024 * 1024,
        _ => {
            return Err(format!(
                "{value:?} is not a size such as 1048576, 512KiB or 2MiB"
            ))
        }
    };
    number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{value:?} is not a size such as 1048576, 512KiB or 2MiB"))
}

/// A duration above zero with a unit: `90s`, `30m`, `8h`, `7d`.
fn parse_duration(value: &str) -> Result<Duration, String> {
    app::domain::time::parse_duration(value, false)
}

/// Comma-separated IP addresses; empty for none.
fn parse_ip_list(value: &str) -> Result<Vec<IpAddr>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse()
                .map_err(|_| format!("{part:?} is not an IP address such as 127.0.0.1 or ::1"))
        })
        .collect()
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("{other:?} is not true or false")),
    }
}

mod operations;
#[cfg(test)]
mod tests;
