//! Operations: releasers deploy to idle, switch, roll back and step canaries; Switchyard runs
//! the environment's driver and health checks step by step ([`runner`]), records the
//! deployment, and audits every start and end.
//!
//! One operation per environment at a time is the database's rule (a unique index over
//! running operations), so it holds across replicas; a request made on an older view of the
//! environment (its `revision`) is refused before it can take the lock.

pub mod drivers;
pub mod http;
mod runner;
pub mod settings;
pub mod store;

use std::{sync::Arc, time::Duration};

use serde_json::json;

use self::{
    http::HttpClient,
    settings::{EnvironmentSettings, OperationSettings},
    store::{NewOperation, Running},
};
use super::{
    audit, catalog,
    deployments::{self, store as deployment_store},
    events::Event,
    releases,
    storage::{is_unique_violation, Tx},
    AppState, Caller, Database, StorageError,
};
use crate::{
    domain::{
        deployments::{DeploymentStatus, Finish, NewDeployment, Version},
        operations::{
            plan, Canary, EnvironmentState, OperationAction, OperationInput, OperationStatus, Plan,
            Refusal, Request, Run,
        },
        releases::gate::override_reason,
        Action, FieldError, Timestamp,
    },
    error::AppError,
    model::{Environment, EnvironmentView, OfferedAction, Operation},
};

/// How often a runner says its operations are alive.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A running operation whose runner has not beaten for this long was orphaned by a replica
/// that stopped.
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(30);

/// What operations need beyond the database: the operator's settings, an HTTP client, and the
/// name this process runs operations under.
#[derive(Debug)]
pub struct Operations {
    pub settings: OperationSettings,
    pub client: HttpClient,
    /// Unique per process start, so a replica can tell its own operations from others'.
    pub runner_id: String,
}

impl Operations {
    pub fn new(settings: OperationSettings, client: HttpClient, runner_id: String) -> Arc<Self> {
        Arc::new(Self {
            settings,
            client,
            runner_id,
        })
    }
}

/// Starts an operation on `service`'s environment `environment`; it runs in the background
/// and is returned as it starts.
pub async fn start(
    state: &AppState,
    caller: &Caller,
    service: &str,
    environment: &str,
    input: &OperationInput,
) -> Result<Operation, AppError> {
    caller.authorize(Action::RunOperation)?;
    let request = input.parse()?;
    let db = &state.db;
    let target = catalog::find_environment(db, service, environment).await?;
    let settings = configured(state, &target)?;
    if let Some(running) = store::running(db.reader(), target.id).await? {
        return Err(busy(&target, &running));
    }
    let before = environment_state(db, &target).await?;
    let plan =
        plan(&before, &request, &settings.canary.steps).map_err(|refusal| match refusal {
            Refusal::Invalid(e) => AppError::Invalid(e),
            Refusal::Conflict(e) => AppError::Conflict(e),
        })?;
    let passed_gate = pass_gate(db, caller, &target, &plan, input).await?;
    // Where a recorded deployment goes, in the deployments table's terms.
    let ids = deployment_store::target(db.reader(), &target.service, &target.name)
        .await?
        .ok_or_else(|| AppError::NotFound("The environment is gone.".into()))?;
    let mut tx = db.begin().await?;
    if !store::hold_revision(&mut tx, target.id, request.expected_revision).await? {
        drop(tx);
        return Err(moved_on(db, &target).await);
    }
    let now = Timestamp::now();
    let actor = caller.actor();
    let row = NewOperation {
        environment_id: target.id,
        action: plan.action,
        version: plan.version.as_ref().map(Version::as_str),
        target_slot: plan.target_slot,
        canary_weight: plan.weight,
        base_revision: request.expected_revision,
        requested_by_kind: actor.kind(),
        requested_by: actor.name(),
        runner: &state.operations.runner_id,
        overridden: passed_gate
            .as_ref()
            .map(|(gate, reason)| (gate.as_str(), reason.as_str())),
        now,
    };
    let id = match store::insert(&mut tx, &row).await {
        Ok(id) => id,
        Err(StorageError::Query(e)) if is_unique_violation(&e) => {
            drop(tx);
            return Err(moved_on(db, &target).await);
        }
        Err(e) => return Err(AppError::from(e)),
    };
    let names: Vec<String> = plan.steps.iter().map(|s| s.describe()).collect();
    store::insert_steps(&mut tx, id, &names).await?;
    let deployment_id = open_deployment(&mut tx, caller, &target, ids, &plan, id, now).await?;
    if let Some(deployment_id) = deployment_id {
        store::set_deployment(&mut tx, id, deployment_id).await?;
    }
    let after = json!({
        "action": plan.action,
        "version": plan.version,
        "target_slot": plan.target_slot,
        "canary_weight": plan.weight,
        "revision": request.expected_revision,
        "deployment": deployment_id,
    });
    let object = format!("environment:{}/{}", target.service, target.name);
    audit::created(
        &mut tx,
        caller,
        "operation.started",
        object.clone(),
        after,
        now,
    )
    .await?;
    if let Some((gate, reason)) = &passed_gate {
        let after = json!({ "operation": id, "gate": gate, "reason": reason });
        audit::created(&mut tx, caller, "gate.overridden", object, after, now).await?;
    }
    tx.commit().await?;
    announce(state, target.id, id);
    runner::spawn(
        state.clone(),
        runner::Job {
            id,
            environment: target,
            settings: settings.clone(),
            run: Run::new(plan),
            caller: caller.clone(),
            deployment_id,
            overridden: passed_gate,
        },
    );
    load(db, id).await
}

