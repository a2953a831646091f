//! Runs one operation in the background: hands each step of the plan to the driver or the
//! health checker, writes the steps and log lines as they happen (so every open page follows
//! along), and applies the ending in one transaction with its audit entry.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;

use super::{
    announce, audit_action,
    drivers::{self, DriverCall, LogSender},
    end_deployment,
    http::seconds,
    settings::{slot_of, EnvironmentSettings},
    store,
};
use crate::{
    backend::{
        audit::{self, Entry},
        catalog, releases, AppState, Caller, StorageError,
    },
    domain::{
        catalog::SlotColor,
        deployments::{DeploymentStatus, Version},
        operations::{
            DriverAction, Ending, LogStream, Next, OperationStatus, Run, Step, StepOutcome,
            StepStatus,
        },
        Timestamp,
    },
    model::{Environment, LogLine},
};

/// Log lines are written in batches at most this far apart.
const FLUSH_EVERY: Duration = Duration::from_millis(150);

/// An operation ready to run.
#[derive(Debug)]
pub(super) struct Job {
    pub id: i64,
    pub environment: Environment,
    pub settings: EnvironmentSettings,
    pub run: Run,
    /// Who asked: the ending is audited in their name.
    pub caller: Caller,
    pub deployment_id: Option<i64>,
    /// The gate an admin passed to start it, and why: the log's second line.
    pub overridden: Option<(String, String)>,
}

pub(super) fn spawn(state: AppState, job: Job) {
    tokio::spawn(async move {
        let id = job.id;
        if let Err(error) = execute(&state, job).await {
            // The operation stays running until the heartbeat sweep interrupts it.
            tracing::error!(%error, operation = id, "an operation could not be recorded");
        }
    });
}

/// The operation's log, written in batches.
struct Log<'a> {
    state: &'a AppState,
    id: i64,
    environment_id: i64,
    next_seq: i64,
    pending: Vec<LogLine>,
}

impl Log<'_> {
    fn push(&mut self, stream: LogStream, line: impl Into<String>) {
        self.pending.push(LogLine {
            seq: self.next_seq,
            at: Timestamp::now(),
            stream,
            line: line.into(),
        });
        self.next_seq += 1;
    }

    async fn flush(&mut self) -> Result<(), StorageError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut tx = self.state.db.begin().await?;
        store::append_log(&mut tx, self.id, &self.pending).await?;
        tx.commit().await?;
        self.pending.clear();
        announce(self.state, self.environment_id, self.id);
        Ok(())
    }
}

async fn execute(state: &AppState, mut job: Job) -> Result<(), StorageError> {
    let planned = job.run.plan().steps.len() as i64;
    let mut log = Log {
        state,
        id: job.id,
        environment_id: job.environment.id,
        next_seq: 0,
        pending: Vec::new(),
    };
    log.push(
        LogStream::Info,
        format!(
            "{} asked: {}",
            job.caller.actor().name(),
            job.run.plan().question
        ),
    );
    if let Some((gate, reason)) = &job.overridden {
        log.push(
            LogStream::Info,
            format!("Gate overridden: {gate} Reason given: {reason}"),
        );
    }
    let mut channel = mpsc::unbounded_channel();
    let (mut forward_position, mut recovery_count) = (0_i64, 0_i64);
    let mut next = job.run.next(None);
    let ending = loop {
        let (step, recovery) = match next {
            Next::Run { step, recovery } => (step, recovery),
            Next::End(ending) => break ending,
        };
        let position = if recovery {
            recovery_count += 1;
            planned + recovery_count - 1
        } else {
            forward_position += 1;
            forward_position - 1
        };
        let name = if recovery {
            format!("Undo: {}", step.describe())
        } else {
            step.describe()
        };
        let outcome = perform(
            state,
            &job,
            &mut log,
            (position, &name),
            &step,
            &mut channel,
        )
        .await?;
        next = job.run.next(Some(outcome));
    };
    match &ending.error {
        None => log.push(LogStream::Info, "Finished."),
        Some(error) => log.push(LogStream::Error, error.clone()),
    }
    log.flush().await?;
    finish(state, &job, &ending).await
}

