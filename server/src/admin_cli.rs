//! `switchyard user create` and `switchyard token create|revoke`: provisioning without the
//! browser, through the same operations (and audit entries) as the admin pages; and
//! `switchyard demo`, a year of history to try the dashboard with.

use std::io::{BufRead, IsTerminal};

use app::{
    backend::{
        accounts::manage::{self, NewTokenInput},
        accounts::store::tokens::TokenRef,
        accounts::{self, NewUserInput},
        demo, Caller, Database,
    },
    error::AppError,
};

use crate::{
    cli::{TokenCommand, UserCommand},
    config::Config,
};

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Opens and migrates the database, runs `work`, closes the database.
async fn with_database<T>(
    config: &Config,
    work: impl AsyncFnOnce(&Database) -> Result<T, AppError>,
) -> Result<T, Box<dyn std::error::Error>> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate().await?;
    let result = work(&db).await;
    db.close().await;
    Ok(result?)
}

pub async fn user(config: &Config, command: UserCommand) -> CliResult {
    let UserCommand::Create {
        username,
        role,
        display_name,
    } = command;
    let password = read_password()?;
    let input = NewUserInput {
        username,
        display_name,
        role,
        password: password.into(),
    };
    let user = with_database(config, async |db| {
        accounts::create_user(db, &Caller::command_line(), &input).await
    })
    .await?;
    println!("created {} ({})", user.username, user.role);
    Ok(())
}

pub async fn token(config: &Config, command: TokenCommand) -> CliResult {
    let caller = Caller::command_line();
    match command {
        TokenCommand::Create {
            name,
            role,
            expires,
        } => {
            let input = NewTokenInput {
                name,
                role,
                expires,
            };
            let created = with_database(config, async |db| {
                manage::create_token(db, &caller, &input).await
            })
            .await?;
            let expiry = created
                .token
                .expires_at
                .map_or_else(|| "never expires".to_owned(), |t| format!("expires {t}"));
            eprintln!(
                "token {} ({}, {expiry}); it is shown only now:",
                created.token.name, created.token.role
            );
            // The secret alone on stdout, so `TOKEN=$(switchyard token create …)` works.
            println!("{}", created.secret);
        }
        TokenCommand::Revoke { name } => {
            let token = with_database(config, async |db| {
                manage::revoke_token(db, &caller, TokenRef::Name(&name)).await
            })
            .await?;
            println!("revoked token {}", token.name);
        }
    }
    Ok(())
}

/// Fills an empty database with a year of demo history.
pub async fn demo(config: &Config, seed: u64) -> CliResult {
    let summary = with_database(config, async |db| {
        demo::fill(db, seed, app::domain::Timestamp::now()).await
    })
    .await?;
    println!(
        "demo data written (seed {seed}): {} services, {} deployments, {} incidents, {} post-mortems, {} action items, {} releases",
        summary.services,
        summary.deployments,
        summary.incidents,
        summary.postmortems,
        summary.action_items,
        summary.releases
    );
    println!("create an admin with `switchyard user create --username you --role admin`, then open the Metrics page");
    Ok(())
}

/// The new user's password: asked twice at a terminal (not echoed), or the first line of
/// standard input for scripts.
fn read_password() -> Result<String, Box<dyn std::error::Error>> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let second = rpassword::prompt_password("Password again: ")?;
        if first != second {
            return Err("the two passwords differ; nothing was created".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
