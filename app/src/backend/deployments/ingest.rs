//! Group commit for recorded deployments. A commit costs a disk flush, and SQLite has one
//! writer, so committing each deployment alone caps ingest at the disk's flush rate. Instead
//! one task takes every deployment waiting to be written, writes each inside its own
//! savepoint of one transaction (so one bad deployment undoes only itself), and commits them
//! with a single flush; each request then hears how its own deployment went.
//!
//! PostgreSQL already flushes concurrent commits together, and serializing them through one
//! task would only slow it, so there each request writes its own deployment at once, in the
//! same savepoint-wrapped way.

use tokio::sync::{mpsc, oneshot};

use super::{insert, store::Target};
use crate::{
    backend::{
        idempotency::{self, Created, Earlier, IdempotencyKey},
        storage::Tx,
        Caller, Database, Engine, StorageError,
    },
    domain::{
        deployments::{NewDeployment, Source},
        Timestamp,
    },
    error::AppError,
    on_tx,
};

/// The most deployments committed together; bounds how long the first one waits.
const MAX_BATCH: usize = 64;
/// Deployments that may wait for the writer before senders slow down.
const QUEUE: usize = 1024;

/// One deployment to write.
#[derive(Debug)]
struct Item {
    caller: Caller,
    deployment: NewDeployment,
    target: Target,
    source: Source,
    key: Option<IdempotencyKey>,
}

/// An item waiting for the writer task, and where to say how it went.
type Queued = (Item, oneshot::Sender<Result<Created, AppError>>);

/// The handle requests write deployments through; cheap to clone.
#[derive(Clone, Debug)]
pub struct Ingest {
    db: Database,
    /// The writer task's queue (SQLite only).
    queue: Option<mpsc::Sender<Queued>>,
}

impl Ingest {
    /// Starts the writer task for a SQLite `db`; it ends when every handle is dropped.
    pub fn start(db: Database) -> Self {
        let queue = (db.engine() == Engine::Sqlite).then(|| {
            let (queue, items) = mpsc::channel(QUEUE);
            tokio::spawn(write_batches(db.clone(), items));
            queue
        });
        Self { db, queue }
    }

    /// Writes `deployment` (or finds the one `key` made before) and waits for its commit.
    pub async fn write(
        &self,
        caller: &Caller,
        deployment: NewDeployment,
        target: Target,
        source: Source,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, AppError> {
        let item = Item {
            caller: caller.clone(),
            deployment,
            target,
            source,
            key,
        };
        let Some(queue) = &self.queue else {
            let mut results = write_batch(&self.db, std::slice::from_ref(&item)).await;
            return results.pop().unwrap_or_else(|| Err(stopped()));
        };
        let (reply, answer) = oneshot::channel();
        queue.send((item, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> AppError {
    AppError::from(StorageError::Restated {
        message: "the deployment writer has stopped".into(),
        outage: None,
    })
}

async fn write_batches(db: Database, mut queue: mpsc::Receiver<Queued>) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        let (items, replies): (Vec<Item>, Vec<_>) = waiting.drain(..).unzip();
        let results = write_batch(&db, &items).await;
        for (reply, result) in replies.into_iter().zip(results) {
            // A caller that gave up waiting needs no answer.
            let _ = reply.send(result);
        }
    }
}

/// Writes every item in one transaction, each in its own savepoint; commits once.
async fn write_batch(db: &Database, batch: &[Item]) -> Vec<Result<Created, AppError>> {
    let all_fail = |error: &StorageError| {
        batch
            .iter()
            .map(|_| Err(AppError::from(clone_of(error))))
            .collect()
    };
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(error) => return all_fail(&error),
    };
    let mut results = Vec::with_capacity(batch.len());
    for item in batch {
        results.push(write_one(&mut tx, item).await);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(error) => all_fail(&error),
    }
}

/// The same failure for every item of a failed batch (each logged with its request id).
fn clone_of(error: &StorageError) -> StorageError {
    StorageError::Restated {
        message: format!("a batch of deployments could not be written: {error}"),
        outage: error.outage(),
    }
}

async fn savepoint_command(tx: &mut Tx, sql: &str) -> Result<(), StorageError> {
    on_tx!(tx, |conn| sqlx::query(sql).execute(conn).await.map(drop))?;
    Ok(())
}

/// One item inside its savepoint: replayed when its key made a deployment before, else
/// inserted and its key remembered. A failure undoes only this item.
async fn write_one(tx: &mut Tx, item: &Item) -> Result<Created, AppError> {
    savepoint_command(tx, "SAVEPOINT ingest_item").await?;
    let outcome = attempt(tx, item).await;
    let undo = !matches!(outcome, Ok(Attempt::Done(_)));
    if undo {
        savepoint_command(tx, "ROLLBACK TO SAVEPOINT ingest_item").await?;
    }
    savepoint_command(tx, "RELEASE SAVEPOINT ingest_item").await?;
    match outcome? {
        Attempt::Done(created) => Ok(created),
        // Another Switchyard replica committed this key meanwhile: answer with its deployment.
        Attempt::KeyTaken(error) => {
            let key = item
                .key
                .as_ref()
                .ok_or_else(|| AppError::from(clone_of(&error)))?;
            match idempotency::check(tx, key, "deployment").await {
                Ok(Some(Earlier(id))) => Ok(Created { id, replayed: true }),
                Ok(None) => Err(AppError::from(error)),
                Err(check) => Err(AppError::from(check)),
            }
        }
    }
}

enum Attempt {
    Done(Created),
    KeyTaken(StorageError),
}

async fn attempt(tx: &mut Tx, item: &Item) -> Result<Attempt, AppError> {
    if let Some(key) = &item.key {
        let earlier = idempotency::check(tx, key, "deployment").await?;
        if let Some(Earlier(id)) = earlier {
            return Ok(Attempt::Done(Created { id, replayed: true }));
        }
    }
    let id = insert(
        tx,
        &item.caller,
        &item.deployment,
        item.target,
        item.source,
        None,
    )
    .await?;
    if let Some(key) = &item.key {
        if let Err(error) = idempotency::remember(tx, key, "deployment", id, Timestamp::now()).await
        {
            return if idempotency::is_race(&error) {
                Ok(Attempt::KeyTaken(error))
            } else {
                Err(AppError::from(error))
            };
        }
    }
    Ok(Attempt::Done(Created {
        id,
        replayed: false,
    }))
}
