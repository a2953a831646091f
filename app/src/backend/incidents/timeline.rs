//! Switchyard's own timeline entries: every operation on an environment with an open
//! incident (deploy, switch, rollback, canary steps) lands in that incident's timeline when
//! it starts and when it ends. This listens to the events operations already publish, so
//! operations know nothing of incidents. Each entry names its source ("operation:42:ended"),
//! and the database writes a source once per incident, so repeated events (or two replicas
//! seeing the same operation) never duplicate a line.

use tokio::sync::broadcast::error::RecvError;

use super::{announce, store};
use crate::{
    backend::{events::Event, operations::store as operation_store, AppState, StorageError},
    domain::{
        operations::{OperationAction, OperationStatus, StepStatus},
        Timestamp,
    },
    model::{Operation, Recorder, TimelineKind},
};

/// Follows operation events until the server stops. Runs once per process; it listens from
/// the moment it is called, before the returned future first runs.
pub fn follow_operations(state: AppState) -> impl std::future::Future<Output = ()> {
    let events = state.events.subscribe();
    follow(state, events)
}

async fn follow(state: AppState, mut events: tokio::sync::broadcast::Receiver<Event>) {
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            () = state.events.closed() => return,
        };
        match event {
            Ok(Event::OperationChanged {
                environment_id,
                operation_id,
            }) => {
                if let Err(error) = record(&state, environment_id, operation_id).await {
                    tracing::warn!(%error, operation_id, "could not add the operation to the incident timeline");
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the incident timeline missed operation events");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Writes what operation `operation_id` has done so far into the timeline of every incident
/// open in its environment: its start, its canary steps, its end; each once. Moments before
/// an incident started are left out of it.
pub async fn record(
    state: &AppState,
    environment_id: i64,
    operation_id: i64,
) -> Result<(), StorageError> {
    let db = &state.db;
    let open = store::open_in(db.reader(), environment_id).await?;
    if open.is_empty() {
        return Ok(());
    }
    let Some(operation) = operation_store::get(db.reader(), operation_id).await? else {
        return Ok(());
    };
    let lines = lines(&operation);
    let author = Recorder {
        kind: "system".into(),
        name: "switchyard".into(),
    };
    for (incident_id, started_at) in open {
        let mut tx = db.begin().await?;
        let mut wrote = false;
        for (source, at, text) in lines.iter().filter(|(_, at, _)| *at >= started_at) {
            let entry = store::NewEntry {
                incident_id,
                at: *at,
                kind: TimelineKind::Operation.as_str(),
                author: &author,
                text,
                operation_id: Some(operation.id),
                action: Some(operation.action.as_str()),
                source: Some(source),
            };
            wrote |= store::add_entry(&mut tx, &entry).await?.is_some();
        }
        tx.commit().await?;
        if wrote {
            announce(state, environment_id, incident_id);
        }
    }
    Ok(())
}

/// The operation's timeline lines so far: (source, moment, text).
fn lines(op: &Operation) -> Vec<(String, Timestamp, String)> {
    let what = match (op.action, &op.version) {
        (OperationAction::Deploy, Some(version)) => format!("deploy of {version}"),
        (OperationAction::Rollback, Some(version)) => format!("rollback to {version}"),
        (action, Some(version)) => format!("{} ({version})", words(action)),
        (action, None) => words(action).to_owned(),
    };
    let mut lines = vec![(
        format!("operation:{}:started", op.id),
        op.started_at,
        format!(
            "{} started a {what} (operation {}).",
            op.requested_by, op.id
        ),
    )];
    // Canary steps each move traffic: worth a line of their own.
    let canary = op.canary_weight.is_some() || op.action == OperationAction::CanaryPromote;
    if canary {
        for step in &op.steps {
            if let (Some(at), StepStatus::Succeeded | StepStatus::Failed) =
                (step.finished_at, step.status)
            {
                lines.push((
                    format!("operation:{}:step:{}", op.id, step.position),
                    at,
                    format!(
                        "Step \"{}\" {} (operation {}).",
                        step.name, step.status, op.id
                    ),
                ));
            }
        }
    }
    if let Some(at) = op.finished_at {
        let outcome = match op.status {
            OperationStatus::Succeeded => "succeeded".to_owned(),
            status => match &op.error {
                Some(error) => format!("{status}: {error}"),
                None => status.as_str().to_owned(),
            },
        };
        lines.push((
            format!("operation:{}:ended", op.id),
            at,
            format!("The {what} (operation {}) {outcome}.", op.id),
        ));
    }
    lines
}

fn words(action: OperationAction) -> &'static str {
    match action {
        OperationAction::Deploy => "deploy",
        OperationAction::Switch => "switch",
        OperationAction::Rollback => "rollback",
        OperationAction::CanaryPromote => "canary promotion",
        OperationAction::CanaryAbort => "canary abort",
    }
}
