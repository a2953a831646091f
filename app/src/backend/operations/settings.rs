//! How operations act on each environment: the drivers and health checks the operator
//! configures in the server's file (`[[environment]]` tables), never from the browser. The
//! server's configuration parses them; this module holds the checked result.

use std::{path::PathBuf, time::Duration};

use crate::{
    domain::{catalog::SlotColor, operations::DEFAULT_CANARY_STEPS},
    model::Slot,
};

/// Every configured environment.
#[derive(Clone, Debug, Default)]
pub struct OperationSettings {
    pub environments: Vec<EnvironmentSettings>,
}

impl OperationSettings {
    /// The URLs the operator wrote into the tables (drivers and health checks): Switchyard may
    /// always call their hosts.
    pub fn urls(&self) -> Vec<&str> {
        self.environments
            .iter()
            .flat_map(|e| {
                let driver = match &e.driver {
                    Driver::Http(http) => Some(http.url.as_str()),
                    Driver::Command(_) => None,
                };
                driver.into_iter().chain(e.health.url.as_deref())
            })
            .collect()
    }

    /// The settings of `service`'s environment `environment`, if the operator configured it.
    pub fn find(&self, service: &str, environment: &str) -> Option<&EnvironmentSettings> {
        self.environments
            .iter()
            .find(|e| e.service == service && e.environment == environment)
    }
}

/// One environment's driver, health checks and canary steps.
#[derive(Clone, Debug)]
pub struct EnvironmentSettings {
    pub service: String,
    pub environment: String,
    pub driver: Driver,
    pub health: HealthSettings,
    pub canary: CanarySettings,
}

/// How an operation acts on the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Driver {
    Command(CommandDriver),
    Http(HttpDriver),
}

/// A program run once per driver step; exit status 0 is success.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandDriver {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Variables added to the program's environment (which otherwise holds only `PATH`,
    /// `HOME`, `LANG` and the operation's `SWITCHYARD_*` variables).
    pub env: Vec<(String, String)>,
    /// After this, the program's whole process group is killed.
    pub timeout: Duration,
}

/// An HTTP request once per driver step; a 2xx answer is success.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpDriver {
    pub method: String,
    pub url: String,
    /// Header values may name environment variables as `${NAME}`, read when the request is
    /// sent, so secrets stay in the server's environment and out of the database.
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
}

/// How an environment's health is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthSettings {
    /// Blue-green: a path on each slot's upstream; without it, the slot's own health URL.
    pub path: Option<String>,
    /// Rolling and canary environments (which have no slots): the URL to check, if any.
    pub url: Option<String>,
    /// Between two checks.
    pub interval: Duration,
    /// How long a newly live slot must stay healthy before a switch counts.
    pub verify_for: Duration,
    /// How long a deployed slot may take to become healthy.
    pub healthy_within: Duration,
    /// How long one check may take.
    pub timeout: Duration,
}

impl Default for HealthSettings {
    fn default() -> Self {
        Self {
            path: None,
            url: None,
            interval: Duration::from_secs(1),
            verify_for: Duration::from_secs(10),
            healthy_within: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
        }
    }
}

impl HealthSettings {
    /// The URL that tells whether `slot` (or, without slots, the environment) is healthy.
    pub fn url_for(&self, slot: Option<&Slot>) -> Option<String> {
        match slot {
            Some(slot) => Some(match &self.path {
                Some(path) => format!("{}{path}", slot.upstream.trim_end_matches('/')),
                None => slot.health_url.clone(),
            }),
            None => self.url.clone(),
        }
    }
}

/// A canary's traffic steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanarySettings {
    /// Percentages, ascending, the last 100.
    pub steps: Vec<u8>,
    /// How long each step watches health before it counts; without it, `verify_for`.
    pub pause: Option<Duration>,
}

impl Default for CanarySettings {
    fn default() -> Self {
        Self {
            steps: DEFAULT_CANARY_STEPS.to_vec(),
            pause: None,
        }
    }
}

/// The slot named, among an environment's slots.
pub fn slot_of(slots: &[Slot], color: Option<SlotColor>) -> Option<&Slot> {
    color.and_then(|color| slots.iter().find(|s| s.color == color))
}
