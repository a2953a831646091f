//! The REST API's OpenAPI 3.1 document, assembled from the handlers' `#[utoipa::path]`
//! attributes and the types they take and answer with, as the router registers them: a
//! route cannot be added without its description.

use std::sync::Arc;

use axum::{Extension, Json};
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
            the shape `{\"error\": {\"code\", \"message\", \"field\"?, \"request_id\"}}`."
    ),
    servers((url = "/api", description = "This Switchyard")),
    modifiers(&Security),
    tags(
        (name = "health", description = "Liveness and the detailed health check"),
        (name = "session", description = "Logging in and out as JSON; who am I"),
        (name = "catalog", description = "Services and their environments (admins set them up)"),
        (name = "deployments", description = "Recording, finishing and reading deployments"),
        (name = "webhooks", description = "CI systems reporting deployments, HMAC-signed"),
        (name = "admin", description = "Users, API tokens and the audit log"),
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

/// The finished document, shared by the route that serves it.
pub type Document = Arc<OpenApi>;

/// `GET /api/v1/openapi.json`
#[utoipa::path(get, path = "/v1/openapi.json", tag = "health", responses((status = 200, description = "This document")))]
pub async fn get_openapi(Extension(document): Extension<Document>) -> Json<OpenApi> {
    Json(OpenApi::clone(&document))
}
