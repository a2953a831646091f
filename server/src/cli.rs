//! The command line: `switchyard [--config FILE] [serve|migrate|user|token|demo|backup|restore|export|import]`.

use std::{collections::HashMap, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{
    admin_cli, backup_cli,
    config::{self, Config},
    startup::{shutdown_signal, Application},
    telemetry,
};

/// Switchyard: deployments, releases, blue-green switches, incidents and delivery metrics.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version)]
pub struct Cli {
    /// A TOML configuration file; `SWITCHYARD_*` environment variables override its values.
    #[arg(long, global = true, env = config::CONFIG_FILE_VAR, value_name = "FILE")]
    pub config: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do; `serve` when none is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the web app and API (the default).
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Manage users (the first admin, for instance).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for CI pipelines and scripts.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fill an empty database with a year of believable history (deployments, incidents,
    /// post-mortems, releases) to try Switchyard with; refuses a database that has data.
    Demo {
        /// The same seed gives the same history.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Back up the database while the server runs: a consistent snapshot (SQLite: gzipped;
    /// PostgreSQL: pg_dump's custom format) and NAME.json, its manifest, beside it.
    Backup {
        /// The folder to write to (created if missing); default the configured `backup_dir`
        /// (where scheduled backups go and retention prunes), else ./backups.
        #[arg(long, value_name = "DIR")]
        to: Option<std::path::PathBuf>,
    },
    /// Restore a backup (its data file or its manifest) into the configured database, which
    /// must be empty; the server must not be running on it. Migrates it forward afterwards.
    Restore {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
        /// Only check the backup: manifest, checksum, schema version and contents.
        #[arg(long)]
        verify_only: bool,
        /// Replace what the database holds.
        #[arg(long)]
        force: bool,
    },
    /// Write every row of the database, read in one snapshot while the server runs, to FILE
    /// as gzipped JSON lines that `switchyard import` loads into either engine: the way from
    /// SQLite to PostgreSQL.
    Export {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Load an export into the configured database (either engine), which must be empty;
    /// migrates it to the export's schema first; all or nothing.
    Import {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

/// `switchyard user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is asked for at the terminal, or read from the first line
    /// of standard input when that is not a terminal.
    Create {
        #[arg(long)]
        username: String,
        /// viewer, engineer, releaser or admin.
        #[arg(long)]
        role: String,
        /// Shown in the header and the audit log; the username if omitted.
        #[arg(long, default_value = "")]
        display_name: String,
    },
}

/// `switchyard token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: only its digest is stored).
    Create {
        #[arg(long)]
        name: String,
        /// viewer, engineer, releaser or admin.
        #[arg(long)]
        role: String,
        /// A lifetime such as 90d or 12h, or never; 90 days if omitted.
        #[arg(long, default_value = "")]
        expires: String,
    },
    /// Revoke the active token with this name.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

/// Runs a parsed command line to completion.
pub async fn run(cli: Cli) -> ExitCode {
    let env: HashMap<String, String> = std::env::vars().collect();
    let config = match Config::from_file_and_env(cli.config.as_deref(), &env) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("switchyard: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config);
    for var in config::unknown_env_keys(&env) {
        tracing::warn!(variable = %var, "ignoring an environment variable that names no setting");
    }
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::User(command) => admin_cli::user(&config, command).await,
        Command::Token(command) => admin_cli::token(&config, command).await,
        Command::Demo { seed } => admin_cli::demo(&config, seed).await,
        Command::Backup { to } => {
            let dir = to
                .or_else(|| config.backup_dir.clone())
                .unwrap_or_else(|| "backups".into());
            backup_cli::backup(&config, &dir).await
        }
        Command::Restore {
            file,
            verify_only,
            force,
        } => backup_cli::restore(&config, &file, verify_only, force).await,
        Command::Export { file } => backup_cli::export(&config, &file).await,
        Command::Import { file } => backup_cli::import(&config, &file).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "switchyard stopped with an error");
            eprintln!("switchyard: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let application = Application::build(config).await?;
    application.announce_setup_link().await?;
    application.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn migrate(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let db = app::backend::Database::connect(&config.database_url).await?;
    let result = db.migrate().await;
    let version = db.schema_version().await;
    db.close().await;
    result?;
    println!("database is at migration {}", version?.unwrap_or(0));
    Ok(())
}
