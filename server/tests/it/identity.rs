//! Logging in and out, sessions, the login throttle, cross-origin refusal, user and token
//! management with bad input, the first-run setup link and the audit log.

use std::net::SocketAddr;

use app::{backend::accounts, domain::Role};
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, Request},
};
use serde_json::json;

use crate::{
    helpers::{
        json_request, rpc_request, session_cookie, Credential, Engine, TestApp, TEST_PASSWORD,
    },
    on_both_engines,
};

on_both_engines!(
    login_sets_a_new_cookie_and_logout_ends_the_session_on_the_server,
    session_cookie_is_http_only_and_same_site,
    deactivated_users_lose_their_sessions_at_once,
    expired_and_too_old_sessions_are_refused,
    wrong_username_and_wrong_password_look_the_same,
    five_failures_for_one_username_from_one_place_make_it_wait,
    a_strangers_guesses_slow_the_stranger_not_the_user,
    cross_origin_requests_that_change_data_are_refused,
    bad_user_input_names_the_field_and_writes_nothing,
    tokens_authenticate_until_revoked,
    tokens_expire_by_default_and_end_with_their_creator,
    refused_requests_are_audited,
    changing_the_password_ends_other_sessions,
    setup_link_creates_the_first_admin_once,
    audit_log_records_with_request_ids_and_refuses_edits,
    session_changes_hold_here_at_once_and_on_another_replica_within_the_cache_ttl,
    account_forms_report_every_wrong_field_at_once,
);

