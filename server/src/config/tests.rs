use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn invalid_key(result: Result<Config, ConfigError>) -> String {
    match result {
        Err(ConfigError::Invalid { key, .. }) => key,
        other => panic!("expected an invalid-key error, got {other:?}"),
    }
}

#[test]
fn defaults_listen_locally_on_sqlite() {
    let config = Config::load(None, &env(&[])).expect("defaults are valid");
    assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(config.database_url, "sqlite://data/switchyard.db");
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.request_body_limit, 1024 * 1024);
}

#[test]
fn file_values_apply_and_environment_wins() {
    let file = "addr = \"0.0.0.0:8080\"\nlog_format = \"pretty\"\nrequest_body_limit = 2048\n";
    let config = Config::load(
        Some(("switchyard.toml", file)),
        &env(&[("SWITCHYARD_ADDR", "127.0.0.1:9000")]),
    )
    .expect("valid configuration");
    assert_eq!(config.addr.to_string(), "127.0.0.1:9000");
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(config.request_body_limit, 2048);
}

#[test]
fn bad_environment_value_names_the_variable() {
    let key = invalid_key(Config::load(
        None,
        &env(&[("SWITCHYARD_ADDR", "localhost")]),
    ));
    assert_eq!(key, "SWITCHYARD_ADDR");
    let key = invalid_key(Config::load(
        None,
        &env(&[("SWITCHYARD_DATABASE_URL", "mysql://root@db/x")]),
    ));
    assert_eq!(key, "SWITCHYARD_DATABASE_URL");
    let key = invalid_key(Config::load(
        None,
        &env(&[("SWITCHYARD_LOG_FORMAT", "xml")]),
    ));
    assert_eq!(key, "SWITCHYARD_LOG_FORMAT");
    let key = invalid_key(Config::load(
        None,
        &env(&[("SWITCHYARD_LOG_LEVEL", "info,[")]),
    ));
    assert_eq!(key, "SWITCHYARD_LOG_LEVEL");
    // A field filter's value compiles to an automaton that can take minutes to build.
    let slow = format!("info[{{x=.*a{}}}]", ".".repeat(22));
    let refused = Config::load(None, &env(&[("SWITCHYARD_LOG_LEVEL", &slow)]));
    match refused {
        Err(ConfigError::Invalid { key, message }) => {
            assert_eq!(key, "SWITCHYARD_LOG_LEVEL");
            assert!(message.contains("info,sqlx=warn"), "{message}");
        }
        other => panic!("expected the field filter refused, got {other:?}"),
    }
    let key = invalid_key(Config::load(None, &env(&[("SWITCHYARD_SITE_ROOT", " ")])));
    assert_eq!(key, "SWITCHYARD_SITE_ROOT");
}

#[test]
fn bad_file_value_names_the_key_and_file() {
    let key = invalid_key(Config::load(Some(("s.toml", "addr = 3000")), &env(&[])));
    assert_eq!(key, "addr (in s.toml)");
    let key = invalid_key(Config::load(Some(("s.toml", "adr = \"x\"")), &env(&[])));
    assert_eq!(key, "adr (in s.toml)");
    let key = invalid_key(Config::load(Some(("s.toml", "log_level = [1]")), &env(&[])));
    assert_eq!(key, "log_level (in s.toml)");
}

#[test]
fn broken_toml_is_a_syntax_error() {
    let result = Config::load(Some(("s.toml", "addr = ")), &env(&[]));
    assert!(
        matches!(result, Err(ConfigError::Syntax { .. })),
        "{result:?}"
    );
}