/// Asks the gate whether the planned operation may run. A closed gate refuses with 409
/// `gate_closed`, unless an admin gives a reason to pass it: then it returns (gate, reason)
/// for the operation's row, its log and the audit log.
async fn pass_gate(
    db: &Database,
    caller: &Caller,
    environment: &Environment,
    plan: &Plan,
    input: &OperationInput,
) -> Result<Option<(String, String)>, AppError> {
    let goes_live = plan.goes_live().map(Version::as_str);
    let Some(gate) = releases::gate(db, environment, plan.action, goes_live).await? else {
        return Ok(None);
    };
    match override_reason(input.override_reason.as_deref())? {
        None => Err(AppError::GateClosed(gate)),
        Some(reason) => {
            caller.authorize(Action::OverrideGate)?;
            Ok(Some((gate, reason)))
        }
    }
}

/// The operator's settings for `environment`, checked to be runnable: a missing or broken
/// driver refuses before anything is recorded.
fn configured<'a>(
    state: &'a AppState,
    environment: &Environment,
) -> Result<&'a EnvironmentSettings, AppError> {
    let (service, name) = (&environment.service, &environment.name);
    let settings = state
        .operations
        .settings
        .find(service, name)
        .ok_or_else(|| {
            FieldError::new(
                "driver",
                format!(
                    "{service}/{name} has no driver, so Switchyard cannot act on it. An operator adds an [[environment]] table for it to the server's configuration file (see README: Operations)."
                ),
            )
        })?;
    drivers::check(&settings.driver).map_err(|why| {
        FieldError::new(
            "driver",
            format!(
                "The driver of {service}/{name} is misconfigured: {why}. An operator fixes its [[environment]] table in the server's configuration file."
            ),
        )
    })?;
    Ok(settings)
}

/// The refusal for a request that lost a race: another operation runs, or one ended and
/// moved the state on.
async fn moved_on(db: &Database, environment: &Environment) -> AppError {
    match store::running(db.reader(), environment.id).await {
        Ok(Some(running)) => busy(environment, &running),
        Ok(None) => stale(db, environment).await,
        Err(e) => AppError::from(e),
    }
}

fn busy(environment: &Environment, running: &Running) -> AppError {
    AppError::Conflict(FieldError::new(
        "action",
        format!(
            "{} is busy: {} started a {} (operation {}) at {}. Wait for it to finish, then try again.",
            environment.name, running.requested_by, running.action, running.id, running.started_at
        ),
    ))
}

async fn stale(db: &Database, environment: &Environment) -> AppError {
    let now = catalog::store::environment_by_id(db.reader(), environment.id).await;
    match now {
        Ok(Some(now)) => AppError::Conflict(FieldError::new(
            "expected_revision",
            format!(
                "{} changed since you looked: it is at revision {}{} now. Look at its new state, then try again.",
                now.name,
                now.revision,
                now.live_slot
                    .map(|slot| format!(" with {slot} live"))
                    .unwrap_or_default()
            ),
        )),
        Ok(None) => AppError::NotFound("The environment is gone.".into()),
        Err(e) => AppError::from(e),
    }
}