async fn me(app: &TestApp, who: &Credential) -> u16 {
    app.send_as(
        who,
        Request::get("/api/v1/me")
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .status
    .as_u16()
}

fn login_body(username: &str, password: &str) -> Request<Body> {
    json_request(
        "POST",
        "/api/v1/session",
        &json!({ "username": username, "password": password }),
    )
}

async fn login_session_cookie_changes_and_logout(app: &TestApp) {
    app.create_user("alice", Role::Engineer).await;
    let first = app.log_in("alice", TEST_PASSWORD).await;
    assert_eq!(me(app, &first).await, 200);

    // Logging in again with the old cookie yields a new id, and the old one stops working.
    let again = app
        .send_as(&first, login_body("alice", TEST_PASSWORD))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    let second = Credential::Cookie(session_cookie(&again).expect("new cookie"));
    assert_ne!(format!("{first:?}"), format!("{second:?}"));
    assert_eq!(me(app, &first).await, 401, "the pre-login session is gone");
    assert_eq!(me(app, &second).await, 200);

    let logout = app
        .send_as(
            &second,
            Request::delete("/api/v1/session")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(logout.status, 204);
    assert_eq!(
        me(app, &second).await,
        401,
        "a logged-out cookie no longer works"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

async fn login_sets_a_new_cookie_and_logout_ends_the_session_on_the_server(engine: Engine) {
    let app = TestApp::new(engine).await;
    login_session_cookie_changes_and_logout(&app).await;
    let body = app
        .send_as(
            &Credential::Anonymous,
            Request::get("/api/v1/me")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(body.json()["error"]["code"], "unauthenticated");
}

async fn session_cookie_is_http_only_and_same_site(engine: Engine) {
    let app = TestApp::with_config(engine, |c| c.secure_cookies = true).await;
    app.create_user("alice", Role::Viewer).await;
    let response = app.send(login_body("alice", TEST_PASSWORD)).await;
    let cookie = response.header("set-cookie");
    // Finding 4 of the security review: a `Secure` cookie is `__Host-` prefixed (so browsers
    // take it only from https, for the whole host), and lives 30 minutes idle by default.
    assert!(cookie.starts_with("__Host-switchyard_session="), "{cookie}");
    assert!(!cookie.contains("Domain="), "{cookie}");
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=1800",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    assert_eq!(response.json()["role"], "viewer");
    let session = Credential::Cookie(cookie.split(';').next().expect("pair").to_owned());
    assert_eq!(me(&app, &session).await, 200);
    assert!(
        response
            .header("strict-transport-security")
            .starts_with("max-age="),
        "HSTS goes with Secure cookies"
    );

    let plain = TestApp::new(engine).await;
    plain.create_user("alice", Role::Viewer).await;
    let response = plain.send(login_body("alice", TEST_PASSWORD)).await;
    let cookie = response.header("set-cookie");
    assert!(cookie.starts_with("switchyard_session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(response.headers.get("strict-transport-security").is_none());
}

async fn deactivated_users_lose_their_sessions_at_once(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let user = app.create_user("bob", Role::Engineer).await;
    let bob = app.log_in("bob", TEST_PASSWORD).await;
    assert_eq!(me(&app, &bob).await, 200);

    let response = app
        .send_as(
            &admin,
            json_request(
                "PATCH",
                &format!("/api/v1/users/{}", user.id),
                &json!({"role": "engineer", "active": false}),
            ),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(me(&app, &bob).await, 401);
    let again = app.send(login_body("bob", TEST_PASSWORD)).await;
    assert_eq!(again.status, 401, "a deactivated user cannot log in");
}

async fn expired_and_too_old_sessions_are_refused(engine: Engine) {
    let app = TestApp::new(engine).await;
    let viewer = app.logged_in(Role::Viewer).await;
    // Idle past its expiry: the store no longer loads it.
    app.execute("UPDATE sessions SET expires_at = 1")
        .await
        .expect("expire");
    assert_eq!(me(&app, &viewer).await, 401);

    // Past the absolute lifetime, however recently used.
    let app = TestApp::with_config(engine, |c| {
        c.auth.session_lifetime = std::time::Duration::ZERO
    })
    .await;
    app.create_user("carol", Role::Viewer).await;
    let carol = app.log_in("carol", TEST_PASSWORD).await;
    assert_eq!(me(&app, &carol).await, 401);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions").await,
        0,
        "the old session is deleted"
    );
}

async fn wrong_username_and_wrong_password_look_the_same(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.create_user("alice", Role::Viewer).await;
    let wrong_password = app.send(login_body("alice", "not-her-password")).await;
    let wrong_user = app.send(login_body("nobody", "not-her-password")).await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(wrong_user.status, 401);
    assert_eq!(
        wrong_password.json()["error"]["message"],
        wrong_user.json()["error"]["message"]
    );
    assert_eq!(
        wrong_user.json()["error"]["message"],
        "The username or password is wrong."
    );
    assert!(session_cookie(&wrong_user).is_none());
    let empty = app.send(login_body(" ", "x")).await;
    assert_eq!(empty.status, 422);
    assert_eq!(empty.json()["error"]["field"], "username");
}

async fn five_failures_for_one_username_from_one_place_make_it_wait(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.create_user("alice", Role::Viewer).await;
    for attempt in 1..=5 {
        let response = app.send(login_body("alice", "guess-number-x")).await;
        assert_eq!(response.status, 401, "attempt {attempt}");
    }
    // Even the right password waits now.
    let locked = app.send(login_body("Alice", TEST_PASSWORD)).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let retry_after: u64 = locked.header("retry-after").parse().expect("seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert!(locked.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Too many failed logins. Try again in "));
    // The same through the login server function the page uses.
    let rpc = app
        .send(rpc_request(
            "login",
            &format!("credentials[username]=alice&credentials[password]={TEST_PASSWORD}"),
        ))
        .await;
    assert_eq!(rpc.status, 429);
    assert!(rpc.body.contains("TooManyAttempts"), "{}", rpc.body);
    // Parallel guesses count against each other: of ten sent at once on a fresh account,
    // exactly five are checked.
    app.create_user("carol", Role::Viewer).await;
    let burst = (0..10).map(|_| app.send(login_body("carol", "parallel-guess-x")));
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert!(
        statuses.iter().all(|&s| s == 401 || s == 429),
        "{statuses:?}"
    );
    // Another account is not affected.
    app.create_user("bob", Role::Viewer).await;
    assert_eq!(app.send(login_body("bob", TEST_PASSWORD)).await.status, 200);
    // Security finding 8: every throttled attempt is in the audit log, for admins to see.
    let throttled = |object: &str| {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'access.throttled' AND object = '{object}' AND actor_kind = 'anonymous'");
        let app = &app;
        async move { app.count(&sql).await }
    };
    assert_eq!(throttled("POST /api/v1/session").await, 1 + 5);
    assert_eq!(throttled("POST /rpc/login").await, 1);
}

/// Security finding 8: a request refused for its role is audited with who asked for what.
async fn refused_requests_are_audited(engine: Engine) {
    let app = TestApp::new(engine).await;
    let viewer = app.logged_in(Role::Viewer).await;
    let refused = app
        .send_as(
            &viewer,
            json_request(
                "POST",
                "/api/v1/users",
                &json!({"username": "eve", "password": TEST_PASSWORD, "role": "admin"}),
            ),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let page = app
        .send_as(
            &viewer,
            Request::get("/admin").body(Body::empty()).expect("request"),
        )
        .await;
    assert_eq!(page.status, 403);
    let audited = |object: &str| {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'access.refused' AND actor = 'viewer' AND actor_kind = 'user' AND object = '{object}' AND request_id IS NOT NULL");
        let app = &app;
        async move { app.count(&sql).await }
    };
    assert_eq!(audited("POST /api/v1/users").await, 1);
    assert_eq!(audited("GET /admin").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users").await,
        1,
        "nothing else changed"
    );
}

/// Security finding 1: five wrong guesses for a username used to lock that username for
/// everyone, so a stranger could keep a releaser out during an incident. Failures now count
/// per (username, address) and per address; an admin can clear them.
async fn a_strangers_guesses_slow_the_stranger_not_the_user(engine: Engine) {
    let app = TestApp::new(engine).await;
    let alice = app.create_user("alice", Role::Viewer).await;
    let admin = app.logged_in(Role::Admin).await;
    let from = |address: &str, username: &str, password: &str| {
        let mut request = login_body(username, password);
        let addr: SocketAddr = format!("{address}:40000").parse().expect("address");
        request.extensions_mut().insert(ConnectInfo(addr));
        request
    };
    for _ in 0..5 {
        let response = app.send(from("192.0.2.7", "alice", "stranger-guess")).await;
        assert_eq!(response.status, 401);
    }
    let stranger = app.send(from("192.0.2.7", "alice", TEST_PASSWORD)).await;
    assert_eq!(
        stranger.status, 429,
        "the guessing address waits, even with the password"
    );
    let wait: u64 = stranger.header("retry-after").parse().expect("seconds");
    assert!((1..=30).contains(&wait), "{wait}");
    let own = app.send(from("192.0.2.8", "alice", TEST_PASSWORD)).await;
    assert_eq!(
        own.status, 200,
        "alice, from her own address, is not locked out"
    );
    // A success forgives that place's typos: four, a login, then five more before a wait.
    for attempt in 0..10 {
        let password = if attempt == 4 {
            TEST_PASSWORD
        } else {
            "typo-pass"
        };
        let expected = if attempt == 4 { 200 } else { 401 };
        let response = app.send(from("192.0.2.8", "alice", password)).await;
        assert_eq!(response.status, expected, "attempt {attempt}");
    }
    assert_eq!(
        app.send(from("192.0.2.8", "alice", TEST_PASSWORD))
            .await
            .status,
        429
    );

    // Spraying many usernames from one address is slowed down too.
    for n in 0..20 {
        let response = app
            .send(from("192.0.2.9", &format!("guess{n}"), "whatever-pass"))
            .await;
        assert_eq!(response.status, 401, "attempt {n}");
    }
    let sprayed = app.send(from("192.0.2.9", "alice", TEST_PASSWORD)).await;
    assert_eq!(sprayed.status, 429);

    // An admin clears alice's failures, wherever they came from.
    let clear = |id: i64| {
        Request::delete(format!("/api/v1/users/{id}/login-failures"))
            .body(Body::empty())
            .expect("request")
    };
    let cleared = app.send_as(&admin, clear(alice.id)).await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(
        cleared.json()["cleared"],
        5 + 5,
        "the stranger's and alice's own typos"
    );
    assert_eq!(
        app.send(from("192.0.2.7", "alice", TEST_PASSWORD))
            .await
            .status,
        200
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.login_failures_cleared' AND object = 'user:alice'")
            .await,
        1
    );
    let unknown = app.send_as(&admin, clear(999_999)).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
}

async fn cross_origin_requests_that_change_data_are_refused(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let with = |mut request: Request<Body>, pairs: &[(&'static str, &'static str)]| {
        for (name, value) in pairs {
            request
                .headers_mut()
                .insert(*name, value.parse().expect("header"));
        }
        request
    };
    let form = "input[username]=mallory&input[display_name]=&input[role]=admin&input[password]=a-long-enough-password";
    let cross = app
        .send_as(
            &admin,
            with(
                rpc_request("create_user", form),
                &[("sec-fetch-site", "cross-site")],
            ),
        )
        .await;
    assert_eq!(cross.status, 403);
    assert_eq!(cross.json()["error"]["code"], "cross_origin");
    let other_origin = app
        .send_as(
            &admin,
            with(
                rpc_request("create_user", form),
                &[
                    ("origin", "http://evil.example"),
                    ("host", "127.0.0.1:3000"),
                ],
            ),
        )
        .await;
    assert_eq!(other_origin.status, 403);
    let login = app
        .send(with(
            login_body("admin", TEST_PASSWORD),
            &[("sec-fetch-site", "cross-site")],
        ))
        .await;
    assert_eq!(login.status, 403, "login CSRF is refused too");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username = 'mallory'")
            .await,
        0
    );
    // Each refusal is audited, with whose cookie the other site used and why.
    let audited = |kind: &str, object: &str| {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'access.refused' AND actor_kind = '{kind}' AND object = '{object}' AND after LIKE '%\"reason\":\"cross_origin\"%'");
        let app = &app;
        async move { app.count(&sql).await }
    };
    assert_eq!(audited("user", "POST /rpc/create_user").await, 2);
    assert_eq!(audited("anonymous", "POST /api/v1/session").await, 1);

    let same = app
        .send_as(
            &admin,
            with(
                rpc_request("create_user", form),
                &[("sec-fetch-site", "same-origin")],
            ),
        )
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    // Reading stays open to links from elsewhere.
    let read = app
        .send_as(
            &admin,
            with(
                Request::get("/api/v1/me")
                    .body(Body::empty())
                    .expect("request"),
                &[("sec-fetch-site", "cross-site")],
            ),
        )
        .await;
    assert_eq!(read.status, 200);
}

async fn bad_user_input_names_the_field_and_writes_nothing(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
    let long = "u".repeat(65);
    let cases = [
        (
            json!({"username": "", "role": "viewer", "password": TEST_PASSWORD}),
            422,
            "username",
            "Enter a username.",
        ),
        (
            json!({"username": long, "role": "viewer", "password": TEST_PASSWORD}),
            422,
            "username",
            "Use at most 64 characters for the username.",
        ),
        (
            json!({"username": "dave", "role": "viewer", "password": "short-pw"}),
            422,
            "password",
            "Use at least 12 characters for the password (8 given).",
        ),
        (
            json!({"username": "dave", "role": "root", "password": TEST_PASSWORD}),
            422,
            "role",
            "\"root\" is not a role; choose viewer, engineer, releaser or admin",
        ),
        (
            json!({"username": "Admin", "role": "viewer", "password": TEST_PASSWORD}),
            409,
            "username",
            "The username admin is taken; choose another.",
        ),
    ];
    for (body, status, field, message) in cases {
        let response = app
            .send_as(&admin, json_request("POST", "/api/v1/users", &body))
            .await;
        assert_eq!(response.status, status, "{body}: {}", response.body);
        let error = &response.json()["error"];
        assert_eq!(error["field"], field, "{body}");
        assert_eq!(error["message"], message, "{body}");
    }
    // The page's server function says the same at the same field.
    let rpc = app
        .send_as(
            &admin,
            rpc_request(
                "create_user",
                "input[username]=&input[display_name]=&input[role]=viewer&input[password]=x",
            ),
        )
        .await;
    assert_eq!(rpc.status, 422);
    assert!(rpc.body.contains("Enter a username."), "{}", rpc.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before
    );

    // The last admin can be neither demoted nor deactivated.
    let id = app
        .count("SELECT id FROM users WHERE username = 'admin'")
        .await;
    let demote = app
        .send_as(
            &admin,
            json_request(
                "PATCH",
                &format!("/api/v1/users/{id}"),
                &json!({"role": "viewer", "active": true}),
            ),
        )
        .await;
    assert_eq!(demote.status, 422, "{}", demote.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE role = 'admin'")
            .await,
        1
    );
}

/// Finding 3 of the security review: an admin token outlived its creator's deactivation (and
/// could create new admins), and a token without a lifetime lived forever.
async fn tokens_expire_by_default_and_end_with_their_creator(engine: Engine) {
    let app = TestApp::new(engine).await;
    let root = app.logged_in(Role::Admin).await;
    let mallory = app.create_user("mallory", Role::Admin).await;
    let session = app.log_in("mallory", TEST_PASSWORD).await;
    let create = |name: &str, expires: Option<&str>| {
        let mut body = json!({"name": name, "role": "admin"});
        if let Some(expires) = expires {
            body["expires"] = json!(expires);
        }
        json_request("POST", "/api/v1/tokens", &body)
    };
    let made = app.send_as(&session, create("mallory-ci", None)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let token = made.json();
    assert_eq!(token["token"]["created_by"], "mallory");
    let lifetime = |token: &serde_json::Value| {
        let at = |field: &str| {
            app::domain::Timestamp::parse(field, token["token"][field].as_str().expect(field))
                .expect("time")
        };
        at("expires_at").since(at("created_at")).as_secs()
    };
    assert_eq!(lifetime(&token), 90 * 86_400, "{token}");
    let forever = app
        .send_as(&root, create("root-forever", Some("never")))
        .await;
    assert!(
        forever.json()["token"]["expires_at"].is_null(),
        "{}",
        forever.body
    );
    let bearer = Credential::Bearer(token["secret"].as_str().expect("secret").to_owned());
    assert_eq!(me(&app, &bearer).await, 200);

    let deactivated = app
        .send_as(
            &root,
            json_request(
                "PATCH",
                &format!("/api/v1/users/{}", mallory.id),
                &json!({"role": "admin", "active": false}),
            ),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);
    assert_eq!(
        me(&app, &bearer).await,
        401,
        "the token ends with its creator"
    );
    let new_admin = app
        .send_as(
            &bearer,
            json_request(
                "POST",
                "/api/v1/users",
                &json!({"username": "mallory2", "password": TEST_PASSWORD, "role": "admin"}),
            ),
        )
        .await;
    assert_eq!(new_admin.status, 401, "{}", new_admin.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'token.revoked' AND object = 'token:mallory-ci'")
            .await,
        1
    );
    // Other people's tokens are untouched.
    let root_token = Credential::Bearer(
        forever.json()["secret"]
            .as_str()
            .expect("secret")
            .to_owned(),
    );
    assert_eq!(me(&app, &root_token).await, 200);
}

async fn tokens_authenticate_until_revoked(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let created = app
        .send_as(
            &admin,
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "ci", "role": "engineer", "expires": "90d"}),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let body = created.json();
    let secret = body["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("sy_"));
    let token = Credential::Bearer(secret.clone());
    let who = app
        .send_as(
            &token,
            Request::get("/api/v1/me")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(who.json()["kind"], "token");
    assert_eq!(who.json()["role"], "engineer");
    // Only a digest is stored.
    let stored = app
        .count(&format!(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{secret}'"
        ))
        .await;
    assert_eq!(stored, 0);
    let list = app
        .send_as(
            &admin,
            Request::get("/api/v1/tokens")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(!list.body.contains(&secret));
    assert!(list.json()[0]["last_used_at"].is_string(), "{}", list.body);
    // Duplicate active names are refused at the field.
    let duplicate = app
        .send_as(
            &admin,
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "ci", "role": "viewer"}),
            ),
        )
        .await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.json()["error"]["field"], "name");
    let bad_expiry = app
        .send_as(
            &admin,
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "x", "role": "viewer", "expires": "soon"}),
            ),
        )
        .await;
    assert_eq!(bad_expiry.json()["error"]["field"], "expires");

    let id = body["token"]["id"].as_i64().expect("id");
    let revoked = app
        .send_as(
            &admin,
            Request::delete(format!("/api/v1/tokens/{id}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(me(&app, &token).await, 401, "revocation works at once");
    // A script is told its token is the problem, not asked to log in.
    for stale in [token, Credential::Bearer("sy_not-a-token".to_owned())] {
        let refused = app
            .send_as(
                &stale,
                Request::get("/api/v1/deployments")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(refused.status, 401);
        assert_eq!(refused.json()["error"]["code"], "invalid_token");
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.starts_with("Invalid or expired API token."),
            "{message}"
        );
    }
    // A session cookie is not a token, and a token does not open server functions.
    let rpc = app
        .send_as(
            &Credential::Bearer(app.token("t", Role::Admin, "").await),
            rpc_request("list_users", ""),
        )
        .await;
    assert_eq!(rpc.status, 401);
}

async fn changing_the_password_ends_other_sessions(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.create_user("erin", Role::Viewer).await;
    let laptop = app.log_in("erin", TEST_PASSWORD).await;
    let phone = app.log_in("erin", TEST_PASSWORD).await;
    let new_password = "a-brand-new-passphrase";
    let wrong = app
        .send_as(&laptop, rpc_request("change_password", &format!("change[current_password]=nope&change[new_password]={new_password}&change[new_password_confirmation]={new_password}")))
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("current_password"), "{}", wrong.body);
    let changed = app
        .send_as(&laptop, rpc_request("change_password", &format!("change[current_password]={TEST_PASSWORD}&change[new_password]={new_password}&change[new_password_confirmation]={new_password}")))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(me(&app, &laptop).await, 200, "this session stays");
    assert_eq!(me(&app, &phone).await, 401, "the other session ended");
    assert_eq!(
        app.send(login_body("erin", TEST_PASSWORD)).await.status,
        401
    );
    assert_eq!(app.send(login_body("erin", new_password)).await.status, 200);
}

async fn setup_link_creates_the_first_admin_once(engine: Engine) {
    let app = TestApp::new(engine).await;
    let db = &app.app.state().db;
    let secret = accounts::open_setup(db)
        .await
        .expect("storage")
        .expect("no users yet");
    let form = |token: &str, username: &str| {
        format!("token={token}&username={username}&display_name=Root&password={TEST_PASSWORD}&password_confirmation={TEST_PASSWORD}")
    };
    let wrong = app
        .send(rpc_request("complete_setup", &form("setup_wrong", "root")))
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    let done = app
        .send(rpc_request("complete_setup", &form(&secret, "root")))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let admin = Credential::Cookie(session_cookie(&done).expect("logged in"));
    let who = app
        .send_as(
            &admin,
            Request::get("/api/v1/me")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(who.json()["role"], "admin");
    // The log names the first admin as who created them, in words.
    let log = app
        .send_as(
            &admin,
            rpc_request("audit_entries", "search[action]=user.created"),
        )
        .await;
    assert_eq!(log.status, 200, "{}", log.body);
    let entry = &log.json()[0];
    assert_eq!(entry["actor"], "root");
    assert_eq!(entry["actor_kind"], "user");
    assert_eq!(
        entry["change"],
        "active: yes; display name: Root; role: admin; username: root"
    );
    // The page's filter is read on the server: every unreadable field is named.
    let unreadable = app
        .send_as(
            &admin,
            rpc_request(
                "audit_entries",
                "search[from]=27.11.2026&search[to]=2026-11-27&search[before]=ten",
            ),
        )
        .await;
    assert_eq!(unreadable.status, 422, "{}", unreadable.body);
    assert!(
        unreadable.body.contains("\"from\"") && unreadable.body.contains("\"before\""),
        "{}",
        unreadable.body
    );
    assert!(!unreadable.body.contains("\"to\""), "{}", unreadable.body);

    let reused = app
        .send(rpc_request("complete_setup", &form(&secret, "second")))
        .await;
    assert_eq!(reused.status, 422, "single use");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert!(
        accounts::open_setup(db).await.expect("storage").is_none(),
        "no link once users exist"
    );
}

async fn audit_log_records_with_request_ids_and_refuses_edits(engine: Engine) {
    let app = TestApp::new(engine).await;
    let admin = app.logged_in(Role::Admin).await;
    let mut failed = login_body("admin", "wrong-password-1");
    failed
        .headers_mut()
        .insert("x-request-id", "audit-probe-1".parse().expect("header"));
    app.send(failed).await;
    let entries = app
        .send_as(
            &admin,
            Request::get("/api/v1/audit?action=session.")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let list = entries.json();
    let actions: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["session.login_failed", "session.login"],
        "{}",
        entries.body
    );
    assert_eq!(list[0]["request_id"], "audit-probe-1");
    assert_eq!(list[0]["object"], "user:admin");
    let created = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.created' AND actor_kind = 'system'").await;
    assert_eq!(created, 1);

    assert!(app
        .execute("UPDATE audit_log SET actor = 'someone else'")
        .await
        .is_err());
    assert!(app.execute("DELETE FROM audit_log").await.is_err());
    if engine == Engine::Postgres {
        // SQLite has no TRUNCATE; PostgreSQL's would bypass row triggers.
        assert!(app.execute("TRUNCATE audit_log").await.is_err());
    }
    assert!(app.count("SELECT COUNT(*) FROM audit_log").await >= 3);
    // Nobody but admins reads it.
    let viewer = app.logged_in(Role::Viewer).await;
    let refused = app
        .send_as(
            &viewer,
            Request::get("/api/v1/audit")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(refused.status, 403);
}

on_both_engines!(
    users_see_their_sessions_and_end_the_others,
    expired_sessions_are_swept
);

async fn users_see_their_sessions_and_end_the_others(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.create_user("frank", Role::Viewer).await;
    let laptop = app.log_in("frank", TEST_PASSWORD).await;
    let phone = app.log_in("frank", TEST_PASSWORD).await;
    let listed = app.send_as(&laptop, rpc_request("my_sessions", "")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let sessions: serde_json::Value = listed.json();
    let sessions = sessions.as_array().expect("a list");
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["handle"].as_str())
        .expect("the other session");
    // Handles are digests, never the cookie's session id.
    let Credential::Cookie(phone_cookie) = &phone else {
        panic!("a cookie")
    };
    assert!(!listed
        .body
        .contains(phone_cookie.split('=').nth(1).unwrap_or("?")));

    let ended = app
        .send_as(
            &laptop,
            rpc_request("end_sessions", &format!("handle={other}")),
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.body);
    assert_eq!(me(&app, &phone).await, 401);
    assert_eq!(me(&app, &laptop).await, 200);
    // Someone else's session cannot be ended by naming it.
    let again = app
        .send_as(
            &laptop,
            rpc_request("end_sessions", &format!("handle={other}")),
        )
        .await;
    assert_eq!(again.status, 404);
}

async fn expired_sessions_are_swept(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.logged_in(Role::Viewer).await;
    app.logged_in(Role::Engineer).await;
    app.execute("UPDATE sessions SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = 'viewer')")
        .await
        .expect("expire one");
    let swept = app::backend::accounts::store::sessions::delete_expired(
        &app.app.state().db,
        app::domain::Timestamp::now(),
    )
    .await
    .expect("sweep");
    assert_eq!(swept, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

on_both_engines!(
    two_admins_demoting_each_other_at_once_leave_one,
    wrong_current_passwords_are_throttled_like_logins
);

async fn two_admins_demoting_each_other_at_once_leave_one(engine: Engine) {
    let app = TestApp::new(engine).await;
    let first = app.create_user("first", Role::Admin).await;
    let second = app.create_user("second", Role::Admin).await;
    // Through the operation itself, as two admins would, concurrently.
    let caller = app::backend::Caller::command_line();
    let db = &app.app.state().db;
    let update = |id: i64| app::backend::accounts::manage::UserUpdate {
        id,
        role: "viewer".into(),
        active: true,
    };
    let (a, b) = (update(first.id), update(second.id));
    let (one, other) = tokio::join!(
        app::backend::accounts::manage::update_user(db, &app.app.state().callers, &caller, &a),
        app::backend::accounts::manage::update_user(db, &app.app.state().callers, &caller, &b),
    );
    assert!(
        one.is_ok() != other.is_ok(),
        "exactly one demotion succeeds: {one:?} {other:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active")
            .await,
        1
    );
}

async fn wrong_current_passwords_are_throttled_like_logins(engine: Engine) {
    let app = TestApp::new(engine).await;
    app.create_user("gina", Role::Viewer).await;
    let gina = app.log_in("gina", TEST_PASSWORD).await;
    let change = |current: &str| {
        rpc_request(
            "change_password",
            &format!("change[current_password]={current}&change[new_password]=another-long-passphrase&change[new_password_confirmation]=another-long-passphrase"),
        )
    };
    for _ in 0..5 {
        assert_eq!(
            app.send_as(&gina, change("guessing-wrong")).await.status,
            422
        );
    }
    let locked = app.send_as(&gina, change(TEST_PASSWORD)).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert_eq!(
        app.send(login_body("gina", TEST_PASSWORD)).await.status,
        429
    );
}

on_both_engines!(behind_a_trusted_proxy_the_forwarded_address_is_recorded);

async fn behind_a_trusted_proxy_the_forwarded_address_is_recorded(engine: Engine) {
    let proxy: std::net::IpAddr = "10.0.0.2".parse().expect("IP");
    let app = TestApp::with_config(engine, |c| c.trusted_proxies = vec![proxy]).await;
    app.create_user("hana", Role::Viewer).await;
    for (peer, forwarded) in [
        ("10.0.0.2", "198.51.100.7"),
        ("203.0.113.9", "198.51.100.8"),
    ] {
        let mut request = login_body("hana", "wrong-password-here");
        let addr: SocketAddr = format!("{peer}:5000").parse().expect("address");
        request.extensions_mut().insert(ConnectInfo(addr));
        request
            .headers_mut()
            .insert("x-forwarded-for", forwarded.parse().expect("header"));
        assert_eq!(app.send(request).await.status, 401);
    }
    let from_proxy = app
        .count("SELECT COUNT(*) FROM audit_log WHERE client_address = '198.51.100.7'")
        .await;
    let spoofed = app
        .count("SELECT COUNT(*) FROM audit_log WHERE client_address = '198.51.100.8'")
        .await;
    let direct = app
        .count("SELECT COUNT(*) FROM audit_log WHERE client_address = '203.0.113.9'")
        .await;
    assert_eq!((from_proxy, spoofed, direct), (1, 0, 1));
}

on_both_engines!(over_https_through_a_trusted_proxy_the_cookie_is_secure);

/// Security finding 4: the cookie is `__Host-` and `Secure` whenever Switchyard is reached over
/// https, not only with `secure_cookies`; a peer Switchyard does not trust cannot claim https.
async fn over_https_through_a_trusted_proxy_the_cookie_is_secure(engine: Engine) {
    let proxy: std::net::IpAddr = "10.0.0.2".parse().expect("IP");
    let app = TestApp::with_config(engine, |c| c.trusted_proxies = vec![proxy]).await;
    app.create_user("hana", Role::Viewer).await;
    let via = |peer: &str, mut request: Request<Body>| {
        let addr: SocketAddr = format!("{peer}:5000").parse().expect("address");
        request.extensions_mut().insert(ConnectInfo(addr));
        request
            .headers_mut()
            .insert("x-forwarded-proto", "https".parse().expect("header"));
        request
    };
    let me_request = || {
        Request::get("/api/v1/me")
            .body(Body::empty())
            .expect("request")
    };

    let response = app
        .send(via("10.0.0.2", login_body("hana", TEST_PASSWORD)))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let cookie = response.header("set-cookie").to_owned();
    assert!(cookie.starts_with("__Host-switchyard_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(response.headers.contains_key("strict-transport-security"));
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let session = Credential::Cookie(pair.clone());
    assert_eq!(
        app.send_as(&session, via("10.0.0.2", me_request()))
            .await
            .status,
        200
    );
    // The same session under its plain name, over https: ignored, it could be planted.
    let plain = Credential::Cookie(pair.replacen("__Host-", "", 1));
    assert_eq!(
        app.send_as(&plain, via("10.0.0.2", me_request()))
            .await
            .status,
        401
    );

    let direct = app
        .send(via("203.0.113.9", login_body("hana", TEST_PASSWORD)))
        .await;
    assert_eq!(direct.status, 200, "{}", direct.body);
    let cookie = direct.header("set-cookie");
    assert!(
        cookie.starts_with("switchyard_session=") && !cookie.contains("Secure"),
        "{cookie}"
    );
    assert!(!direct.headers.contains_key("strict-transport-security"));
}

on_both_engines!(every_new_field_refuses_bad_input_and_writes_nothing);

async fn every_new_field_refuses_bad_input_and_writes_nothing(engine: Engine) {
    let app = TestApp::new(engine).await;

    // The setup form, before any user exists.
    let secret = accounts::open_setup(&app.app.state().db)
        .await
        .expect("storage")
        .expect("no users yet");
    let setup = |username: &str, password: &str, confirmation: &str| {
        rpc_request(
            "complete_setup",
            &format!("token={secret}&username={username}&display_name=&password={password}&password_confirmation={confirmation}"),
        )
    };
    for (request, field) in [
        (
            setup("root", TEST_PASSWORD, "something-else-entirely"),
            "password_confirmation",
        ),
        (setup("", TEST_PASSWORD, TEST_PASSWORD), "username"),
        (setup("root", "short", "short"), "password"),
    ] {
        let response = app.send(request).await;
        assert_eq!(response.status, 422, "{}", response.body);
        assert!(
            response.body.contains(&format!("\"field\":\"{field}\"")),
            "{}",
            response.body
        );
    }
    assert_eq!(
        row_counts(&app).await,
        [0, 0, 0, 0],
        "the failed setups wrote nothing"
    );

    let admin = app.logged_in(Role::Admin).await;
    let user = app.create_user("ivan", Role::Viewer).await;
    let before = row_counts(&app).await;
    let refused = [
        // Login: a field missing, not JSON at all.
        (
            json_request("POST", "/api/v1/session", &json!({"username": "ivan"})),
            422,
            Some("password"),
        ),
        (
            Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("ivan"))
                .expect("request"),
            415,
            None,
        ),
        // An admin's changes to a user.
        (
            json_request(
                "PATCH",
                &format!("/api/v1/users/{}", user.id),
                &json!({"role": "superuser", "active": true}),
            ),
            422,
            Some("role"),
        ),
        (
            json_request(
                "PATCH",
                &format!("/api/v1/users/{}", user.id),
                &json!({"role": "viewer"}),
            ),
            422,
            Some("active"),
        ),
        (
            json_request(
                "PATCH",
                "/api/v1/users/987654",
                &json!({"role": "viewer", "active": true}),
            ),
            404,
            None,
        ),
        (
            json_request(
                "PUT",
                &format!("/api/v1/users/{}/password", user.id),
                &json!({"password": "too-short"}),
            ),
            422,
            Some("password"),
        ),
        (
            json_request(
                "PUT",
                "/api/v1/users/987654/password",
                &json!({"password": TEST_PASSWORD}),
            ),
            404,
            None,
        ),
        // API tokens.
        (
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "", "role": "viewer"}),
            ),
            422,
            Some("name"),
        ),
        (
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "x".repeat(65), "role": "viewer"}),
            ),
            422,
            Some("name"),
        ),
        (
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "has space", "role": "viewer"}),
            ),
            422,
            Some("name"),
        ),
        (
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "ci", "role": "owner"}),
            ),
            422,
            Some("role"),
        ),
        (
            json_request(
                "POST",
                "/api/v1/tokens",
                &json!({"name": "ci", "role": "viewer", "expires": "0d"}),
            ),
            422,
            Some("expires"),
        ),
        (
            Request::delete("/api/v1/tokens/987654")
                .body(Body::empty())
                .expect("request"),
            404,
            None,
        ),
        // The audit log's query.
        (
            Request::get("/api/v1/audit?from=yesterday")
                .body(Body::empty())
                .expect("request"),
            422,
            Some("from"),
        ),
    ];
    for (request, status, field) in refused {
        let label = format!("{} {}", request.method(), request.uri());
        let response = app.send_as(&admin, request).await;
        assert_eq!(response.status, status, "{label}: {}", response.body);
        let error = &response.json()["error"];
        assert!(
            !error["message"].as_str().unwrap_or_default().is_empty(),
            "{label}: a message"
        );
        if let Some(field) = field {
            assert_eq!(error["field"], field, "{label}: {}", response.body);
        }
    }

    // Changing one's own password.
    let ivan = app.log_in("ivan", TEST_PASSWORD).await;
    let after_login = row_counts(&app).await;
    for (form, field) in [
        (format!("change[current_password]={TEST_PASSWORD}&change[new_password]=short&change[new_password_confirmation]=short"), "new_password"),
        (format!("change[current_password]={TEST_PASSWORD}&change[new_password]=a-new-long-passphrase&change[new_password_confirmation]=a-different-one"), "new_password_confirmation"),
    ] {
        let response = app.send_as(&ivan, rpc_request("change_password", &form)).await;
        assert_eq!(response.status, 422, "{}", response.body);
        assert!(response.body.contains(&format!("\"field\":\"{field}\"")), "{}", response.body);
    }
    assert_eq!(
        row_counts(&app).await,
        after_login,
        "nothing written by refused changes"
    );
    assert_eq!(before[0], after_login[0], "no user was created or removed");
    assert_eq!(
        app.send(login_body("ivan", TEST_PASSWORD)).await.status,
        200,
        "password unchanged"
    );
}

