//! What a team sees of its services and environments beyond the records: each slot's health,
//! checked in the background, and the Services pages.

use app::{backend::catalog::health, domain::Role};
use axum::{body::Body, http::Request};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::{
    helpers::{json_request, rpc_request, Engine, TestApp},
    on_both_engines,
};

on_both_engines!(
    slot_health_is_checked_in_the_background_and_shown_with_its_time,
    the_services_pages_show_each_service_with_what_is_live,
    slot_addresses_stay_where_the_operator_allows_and_moving_one_bumps_the_revision,
);

/// A health endpoint that answers 200 to everything, on a free port.
async fn healthy_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// A port nothing listens on.
async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}")
}

async fn slot_health_is_checked_in_the_background_and_shown_with_its_time(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let (up, down) = (healthy_upstream().await, closed_port().await);
    let created = app
        .send_as(
            &admin,
            json_request("POST", "/api/v1/services", &json!({"name": "parts"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let environment = json!({
        "name": "production", "tier": "production", "strategy": "blue_green",
        "slots": {
            "blue": {"upstream": up, "health_url": format!("{up}/health")},
            "green": {"upstream": down, "health_url": format!("{down}/health")},
        }
    });
    let created = app
        .send_as(
            &admin,
            json_request("POST", "/api/v1/services/parts/environments", &environment),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = "/api/v1/services/parts/environments/production";
    let get = |path: &str| admin.apply(Request::get(path).body(Body::empty()).expect("request"));
    let before = app.send(get(path)).await.json();
    assert_eq!(before["health"], json!([]), "nothing checked yet");

    // What the background task does every `health_check_interval`.
    health::check_all(app.app.state()).await;
    let after = app.send(get(path)).await.json();
    let health = after["health"].as_array().expect("health");
    assert_eq!(health.len(), 2, "{after}");
    assert_eq!(health[0]["slot"], "blue");
    assert_eq!(health[0]["healthy"], true, "{after}");
    assert_eq!(health[0]["url"], format!("{up}/health"));
    assert!(health[0]["checked_at"].is_string());
    assert_eq!(health[1]["slot"], "green");
    assert_eq!(health[1]["healthy"], false, "{after}");
    assert!(
        health[1]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cannot connect")),
        "{after}"
    );
    // The Overview shows the same readings.
    let overview = app.send(get("/api/v1/overview")).await.json();
    assert_eq!(overview[0]["environment"]["health"], after["health"]);
    // And the environment page says so in words.
    let page = app
        .send(
            admin.apply(
                Request::get("/services/parts/environments/production")
                    .header("accept", "text/html")
                    .body(Body::empty())
                    .expect("request"),
            ),
        )
        .await;
    assert!(page.body.contains("not healthy"), "{}", page.body);
    assert!(page.body.contains("cannot connect"), "{}", page.body);
}

async fn the_services_pages_show_each_service_with_what_is_live(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let viewer = app.logged_in(Role::Viewer).await;
    for body in [
        json!({"name": "parts", "description": "The parts API", "owner_team": "Platform"}),
        json!({"name": "search"}),
    ] {
        let created = app
            .send_as(&admin, json_request("POST", "/api/v1/services", &body))
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let created = app
        .send_as(
            &admin,
            json_request(
                "POST",
                "/api/v1/services/parts/environments",
                &json!({"name": "staging", "tier": "staging", "strategy": "rolling"}),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let recorded = app
        .send_as(
            &admin,
            json_request(
                "POST",
                "/api/v1/deployments",
                &json!({"service": "parts", "environment": "staging", "version": "3.1.0", "status": "succeeded"}),
            ),
        )
        .await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);

    let summaries: Value = app
        .send_as(&viewer, rpc_request("service_summaries", ""))
        .await
        .json();
    assert_eq!(summaries[0]["service"]["name"], "parts", "{summaries}");
    assert_eq!(
        summaries[0]["environments"][0]["live_version"]["version"],
        "3.1.0"
    );
    assert_eq!(summaries[1]["service"]["name"], "search");
    assert_eq!(summaries[1]["environments"], json!([]));

    let detail: Value = app
        .send_as(&viewer, rpc_request("service_page", "service=parts"))
        .await
        .json();
    assert_eq!(detail["service"]["owner_team"], "Platform", "{detail}");
    assert_eq!(detail["recent"][0]["version"], "3.1.0");
    let unknown = app
        .send_as(&viewer, rpc_request("service_page", "service=nope"))
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let page = |path: &str| {
        viewer.apply(
            Request::get(path)
                .header("accept", "text/html")
                .body(Body::empty())
                .expect("request"),
        )
    };
    let list = app.send(page("/services")).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Owned by Platform"), "{}", list.body);
    assert!(
        list.body.contains(r#"href="/services/parts""#),
        "{}",
        list.body
    );
    assert!(
        list.body
            .contains(r#"href="/services/parts/environments/staging""#),
        "{}",
        list.body
    );
    let one = app.send(page("/services/parts")).await;
    assert_eq!(one.status, 200);
    assert!(one.body.contains("The parts API"), "{}", one.body);
    assert!(one.body.contains("3.1.0"), "{}", one.body);
    assert!(
        one.body.contains(r#"aria-label="Breadcrumb""#),
        "{}",
        one.body
    );
    // A record that does not exist answers 404, like an unknown address, with the reason.
    for missing in [
        "/services/nope",
        "/services/parts/environments/nope",
        "/deployments/999999",
    ] {
        let answer = app.send(page(missing)).await;
        assert_eq!(answer.status, 404, "{missing}");
        assert!(
            answer.body.contains(r#"role="alert""#),
            "{missing}: {}",
            answer.body
        );
    }
}

/// Security finding 6: slot addresses typed in the browser could send Switchyard's requests to
/// the cloud's metadata service or anywhere inside the network, and a slot moved after a
/// releaser looked could receive the switch they confirmed.
async fn slot_addresses_stay_where_the_operator_allows_and_moving_one_bumps_the_revision(
    engine: Engine,
) {
    let open = TestApp::new(engine).await;
    let admin = open.logged_in(Role::Admin).await;
    let created = open
        .send_as(
            &admin,
            json_request("POST", "/api/v1/services", &json!({"name": "shop"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let slots = |blue: &str, green: &str| {
        json!({
            "blue": {"upstream": blue, "health_url": format!("{blue}/health")},
            "green": {"upstream": green, "health_url": format!("{green}/health")},
        })
    };
    let environment = |name: &str, slots: Value| {
        json_request(
            "POST",
            "/api/v1/services/shop/environments",
            &json!({"name": name, "tier": "staging", "strategy": "blue_green", "slots": slots}),
        )
    };
    let metadata = open
        .send_as(
            &admin,
            environment(
                "prod",
                slots("http://10.0.0.5:8080", "http://169.254.169.254"),
            ),
        )
        .await;
    assert_eq!(metadata.status, 422, "{}", metadata.body);
    let fields: Vec<String> = metadata.json()["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(fields, ["slots.green.upstream", "slots.green.health_url"]);
    assert!(metadata.body.contains("metadata"), "{}", metadata.body);
    assert_eq!(open.count("SELECT COUNT(*) FROM environments").await, 0);

    let made = open
        .send_as(
            &admin,
            environment(
                "prod",
                slots("http://10.0.0.5:8080", "http://10.0.0.6:8080"),
            ),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.json()["revision"], 0);
    let patch =
        |body: Value| json_request("PATCH", "/api/v1/services/shop/environments/prod", &body);
    let tier_only = open
        .send_as(&admin, patch(json!({"tier": "production"})))
        .await;
    assert_eq!(tier_only.json()["revision"], 0, "{}", tier_only.body);
    let moved = open
        .send_as(
            &admin,
            patch(json!({"slots": slots("http://10.0.0.5:8080", "http://10.0.0.7:8080")})),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        moved.json()["revision"],
        1,
        "a moved slot makes confirmations stale"
    );
    let same = open
        .send_as(
            &admin,
            patch(json!({"slots": slots("http://10.0.0.5:8080", "http://10.0.0.7:8080")})),
        )
        .await;
    assert_eq!(same.json()["revision"], 1, "nothing moved");
    let sneaky = open
        .send_as(
            &admin,
            patch(
                json!({"slots": slots("http://[::ffff:169.254.169.254]", "http://10.0.0.7:8080")}),
            ),
        )
        .await;
    assert_eq!(sneaky.status, 422, "{}", sneaky.body);

    // With slot_hosts, only what is listed.
    let listed = TestApp::with_config(engine, |config| {
        config.slot_hosts = vec!["10.0.0.0/8".into(), "lb.internal".into()];
    })
    .await;
    let admin = listed.logged_in(Role::Admin).await;
    listed
        .send_as(
            &admin,
            json_request("POST", "/api/v1/services", &json!({"name": "shop"})),
        )
        .await;
    let elsewhere = listed
        .send_as(
            &admin,
            environment("prod", slots("http://192.168.1.5", "http://lb.internal")),
        )
        .await;
    assert_eq!(elsewhere.status, 422, "{}", elsewhere.body);
    assert_eq!(elsewhere.json()["error"]["field"], "slots.blue.upstream");
    assert!(elsewhere.body.contains("slot_hosts"), "{}", elsewhere.body);
    let inside = listed
        .send_as(
            &admin,
            environment("prod", slots("http://10.1.2.3", "http://lb.internal:8080")),
        )
        .await;
    assert_eq!(inside.status, 201, "{}", inside.body);

    // Names are checked again where they resolve, before any request is sent.
    let client = app::backend::operations::http::HttpClient::new(
        app::domain::outbound::OutboundPolicy::new(&["10.0.0.0/8".into()], &[]).expect("policy"),
    );
    let upstream = healthy_upstream().await.replace("127.0.0.1", "localhost");
    let refused = client
        .probe(
            &format!("{upstream}/health"),
            std::time::Duration::from_secs(2),
        )
        .await
        .expect_err("localhost is 127.0.0.1, outside 10.0.0.0/8");
    assert!(refused.contains("(localhost is "), "{refused}");
    let allowed = app::backend::operations::http::HttpClient::default()
        .probe(
            &format!("{upstream}/health"),
            std::time::Duration::from_secs(2),
        )
        .await;
    assert!(allowed.is_ok(), "{allowed:?}");
}
