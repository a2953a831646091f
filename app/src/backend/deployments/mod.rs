//! Deployments: recording them (engineers, CI, webhooks), finishing them, and reading them
//! back as lists, detail and the Overview. Each function checks the caller's rights and audits
//! its change in the same transaction.

pub mod ingest;
pub mod store;
pub mod webhooks;

use futures_util::{stream, Stream, StreamExt};
use serde_json::json;

use self::store::{Insert, Selection, Target};
use super::{
    audit, catalog,
    idempotency::{self, Made},
    storage::Tx,
    AppState, Caller, Database, StorageError,
};
use crate::{
    domain::{
        csv,
        deployments::{
            DeploymentInput, DeploymentStatus, FinishInput, NewDeployment, Source, MAX_NOTES,
        },
        paging::{Cursor, MAX_LIMIT},
        words::bounded_text,
        Action, FieldError, Timestamp,
    },
    error::AppError,
    model::{Deployment, DeploymentFilter, DeploymentPage, OverviewRow},
};

/// Records a deployment reported through `source`, committed with the others waiting (see
/// [`ingest`]).
pub async fn record(
    state: &AppState,
    caller: &Caller,
    input: &DeploymentInput,
    source: Source,
    key: Option<&str>,
) -> Result<Made<Deployment>, AppError> {
    caller.authorize(Action::RecordDeployment)?;
    let deployment = input.parse(Timestamp::now())?;
    let target = resolve_target(&state.db, &deployment).await?;
    let key = idempotency::key_for(caller, key, input)?;
    let created = state
        .ingest
        .write(caller, deployment, target, source, key)
        .await?;
    Ok(Made {
        value: load(&state.db, created.id).await?,
        replayed: created.replayed,
    })
}

/// The environment a new deployment names, or an error at the field that is wrong.
pub(crate) async fn resolve_target(
    db: &Database,
    deployment: &NewDeployment,
) -> Result<Target, AppError> {
    let (service, environment) = (deployment.service.as_str(), deployment.environment.as_str());
    if let Some(target) = store::target(db.reader(), service, environment).await? {
        return Ok(target);
    }
    let known_service = store::service_id(db.reader(), service).await?;
    Err(match known_service {
        None => FieldError::new(
            "service",
            format!("There is no service named {service}; an admin creates services first."),
        ),
        Some(_) => FieldError::new(
            "environment",
            format!("Service {service} has no environment named {environment}."),
        ),
    }
    .into())
}

/// Inserts a checked deployment inside `tx` and audits it; a succeeded rollback marks the
/// deployment it replaced.
pub(crate) async fn insert(
    tx: &mut Tx,
    caller: &Caller,
    deployment: &NewDeployment,
    target: Target,
    source: Source,
    external_id: Option<&str>,
) -> Result<i64, AppError> {
    let (strategy, slot) = deployment.settle_strategy(target.strategy)?;
    let actor = caller.actor();
    let recorded_by = actor.recorder();
    let now = Timestamp::now();
    let row = Insert {
        deployment,
        target,
        strategy,
        slot,
        recorded_by: &recorded_by,
        source,
        external_id,
        now,
    };
    let id = store::insert(tx, &row).await?;
    let after = json!({
        "service": deployment.service,
        "environment": deployment.environment,
        "version": deployment.version,
        "status": deployment.status,
        "source": source,
    });
    audit::created(
        tx,
        caller,
        "deployment.recorded",
        format!("deployment:{id}"),
        after,
        now,
    )
    .await?;
    if let (DeploymentStatus::Succeeded, Some(finished_at), false) = (
        deployment.status,
        deployment.finished_at,
        source == Source::Operation,
    ) {
        if store::place(
            tx,
            id,
            target.environment_id,
            slot,
            deployment.version.as_str(),
            finished_at,
        )
        .await?
        {
            super::releases::settle(tx, caller, target.environment_id, now).await?;
        }
    }
    // A version headed for a production environment's idle slot gets its release (and
    // checklist) if it has none open there yet; a rollback puts back a known version.
    let heading_there = !deployment.is_rollback
        && matches!(
            deployment.status,
            DeploymentStatus::Running | DeploymentStatus::Succeeded
        );
    if let (Some(slot), true) = (slot, heading_there) {
        super::releases::open_for_idle_slot(
            tx,
            caller,
            target.service_id,
            target.environment_id,
            slot,
            deployment.version.as_str(),
            now,
        )
        .await?;
    }
    if let (DeploymentStatus::Succeeded, true, Some(finished_at)) = (
        deployment.status,
        deployment.is_rollback,
        deployment.finished_at,
    ) {
        let rollback = SucceededRollback {
            id,
            environment_id: target.environment_id,
            version: deployment.version.as_str(),
            started_at: deployment.started_at,
            finished_at,
        };
        mark_replaced(tx, caller, rollback).await?;
    }
    Ok(id)
}

/// A rollback that succeeded: what it takes to find the deployment it replaced.
struct SucceededRollback<'a> {
    id: i64,
    environment_id: i64,
    version: &'a str,
    started_at: Timestamp,
    finished_at: Timestamp,
}

