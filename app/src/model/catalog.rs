//! Services and environments as pages and the API show them.

use serde::{Deserialize, Serialize};

use crate::domain::{
    catalog::{SlotColor, Strategy, Tier},
    Timestamp,
};

/// Something the team deploys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub owner_team: String,
    pub created_at: Timestamp,
}

/// One colour of a blue-green environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Slot {
    pub color: SlotColor,
    pub upstream: String,
    pub health_url: String,
    /// The version the slot holds, once one was deployed to it.
    pub version: Option<String>,
}

/// Where a service runs, with its current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Environment {
    pub id: i64,
    pub service: String,
    pub name: String,
    pub tier: Tier,
    pub strategy: Strategy,
    /// Blue-green only: the slot taking traffic.
    pub live_slot: Option<SlotColor>,
    /// Counts completed operations; a change made on an older view of the state is refused.
    pub revision: i64,
    /// Blue and green, for blue-green environments; empty otherwise.
    pub slots: Vec<Slot>,
    /// Rolling and canary: the version all (or the stable share of) traffic reaches, once an
    /// operation put one there.
    pub current_version: Option<String>,
    /// Canary: the new version taking part of the traffic, while a canary runs.
    pub canary: Option<CanaryShare>,
    pub created_at: Timestamp,
}

/// A canary in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CanaryShare {
    pub version: String,
    /// Percent of traffic.
    pub weight: u8,
}

impl Environment {
    /// The slot taking traffic, if this environment has slots.
    pub fn live(&self) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|slot| Some(slot.color) == self.live_slot)
    }
}
