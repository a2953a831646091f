//! Server-rendered pages and the static site.

use app::domain::Role;
use axum::{body::Body, http::Request};
use serde_json::json;

use crate::{
    helpers::{json_request, Engine, TestApp, SITE_CSS},
    on_both_engines,
};

on_both_engines!(
    overview_renders_layout_and_hydration_scripts,
    unknown_page_is_a_404_page,
    every_navigation_section_answers,
    static_files_come_from_the_site_root,
    pages_send_nobody_to_the_login_page_and_back,
    weaker_roles_see_no_admin_link_and_get_403,
    every_page_script_carries_the_nonce_its_policy_names,
    markup_in_free_text_fields_comes_out_inert,
);

/// The nonce a page's Content-Security-Policy allows.
fn policy_nonce(policy: &str) -> &str {
    let start = policy.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
    let len = policy[start..].find('\'').expect("closing quote");
    &policy[start..start + len]
}

/// Finding 5 of the security review: a page runs only its own scripts. Every inline script
/// Switchyard or Leptos writes carries this response's nonce, each response draws a new one,
/// and everything else gets a policy that allows no script at all.
async fn every_page_script_carries_the_nonce_its_policy_names(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let mut seen = Vec::new();
    for path in ["/", "/login", "/deployments", "/metrics", "/no/such/page"] {
        let response = app
            .send_as(
                &admin,
                Request::get(path).body(Body::empty()).expect("request"),
            )
            .await;
        let policy = response.header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self' 'nonce-",
            "'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: {directive} missing from {policy}"
            );
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let nonce = policy_nonce(policy);
        assert!(nonce.len() >= 16, "{path}: a guessable nonce {nonce:?}");
        let scripts = response.body.matches("<script").count();
        assert!(scripts >= 2, "{path}: the theme and hydration scripts");
        assert_eq!(
            response
                .body
                .matches(&format!("<script nonce=\"{nonce}\""))
                .count()
                + response
                    .body
                    .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                    .count(),
            scripts,
            "{path}: every script carries the nonce: {}",
            response.body
        );
        seen.push(nonce.to_owned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "a new nonce for each response");

    let api = app.get("/api/v1/health").await;
    let policy = api.header("content-security-policy");
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(!policy.contains("script-src"), "{policy}");
}

async fn overview_renders_layout_and_hydration_scripts(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;

    let response = app
        .send_as(
            &admin,
            Request::get("/").body(Body::empty()).expect("request"),
        )
        .await;

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
    assert!(
        html.contains("/pkg/switchyard.JsJsJsJsJsJsJsJsJsJs00.js"),
        "hydration script, by the name hash.txt gives"
    );
    assert!(html.contains(SITE_CSS), "stylesheet");
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
    let admin = app.logged_in(Role::Admin).await;
    for path in [
        "/deployments",
        "/releases",
        "/incidents",
        "/metrics",
        "/admin",
    ] {
        let response = app
            .send_as(
                &admin,
                Request::get(path).body(Body::empty()).expect("request"),
            )
            .await;
        assert_eq!(response.status, 200, "{path}");
        assert!(
            response.body.contains("aria-current=\"page\""),
            "{path} marks itself current"
        );
    }
}

async fn static_files_come_from_the_site_root(engine: Engine) {
    let app = TestApp::new(engine).await;

    let response = app.get(SITE_CSS).await;

    assert_eq!(response.status, 200);
    assert!(response.header("content-type").starts_with("text/css"));
    assert_eq!(response.body, "body { color: black; }");
    // The name changes with the content: browsers keep it for a year without asking again.
    assert_eq!(
        response.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    let unhashed = app.get("/hash.txt").await;
    assert_eq!(unhashed.status, 200);
    assert_eq!(unhashed.header("cache-control"), "no-cache");
    // Pages name the same files, and are asked for again every time.
    let page = app.get("/login").await;
    assert!(page.body.contains(SITE_CSS), "{}", page.body);
    assert!(
        page.body
            .contains("/pkg/switchyard.WasmWasmWasmWasmWasm00.wasm"),
        "{}",
        page.body
    );
    assert_eq!(page.header("cache-control"), "private, no-cache");
}

async fn pages_send_nobody_to_the_login_page_and_back(engine: Engine) {
    let app = TestApp::new(engine).await;

    // As a browser asks: a page, not data.
    let response = app
        .send(
            Request::get("/admin/audit?actor=x")
                .header("accept", "text/html")
                .body(Body::empty())
                .expect("request"),
        )
        .await;

    assert_eq!(response.status, 302);
    assert_eq!(
        response.header("location"),
        "/login?next=/admin/audit%3Factor%3Dx"
    );
    let login = app.get("/login").await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("Log in to Switchyard"),
        "{}",
        login.body
    );
    assert!(login.body.contains("autocomplete=\"current-password\""));
    assert!(
        !login.body.contains(">Admin</a>"),
        "no navigation before login"
    );
}

