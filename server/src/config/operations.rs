//! The `[[environment]]` tables: how operations act on each environment (driver, health
//! checks, canary steps). Parsed and checked here, once, so a broken table stops startup with
//! its key named, before any operation could half-run on it.

use std::{collections::BTreeMap, time::Duration};

use app::{
    backend::operations::settings::{
        CanarySettings, CommandDriver, Driver, EnvironmentSettings, HealthSettings, HttpDriver,
        OperationSettings,
    },
    domain::catalog::Name,
};
use serde::Deserialize;

/// A bad value, with the key path inside the table (`driver.program`).
type Invalid = (String, String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    service: String,
    name: String,
    driver: RawDriver,
    #[serde(default)]
    health: RawHealth,
    #[serde(default)]
    canary: RawCanary,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDriver {
    kind: String,
    program: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    method: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    path: Option<String>,
    url: Option<String>,
    interval: Option<String>,
    verify_for: Option<String>,
    healthy_within: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCanary {
    steps: Option<Vec<i64>>,
    pause: Option<String>,
}

/// Parses the `environment` array; errors name `environment[INDEX].KEY`.
pub fn parse(value: &toml::Value) -> Result<OperationSettings, (String, String)> {
    let tables = value.as_array().ok_or_else(|| {
        (
            "environment".to_owned(),
            "write each environment as an [[environment]] table".to_owned(),
        )
    })?;
    let mut settings = OperationSettings::default();
    for (index, table) in tables.iter().enumerate() {
        let key = |path: &str| {
            if path.is_empty() {
                format!("environment[{index}]")
            } else {
                format!("environment[{index}].{path}")
            }
        };
        let raw: RawEnvironment = table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| (key(""), e.message().to_owned()))?;
        let environment = check(raw).map_err(|(path, message)| (key(&path), message))?;
        if settings
            .find(&environment.service, &environment.environment)
            .is_some()
        {
            return Err((
                key("name"),
                format!(
                    "{}/{} is configured twice; keep one table",
                    environment.service, environment.environment
                ),
            ));
        }
        settings.environments.push(environment);
    }
    Ok(settings)
}

fn check(raw: RawEnvironment) -> Result<EnvironmentSettings, Invalid> {
    let name = |field: &str, text: &str| {
        Name::parse(field, text)
            .map(|n| n.to_string())
            .map_err(|e| (field.to_owned(), e.message))
    };
    Ok(EnvironmentSettings {
        service: name("service", &raw.service)?,
        environment: name("name", &raw.name)?,
        driver: driver(raw.driver)?,
        health: health(raw.health)?,
        canary: canary(raw.canary)?,
    })
}

fn driver(raw: RawDriver) -> Result<Driver, Invalid> {
    let invalid = |key: &str, message: String| (format!("driver.{key}"), message);
    let unused = |key: &str, present: bool| {
        if present {
            Err(invalid(key, format!("a {} driver has no {key}", raw.kind)))
        } else {
            Ok(())
        }
    };
    let timeout = |default| {
        duration(raw.timeout.as_deref(), default, false).map_err(|m| invalid("timeout", m))
    };
    match raw.kind.as_str() {
        "command" => {
            unused("method", raw.method.is_some())?;
            unused("url", raw.url.is_some())?;
            unused("headers", !raw.headers.is_empty())?;
            let program = raw
                .program
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| invalid("program", "name the program to run".to_owned()))?;
            Ok(Driver::Command(CommandDriver {
                program: program.into(),
                args: raw.args,
                env: raw.env.into_iter().collect(),
                timeout: timeout(Duration::from_secs(60))?,
            }))
        }
        "http" => {
            unused("program", raw.program.is_some())?;
            unused("args", !raw.args.is_empty())?;
            unused("env", !raw.env.is_empty())?;
            let url = raw
                .url
                .as_deref()
                .ok_or_else(|| invalid("url", "name the URL to call".to_owned()))?;
            let url = http_url(url).map_err(|m| invalid("url", m))?;
            let method = raw.method.unwrap_or_else(|| "POST".to_owned());
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                return Err(invalid(
                    "method",
                    format!("{method:?} is not GET, POST, PUT, PATCH or DELETE"),
                ));
            }
            for name in raw.headers.keys() {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(invalid("headers", format!("{name:?} is not a header name")));
                }
            }
            Ok(Driver::Http(HttpDriver {
                method,
                url,
                headers: raw.headers.into_iter().collect(),
                timeout: timeout(Duration::from_secs(30))?,
            }))
        }
        other => Err(invalid(
            "kind",
            format!("{other:?} is not a driver kind; use command or http"),
        )),
    }
}

fn health(raw: RawHealth) -> Result<HealthSettings, Invalid> {
    let defaults = HealthSettings::default();
    let invalid = |key: &'static str| move |message: String| (format!("health.{key}"), message);
    if let Some(path) = &raw.path {
        if !path.starts_with('/') {
            return Err(invalid("path")(format!(
                "{path:?} is not a path; start it with /, as in /api/v1/health"
            )));
        }
    }
    Ok(HealthSettings {
        url: raw
            .url
            .as_deref()
            .map(http_url)
            .transpose()
            .map_err(invalid("url"))?,
        path: raw.path,
        interval: duration(raw.interval.as_deref(), defaults.interval, false)
            .map_err(invalid("interval"))?,
        verify_for: duration(raw.verify_for.as_deref(), defaults.verify_for, true)
            .map_err(invalid("verify_for"))?,
        healthy_within: duration(
            raw.healthy_within.as_deref(),
            defaults.healthy_within,
            false,
        )
        .map_err(invalid("healthy_within"))?,
        timeout: duration(raw.timeout.as_deref(), defaults.timeout, false)
            .map_err(invalid("timeout"))?,
    })
}

fn canary(raw: RawCanary) -> Result<CanarySettings, Invalid> {
    let defaults = CanarySettings::default();
    let steps = match raw.steps {
        None => defaults.steps,
        Some(steps) => {
            let checked: Option<Vec<u8>> = steps
                .iter()
                .map(|&s| u8::try_from(s).ok().filter(|s| (1..=100).contains(s)))
                .collect();
            match checked {
                Some(c) if c.windows(2).all(|w| w[0] < w[1]) && c.last() == Some(&100) => c,
                _ => {
                    return Err((
                        "canary.steps".to_owned(),
                        "list traffic percentages from 1 to 100, ascending, ending at 100, such as [10, 25, 50, 100]".to_owned(),
                    ))
                }
            }
        }
    };
    let pause = raw
        .pause
        .as_deref()
        .map(|p| duration(Some(p), Duration::ZERO, true))
        .transpose()
        .map_err(|m| ("canary.pause".to_owned(), m))?;
    Ok(CanarySettings { steps, pause })
}

/// An `http://` URL with a host. The built-in client speaks plain HTTP: Switchyard usually
/// sits next to what it drives; https goes through a command driver (curl) or a local proxy.
fn http_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.starts_with("https://") {
        return Err(format!(
            "{url:?}: the built-in client speaks plain http; use a command driver running curl for https"
        ));
    }
    match url.strip_prefix("http://") {
        Some(rest)
            if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            Ok(url.to_owned())
        }
        _ => Err(format!(
            "{url:?} is not a URL such as http://10.0.0.5:8080/deploy"
        )),
    }
}

/// An optional duration (`default` when absent); zero only where `zero_ok`.
fn duration(text: Option<&str>, default: Duration, zero_ok: bool) -> Result<Duration, String> {
    text.map_or(Ok(default), |text| {
        app::domain::time::parse_duration(text, zero_ok)
    })
}
