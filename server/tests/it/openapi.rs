//! The OpenAPI document: served, 3.1, and in step with the router both ways.

use axum::{body::Body, http::Request};

use crate::helpers::{Engine, TestApp};

/// The REST contract of the issues; each must be described.
const CONTRACT: &[(&str, &str)] = &[
    ("post", "/v1/services"),
    ("post", "/v1/services/{service}/environments"),
    ("get", "/v1/services/{service}/environments/{environment}"),
    ("post", "/v1/deployments"),
    ("get", "/v1/deployments"),
    ("get", "/v1/deployments/{id}"),
    ("post", "/v1/deployments/{id}/finish"),
    ("post", "/v1/webhooks/github"),
    ("post", "/v1/webhooks/generic"),
    ("get", "/v1/openapi.json"),
    ("post", "/v1/session"),
    ("delete", "/v1/session"),
    ("get", "/v1/me"),
    ("get", "/v1/health"),
    ("get", "/v1/metrics"),
    ("get", "/v1/metrics/series"),
];

#[tokio::test]
async fn every_route_is_described_and_every_description_is_routed() {
    let app = TestApp::new(Engine::Sqlite).await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let document = response.json();
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        document["openapi"]
    );
    assert_eq!(document["servers"][0]["url"], "/api");
    let paths = document["paths"].as_object().expect("paths");
    for (method, path) in CONTRACT {
        assert!(
            paths
                .get(*path)
                .and_then(|item| item.get(*method))
                .is_some(),
            "{method} {path} is not in the document"
        );
    }
    for schema in [
        "Deployment",
        "DeploymentInput",
        "Environment",
        "ErrorBody",
        "DeploymentStatus",
        "Timestamp",
        "Figures",
        "Levels",
    ] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "schema {schema}"
        );
    }
    // Every described operation reaches a handler: not the API's 404 fallback, not 405.
    let mut described = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            described += 1;
            let uri = format!(
                "/api{}",
                path.replace("{id}", "1")
                    .replace("{service}", "s")
                    .replace("{environment}", "e")
                    .replace("{item}", "x")
                    .replace("{entry}", "1")
                    .replace("{kind}", "incident")
                    .replace("{step}", "x")
            );
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let answer = app.send(request).await;
            assert_ne!(answer.status, 405, "{method} {uri}");
            assert!(
                !answer.body.contains("There is no API endpoint"),
                "{method} {uri} is described but not routed: {}",
                answer.body
            );
        }
    }
    // Each route this build registers (a new route makes this fail until it is counted).
    assert_eq!(described, 70);
    // And the reverse: a path the document does not know is not routed either.
    let unknown = app.get("/api/v1/not-described").await;
    assert!(unknown.body.contains("There is no API endpoint"));
}

/// Request-body strings whose rule the document does not state yet: times (RFC 3339, not in
/// the future), URLs, commit hashes, usernames as references, words with exceptions (a finish
/// is never `running`) and rules across fields. Each is a request a generated client may send
/// and see refused; the list only shrinks.
const STILL_UNSTATED: &[&str] = &[
    "post /v1/action-items ActionItemInput.due",
    "post /v1/action-items ActionItemInput.owner",
    "post /v1/action-items ActionItemInput.title",
    "patch /v1/action-items/{id} ActionItemPatch.due",
    "patch /v1/action-items/{id} ActionItemPatch.owner",
    "patch /v1/action-items/{id} ActionItemPatch.title",
    "post /v1/deployments DeploymentInput.commit_at",
    "post /v1/deployments DeploymentInput.commit_sha",
    "post /v1/deployments DeploymentInput.finished_at",
    "post /v1/deployments DeploymentInput.started_at",
    "post /v1/deployments DeploymentInput.url",
    "post /v1/deployments/{id}/finish FinishInput.finished_at",
    "post /v1/deployments/{id}/finish FinishInput.status",
    "post /v1/incidents IncidentInput.commander",
    "post /v1/incidents IncidentInput.detected_at",
    "post /v1/incidents IncidentInput.resolved_at",
    "post /v1/incidents IncidentInput.started_at",
    "patch /v1/incidents/{id} IncidentPatch.commander",
    "patch /v1/incidents/{id} IncidentPatch.detected_at",
    "patch /v1/incidents/{id} IncidentPatch.resolved_at",
    "put /v1/incidents/{id}/postmortem PostmortemInput.markdown",
    "put /v1/incidents/{id}/postmortem PostmortemInput.title",
    "post /v1/incidents/{id}/timeline TimelineInput.at",
    "post /v1/releases ReleaseInput.commit_sha",
    "post /v1/releases ReleaseInput.url",
    "post /v1/releases/{id}/items/{item}/sign SignInput.evidence_url",
    "put /v1/services/{service}/checklist-template TemplateInput.items[] ItemInput.key",
    "post /v1/services/{service}/environments EnvironmentInput.slots SlotsInput.blue SlotInput.health_url",
    "post /v1/services/{service}/environments EnvironmentInput.slots SlotsInput.blue SlotInput.upstream",
    "post /v1/services/{service}/environments EnvironmentInput.slots SlotsInput.green SlotInput.health_url",
    "post /v1/services/{service}/environments EnvironmentInput.slots SlotsInput.green SlotInput.upstream",
    "patch /v1/services/{service}/environments/{environment} EnvironmentPatch.slots SlotsInput.blue SlotInput.health_url",
    "patch /v1/services/{service}/environments/{environment} EnvironmentPatch.slots SlotsInput.blue SlotInput.upstream",
    "patch /v1/services/{service}/environments/{environment} EnvironmentPatch.slots SlotsInput.green SlotInput.health_url",
    "patch /v1/services/{service}/environments/{environment} EnvironmentPatch.slots SlotsInput.green SlotInput.upstream",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.end",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.from",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.kind",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.reason",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.start",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.time_zone",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.to",
    "post /v1/services/{service}/environments/{environment}/freezes FreezeInput.weekdays[]",
    "post /v1/services/{service}/environments/{environment}/operations OperationInput.override_reason",
    "post /v1/services/{service}/environments/{environment}/operations OperationInput.version",
    "post /v1/session Credentials.password",
    "post /v1/session Credentials.username",
    "post /v1/tokens NewTokenInput.expires",
    "post /v1/tokens NewTokenInput.name",
    "put /v1/users/{id}/password NewPassword.password",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.commit_at",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.commit_sha",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.environment",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.finished_at",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.notes",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.service",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.started_at",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.status",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.url",
    "post /v1/webhooks/generic GenericEvent GenericDeployment.version",
    "post /v1/webhooks/generic GenericEvent.id",
    "put /v1/webhooks/github/environments/{service}/{name} GithubEnvironmentDecision.maps_to",
];