async fn weaker_roles_see_no_admin_link_and_get_403(engine: Engine) {
    let app = TestApp::new(engine).await;
    let releaser = app.logged_in(Role::Releaser).await;
    let get = |path: &str| Request::get(path).body(Body::empty()).expect("request");

    let overview = app.send_as(&releaser, get("/")).await;
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains(">Metrics</a>"));
    assert!(!overview.body.contains(">Admin</a>"), "{}", overview.body);
    assert!(overview.body.contains("releaser"), "the role is shown");

    let admin = app.send_as(&releaser, get("/admin")).await;
    assert_eq!(admin.status, 403);
    assert!(
        admin.body.contains("That needs the admin role"),
        "{}",
        admin.body
    );
    assert!(
        !admin.body.contains("New user"),
        "the admin form is not rendered"
    );
}

/// Ten ways to smuggle markup or script into a page.
const XSS: [&str; 10] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
    "'><iframe src=javascript:alert(1)></iframe>",
    "</textarea><script>alert(2)</script>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<style>@import 'http://evil.example/x.css'</style>",
    "<body onload=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "{{constructor.constructor('alert(1)')()}} javascript:alert(1)",
];

/// Security review: every free-text field a page shows (a service's description and owner
/// team, a deployment's notes and added notes, the audit log's summaries of them) is text on
/// the page, never markup: no tag or handler from the payloads survives, and the only
/// scripts are Switchyard's own, each with the response's nonce.
async fn markup_in_free_text_fields_comes_out_inert(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let post = |path: &str, body: serde_json::Value| json_request("POST", path, &body);
    let mut shows_markup = Vec::new();
    let mut pages = vec![
        "/admin/audit".to_owned(),
        "/services".to_owned(),
        "/deployments".to_owned(),
    ];
    for (n, payload) in XSS.iter().enumerate() {
        let service = format!("svc{n}");
        let made = app
            .send_as(
                &admin,
                post(
                    "/api/v1/services",
                    json!({"name": service, "description": payload, "owner_team": payload}),
                ),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        let made = app
            .send_as(
                &admin,
                post(
                    &format!("/api/v1/services/{service}/environments"),
                    json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
                ),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        let deployment = app
            .send_as(&admin, post("/api/v1/deployments", json!({"service": service, "environment": "staging", "version": "1.0.0", "notes": payload})))
            .await;
        assert_eq!(deployment.status, 201, "{}", deployment.body);
        let id = deployment.json()["id"].as_i64().expect("id");
        let noted = app
            .send_as(
                &admin,
                post(
                    &format!("/api/v1/deployments/{id}/notes"),
                    json!({"note": payload}),
                ),
            )
            .await;
        assert!(noted.status.is_success(), "{}", noted.body);
        pages.push(format!("/services/{service}"));
        pages.push(format!("/deployments/{id}"));
        if payload.contains('<') {
            shows_markup.extend(pages[pages.len() - 2..].iter().cloned());
        }
    }
    for path in pages {
        let response = app
            .send_as(
                &admin,
                Request::get(&path).body(Body::empty()).expect("request"),
            )
            .await;
        assert_eq!(response.status, 200, "{path}");
        let html = &response.body;
        for live in [
            "<script>alert",
            "<img src=x",
            "<svg onload",
            "<iframe",
            "<a href=\"javascript:",
            "<style>@import",
            "<body onload",
            "<mglyph",
            "<math>",
        ] {
            assert!(!html.contains(live), "{path}: {live} is live markup");
        }
        let nonce = policy_nonce(response.header("content-security-policy")).to_owned();
        let scripts = html.matches("<script").count();
        let ours = html.matches(&format!(" nonce=\"{nonce}\"")).count();
        assert!(ours >= scripts, "{path}: a script without the nonce");
        if path == "/admin/audit" || shows_markup.contains(&path) {
            assert!(
                html.contains("&lt;"),
                "{path}: the payloads are shown as text"
            );
        }
    }
}
