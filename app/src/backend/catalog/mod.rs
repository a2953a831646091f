//! Services and environments: reading them (everyone) and setting them up (admins). Each
//! function checks the caller's rights itself and audits its change in the same transaction.

pub mod health;
pub mod store;

use serde_json::json;

use super::{
    audit,
    idempotency::{self, Begun, Made},
    storage::is_unique_violation,
    AppState, Caller, Database, StorageError,
};
use crate::{
    domain::{
        catalog::{
            EnvironmentInput, EnvironmentPatch, NewSlot, ServiceInput, ServicePatch, SlotColor,
        },
        Action, FieldError, FieldErrors, Timestamp,
    },
    error::AppError,
    model::{DeploymentFilter, Environment, Service, ServiceDetail, ServiceSummary},
};

/// Every service.
pub async fn services(db: &Database, caller: &Caller) -> Result<Vec<Service>, AppError> {
    caller.authorize(Action::Read)?;
    Ok(store::services(db.reader()).await?)
}

/// Every service with its environments, what is live in each and its health.
pub async fn summaries(state: &AppState, caller: &Caller) -> Result<Vec<ServiceSummary>, AppError> {
    caller.authorize(Action::Read)?;
    let services = store::services(state.db.reader()).await?;
    let environments = store::environments(state.db.reader()).await?;
    Ok(services
        .into_iter()
        .map(|service| ServiceSummary {
            environments: environments
                .iter()
                .filter(|e| e.service == service.name)
                .cloned()
                .map(|mut environment| {
                    state.health.attach(&mut environment);
                    environment
                })
                .collect(),
            service,
        })
        .collect())
}

/// How many of a service's newest deployments its page shows.
pub const RECENT_DEPLOYMENTS: u32 = 10;