/// The deployment the operation records: the running one it continues, or a new one (which
/// supersedes deployments earlier operations left running, such as a deploy to idle that was
/// never switched).
async fn open_deployment(
    tx: &mut Tx,
    caller: &Caller,
    environment: &Environment,
    target: deployment_store::Target,
    plan: &Plan,
    operation_id: i64,
    now: Timestamp,
) -> Result<Option<i64>, AppError> {
    let Some(intent) = &plan.deployment else {
        return Ok(None);
    };
    let running = deployment_store::running_from_operations(tx, environment.id).await?;
    let slot = intent.slot.map(|s| s.as_str().to_owned());
    if intent.continues_running {
        if let Some((id, ..)) = running
            .iter()
            .find(|(_, version, s)| version == intent.version.as_str() && *s == slot)
        {
            return Ok(Some(*id));
        }
    }
    for (id, ..) in &running {
        let note = format!("Superseded by operation {operation_id} before it took all traffic.");
        end_deployment(
            tx,
            caller,
            *id,
            DeploymentStatus::Cancelled,
            Some(&note),
            now,
        )
        .await?;
    }
    let deployment = NewDeployment {
        service: parse_name("service", &environment.service)?,
        environment: parse_name("environment", &environment.name)?,
        version: intent.version.clone(),
        commit_sha: None,
        commit_at: None,
        started_at: now,
        finished_at: None,
        status: DeploymentStatus::Running,
        strategy: None,
        slot: intent.slot,
        notes: format!("Operation {operation_id}: {}", plan.question),
        url: None,
        is_rollback: intent.is_rollback,
    };
    let id = deployments::insert(
        tx,
        caller,
        &deployment,
        target,
        crate::domain::deployments::Source::Operation,
        None,
    )
    .await?;
    Ok(Some(id))
}

fn parse_name(field: &str, name: &str) -> Result<crate::domain::catalog::Name, AppError> {
    Ok(crate::domain::catalog::Name::parse(field, name)?)
}

/// Ends deployment `id` (if it still runs) with `status`, noting why.
async fn end_deployment(
    tx: &mut Tx,
    caller: &Caller,
    id: i64,
    status: DeploymentStatus,
    note: Option<&str>,
    now: Timestamp,
) -> Result<(), AppError> {
    let Some(current) = deployment_store::find_in(tx, id).await? else {
        return Ok(());
    };
    if current.status != DeploymentStatus::Running {
        return Ok(());
    }
    if let Some(note) = note {
        deployment_store::append_note(tx, id, note).await?;
    }
    let finish = Finish {
        status,
        finished_at: now.max(current.started_at),
    };
    deployments::finish_in(tx, caller, &current, finish).await
}

/// The environment as operations plan from it.
pub async fn environment_state(
    db: &Database,
    environment: &Environment,
) -> Result<EnvironmentState, StorageError> {
    let version = |text: &Option<String>| text.as_deref().and_then(|v| Version::parse(v).ok());
    let slot_version = |color| {
        environment
            .slots
            .iter()
            .find(|s| s.color == color)
            .and_then(|s| version(&s.version))
    };
    let mut state = EnvironmentState {
        name: environment.name.clone(),
        strategy: environment.strategy,
        revision: environment.revision,
        live: environment.live_slot,
        blue: slot_version(crate::domain::catalog::SlotColor::Blue),
        green: slot_version(crate::domain::catalog::SlotColor::Green),
        current_version: version(&environment.current_version),
        canary: environment.canary.as_ref().and_then(|c| {
            Some(Canary {
                version: Version::parse(&c.version).ok()?,
                weight: c.weight,
            })
        }),
        previous_version: None,
    };
    let current = state.live_version().map(|v| v.as_str().to_owned());
    state.previous_version =
        version(&store::previous_version(db.reader(), environment.id, current.as_deref()).await?);
    // Without such a version, a blue-green rollback may still switch back to what the idle
    // slot holds, however it got there (a deployment CI recorded, say): that deploys nothing,
    // so no recorded version can be pushed through the driver this way.
    if state.previous_version.is_none() {
        state.previous_version = state
            .live
            .and_then(|live| state.slot_version(live.other()))
            .filter(|idle| Some(idle.as_str()) != current.as_deref())
            .cloned();
    }
    Ok(state)
}

/// One operation, with its steps and log.
pub async fn get(db: &Database, caller: &Caller, id: i64) -> Result<Operation, AppError> {
    caller.authorize(Action::Read)?;
    load(db, id).await
}