/// Marks the deployment `rollback` replaced with `rolled_back_at`, and audits it.
async fn mark_replaced(
    tx: &mut Tx,
    caller: &Caller,
    rollback: SucceededRollback<'_>,
) -> Result<(), AppError> {
    let replaced = store::mark_replaced(
        tx,
        rollback.id,
        rollback.environment_id,
        rollback.version,
        rollback.started_at,
        rollback.finished_at,
    )
    .await?;
    if let Some(replaced) = replaced {
        let after = json!({ "rolled_back_by": rollback.id });
        let object = format!("deployment:{replaced}");
        audit::created(
            tx,
            caller,
            "deployment.rolled_back",
            object,
            after,
            Timestamp::now(),
        )
        .await?;
    }
    Ok(())
}

/// Ends a running deployment. One that already ended refuses with a conflict.
pub async fn finish(
    db: &Database,
    caller: &Caller,
    id: i64,
    input: &FinishInput,
) -> Result<Deployment, AppError> {
    caller.authorize(Action::RecordDeployment)?;
    let mut tx = db.begin().await?;
    let current = store::find_in(&mut tx, id)
        .await?
        .ok_or_else(|| no_such_deployment(id))?;
    let finish = input
        .parse(current.status, current.started_at, Timestamp::now())?
        .map_err(|refused| AppError::Conflict(FieldError::new("status", refused.to_string())))?;
    finish_in(&mut tx, caller, &current, finish).await?;
    tx.commit().await?;
    load(db, id).await
}

/// Ends `current` inside `tx` and audits it.
pub(crate) async fn finish_in(
    tx: &mut Tx,
    caller: &Caller,
    current: &Deployment,
    finish: crate::domain::deployments::Finish,
) -> Result<(), AppError> {
    if !store::finish(tx, current.id, finish).await? {
        return Err(AppError::Conflict(FieldError::new(
            "status",
            "This deployment was ended by someone else a moment ago; reload it to see how.",
        )));
    }
    let now = Timestamp::now();
    let entry = super::audit::Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: "deployment.finished",
        object: format!("deployment:{}", current.id),
        before: Some(json!({ "status": current.status })),
        after: Some(json!({ "status": finish.status, "finished_at": finish.finished_at })),
    };
    super::audit::record(tx, entry, now).await?;
    if finish.status == DeploymentStatus::Succeeded && current.source != Source::Operation {
        let environment_id = environment_id_of(tx, current.id).await?;
        if store::place(
            tx,
            current.id,
            environment_id,
            current.slot,
            &current.version,
            finish.finished_at,
        )
        .await?
        {
            super::releases::settle(tx, caller, environment_id, now).await?;
        }
    }
    if finish.status == DeploymentStatus::Succeeded && current.is_rollback {
        let rollback = SucceededRollback {
            id: current.id,
            environment_id: environment_id_of(tx, current.id).await?,
            version: &current.version,
            started_at: current.started_at,
            finished_at: finish.finished_at,
        };
        mark_replaced(tx, caller, rollback).await?;
    }
    Ok(())
}

async fn environment_id_of(tx: &mut Tx, id: i64) -> Result<i64, AppError> {
    store::environment_id(tx, id)
        .await?
        .ok_or_else(|| no_such_deployment(id))
}

/// Adds a paragraph to a deployment's notes, signed and dated: the one change a finished
/// deployment still takes.
pub async fn add_note(
    db: &Database,
    caller: &Caller,
    id: i64,
    text: &str,
) -> Result<Deployment, AppError> {
    caller.authorize(Action::RecordDeployment)?;
    let text = bounded_text("note", text, MAX_NOTES)?;
    if text.is_empty() {
        return Err(FieldError::new("note", "Write the note first.").into());
    }
    let now = Timestamp::now();
    let paragraph = format!("{} ({}): {text}", caller.actor().name(), now);
    let mut tx = db.begin().await?;
    if !store::append_note(&mut tx, id, &paragraph).await? {
        return Err(no_such_deployment(id));
    }
    audit::created(
        &mut tx,
        caller,
        "deployment.noted",
        format!("deployment:{id}"),
        json!({ "note": text }),
        now,
    )
    .await?;
    tx.commit().await?;
    load(db, id).await
}

/// One deployment.
pub async fn get(db: &Database, caller: &Caller, id: i64) -> Result<Deployment, AppError> {
    caller.authorize(Action::Read)?;
    load(db, id).await
}

/// Deployment `id` as it is now, or a 404.
pub(crate) async fn load(db: &Database, id: i64) -> Result<Deployment, AppError> {
    store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_deployment(id))
}

fn no_such_deployment(id: i64) -> AppError {
    AppError::NotFound(format!("There is no deployment {id}."))
}

/// One page of deployments matching `filter`, newest first.
pub async fn list(
    db: &Database,
    caller: &Caller,
    filter: &DeploymentFilter,
) -> Result<DeploymentPage, AppError> {
    caller.authorize(Action::Read)?;
    let (selection, limit) = selection(db, filter).await?;
    let (deployments, next) = page(db, selection, limit).await?;
    Ok(DeploymentPage {
        deployments,
        next_cursor: next.map(Cursor::encode),
    })
}

