//! Deployments: the list with its filters, the form that records one, and the detail page.
//! The server functions here are thin shells over `backend::deployments`, which checks the
//! caller's role.

mod detail;
mod list;
mod record;

use leptos::prelude::*;

pub use detail::DeploymentPage;
pub use list::DeploymentsPage;
pub use record::RecordDeploymentPage;

use crate::{
    domain::{deployments::DeploymentStatus, Timestamp},
    error::AppError,
    model::{Deployment, DeploymentFilter, DeploymentPage as Page, Environment},
};

#[cfg(feature = "ssr")]
use crate::backend::{catalog, deployments, rpc};

/// A page of deployments matching `filter`, and the server's clock for ages.
#[server(prefix = "/rpc", endpoint = "list_deployments")]
pub async fn list_deployments(
    #[server(default)] filter: DeploymentFilter,
) -> Result<(Page, Timestamp), AppError> {
    rpc::serve(|state, caller| async move {
        let page = deployments::list(&state.db, &caller, &filter).await?;
        Ok((page, Timestamp::now()))
    })
    .await
}

/// One deployment, and the server's clock.
#[server(prefix = "/rpc", endpoint = "get_deployment")]
pub async fn get_deployment(id: i64) -> Result<(Deployment, Timestamp), AppError> {
    rpc::serve(|state, caller| async move {
        let deployment = deployments::get(&state.db, &caller, id).await?;
        Ok((deployment, Timestamp::now()))
    })
    .await
}

/// Every environment of every service: what forms and filters offer.
#[server(prefix = "/rpc", endpoint = "list_environments")]
pub async fn list_environments() -> Result<Vec<Environment>, AppError> {
    rpc::serve(|state, caller| async move { catalog::environments(&state.db, &caller).await }).await
}

/// The badge of a status: its word, coloured by outcome (and readable without colour). A
/// running deployment a newer one has overtaken reads "superseded".
#[component]
pub fn StatusBadge(status: DeploymentStatus, #[prop(optional)] superseded: bool) -> impl IntoView {
    let label = match status {
        DeploymentStatus::Running if superseded => "superseded",
        DeploymentStatus::Running => "running",
        DeploymentStatus::Succeeded => "succeeded",
        DeploymentStatus::Failed => "failed",
        DeploymentStatus::Cancelled => "cancelled",
    };
    view! { <span class=format!("status status-{label}")>{label}</span> }
}

/// A `<select>`'s options: (value, label) pairs.
pub(crate) type Options = Vec<(String, String)>;

/// The distinct service names and environment names of `environments`, sorted, each as a
/// `<select>` option list led by `none`.
pub(crate) fn choices(environments: &[Environment], none: &str) -> (Options, Options) {
    let mut services: Vec<&str> = environments.iter().map(|e| e.service.as_str()).collect();
    let mut names: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    names.sort_unstable();
    names.dedup();
    let options = |values: Vec<&str>| {
        std::iter::once((String::new(), none.to_owned()))
            .chain(values.into_iter().map(|v| (v.to_owned(), v.to_owned())))
            .collect()
    };
    (options(services), options(names))
}