async fn load(db: &Database, id: i64) -> Result<Operation, AppError> {
    store::get(db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no operation {id}.")))
}

/// Everything the environment page shows.
pub async fn view(
    state: &AppState,
    caller: &Caller,
    service: &str,
    environment: &str,
) -> Result<EnvironmentView, AppError> {
    let principal = caller.authorize(Action::Read)?;
    let db = &state.db;
    let found = catalog::find_environment(db, service, environment).await?;
    let settings = state.operations.settings.find(service, &found.name);
    let recent = store::recent(db.reader(), found.id, 11).await?;
    let operation = match recent.first() {
        Some(newest) => store::get(db.reader(), newest.id).await?,
        None => None,
    };
    // The state is read after the operations: an operation that ended meanwhile wrote its
    // ending to the environment in the same transaction, so a page never shows it ended
    // beside the state from before (without JavaScript, it would stop reloading there).
    let mut environment = catalog::find_environment(db, service, environment).await?;
    state.health.attach(&mut environment);
    let before = environment_state(db, &environment).await?;
    let canary_steps = settings.map_or(&crate::domain::operations::DEFAULT_CANARY_STEPS[..], |s| {
        &s.canary.steps[..]
    });
    let mut actions = offered_actions(&before, canary_steps);
    for offered in actions.iter_mut().filter(|a| a.refusal.is_none()) {
        let request = Request {
            action: offered.action,
            version: None,
            expected_revision: before.revision,
            weight: None,
        };
        let planned = plan(&before, &request, canary_steps).ok();
        let goes_live = planned
            .as_ref()
            .and_then(Plan::goes_live)
            .map(Version::as_str);
        offered.gate = releases::gate(db, &environment, offered.action, goes_live).await?;
    }
    Ok(EnvironmentView {
        freezes: releases::freeze_windows(db, &environment).await?,
        actions,
        may_override: principal.role().may(Action::OverrideGate),
        previous_version: before.previous_version.map(|v| v.as_str().to_owned()),
        has_driver: settings.is_some(),
        may_operate: principal.role().may(Action::RunOperation),
        operation,
        history: recent.into_iter().skip(1).collect(),
        environment,
        now: Timestamp::now(),
    })
}

/// The operations `state` offers, each planned as its button would ask for it: the question
/// its confirmation asks, or why the state refuses it now.
fn offered_actions(state: &EnvironmentState, canary_steps: &[u8]) -> Vec<OfferedAction> {
    let blue_green = state.live.is_some();
    OperationAction::offered_by(state.strategy)
        .iter()
        .map(|&action| {
            let request = Request {
                action,
                version: None,
                expected_revision: state.revision,
                weight: None,
            };
            let (question, refusal, asks_version) = match plan(state, &request, canary_steps) {
                Ok(plan) => (plan.question, None, false),
                // A deploy asks for its version in the confirmation itself.
                Err(Refusal::Invalid(e)) if e.field == "version" => {
                    let question = match state.live {
                        Some(live) => format!(
                            "Deploy which version to the idle slot {} of {}? It takes no traffic until you switch.",
                            live.other(),
                            state.name
                        ),
                        None => format!("Deploy which version to {}?", state.name),
                    };
                    (question, None, true)
                }
                Err(Refusal::Invalid(e) | Refusal::Conflict(e)) => {
                    (String::new(), Some(e.message), false)
                }
            };
            OfferedAction {
                action,
                label: action.button_label(blue_green).to_owned(),
                refusal,
                question,
                asks_version,
                gate: None,
            }
        })
        .collect()
}

/// Marks operations nobody runs any more `interrupted`, releasing their lock, and re-reads
/// their environment's health into their log. `every`: all running ones (a single SQLite
/// process starting); `gone`: this process's own (at shutdown).
pub async fn interrupt_orphans(
    state: &AppState,
    every: bool,
    gone: Option<&str>,
) -> Result<usize, StorageError> {
    let stale = Timestamp::now().minus(HEARTBEAT_TIMEOUT);
    let orphans = store::orphans(state.db.reader(), stale, gone, every).await?;
    for (id, environment_id) in &orphans {
        runner::interrupt(state, *id, *environment_id).await?;
    }
    Ok(orphans.len())
}

/// Keeps this process's operations alive in the database and interrupts those of replicas
/// that stopped. Runs until the process ends.
pub async fn maintain(state: AppState) {
    let mut interval = tokio::time::interval(HEARTBEAT_INTERVAL);
    loop {
        interval.tick().await;
        let runner = &state.operations.runner_id;
        if let Err(error) = store::heartbeat(state.db.writer(), runner, Timestamp::now()).await {
            tracing::warn!(%error, "cannot record the operations' heartbeat");
        }
        match interrupt_orphans(&state, false, None).await {
            Ok(0) => {}
            Ok(count) => {
                tracing::warn!(count, "marked operations of a stopped replica interrupted")
            }
            Err(error) => tracing::warn!(%error, "cannot look for orphaned operations"),
        }
    }
}

/// Tells live pages (and any other listener) that operation `id` moved.
fn announce(state: &AppState, environment_id: i64, id: i64) {
    state.events.publish(Event::OperationChanged {
        environment_id,
        operation_id: id,
    });
}

/// How an operation's ending is told in the audit log.
fn audit_action(status: OperationStatus) -> &'static str {
    match status {
        OperationStatus::Succeeded => "operation.succeeded",
        OperationStatus::Failed => "operation.failed",
        OperationStatus::Interrupted => "operation.interrupted",
        OperationStatus::Running => "operation.started",
    }
}
