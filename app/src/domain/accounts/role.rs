//! Roles and what each may do: the one table every page, server function and REST handler
//! consults (see PRODUCT.md, "Roles").

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What a user or an API token may do. Each role includes every right of the roles before it,
/// so the derived order is the order of privilege.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also records deployments, signs checklist items, writes incidents and post-mortems.
    Engineer,
    /// Also runs operations: deploy, switch, rollback, canary.
    Releaser,
    /// Also manages users, API tokens, templates, environments, freeze windows, gate overrides.
    Admin,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Engineer, Role::Releaser, Role::Admin];

    /// The name used in URLs, JSON, the database and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Engineer => "engineer",
            Role::Releaser => "releaser",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may do `action`.
    pub fn may(self, action: Action) -> bool {
        self >= action.minimum_role()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the four.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\" is not a role; choose viewer, engineer, releaser or admin",
            self.0
        )
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Something a caller may ask to do. Later features add their actions here, each with the
/// least role allowed to do it; nothing else in the code compares roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read pages and records: deployments, releases, incidents, metrics.
    Read,
    /// Change one's own password and end one's own sessions.
    ManageOwnAccount,
    /// Create users, change their roles, deactivate them, reset their passwords.
    ManageUsers,
    /// Create and revoke API tokens.
    ManageTokens,
    /// Read the audit log.
    ReadAuditLog,
    /// Record deployments and finish them, from a form, the API or CI.
    RecordDeployment,
    /// Create services and environments and set their slots.
    ManageCatalog,
    /// Run operations: deploy to idle, switch, rollback, canary steps.
    RunOperation,
    /// Open and abandon releases.
    ManageReleases,
    /// Sign checklist items (an item may ask for a stronger role).
    SignChecklist,
    /// Edit services' checklist templates.
    ManageChecklists,
    /// Add and remove freeze windows.
    ManageFreezes,
    /// Run an operation past a closed gate, with a written reason.
    OverrideGate,
    /// Declare and change incidents, write their timelines, post-mortems and action items.
    WriteIncidents,
}

impl Action {
    /// The least privileged role that may do this.
    pub fn minimum_role(self) -> Role {
        match self {
            Action::Read | Action::ManageOwnAccount => Role::Viewer,
            Action::RecordDeployment
            | Action::ManageReleases
            | Action::SignChecklist
            | Action::WriteIncidents => Role::Engineer,
            Action::RunOperation => Role::Releaser,
            Action::ManageUsers
            | Action::ManageTokens
            | Action::ReadAuditLog
            | Action::ManageCatalog
            | Action::ManageChecklists
            | Action::ManageFreezes
            | Action::OverrideGate => Role::Admin,
        }
    }

    /// The action in words, for "Your role may not …" messages.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Read => "read Switchyard",
            Action::ManageOwnAccount => "manage an account",
            Action::ManageUsers => "manage users",
            Action::ManageTokens => "manage API tokens",
            Action::ReadAuditLog => "read the audit log",
            Action::RecordDeployment => "record deployments",
            Action::ManageCatalog => "manage services and environments",
            Action::RunOperation => "run operations (deploy, switch, rollback, canary)",
            Action::ManageReleases => "open or abandon releases",
            Action::SignChecklist => "sign checklist items",
            Action::ManageChecklists => "edit checklist templates",
            Action::ManageFreezes => "manage freeze windows",
            Action::OverrideGate => "override a gate",
            Action::WriteIncidents => "write incidents and post-mortems",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_includes_the_rights_of_the_ones_before_it() {
        for action in [
            Action::Read,
            Action::ManageOwnAccount,
            Action::ManageUsers,
            Action::ManageTokens,
            Action::ReadAuditLog,
            Action::RecordDeployment,
            Action::ManageCatalog,
            Action::RunOperation,
            Action::ManageReleases,
            Action::SignChecklist,
            Action::ManageChecklists,
            Action::ManageFreezes,
            Action::OverrideGate,
            Action::WriteIncidents,
        ] {
            let allowed: Vec<Role> = Role::ALL.into_iter().filter(|r| r.may(action)).collect();
            assert!(!allowed.is_empty(), "{action:?} must be allowed to someone");
            assert!(allowed.contains(&Role::Admin), "admin may do {action:?}");
            // Once allowed, every stronger role is allowed too.
            let first = Role::ALL.iter().position(|r| r.may(action)).unwrap_or(4);
            assert!(Role::ALL[first..].iter().all(|r| r.may(action)));
        }
        assert!(!Role::Releaser.may(Action::ManageUsers));
        assert!(Role::Releaser.may(Action::RunOperation));
        assert!(!Role::Engineer.may(Action::RunOperation));
        assert!(Role::Viewer.may(Action::Read));
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        let error = "root".parse::<Role>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"root\" is not a role; choose viewer, engineer, releaser or admin"
        );
        assert!("Admin".parse::<Role>().is_err());
    }
}