/// Every deployment matching `filter` (its `limit` ignored), newest first, as CSV: the
/// header, then one chunk per page of [`MAX_LIMIT`] rows, each read when the client has
/// taken the one before. A year of a large history never sits in memory, and each page
/// is an index seek from its cursor. The filter is checked before the first byte.
pub async fn export(
    db: &Database,
    caller: &Caller,
    filter: &DeploymentFilter,
) -> Result<impl Stream<Item = Result<String, AppError>> + Send + 'static, AppError> {
    caller.authorize(Action::Read)?;
    let (selection, _) = selection(db, filter).await?;
    let db = db.clone();
    let header = stream::iter([Ok(csv::DEPLOYMENT_HEADER.to_owned())]);
    let pages = stream::try_unfold(Some(selection), move |selection| {
        let db = db.clone();
        async move {
            let Some(selection) = selection else {
                return Ok(None);
            };
            let (deployments, after) = page(&db, selection.clone(), MAX_LIMIT).await?;
            let chunk: String = deployments.iter().map(csv::deployment_line).collect();
            let next = after.map(|after| Selection {
                after: Some(after),
                ..selection
            });
            Ok(Some((chunk, next)))
        }
    });
    Ok(header.chain(pages))
}

/// The store's selection for `filter`, and the page size it asks for. Names become ids
/// here, so an unknown service or environment is refused with the field before any read.
async fn selection(db: &Database, filter: &DeploymentFilter) -> Result<(Selection, u32), AppError> {
    let query = filter.parse()?;
    let mut selection = Selection {
        status: query.status,
        from: query.from,
        to: query.to,
        finished_from: query.finished_from,
        finished_to: query.finished_to,
        tier: query.tier,
        prefix: query.prefix,
        after: query.after,
        ..Selection::default()
    };
    match (&query.service, &query.environment) {
        (Some(service), Some(environment)) => {
            let target = store::target(db.reader(), service.as_str(), environment.as_str())
                .await?
                .ok_or_else(|| {
                    FieldError::new(
                        "environment",
                        format!("Service {service} has no environment named {environment}."),
                    )
                })?;
            selection.environment_id = Some(target.environment_id);
        }
        (Some(service), None) => {
            let id = store::service_id(db.reader(), service.as_str())
                .await?
                .ok_or_else(|| {
                    FieldError::new("service", format!("There is no service named {service}."))
                })?;
            selection.service_id = Some(id);
        }
        (None, Some(environment)) => selection.environment_name = Some(environment.to_string()),
        (None, None) => {}
    }
    Ok((selection, query.limit))
}

/// Up to `limit` deployments of `selection`, and where the next page starts if there is one.
async fn page(
    db: &Database,
    selection: Selection,
    limit: u32,
) -> Result<(Vec<Deployment>, Option<Cursor>), AppError> {
    // One more than shown tells whether another page follows.
    let selection = Selection {
        limit: limit + 1,
        ..selection
    };
    let mut deployments = store::list(db.reader(), &selection).await?;
    let next = if deployments.len() > limit as usize {
        deployments.truncate(limit as usize);
        deployments.last().map(|last| Cursor {
            started_at: last.started_at,
            id: last.id,
        })
    } else {
        None
    };
    Ok((deployments, next))
}

/// Every environment with its newest deployment and how many are running.
pub async fn overview(state: &AppState, caller: &Caller) -> Result<Vec<OverviewRow>, AppError> {
    let db = &state.db;
    caller.authorize(Action::Read)?;
    let environments = catalog::store::environments(db.reader()).await?;
    let latest = store::latest_per_environment(db.reader()).await?;
    let running = store::running_counts(db.reader()).await?;
    let frozen = super::releases::frozen_now(db).await?;
    let open = super::releases::store::list(
        db.reader(),
        &crate::model::ReleaseFilter {
            status: Some("open".into()),
            ..Default::default()
        },
        super::releases::LIST_LIMIT,
    )
    .await?;
    let rows: Result<Vec<OverviewRow>, StorageError> = environments
        .into_iter()
        .map(|mut environment| {
            state.health.attach(&mut environment);
            let last = latest
                .iter()
                .find(|d| d.service == environment.service && d.environment == environment.name)
                .cloned();
            let unplaced = last.clone().filter(|d| {
                d.status == DeploymentStatus::Succeeded
                    && d.slot.is_none()
                    && environment.live_slot.is_some()
            });
            Ok(OverviewRow {
                frozen: frozen
                    .iter()
                    .find(|(id, _)| *id == environment.id)
                    .map(|(_, why)| why.clone()),
                waiting: open
                    .iter()
                    .filter(|r| r.environment_id == environment.id && r.required_left > 0)
                    .map(super::releases::summary)
                    .collect::<Result<_, _>>()?,
                last,
                unplaced,
                running: running
                    .iter()
                    .find(|(id, _)| *id == environment.id)
                    .map_or(0, |(_, count)| u32::try_from(*count).unwrap_or(u32::MAX)),
                environment,
            })
        })
        .collect();
    Ok(rows?)
}
