//! The configuration: any text, as the whole file or as the value of any one setting (in the
//! file or in its `SWITCHYARD_*` variable), is read or refused without a panic. A refusal names
//! the setting it came from; the file and the environment read a value the same way; and what
//! is read keeps the rules the server relies on.
#![no_main]

use std::collections::HashMap;

use app::backend::operations::settings::Driver;
use libfuzzer_sys::fuzz_target;
use server::config::{env_name, keys, Config, ConfigError};

const FILE: &str = "fuzz.toml";

fuzz_target!(|text: &str| {
    let none = HashMap::new();
    match Config::load(Some((FILE, text)), &none) {
        Ok(config) => kept_rules(&config, text),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    for key in keys() {
        let var = env_name(key);
        let from_env = Config::load(None, &HashMap::from([(var.clone(), text.to_owned())]));
        let line = format!("{key} = {}\n", toml_string(text));
        let from_file = Config::load(Some((FILE, &line)), &none);
        match (&from_env, &from_file) {
            (Ok(env), Ok(file)) => {
                assert_eq!(format!("{env:?}"), format!("{file:?}"), "{key} = {text:?}");
                kept_rules(env, text);
            }
            (
                Err(ConfigError::Invalid { key: named, .. }),
                Err(ConfigError::Invalid { key: in_file, .. }),
            ) => {
                assert_eq!(*named, var, "{text:?}");
                assert_eq!(*in_file, format!("{key} (in {FILE})"), "{text:?}");
            }
            _ => panic!(
                "{key} = {text:?}: the environment gave {from_env:?}, the file {from_file:?}"
            ),
        }
    }
});

/// What the server assumes of a configuration it started with.
fn kept_rules(config: &Config, text: &str) {
    assert!(config.request_body_limit > 0, "{text:?}");
    for interval in [
        config.health_check_interval,
        config.shutdown_timeout,
        config.client_timeout,
        config.auth.session_idle_timeout,
        config.auth.session_lifetime,
    ] {
        assert!(!interval.is_zero(), "{text:?}");
    }
    let _ = config.outbound_policy();
    let _ = config.warnings();
    let environments = &config.operations.environments;
    for (index, environment) in environments.iter().enumerate() {
        let steps = &environment.canary.steps;
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "{text:?}");
        assert_eq!(steps.last(), Some(&100), "{text:?}");
        assert!(!environment.health.healthy_within.is_zero(), "{text:?}");
        assert!(!environment.health.interval.is_zero(), "{text:?}");
        match &environment.driver {
            Driver::Command(command) => assert!(!command.program.as_os_str().is_empty()),
            Driver::Http(http) => assert!(http.url.starts_with("http://"), "{text:?}"),
        }
        let twice = environments[..index]
            .iter()
            .any(|e| e.service == environment.service && e.environment == environment.environment);
        assert!(!twice, "{text:?}");
    }
}

/// `text` as a TOML basic string: quotes, backslashes and control characters escaped.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}