/// One service: its environments (with what is live and their health) and its newest
/// deployments.
pub async fn detail(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<ServiceDetail, AppError> {
    caller.authorize(Action::Read)?;
    let service = find_service(&state.db, name).await?;
    let environments = store::environments(state.db.reader())
        .await?
        .into_iter()
        .filter(|e| e.service == service.name)
        .map(|mut environment| {
            state.health.attach(&mut environment);
            environment
        })
        .collect();
    let filter = DeploymentFilter {
        service: Some(service.name.clone()),
        limit: Some(RECENT_DEPLOYMENTS),
        ..DeploymentFilter::default()
    };
    let recent = super::deployments::list(&state.db, caller, &filter).await?;
    Ok(ServiceDetail {
        service,
        environments,
        recent: recent.deployments,
        now: Timestamp::now(),
    })
}

/// Every environment of every service, with its slots.
pub async fn environments(db: &Database, caller: &Caller) -> Result<Vec<Environment>, AppError> {
    caller.authorize(Action::Read)?;
    Ok(store::environments(db.reader()).await?)
}

/// One environment, by service and name, with its slots' newest health checks.
pub async fn environment(
    state: &AppState,
    caller: &Caller,
    service: &str,
    name: &str,
) -> Result<Environment, AppError> {
    caller.authorize(Action::Read)?;
    let mut environment = find_environment(&state.db, service, name).await?;
    state.health.attach(&mut environment);
    Ok(environment)
}

/// The environment named, or a 404 that says which part is unknown.
pub(crate) async fn find_environment(
    db: &Database,
    service: &str,
    name: &str,
) -> Result<Environment, AppError> {
    if let Some(environment) = store::environment(db.reader(), service, name).await? {
        return Ok(environment);
    }
    find_service(db, service).await?;
    Err(AppError::NotFound(format!(
        "Service {service} has no environment named {name}."
    )))
}

/// Creates a service.
pub async fn create_service(
    db: &Database,
    caller: &Caller,
    input: &ServiceInput,
    key: Option<&str>,
) -> Result<Made<Service>, AppError> {
    caller.authorize(Action::ManageCatalog)?;
    let service = input.parse()?;
    let key = idempotency::key_for(caller, key, input)?;
    let created = match idempotency::begin(db, key.as_ref(), "service").await? {
        Begun::Replay(created) => created,
        Begun::Fresh(mut tx) => {
            let now = Timestamp::now();
            let taken = || {
                FieldError::new(
                    "name",
                    format!(
                        "A service named {} exists already; choose another name.",
                        service.name
                    ),
                )
            };
            let made = store::insert_service(&mut tx, &service, now)
                .await
                .map_err(|e| conflict_or_fail(e, taken))?;
            let after = json!({ "description": made.description, "owner_team": made.owner_team });
            let object = format!("service:{}", made.name);
            audit::created(&mut tx, caller, "service.created", object, after, now).await?;
            idempotency::commit(db, tx, key.as_ref(), "service", made.id).await?
        }
    };
    let value = store::service_by_id(db.reader(), created.id)
        .await?
        .ok_or_else(|| AppError::NotFound("The service is gone.".into()))?;
    Ok(Made {
        value,
        replayed: created.replayed,
    })
}

/// Creates an environment of `service`, with its slots when it is blue-green.
pub async fn create_environment(
    state: &AppState,
    caller: &Caller,
    service: &str,
    input: &EnvironmentInput,
    key: Option<&str>,
) -> Result<Made<Environment>, AppError> {
    caller.authorize(Action::ManageCatalog)?;
    let db = &state.db;
    let owner = find_service(db, service).await?;
    let environment = input.parse()?;
    check_reach(state, &environment.slots)?;
    let key = idempotency::key_for(caller, key, &(service, input))?;
    let service_name = &owner.name;
    let created = match idempotency::begin(db, key.as_ref(), "environment").await? {
        Begun::Replay(created) => created,
        Begun::Fresh(mut tx) => {
            let now = Timestamp::now();
            let taken = || {
                FieldError::new(
                    "name",
                    format!(
                        "Service {service_name} already has an environment named {}; choose another name.",
                        environment.name
                    ),
                )
            };
            let id = store::insert_environment(&mut tx, owner.id, &environment, now)
                .await
                .map_err(|e| conflict_or_fail(e, taken))?;
            let slots = slot_addresses(
                environment
                    .slots
                    .iter()
                    .map(|s| (s.color, &*s.upstream, &*s.health_url)),
            );
            let after = json!({
                "tier": environment.tier,
                "strategy": environment.strategy,
                "slots": slots,
            });
            let object = format!("environment:{service_name}/{}", environment.name);
            audit::created(&mut tx, caller, "environment.created", object, after, now).await?;
            idempotency::commit(db, tx, key.as_ref(), "environment", id).await?
        }
    };
    let value = store::environment_by_id(db.reader(), created.id)
        .await?
        .ok_or_else(|| AppError::NotFound("The environment is gone.".into()))?;
    Ok(Made {
        value,
        replayed: created.replayed,
    })
}

/// Changes a service's description or owner team.
pub async fn update_service(
    db: &Database,
    caller: &Caller,
    name: &str,
    patch: &ServicePatch,
) -> Result<Service, AppError> {
    caller.authorize(Action::ManageCatalog)?;
    let change = patch.parse()?;
    let before = find_service(db, name).await?;
    let mut tx = db.begin().await?;
    store::update_service(&mut tx, before.id, &change).await?;
    let summary = |s: &Service| json!({ "description": s.description, "owner_team": s.owner_team });
    let after = Service {
        description: change
            .description
            .clone()
            .unwrap_or_else(|| before.description.clone()),
        owner_team: change
            .owner_team
            .clone()
            .unwrap_or_else(|| before.owner_team.clone()),
        ..before.clone()
    };
    let object = format!("service:{name}");
    let (old, new) = (Some(summary(&before)), summary(&after));
    audit::change(
        &mut tx,
        caller,
        "service.updated",
        object,
        old,
        new,
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Changes an environment's tier or its slots' addresses.
pub async fn update_environment(
    state: &AppState,
    caller: &Caller,
    service: &str,
    name: &str,
    patch: &EnvironmentPatch,
) -> Result<Environment, AppError> {
    caller.authorize(Action::ManageCatalog)?;
    let db = &state.db;
    let before = find_environment(db, service, name).await?;
    let change = patch.parse(before.strategy)?;
    check_reach(state, &change.slots)?;
    // A releaser confirms a switch against the revision they saw: new addresses make that
    // confirmation stale, so a switch cannot go where nobody looked.
    let moved = change.slots.iter().any(|new| {
        !before.slots.iter().any(|old| {
            old.color == new.color
                && old.upstream == new.upstream
                && old.health_url == new.health_url
        })
    });
    let mut tx = db.begin().await?;
    store::update_environment(&mut tx, before.id, &change, moved).await?;
    let addresses = |slots: &[NewSlot]| {
        slot_addresses(
            slots
                .iter()
                .map(|s| (s.color, &*s.upstream, &*s.health_url)),
        )
    };
    let old_slots = slot_addresses(
        before
            .slots
            .iter()
            .map(|s| (s.color, &*s.upstream, &*s.health_url)),
    );
    let new_slots = if change.slots.is_empty() {
        old_slots.clone()
    } else {
        addresses(&change.slots)
    };
    let old = json!({ "tier": before.tier, "slots": old_slots });
    let new = json!({ "tier": change.tier.unwrap_or(before.tier), "slots": new_slots });
    let object = format!("environment:{service}/{name}");
    audit::change(
        &mut tx,
        caller,
        "environment.updated",
        object,
        Some(old),
        new,
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    store::environment_by_id(db.reader(), before.id)
        .await?
        .ok_or_else(|| AppError::NotFound("The environment is gone.".into()))
}

/// Refuses slot addresses Switchyard may not call (`slot_hosts`; security finding 6), each
/// at its field.
fn check_reach(state: &AppState, slots: &[NewSlot]) -> Result<(), FieldErrors> {
    let policy = state.operations.client.policy();
    let errors: Vec<FieldError> = slots
        .iter()
        .flat_map(|slot| {
            [
                ("upstream", &slot.upstream),
                ("health_url", &slot.health_url),
            ]
            .into_iter()
            .filter_map(move |(part, url)| {
                policy
                    .check_url(&format!("slots.{}.{part}", slot.color), url)
                    .err()
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(FieldErrors(errors))
    }
}

/// Slot addresses as the audit log summarizes them: `{"blue": {"upstream", "health_url"}, …}`.
fn slot_addresses<'a>(
    slots: impl Iterator<Item = (SlotColor, &'a str, &'a str)>,
) -> serde_json::Value {
    slots
        .map(|(color, upstream, health_url)| {
            let addresses = json!({ "upstream": upstream, "health_url": health_url });
            (color.to_string(), addresses)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The service named, or a 404 saying so.
pub(crate) async fn find_service(db: &Database, name: &str) -> Result<Service, AppError> {
    store::service(db.reader(), name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no service named {name}.")))
}

/// A unique violation as the conflict `taken` describes; anything else as an internal error.
pub(crate) fn conflict_or_fail(
    error: StorageError,
    taken: impl FnOnce() -> FieldError,
) -> AppError {
    match &error {
        StorageError::Query(e) if is_unique_violation(e) => AppError::Conflict(taken()),
        _ => AppError::from(error),
    }
}