#[test]
fn byte_sizes_accept_units_and_refuse_nonsense() {
    assert_eq!(parse_byte_size("1048576"), Ok(1_048_576));
    assert_eq!(parse_byte_size("512KiB"), Ok(512 * 1024));
    assert_eq!(parse_byte_size("2 MiB"), Ok(2 * 1024 * 1024));
    for bad in ["", "0", "-1", "1GB", "MiB", "99999999999999999999"] {
        assert!(parse_byte_size(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn unknown_switchyard_variables_are_reported() {
    let env = env(&[
        ("SWITCHYARD_ADRR", "x"),
        ("SWITCHYARD_ADDR", "127.0.0.1:1"),
        ("SWITCHYARD_CONFIG", "s.toml"),
        ("PATH", "/bin"),
    ]);
    assert_eq!(unknown_env_keys(&env), vec!["SWITCHYARD_ADRR".to_owned()]);
}

#[test]
fn session_settings_read_durations_and_booleans() {
    let config = Config::load(
        Some((
            "switchyard.toml",
            "session_idle_timeout = \"30m\"\nsecure_cookies = true\n",
        )),
        &env(&[("SWITCHYARD_SESSION_LIFETIME", "2d")]),
    )
    .expect("valid");
    assert_eq!(
        config.auth.session_idle_timeout,
        Duration::from_secs(30 * 60)
    );
    assert_eq!(
        config.auth.session_lifetime,
        Duration::from_secs(2 * 86_400)
    );
    assert!(config.secure_cookies);
    for bad in ["", "0h", "8", "8 hours", "-1d"] {
        let result = Config::load(None, &env(&[("SWITCHYARD_SESSION_IDLE_TIMEOUT", bad)]));
        assert!(
            invalid_key(result).starts_with("SWITCHYARD_SESSION_IDLE_TIMEOUT"),
            "{bad:?} must be refused"
        );
    }
    let result = Config::load(None, &env(&[("SWITCHYARD_SECURE_COOKIES", "yes")]));
    assert!(invalid_key(result).starts_with("SWITCHYARD_SECURE_COOKIES"));
}

#[test]
fn sessions_default_to_asvs_level_two_lifetimes() {
    let config = Config::load(None, &env(&[])).expect("valid");
    assert_eq!(
        config.auth.session_idle_timeout,
        Duration::from_secs(30 * 60)
    );
    assert_eq!(config.auth.session_lifetime, Duration::from_secs(12 * 3600));
}

#[test]
fn listening_beyond_loopback_without_secure_cookies_is_warned_about() {
    let warned = |pairs: &[(&str, &str)]| {
        !Config::load(None, &env(pairs))
            .expect("valid")
            .warnings()
            .is_empty()
    };
    assert!(!warned(&[]), "the default listens on 127.0.0.1");
    assert!(!warned(&[("SWITCHYARD_ADDR", "[::1]:3000")]));
    assert!(warned(&[("SWITCHYARD_ADDR", "0.0.0.0:3000")]));
    assert!(warned(&[("SWITCHYARD_ADDR", "192.0.2.7:3000")]));
    assert!(!warned(&[
        ("SWITCHYARD_ADDR", "0.0.0.0:3000"),
        ("SWITCHYARD_SECURE_COOKIES", "true"),
    ]));
}

#[test]
fn shutdown_timeout_defaults_to_twenty_seconds_and_reads_a_duration() {
    assert_eq!(
        Config::load(None, &env(&[]))
            .expect("valid")
            .shutdown_timeout,
        Duration::from_secs(20)
    );
    let config = Config::load(
        Some(("switchyard.toml", "shutdown_timeout = \"5s\"\n")),
        &env(&[]),
    )
    .expect("valid");
    assert_eq!(config.shutdown_timeout, Duration::from_secs(5));
    for bad in ["", "0s", "20", "soon"] {
        let result = Config::load(None, &env(&[("SWITCHYARD_SHUTDOWN_TIMEOUT", bad)]));
        assert!(
            invalid_key(result).starts_with("SWITCHYARD_SHUTDOWN_TIMEOUT"),
            "{bad:?} must be refused"
        );
    }
}

#[test]
fn trusted_proxies_are_a_list_of_addresses() {
    let config = Config::load(
        None,
        &env(&[("SWITCHYARD_TRUSTED_PROXIES", "127.0.0.1, ::1")]),
    )
    .expect("valid");
    assert_eq!(config.trusted_proxies.len(), 2);
    assert!(Config::load(None, &env(&[]))
        .expect("valid")
        .trusted_proxies
        .is_empty());
    let result = Config::load(
        None,
        &env(&[("SWITCHYARD_TRUSTED_PROXIES", "10.0.0.1,proxy")]),
    );
    assert_eq!(invalid_key(result), "SWITCHYARD_TRUSTED_PROXIES");
}

#[test]
fn webhook_settings_parse_and_keep_their_secrets_out_of_debug_output() {
    let file = "github_webhook_secret = \"s3cr3t-value\"\ngithub_webhook_services = \"acme/parts-api=parts, acme/b=billing\"\n";
    let config = Config::load(
        Some(("switchyard.toml", file)),
        &env(&[("SWITCHYARD_GITHUB_WEBHOOK_ENVIRONMENTS", "prod=production")]),
    )
    .expect("valid configuration");
    assert!(config.webhooks.github_secret.is_some());
    assert!(config.webhooks.generic_secret.is_none());
    assert_eq!(config.webhooks.github_mapping.services.len(), 2);
    assert_eq!(
        config.webhooks.github_mapping.environments,
        vec![("prod".to_owned(), "production".to_owned())]
    );
    assert!(!format!("{config:?}").contains("s3cr3t-value"));
    let bad = Config::load(
        None,
        &env(&[("SWITCHYARD_GITHUB_WEBHOOK_SERVICES", "acme/parts-api")]),
    );
    assert_eq!(invalid_key(bad), "SWITCHYARD_GITHUB_WEBHOOK_SERVICES");
}

const ENVIRONMENTS: &str = r#"
[[environment]]
service = "china-car-parts"
name = "production"
driver = { kind = "command", program = "examples/nginx/switch.sh", args = ["--quiet"], timeout = "30s", env = { UPSTREAM_FILE = "/etc/nginx/upstream.conf" } }
health = { path = "/api/v1/health", interval = "200ms", verify_for = "10s" }

[[environment]]
service = "china-car-parts"
name = "staging"
driver = { kind = "http", method = "PUT", url = "http://10.0.0.9:8080/deploy", headers = { Authorization = "Bearer ${DEPLOY_TOKEN}" } }
canary = { steps = [5, 50, 100], pause = "2m" }
"#;

#[test]
fn environment_tables_configure_drivers_and_health_checks() {
    use app::backend::operations::settings::Driver;
    let config = Config::load(Some(("switchyard.toml", ENVIRONMENTS)), &env(&[])).expect("valid");
    let production = config
        .operations
        .find("china-car-parts", "production")
        .expect("configured");
    let Driver::Command(command) = &production.driver else {
        panic!("a command driver")
    };
    assert_eq!(command.program.to_str(), Some("examples/nginx/switch.sh"));
    assert_eq!(command.args, ["--quiet"]);
    assert_eq!(command.timeout, Duration::from_secs(30));
    assert_eq!(
        command.env,
        [(
            "UPSTREAM_FILE".to_owned(),
            "/etc/nginx/upstream.conf".to_owned()
        )]
    );
    assert_eq!(production.health.interval, Duration::from_millis(200));
    assert_eq!(production.health.path.as_deref(), Some("/api/v1/health"));
    let staging = config
        .operations
        .find("china-car-parts", "staging")
        .expect("configured");
    let Driver::Http(http) = &staging.driver else {
        panic!("an http driver")
    };
    assert_eq!(
        (http.method.as_str(), http.url.as_str()),
        ("PUT", "http://10.0.0.9:8080/deploy")
    );
    // The header keeps its variable reference: the secret is read when the request is sent.
    assert_eq!(
        http.headers,
        [(
            "Authorization".to_owned(),
            "Bearer ${DEPLOY_TOKEN}".to_owned()
        )]
    );
    assert_eq!(staging.canary.steps, [5, 50, 100]);
    assert_eq!(staging.canary.pause, Some(Duration::from_secs(120)));
}

#[test]
fn a_misconfigured_environment_table_names_its_key() {
    let table = |body: &str| {
        format!("[[environment]]\nservice = \"shop\"\nname = \"production\"\n{body}\n")
    };
    let cases = [
        (
            "driver = { kind = \"command\" }",
            "environment[0].driver.program (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"  \" }",
            "environment[0].driver.program (in f.toml)",
        ),
        (
            "driver = { kind = \"http\", url = \"https://lb/switch\" }",
            "environment[0].driver.url (in f.toml)",
        ),
        (
            "driver = { kind = \"http\", url = \"not a url\" }",
            "environment[0].driver.url (in f.toml)",
        ),
        (
            "driver = { kind = \"http\" }",
            "environment[0].driver.url (in f.toml)",
        ),
        (
            "driver = { kind = \"http\", url = \"http://x/\", method = \"BREW\" }",
            "environment[0].driver.method (in f.toml)",
        ),
        (
            "driver = { kind = \"ssh\" }",
            "environment[0].driver.kind (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"x\", url = \"http://x/\" }",
            "environment[0].driver.url (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"x\", timeout = \"0s\" }",
            "environment[0].driver.timeout (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"x\" }\nhealth = { path = \"health\" }",
            "environment[0].health.path (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"x\" }\nhealth = { interval = \"soon\" }",
            "environment[0].health.interval (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"x\" }\ncanary = { steps = [50, 10, 100] }",
            "environment[0].canary.steps (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"x\" }\ncanary = { steps = [10, 50] }",
            "environment[0].canary.steps (in f.toml)",
        ),
        (
            "driver = { kind = \"command\", program = \"x\", colour = \"blue\" }",
            "environment[0] (in f.toml)",
        ),
        ("", "environment[0] (in f.toml)"),
    ];
    for (body, key) in cases {
        let file = table(body);
        assert_eq!(
            invalid_key(Config::load(Some(("f.toml", &file)), &env(&[]))),
            key,
            "{body}"
        );
    }
    let twice = format!(
        "{}{}",
        table("driver = { kind = \"command\", program = \"x\" }"),
        table("driver = { kind = \"command\", program = \"y\" }")
    );
    assert_eq!(
        invalid_key(Config::load(Some(("f.toml", &twice)), &env(&[]))),
        "environment[1].name (in f.toml)"
    );
    let bad_name = "[[environment]]\nservice = \"Shop\"\nname = \"production\"\ndriver = { kind = \"command\", program = \"x\" }\n";
    assert_eq!(
        invalid_key(Config::load(Some(("f.toml", bad_name)), &env(&[]))),
        "environment[0].service (in f.toml)"
    );
}

#[test]
fn a_backup_section_sets_scheduled_backups_and_bad_values_name_their_key() {
    assert!(Config::load(None, &env(&[]))
        .expect("defaults")
        .backups()
        .is_none());
    let file = "[backup]\ndir = \"/var/backups/switchyard\"\nat = \"03:15\"\ntime_zone = \"Europe/Berlin\"\n";
    let config = Config::load(Some(("s.toml", file)), &env(&[])).expect("valid");
    let backups = config.backups().expect("on");
    assert_eq!(backups.dir, PathBuf::from("/var/backups/switchyard"));
    assert_eq!(backups.schedule.at.to_string(), "03:15:00");
    assert_eq!(backups.schedule.zone.name(), "Europe/Berlin");
    assert_eq!(backups.retention, Retention::GUIDE);
    // The environment wins, under the flat name.
    let config = Config::load(
        Some(("s.toml", file)),
        &env(&[("SWITCHYARD_BACKUP_DIR", "/srv/b")]),
    )
    .expect("valid");
    assert_eq!(config.backups().expect("on").dir, PathBuf::from("/srv/b"));
    let key = invalid_key(Config::load(
        Some(("s.toml", "[backup]\nat = \"3 am\"\n")),
        &env(&[]),
    ));
    assert_eq!(key, "backup_at (in s.toml)");
    let key = invalid_key(Config::load(
        None,
        &env(&[("SWITCHYARD_BACKUP_TIME_ZONE", "Berlin")]),
    ));
    assert_eq!(key, "SWITCHYARD_BACKUP_TIME_ZONE");
    let key = invalid_key(Config::load(
        Some(("s.toml", "[backup]\nfolder = \"x\"\n")),
        &env(&[]),
    ));
    assert_eq!(key, "backup_folder (in s.toml)");
}

#[test]
fn client_timeout_defaults_to_ten_seconds_and_reads_a_duration() {
    assert_eq!(
        Config::load(None, &env(&[])).expect("valid").client_timeout,
        Duration::from_secs(10)
    );
    let config = Config::load(None, &env(&[("SWITCHYARD_CLIENT_TIMEOUT", "2s")])).expect("valid");
    assert_eq!(config.client_timeout, Duration::from_secs(2));
    for bad in ["", "0s", "10", "slow"] {
        let result = Config::load(None, &env(&[("SWITCHYARD_CLIENT_TIMEOUT", bad)]));
        assert!(
            invalid_key(result).starts_with("SWITCHYARD_CLIENT_TIMEOUT"),
            "{bad:?}"
        );
    }
}
