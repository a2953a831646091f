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

/// The deployment that put a version in place: who shipped it, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Shipped {
    pub deployment_id: i64,
    /// The user or token that recorded it (or the releaser who ran the operation).
    pub by: String,
    /// When it finished (when it started, while it still runs).
    pub at: Timestamp,
}

/// One colour of a blue-green environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Slot {
    pub color: SlotColor,
    pub upstream: String,
    pub health_url: String,
    /// The version the slot holds: put there by an operation, or by a succeeded deployment
    /// recorded for this slot.
    pub version: Option<String>,
    /// The deployment that put `version` there.
    pub shipped: Option<Shipped>,
}

/// The newest health check of a slot (or of a rolling or canary environment: `slot` none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlotHealth {
    pub slot: Option<SlotColor>,
    pub url: String,
    pub healthy: bool,
    /// The answer ("… answered 200 OK"), or why there was none.
    pub detail: String,
    pub checked_at: Timestamp,
}

/// The version taking (the stable share of) an environment's traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LiveVersion {
    pub version: String,
    /// Blue-green: the slot it runs on.
    pub slot: Option<SlotColor>,
    pub shipped: Option<Shipped>,
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
    /// Rolling and canary: the version all (or the stable share of) traffic reaches, put there
    /// by an operation or by a succeeded deployment recorded here.
    pub current_version: Option<String>,
    /// The deployment that put `current_version` in place.
    pub current_shipped: Option<Shipped>,
    /// What is live, whatever the strategy: the live slot's version, or the current version.
    pub live_version: Option<LiveVersion>,
    /// Blue-green: the version the idle slot holds, ready to switch to.
    pub idle_version: Option<String>,
    /// The newest background health check of each slot (empty until the first one).
    pub health: Vec<SlotHealth>,
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

    /// The slot not taking traffic, if this environment has slots.
    pub fn idle(&self) -> Option<&Slot> {
        let live = self.live_slot?;
        self.slots.iter().find(|slot| slot.color == live.other())
    }

    /// Fills in `live_version` and `idle_version` from the slots or the current version.
    pub fn with_live_and_idle(mut self) -> Self {
        self.live_version = match self.live() {
            Some(slot) => slot.version.clone().map(|version| LiveVersion {
                version,
                slot: Some(slot.color),
                shipped: slot.shipped.clone(),
            }),
            None if self.live_slot.is_none() => {
                self.current_version.clone().map(|version| LiveVersion {
                    version,
                    slot: None,
                    shipped: self.current_shipped.clone(),
                })
            }
            None => None,
        };
        self.idle_version = self.idle().and_then(|slot| slot.version.clone());
        self
    }
}

/// A service and its environments, as the Services page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub service: Service,
    pub environments: Vec<Environment>,
}

/// One service's page: its environments and its newest deployments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub service: Service,
    pub environments: Vec<Environment>,
    pub recent: Vec<super::Deployment>,
    /// The server's clock, for ages.
    pub now: Timestamp,
}