/// Runs one step as step `position` of the operation, named `name`: marks it running, streams
/// its output into the log as it comes (flushed every `FLUSH_EVERY`), then records how it went.
async fn perform(
    state: &AppState,
    job: &Job,
    log: &mut Log<'_>,
    (position, name): (i64, &str),
    step: &Step,
    (sender, receiver): &mut (LogSender, mpsc::UnboundedReceiver<(LogStream, String)>),
) -> Result<StepOutcome, StorageError> {
    let started = Timestamp::now();
    store::set_step(
        state.db.writer(),
        job.id,
        position,
        name,
        StepStatus::Running,
        started,
    )
    .await?;
    log.push(LogStream::Info, format!("{name}…"));
    log.flush().await?;
    let (status, outcome) = {
        let work = run_step(state, job, step, sender);
        tokio::pin!(work);
        let mut ticker = tokio::time::interval(FLUSH_EVERY);
        loop {
            tokio::select! {
                result = &mut work => break result,
                Some((stream, line)) = receiver.recv() => log.push(stream, line),
                _ = ticker.tick() => log.flush().await?,
            }
        }
    };
    while let Ok((stream, line)) = receiver.try_recv() {
        log.push(stream, line);
    }
    match &outcome {
        StepOutcome::Succeeded => log.push(LogStream::Info, format!("{name}: done.")),
        StepOutcome::Failed(reason) => log.push(LogStream::Error, format!("{name}: {reason}")),
    }
    log.flush().await?;
    store::set_step(
        state.db.writer(),
        job.id,
        position,
        name,
        status,
        Timestamp::now(),
    )
    .await?;
    Ok(outcome)
}

/// Runs one step; its output goes to `output`.
async fn run_step(
    state: &AppState,
    job: &Job,
    step: &Step,
    output: &LogSender,
) -> (StepStatus, StepOutcome) {
    let result = match step {
        Step::Drive {
            action,
            slot,
            version,
            weight,
        } => drive(state, job, *action, *slot, version, *weight, output).await,
        Step::AwaitHealthy { slot } => await_healthy(state, job, *slot, output).await,
        Step::Verify { slot } => verify(state, job, *slot, output).await,
    };
    match result {
        Ok(status) => (status, StepOutcome::Succeeded),
        Err(reason) => (StepStatus::Failed, StepOutcome::Failed(reason)),
    }
}

/// A line from Switchyard itself into the operation's log.
fn say(output: &LogSender, line: String) {
    let _ = output.send((LogStream::Info, line));
}

/// Calls the environment's driver.
async fn drive(
    state: &AppState,
    job: &Job,
    action: DriverAction,
    slot: Option<SlotColor>,
    version: &Version,
    weight: Option<u8>,
    output: &LogSender,
) -> Result<StepStatus, String> {
    let call = DriverCall {
        operation_id: job.id,
        service: job.environment.service.clone(),
        environment: job.environment.name.clone(),
        operation: job.run.plan().action,
        action,
        target_slot: slot,
        target_upstream: slot_of(&job.environment.slots, slot).map(|s| s.upstream.clone()),
        version: version.as_str().to_owned(),
        canary_weight: weight.filter(|_| action == DriverAction::Canary),
    };
    drivers::run(
        &job.settings.driver,
        &state.operations.client,
        &call,
        output,
    )
    .await?;
    Ok(StepStatus::Succeeded)
}

/// The health URL of `slot` (or of the environment); without one, the log says the step is
/// skipped and why.
fn health_url(
    job: &Job,
    slot: Option<SlotColor>,
    output: &LogSender,
    skipped: &str,
) -> Option<String> {
    let url = job
        .settings
        .health
        .url_for(slot_of(&job.environment.slots, slot));
    if url.is_none() {
        say(
            output,
            format!("No health check is configured for this environment; {skipped}."),
        );
    }
    url
}