/// Rows in the tables identity writes to, to show a refused request wrote nothing.
async fn row_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["users", "api_tokens", "audit_log", "sessions"] {
        counts.push(app.count(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts
}

/// Sessions are remembered for a few seconds (`backend::accounts::callers`): a role change, a
/// deactivation or a logout takes effect on the next request in the process that made it, and
/// within the cache's TTL on another replica serving the same database.
async fn session_changes_hold_here_at_once_and_on_another_replica_within_the_cache_ttl(
    engine: Engine,
) {
    use app::backend::accounts::callers::CALLER_CACHE_TTL;
    use std::time::{Duration, Instant};

    let app = TestApp::new(engine).await;
    let replica = app.replica().await;
    let on_replica = |who: &Credential| {
        let request = who.apply(
            Request::get("/api/v1/me")
                .body(Body::empty())
                .expect("request"),
        );
        let router = replica.router();
        async move { crate::helpers::send(&router, request).await.status.as_u16() }
    };
    let admin = app.logged_in(Role::Admin).await;
    let bob = app.create_user("bob", Role::Releaser).await;
    let bob_session = app.log_in("bob", TEST_PASSWORD).await;
    // Both processes have seen (and remember) bob's session.
    assert_eq!(me(&app, &bob_session).await, 200);
    assert_eq!(on_replica(&bob_session).await, 200);
    let role = || {
        let request = bob_session.apply(
            Request::get("/api/v1/me")
                .body(Body::empty())
                .expect("request"),
        );
        let app = &app;
        async move { app.send(request).await.json()["role"].clone() }
    };
    assert_eq!(role().await, "releaser");

    let demote = app
        .send_as(
            &admin,
            json_request(
                "PATCH",
                &format!("/api/v1/users/{}", bob.id),
                &json!({"role": "viewer", "active": true}),
            ),
        )
        .await;
    assert_eq!(demote.status, 200, "{}", demote.body);
    assert_eq!(role().await, "viewer", "at once where it was changed");

    let deactivate = app
        .send_as(
            &admin,
            json_request(
                "PATCH",
                &format!("/api/v1/users/{}", bob.id),
                &json!({"role": "viewer", "active": false}),
            ),
        )
        .await;
    assert_eq!(deactivate.status, 200, "{}", deactivate.body);
    assert_eq!(
        me(&app, &bob_session).await,
        401,
        "at once where it was changed"
    );
    // The other replica learns it from the database once its memory of the session expires.
    let changed = Instant::now();
    loop {
        match on_replica(&bob_session).await {
            401 => break,
            200 => assert!(
                changed.elapsed() < CALLER_CACHE_TTL + Duration::from_secs(5),
                "the replica still accepts a deactivated user's session after {:?}",
                changed.elapsed()
            ),
            other => panic!("unexpected status {other}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A form with several mistakes names all of them in one answer, each at its field, so a
/// person fixes them in one go; nothing is written.
async fn account_forms_report_every_wrong_field_at_once(engine: Engine) {
    let app = TestApp::new(engine).await;
    let db = &app.app.state().db;
    let secret = accounts::open_setup(db)
        .await
        .expect("storage")
        .expect("no users yet");
    let fields = |response: &crate::helpers::TestResponse| -> Vec<String> {
        response
            .body
            .split("\"field\":\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_owned))
            .collect()
    };
    // The first-run setup: a short password that is also not repeated right.
    let setup = app
        .send(rpc_request(
            "complete_setup",
            &format!("token={secret}&username=root&display_name=&password=short&password_confirmation=other"),
        ))
        .await;
    assert_eq!(setup.status, 422, "{}", setup.body);
    assert_eq!(
        fields(&setup),
        ["password", "password_confirmation"],
        "{}",
        setup.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    let admin = app.logged_in(Role::Admin).await;
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;
    // A new user through the API: every field wrong.
    let user = app
        .send_as(
            &admin,
            json_request(
                "POST",
                "/api/v1/users",
                &json!({"username": "", "display_name": "x".repeat(101), "role": "root", "password": "short"}),
            ),
        )
        .await;
    assert_eq!(user.status, 422, "{}", user.body);
    let body = user.json();
    assert_eq!(
        body["error"]["field"], "username",
        "the first, for older clients"
    );
    let listed: Vec<&str> = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field"))
        .collect();
    assert_eq!(listed, ["username", "display_name", "role", "password"]);
    // A new token through the page's server function.
    let token = app
        .send_as(
            &admin,
            rpc_request(
                "create_token",
                "input[name]=&input[role]=root&input[expires]=soon",
            ),
        )
        .await;
    assert_eq!(token.status, 422, "{}", token.body);
    assert_eq!(
        fields(&token),
        ["name", "role", "expires"],
        "{}",
        token.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(app.count("SELECT COUNT(*) FROM api_tokens").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before
    );
}
