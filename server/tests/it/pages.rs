//! Server-rendered pages and the static site.

use crate::{
    helpers::{Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    overview_renders_layout_and_hydration_scripts,
    unknown_page_is_a_404_page,
    every_navigation_section_answers,
    static_files_come_from_the_site_root,
);

async fn overview_renders_layout_and_hydration_scripts(engine: Engine) {
    let app = TestApp::new(engine).await;

    let response = app.get("/").await;

    assert_eq!(response.status, 200);
    assert!(response.header("content-type").starts_with("text/html"));
    let html = &response.body;
    assert!(html.contains("<h1>Overview</h1>"), "{html}");
    for section in [
        "Overview",
        "Deployments",
        "Releases",
        "Incidents",
        "Metrics",
        "Admin",
    ] {
        assert!(
            html.contains(&format!(">{section}</a>")),
            "navigation lacks {section}"
        );
    }
    assert!(
        html.contains(&format!("Switchyard {}", env!("CARGO_PKG_VERSION"))),
        "footer"
    );
    assert!(html.contains("/pkg/switchyard.js"), "hydration script");
    assert!(html.contains("/pkg/switchyard.css"), "stylesheet");
    assert!(
        html.contains("<title>Overview · Switchyard</title>"),
        "title"
    );
    assert_eq!(response.header("x-content-type-options"), "nosniff");
    assert_eq!(response.header("x-frame-options"), "DENY");
    assert_eq!(response.header("referrer-policy"), "same-origin");
}

async fn unknown_page_is_a_404_page(engine: Engine) {
    let app = TestApp::new(engine).await;

    let response = app.get("/no/such/page").await;

    assert_eq!(response.status, 404);
    assert!(response.header("content-type").starts_with("text/html"));
    assert!(
        response.body.contains("Page not found"),
        "{}",
        response.body
    );
    assert!(response.body.contains("href=\"/\""), "a way back");
}

async fn every_navigation_section_answers(engine: Engine) {
    let app = TestApp::new(engine).await;
    for path in [
        "/deployments",
        "/releases",
        "/incidents",
        "/metrics",
        "/admin",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, 200, "{path}");
        assert!(
            response.body.contains("aria-current=\"page\""),
            "{path} marks itself current"
        );
    }
}

async fn static_files_come_from_the_site_root(engine: Engine) {
    let app = TestApp::new(engine).await;

    let response = app.get("/pkg/switchyard.css").await;

    assert_eq!(response.status, 200);
    assert!(response.header("content-type").starts_with("text/css"));
    assert_eq!(response.body, "body { color: black; }");
    assert!(app.site_root.join("pkg").exists());
}