/// Every string a request body may hold states the rule the API holds it to (a pattern, a
/// list of words, a format or a length), so that what a client generated from the document
/// sends is what the API accepts. A new plain `String` field fails here until it says its
/// rule; one that comes to state it must leave `STILL_UNSTATED`.
#[tokio::test]
async fn every_string_a_client_sends_states_its_rule() {
    let app = TestApp::new(Engine::Sqlite).await;
    let document = app.get("/api/v1/openapi.json").await.json();
    let mut unruled = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let Some(content) = operation["requestBody"]["content"].as_object() else {
                continue;
            };
            for body in content.values() {
                let at = format!("{method} {path}");
                unruled_strings(
                    &document,
                    &body["schema"],
                    &at,
                    &mut Vec::new(),
                    &mut unruled,
                );
            }
        }
    }
    let new: Vec<_> = unruled
        .iter()
        .filter(|at| !STILL_UNSTATED.contains(&at.as_str()))
        .collect();
    assert!(new.is_empty(), "strings that state no rule: {new:#?}");
    let stated: Vec<_> = STILL_UNSTATED
        .iter()
        .filter(|at| !unruled.iter().any(|u| u == *at))
        .collect();
    assert!(
        stated.is_empty(),
        "these state their rule now; take them off the list: {stated:#?}"
    );
}

/// Collects, into `unruled`, where under `schema` a string is described with no rule.
fn unruled_strings(
    document: &serde_json::Value,
    schema: &serde_json::Value,
    at: &str,
    seen: &mut Vec<String>,
    unruled: &mut Vec<String>,
) {
    if let Some(reference) = schema["$ref"].as_str() {
        if seen.iter().any(|s| s == reference) {
            return;
        }
        seen.push(reference.to_owned());
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &document["components"]["schemas"][name];
        unruled_strings(document, target, &format!("{at} {name}"), seen, unruled);
        seen.pop();
        return;
    }
    let types = match &schema["type"] {
        serde_json::Value::String(one) => vec![one.as_str()],
        serde_json::Value::Array(many) => many.iter().filter_map(|t| t.as_str()).collect(),
        _ => Vec::new(),
    };
    let ruled = ["pattern", "enum", "const", "format", "maxLength"]
        .iter()
        .any(|rule| schema.get(*rule).is_some());
    if types.contains(&"string") && !ruled {
        unruled.push(at.to_owned());
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            unruled_strings(document, property, &format!("{at}.{name}"), seen, unruled);
        }
    }
    for nested in ["items", "additionalProperties"] {
        if schema[nested].is_object() {
            unruled_strings(document, &schema[nested], &format!("{at}[]"), seen, unruled);
        }
    }
    for choice in ["oneOf", "anyOf", "allOf"] {
        for option in schema[choice].as_array().into_iter().flatten() {
            unruled_strings(document, option, at, seen, unruled);
        }
    }
}