/// Checks health until it answers, or gives up after `healthy_within`.
async fn await_healthy(
    state: &AppState,
    job: &Job,
    slot: Option<SlotColor>,
    output: &LogSender,
) -> Result<StepStatus, String> {
    let health = &job.settings.health;
    let Some(url) = health_url(job, slot, output, "not waiting") else {
        return Ok(StepStatus::Skipped);
    };
    let started = Instant::now();
    let mut last_reason = String::new();
    loop {
        match state.operations.client.probe(&url, health.timeout).await {
            Ok(status) => {
                say(output, format!("{url} answered {status}."));
                return Ok(StepStatus::Succeeded);
            }
            Err(reason) if started.elapsed() >= health.healthy_within => {
                return Err(format!(
                    "not healthy within {} ({reason})",
                    seconds(health.healthy_within)
                ));
            }
            Err(reason) => {
                if reason != last_reason {
                    say(output, format!("Not healthy yet: {reason}"));
                    last_reason = reason;
                }
            }
        }
        tokio::time::sleep(health.interval).await;
    }
}

/// Keeps checking health for `verify_for` (a canary step: its `pause`); one failed check fails.
async fn verify(
    state: &AppState,
    job: &Job,
    slot: Option<SlotColor>,
    output: &LogSender,
) -> Result<StepStatus, String> {
    let health = &job.settings.health;
    let Some(url) = health_url(job, slot, output, "nothing to watch") else {
        return Ok(StepStatus::Skipped);
    };
    let period = match job.settings.canary.pause {
        Some(pause) if slot.is_none() => pause,
        _ => health.verify_for,
    };
    let started = Instant::now();
    let mut checks = 0;
    loop {
        if let Err(reason) = state.operations.client.probe(&url, health.timeout).await {
            return Err(format!(
                "a health check failed {} in ({reason})",
                seconds(Duration::from_millis(started.elapsed().as_millis() as u64))
            ));
        }
        checks += 1;
        if started.elapsed() >= period {
            say(
                output,
                format!("Healthy for {} ({checks} checks).", seconds(period)),
            );
            return Ok(StepStatus::Succeeded);
        }
        tokio::time::sleep(
            health
                .interval
                .min(period.saturating_sub(started.elapsed())),
        )
        .await;
    }
}

/// Ends the operation as the runner saw it end, in the name of whoever asked for it.
async fn finish(state: &AppState, job: &Job, ending: &Ending) -> Result<(), StorageError> {
    let object = format!(
        "environment:{}/{}",
        job.environment.service, job.environment.name
    );
    close(
        state,
        &job.caller,
        job.id,
        job.environment.id,
        job.deployment_id,
        ending,
        object,
    )
    .await
}

