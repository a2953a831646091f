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
