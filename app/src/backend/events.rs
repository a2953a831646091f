//! What just happened, for whoever listens in this process: the live pages today; incident
//! incident timelines. Events only say what changed; listeners read the details
//! from the database, which is the truth shared by every replica.

use tokio::sync::{broadcast, watch};

/// Something changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An operation started, moved to a step, logged, or ended.
    OperationChanged {
        environment_id: i64,
        operation_id: i64,
    },
    /// Someone opened, signed, withdrew from or ended a release.
    ReleaseChanged {
        environment_id: i64,
        release_id: i64,
    },
    /// Someone declared, changed or wrote in an incident, or Switchyard added to its timeline.
    IncidentChanged {
        environment_id: i64,
        incident_id: i64,
    },
}

impl Event {
    /// The environment the event is about.
    pub fn environment_id(&self) -> i64 {
        match self {
            Event::OperationChanged { environment_id, .. }
            | Event::ReleaseChanged { environment_id, .. }
            | Event::IncidentChanged { environment_id, .. } => *environment_id,
        }
    }
}

/// The in-process event bus, cheap to clone.
#[derive(Clone, Debug)]
pub struct Events {
    bus: broadcast::Sender<Event>,
    /// Set when the server stops, so endless listeners (live pages) end and let it.
    closing: watch::Sender<bool>,
}

/// Events kept for a slow listener before it starts missing some (it then re-reads).
const BACKLOG: usize = 1024;

impl Default for Events {
    fn default() -> Self {
        Self {
            bus: broadcast::channel(BACKLOG).0,
            closing: watch::channel(false).0,
        }
    }
}

impl Events {
    /// Tells every listener; nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.bus.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.bus.subscribe()
    }

    /// Tells listeners the server is stopping.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once the server is stopping.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closing| *closing).await;
    }
}