/// Ends operation `id` with `ending` in one transaction: its row, the environment's new state
/// and revision, its deployment, and the audit entry in `caller`'s name. An operation that
/// ended already (interrupted by a sweep, then finished by a late runner) keeps its first
/// ending.
async fn close(
    state: &AppState,
    caller: &Caller,
    id: i64,
    environment_id: i64,
    deployment_id: Option<i64>,
    ending: &Ending,
    object: String,
) -> Result<(), StorageError> {
    let now = Timestamp::now();
    let status = ending.status();
    let mut tx = state.db.begin().await?;
    // The environment's row first, then the operation's: a request starting an operation
    // takes them in that order, and the opposite order deadlocks on PostgreSQL when a switch
    // ends while others are being asked for (found with 50 requests over two replicas). An
    // operation that ended already rolls the change back with the transaction.
    store::apply(&mut tx, environment_id, ending, deployment_id).await?;
    if !store::finish(&mut tx, id, status, ending.error.as_deref(), now).await? {
        return Ok(());
    }
    if status == OperationStatus::Succeeded
        && (ending.live.is_some() || ending.current_version.is_some())
    {
        releases::settle(&mut tx, caller, environment_id, now).await?;
    }
    if let (Some(deployment_status), Some(deployment_id)) = (ending.deployment, deployment_id) {
        let note = ending
            .deployment_note
            .as_ref()
            .map(|note| format!("Operation {id}: {note}"));
        end_deployment(
            &mut tx,
            caller,
            deployment_id,
            deployment_status,
            note.as_deref(),
            now,
        )
        .await
        .map_err(StorageError::from)?;
    }
    let entry = Entry {
        actor: &caller.actor(),
        origin: &caller.origin,
        action: audit_action(status),
        object,
        before: None,
        after: Some(json!({
            "operation": id,
            "status": status,
            "error": ending.error,
            "live_slot": ending.live,
        })),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    announce(state, environment_id, id);
    Ok(())
}

/// Marks an orphaned operation interrupted, releases its lock, fails its deployment, and
/// logs what each slot's health check answers now.
pub(super) async fn interrupt(
    state: &AppState,
    id: i64,
    environment_id: i64,
) -> Result<(), StorageError> {
    let reason =
        "The server stopped while this operation ran. Traffic may be anywhere between the \
         start and the end of the step that was running: check the health below and the \
         router, then run the operation again.";
    let ending = Ending {
        status: Some(OperationStatus::Interrupted),
        error: Some(reason.to_owned()),
        deployment: Some(DeploymentStatus::Failed),
        deployment_note: Some("interrupted by a server restart.".to_owned()),
        ..Ending::default()
    };
    let system = Caller {
        principal: Some(crate::backend::Principal::System {
            name: "switchyard".to_owned(),
        }),
        origin: Default::default(),
    };
    let deployment_id = store::deployment_of(state.db.reader(), id).await?;
    let object = format!("operation:{id}");
    close(
        state,
        &system,
        id,
        environment_id,
        deployment_id,
        &ending,
        object,
    )
    .await?;
    // Health checks may take their timeout per slot: a starting server does not wait for them.
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(error) = reread_health(&state, id, environment_id).await {
            tracing::warn!(%error, operation = id, "cannot re-read an interrupted environment's health");
        }
    });
    Ok(())
}

/// Logs what each slot's (or the environment's) health check answers now into the log of
/// interrupted operation `id`: the environment's actual state, as far as health tells it.
async fn reread_health(state: &AppState, id: i64, environment_id: i64) -> Result<(), StorageError> {
    let mut lines = Vec::new();
    if let Some(environment) =
        catalog::store::environment_by_id(state.db.reader(), environment_id).await?
    {
        if let Some(settings) = state
            .operations
            .settings
            .find(&environment.service, &environment.name)
        {
            let targets: Vec<(String, Option<String>)> = if environment.slots.is_empty() {
                vec![("the environment".to_owned(), settings.health.url_for(None))]
            } else {
                environment
                    .slots
                    .iter()
                    .map(|slot| (slot.color.to_string(), settings.health.url_for(Some(slot))))
                    .collect()
            };
            for (name, url) in targets {
                let Some(url) = url else { continue };
                let answer = match state
                    .operations
                    .client
                    .probe(&url, settings.health.timeout)
                    .await
                {
                    Ok(status) => format!("healthy ({status})"),
                    Err(reason) => format!("not healthy ({reason})"),
                };
                lines.push(format!("After the restart, {name} is {answer}."));
            }
        }
    }
    let mut seq = store::next_seq(state.db.reader(), id).await?;
    let lines: Vec<LogLine> = lines
        .into_iter()
        .map(|line| {
            seq += 1;
            LogLine {
                seq: seq - 1,
                at: Timestamp::now(),
                stream: LogStream::Info,
                line,
            }
        })
        .collect();
    let mut tx = state.db.begin().await?;
    store::append_log(&mut tx, id, &lines).await?;
    tx.commit().await?;
    announce(state, environment_id, id);
    Ok(())
}
