//! The metrics REST API: the delivery metrics of one window, and the same per week or month.
//! Thin shells over `app::backend::metrics`, which checks the caller's role and the query.

use app::{
    backend::{metrics, AppState, Caller},
    domain::metrics::Figures,
    model::{MetricsQuery, MetricsSeries},
};
use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{error::ApiError, extract::ApiQuery, openapi::Refusals};

/// The metrics routes, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_metrics))
        .routes(routes!(get_metrics_series))
}

/// `GET /api/v1/metrics`: deployment frequency, lead time, change failure rate, recovery time,
/// MTTR, rework rate and the guide's KPIs over `[from, to)` (default: the last 30 days), as
/// PRODUCT.md defines them, with each DORA key's level. Counts are numbers, rates fractions,
/// durations seconds; `null` where the window holds nothing to compute from.
#[utoipa::path(get, path = "/v1/metrics", tag = "metrics", params(MetricsQuery), responses((status = 200, body = Figures), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_metrics(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<Figures>, ApiError> {
    Ok(Json(metrics::figures(&state.db, &caller, &query).await?))
}

/// `GET /api/v1/metrics/series`: the same figures per `bucket` (`week` = 7 days, `month` =
/// 30 days, from `from`; the last bucket ends at `to`), for trends.
#[utoipa::path(get, path = "/v1/metrics/series", tag = "metrics", params(MetricsQuery), responses((status = 200, body = MetricsSeries), Refusals), security(("bearer" = []), ("session" = [])))]
pub async fn get_metrics_series(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> Result<Json<MetricsSeries>, ApiError> {
    Ok(Json(metrics::series(&state.db, &caller, &query).await?))
}
