//! The audit log's REST API, for admins: the newest entries matching a filter.

use app::{
    backend::{audit, AppState, Caller},
    domain::Timestamp,
    model::{AuditEntry, AuditFilter},
};
use axum::{extract::State, Json};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{error::ApiError, extract::ApiQuery, openapi::Refusals};

/// The audit routes, with their description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// The query of `GET /api/v1/audit`; times in RFC 3339.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    object: Option<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    before_id: Option<i64>,
}

/// `GET /api/v1/audit`: the newest entries matching the query, 50 at a time; page with
/// `before_id` set to the last id received.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = [AuditEntry]), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        object: query.object,
        from: query.from,
        to: query.to,
        before_id: query.before_id,
    };
    Ok(Json(audit::log(&state.db, &caller, &filter).await?))
}
