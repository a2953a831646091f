//! Whether each slot answers its health URL, checked in the background so a team sees green
//! is healthy before it switches to it. Each process checks for itself and keeps the readings
//! in memory; pages and the API show the newest one with the time it was taken.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use super::store;
use crate::{
    backend::AppState,
    domain::{catalog::SlotColor, operations::redact, Timestamp},
    model::{Environment, SlotHealth},
};

/// How long one check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// An environment's id and its slot (`None`: a rolling or canary environment's one health
/// URL).
type SlotKey = (i64, Option<SlotColor>);

/// The newest reading per environment and slot.
#[derive(Clone, Debug)]
pub struct HealthWatch {
    interval: Duration,
    readings: Arc<RwLock<HashMap<SlotKey, SlotHealth>>>,
}

impl HealthWatch {
    /// Checks every `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            readings: Arc::default(),
        }
    }

    /// How often slots are checked.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Puts the newest readings of `environment`'s slots on it, blue before green.
    pub fn attach(&self, environment: &mut Environment) {
        let readings = self.readings.read().unwrap_or_else(|e| e.into_inner());
        let mut health: Vec<SlotHealth> = readings
            .iter()
            .filter(|((id, _), _)| *id == environment.id)
            .map(|(_, reading)| reading.clone())
            .collect();
        health.sort_by_key(|reading| reading.slot);
        environment.health = health;
    }

    fn record(&self, environment_id: i64, reading: SlotHealth) {
        let mut readings = self.readings.write().unwrap_or_else(|e| e.into_inner());
        readings.insert((environment_id, reading.slot), reading);
    }
}

/// What to check for one environment: (slot, URL).
fn targets(state: &AppState, environment: &Environment) -> Vec<(Option<SlotColor>, String)> {
    let settings = state
        .operations
        .settings
        .find(&environment.service, &environment.name);
    if environment.slots.is_empty() {
        return settings
            .and_then(|s| s.health.url_for(None))
            .map(|url| vec![(None, url)])
            .unwrap_or_default();
    }
    environment
        .slots
        .iter()
        .map(|slot| {
            let url = settings
                .and_then(|s| s.health.url_for(Some(slot)))
                .unwrap_or_else(|| slot.health_url.clone());
            (Some(slot.color), url)
        })
        .collect()
}

/// Checks every slot once, all at the same time.
pub async fn check_all(state: &AppState) {
    let environments = match store::environments(state.db.reader()).await {
        Ok(environments) => environments,
        Err(error) => {
            tracing::warn!(%error, "cannot read environments to check their health");
            return;
        }
    };
    let mut checks = tokio::task::JoinSet::new();
    for environment in &environments {
        for (slot, url) in targets(state, environment) {
            let (state, environment_id) = (state.clone(), environment.id);
            checks.spawn(async move {
                let answer = state.operations.client.probe(&url, CHECK_TIMEOUT).await;
                // Every viewer reads these, so URLs lose their credentials, as in the logs.
                let reading = SlotHealth {
                    slot,
                    healthy: answer.is_ok(),
                    detail: redact::credentials(&match answer {
                        Ok(status) => format!("{url} answered {status}"),
                        Err(reason) => reason,
                    }),
                    url: redact::credentials(&url),
                    checked_at: Timestamp::now(),
                };
                state.health.record(environment_id, reading);
            });
        }
    }
    checks.join_all().await;
}

/// Checks every slot now and then, until the server stops.
pub async fn watch(state: AppState) {
    let mut ticker = tokio::time::interval(state.health.interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        check_all(&state).await;
    }
}
