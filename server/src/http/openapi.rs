//! The REST API's OpenAPI 3.1 document, assembled from the handlers' `#[utoipa::path]`
//! attributes and the types they take and answer with, as the router registers them: a
//! route cannot be added without its description.

use std::sync::Arc;

use axum::{Extension, Json};

use super::error::ErrorBody;
use utoipa::{
    openapi::{
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        OpenApi,
    },
    Modify,
};

/// The document's fixed parts; the paths come from the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Switchyard REST API",
        description = "Deployments, services and environments for CI pipelines and scripts. \
            Authenticate with `Authorization: Bearer <token>` (an API token) or the session \
            cookie from `POST /api/v1/session`. Times are RFC 3339 in UTC. Every error has \
            the shape `{\"error\": {\"code\", \"message\", \"field\"?, \"request_id\"}}`. \
            Any operation may answer 503 with the code `unavailable` while the database is \
            away or its disk is full: retry it later (after `Retry-After` seconds, when given), \
            with the same `Idempotency-Key` where the operation takes one."
    ),
    servers((url = "/api", description = "This Switchyard")),
    modifiers(&Security),
    tags(
        (name = "health", description = "Liveness and the detailed health check"),
        (name = "accounts", description = "Logging in and out as JSON, who am I; users and API tokens (admins)"),
        (name = "audit", description = "The audit log (admins)"),
        (name = "catalog", description = "Services and their environments (admins set them up)"),
        (name = "deployments", description = "Recording, finishing and reading deployments"),
        (name = "webhooks", description = "CI systems reporting deployments, HMAC-signed"),
        (name = "operations", description = "Deploy to idle, switch, roll back and canary steps, and their live progress"),
        (name = "releases", description = "Releases and their checklists signed item by item, checklist templates, freeze windows"),
        (name = "incidents", description = "Incidents, their timelines and links to deployments, post-mortems and action items"),
        (name = "metrics", description = "Delivery metrics (the DORA keys and the guide's KPIs) over a window, and their trend"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(super::SESSION_COOKIE))),
        );
    }
}

/// The refusals every route behind the login may answer with, in the JSON error shape; a
/// route lists the others it has (a 409 that names its conflict, say) beside them.
#[derive(utoipa::IntoResponses)]
// Only described: handlers answer with `ApiError`, whose bodies have this shape.
#[allow(dead_code)]
pub enum Refusals {
    /// Not logged in, or the token is unknown, revoked or expired.
    #[response(status = 401)]
    Unauthenticated(ErrorBody<'static>),
    /// The role may not do this.
    #[response(status = 403)]
    Forbidden(ErrorBody<'static>),
    /// Refused: the JSON error shape names the reason and, for bad input, the field.
    #[response(status = "4XX")]
    Refused(ErrorBody<'static>),
}

/// The finished document, shared by the route that serves it.
pub type Document = Arc<OpenApi>;

/// `GET /api/v1/openapi.json`
#[utoipa::path(get, path = "/v1/openapi.json", tag = "health", responses((status = 200, description = "This document")))]
pub async fn get_openapi(Extension(document): Extension<Document>) -> Json<OpenApi> {
    Json(OpenApi::clone(&document))
}
