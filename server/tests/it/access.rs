//! The role × action matrix: every protected REST endpoint, server function and page, called
//! as every kind of caller. A row names the least role that may use it; the test fails on any
//! success below that role and on any refusal at or above it. Later features add rows.

use app::domain::Role;
use axum::{body::Body, http::Request};

use crate::{
    helpers::{json_request, rpc_request, Credential, Engine, TestApp},
    on_both_engines,
};

/// How an entry point is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Surface {
    /// REST under `/api/v1`: sessions and bearer tokens.
    Rest,
    /// Server functions under `/rpc`: sessions only.
    Rpc,
    /// Pages: sessions only; nobody is redirected to the login page.
    Page,
}

/// One protected entry point.
struct Row {
    surface: Surface,
    method: &'static str,
    path: &'static str,
    /// JSON for REST, a form for server functions. Bodies may be invalid on purpose: an
    /// allowed caller then gets 404 or 422, which still shows the door was open.
    body: &'static str,
    least: Role,
}

const fn rest(method: &'static str, path: &'static str, body: &'static str, least: Role) -> Row {
    Row {
        surface: Surface::Rest,
        method,
        path,
        body,
        least,
    }
}

const fn rpc(path: &'static str, body: &'static str, least: Role) -> Row {
    Row {
        surface: Surface::Rpc,
        method: "POST",
        path,
        body,
        least,
    }
}

const fn page(path: &'static str, least: Role) -> Row {
    Row {
        surface: Surface::Page,
        method: "GET",
        path,
        body: "",
        least,
    }
}

const MATRIX: &[Row] = &[
    rest("GET", "/api/v1/health/detailed", "", Role::Viewer),
    rest("GET", "/api/v1/me", "", Role::Viewer),
    rest("DELETE", "/api/v1/users/999999/login-failures", "", Role::Admin),
    rpc("clear_login_failures", "id=999999", Role::Admin),
    rpc("backup_status", "", Role::Admin),
    rest("GET", "/api/v1/users", "", Role::Admin),
    rest(
        "POST",
        "/api/v1/users",
        r#"{"username":"","role":"viewer","password":"x"}"#,
        Role::Admin,
    ),
    rest(
        "PATCH",
        "/api/v1/users/999999",
        r#"{"role":"viewer","active":true}"#,
        Role::Admin,
    ),
    rest(
        "PUT",
        "/api/v1/users/999999/password",
        r#"{"password":"a-long-enough-password"}"#,
        Role::Admin,
    ),
    rest("GET", "/api/v1/tokens", "", Role::Admin),
    rest(
        "POST",
        "/api/v1/tokens",
        r#"{"name":"","role":"viewer"}"#,
        Role::Admin,
    ),
    rest("DELETE", "/api/v1/tokens/999999", "", Role::Admin),
    rest("GET", "/api/v1/audit", "", Role::Admin),
    rest("GET", "/api/v1/services", "", Role::Viewer),
    rest("POST", "/api/v1/services", r#"{"name":""}"#, Role::Admin),
    rest(
        "PATCH",
        "/api/v1/services/none",
        r#"{"description":"x"}"#,
        Role::Admin,
    ),
    rest(
        "PATCH",
        "/api/v1/services/none/environments/none",
        r#"{"tier":"staging"}"#,
        Role::Admin,
    ),
    rest("GET", "/api/v1/webhooks/github/environments", "", Role::Admin),
    rpc("github_environments", "", Role::Admin),
    rpc(
        "decide_github_environment",
        "decision[service]=none&decision[name]=x&decision[choice]=ignore",
        Role::Admin,
    ),
    rest(
        "PUT",
        "/api/v1/webhooks/github/environments/none/x",
        r#"{"ignored":true}"#,
        Role::Admin,
    ),
    rest(
        "POST",
        "/api/v1/services/none/environments",
        r#"{"name":"x","tier":"production","strategy":"rolling"}"#,
        Role::Admin,
    ),
    rest(
        "GET",
        "/api/v1/services/none/environments/x",
        "",
        Role::Viewer,
    ),
    rest("GET", "/api/v1/environments", "", Role::Viewer),
    rest("GET", "/api/v1/overview", "", Role::Viewer),
    rest("GET", "/api/v1/deployments", "", Role::Viewer),
    rest("GET", "/api/v1/deployments.csv", "", Role::Viewer),
    rest(
        "POST",
        "/api/v1/deployments",
        r#"{"service":"","environment":"x","version":"1"}"#,
        Role::Engineer,
    ),
    rest("GET", "/api/v1/deployments/999999", "", Role::Viewer),
    rest(
        "POST",
        "/api/v1/deployments/999999/finish",
        r#"{"status":"succeeded"}"#,
        Role::Engineer,
    ),
    rest(
        "POST",
        "/api/v1/deployments/999999/notes",
        r#"{"note":"x"}"#,
        Role::Engineer,
    ),
    rpc("list_users", "", Role::Admin),
    rpc(
        "create_user",
        "input[username]=&input[display_name]=&input[role]=viewer&input[password]=x",
        Role::Admin,
    ),
    rpc(
        "update_user",
        "update[id]=999999&update[role]=viewer&update[active]=true",
        Role::Admin,
    ),
    rpc(
        "reset_password",
        "reset[id]=999999&reset[password]=a-long-enough-password",
        Role::Admin,
    ),
    rpc("list_tokens", "", Role::Admin),
    rpc(
        "create_token",
        "input[name]=&input[role]=viewer&input[expires]=",
        Role::Admin,
    ),
    rpc("revoke_token", "id=999999", Role::Admin),
    rpc("audit_entries", "search[actor]=nobody", Role::Admin),
    rpc("my_sessions", "", Role::Viewer),
    rpc("end_sessions", "handle=no-such-session", Role::Viewer),
    rpc(
        "change_password",
        "change[current_password]=x&change[new_password]=short&change[new_password_confirmation]=short",
        Role::Viewer,
    ),
    rpc("overview", "", Role::Viewer),
    rpc("list_deployments", "filter[status]=failed", Role::Viewer),
    rpc("get_deployment", "id=999999", Role::Viewer),
    rpc("list_environments", "", Role::Viewer),
    rpc("list_services", "", Role::Viewer),
    rpc(
        "record_deployment",
        "input[service]=none&input[environment]=x&input[version]=1",
        Role::Engineer,
    ),
    rpc(
        "finish_deployment",
        "id=999999&finish[status]=succeeded",
        Role::Engineer,
    ),
    rpc("add_deployment_note", "id=999999&note=x", Role::Engineer),
    rpc("create_service", "service[name]=", Role::Admin),
    rpc(
        "update_environment",
        "edit[service]=none&edit[name]=x&edit[tier]=staging&edit[strategy]=rolling",
        Role::Admin,
    ),
    rpc(
        "create_environment",
        "environment[service]=none&environment[name]=x&environment[tier]=staging&environment[strategy]=rolling",
        Role::Admin,
    ),
    page("/", Role::Viewer),
    page("/deployments", Role::Viewer),
    page("/deployments/new", Role::Engineer),
    page("/deployments/1", Role::Viewer),
    page("/admin/services", Role::Admin),
    page("/account", Role::Viewer),
    page("/admin", Role::Admin),
    page("/admin/tokens", Role::Admin),
    page("/admin/audit", Role::Admin),
    // Operations: an unknown environment answers 404 to those allowed in.
    rest(
        "POST",
        "/api/v1/services/none/environments/none/operations",
        r#"{"action":"switch","expected_revision":0}"#,
        Role::Releaser,
    ),
    rest("GET", "/api/v1/operations/999999", "", Role::Viewer),
    rest(
        "GET",
        "/api/v1/services/none/environments/none/events",
        "",
        Role::Viewer,
    ),
    rpc(
        "start_operation",
        "service=none&environment=none&operation[action]=switch&operation[expected_revision]=0",
        Role::Releaser,
    ),
    rpc("environment_page", "service=none&environment=none", Role::Viewer),
    page("/services/none/environments/none", Role::Viewer),
    rpc("service_summaries", "", Role::Viewer),
    rpc("service_page", "service=none", Role::Viewer),
    page("/services", Role::Viewer),
    page("/services/none", Role::Viewer),
    // Releases: signing and opening are for engineers; templates, freezes for admins.
    rest("GET", "/api/v1/releases", "", Role::Viewer),
    rest(
        "POST",
        "/api/v1/releases",
        r#"{"service":"none","environment":"x","version":"1"}"#,
        Role::Engineer,
    ),
    rest("GET", "/api/v1/releases/999999", "", Role::Viewer),
    rest(
        "POST",
        "/api/v1/releases/999999/items/x/sign",
        "{}",
        Role::Engineer,
    ),
    rest(
        "DELETE",
        "/api/v1/releases/999999/items/x/sign",
        "",
        Role::Engineer,
    ),
    rest(
        "POST",
        "/api/v1/releases/999999/abandon",
        r#"{"reason":"x"}"#,
        Role::Engineer,
    ),
    rest("GET", "/api/v1/releases/999999/events", "", Role::Viewer),
    rest(
        "GET",
        "/api/v1/services/none/checklist-template",
        "",
        Role::Viewer,
    ),
    rest(
        "PUT",
        "/api/v1/services/none/checklist-template",
        r#"{"items":[{"group":"g","title":"t"}]}"#,
        Role::Admin,
    ),
    rest(
        "GET",
        "/api/v1/services/none/environments/none/freezes",
        "",
        Role::Viewer,
    ),
    rest(
        "POST",
        "/api/v1/services/none/environments/none/freezes",
        r#"{"kind":"once","reason":"x"}"#,
        Role::Admin,
    ),
    rest(
        "DELETE",
        "/api/v1/services/none/environments/none/freezes/1",
        "",
        Role::Admin,
    ),
    rpc("release_list", "", Role::Viewer),
    rpc(
        "open_release",
        "service=none&environment=x&version=1",
        Role::Engineer,
    ),
    rpc("release_page", "id=999999", Role::Viewer),
    rpc(
        "sign_release_item",
        "id=999999&key=x&note=x",
        Role::Engineer,
    ),
    rpc("withdraw_release_item", "id=999999&key=x", Role::Engineer),
    rpc("abandon_release", "id=999999&reason=x", Role::Engineer),
    rpc("checklist_template", "service=none", Role::Viewer),
    rpc(
        "save_checklist",
        "service=none&rows[0][group]=g&rows[0][title]=t",
        Role::Admin,
    ),
    rpc(
        "add_freeze",
        "service=none&environment=none&input[kind]=once&input[reason]=x",
        Role::Admin,
    ),
    rpc(
        "remove_freeze",
        "service=none&environment=none&id=1",
        Role::Admin,
    ),
    page("/releases", Role::Viewer),
    page("/releases/1", Role::Viewer),
    page("/admin/services/none/checklist", Role::Admin),
    rest("GET", "/api/v1/incidents", "", Role::Viewer),
    rest("GET", "/api/v1/incidents.csv", "", Role::Viewer),
    rest(
        "POST",
        "/api/v1/incidents",
        r#"{"title":"x","service":"none","environment":"x","severity":"SEV2"}"#,
        Role::Engineer,
    ),
    rest("GET", "/api/v1/incidents/999999", "", Role::Viewer),
    rest("PATCH", "/api/v1/incidents/999999", r#"{"severity":"SEV1"}"#, Role::Engineer),
    rest("POST", "/api/v1/incidents/999999/timeline", r#"{"text":"x"}"#, Role::Engineer),
    rest("PATCH", "/api/v1/incidents/999999/timeline/1", r#"{"text":"x"}"#, Role::Engineer),
    rest(
        "POST",
        "/api/v1/incidents/999999/links",
        r#"{"deployment_id":1,"kind":"cause"}"#,
        Role::Engineer,
    ),
    rest(
        "DELETE",
        "/api/v1/incidents/999999/links",
        r#"{"deployment_id":1,"kind":"cause"}"#,
        Role::Engineer,
    ),
    rest("GET", "/api/v1/incidents/999999/suggested-causes", "", Role::Viewer),
    rest(
        "PUT",
        "/api/v1/incidents/999999/checklist/incident/x",
        r#"{"done":true}"#,
        Role::Engineer,
    ),
    rest(
        "POST",
        "/api/v1/incidents/999999/rollback",
        r#"{"expected_revision":0}"#,
        Role::Releaser,
    ),
    rest("GET", "/api/v1/incidents/999999/events", "", Role::Viewer),
    rest("GET", "/api/v1/incidents/999999/postmortem", "", Role::Viewer),
    rest(
        "PUT",
        "/api/v1/incidents/999999/postmortem",
        r#"{"markdown":"x","base_version":0}"#,
        Role::Engineer,
    ),
    rest(
        "POST",
        "/api/v1/incidents/999999/postmortem/status",
        r#"{"status":"in_review"}"#,
        Role::Engineer,
    ),
    rest("GET", "/api/v1/action-items", "", Role::Viewer),
    rest(
        "POST",
        "/api/v1/action-items",
        r#"{"incident_id":999999,"title":"x","owner":"x","due":"2026-01-01"}"#,
        Role::Engineer,
    ),
    rest("PATCH", "/api/v1/action-items/999999", r#"{"status":"done"}"#, Role::Engineer),
    rpc("incident_list", "filter[status]=open", Role::Viewer),
    rpc("declare_choices", "", Role::Viewer),
    rpc(
        "declare_incident",
        "title=x&service=none&environment=x&severity=SEV2",
        Role::Engineer,
    ),
    rpc("incident_page", "id=999999", Role::Viewer),
    rpc("change_incident", "id=999999&severity=SEV1", Role::Engineer),
    rpc("add_incident_note", "id=999999&text=x", Role::Engineer),
    rpc("edit_incident_note", "id=999999&entry=1&text=x", Role::Engineer),
    rpc(
        "link_incident",
        "id=999999&deployment_id=1&kind=cause",
        Role::Engineer,
    ),
    rpc(
        "check_incident_step",
        "id=999999&kind=incident&key=x&done=true",
        Role::Engineer,
    ),
    rpc("incident_rollback", "id=999999&expected_revision=0", Role::Releaser),
    rpc("postmortem_page", "id=999999", Role::Viewer),
    rpc(
        "save_postmortem",
        "id=999999&base_version=0&title=x&markdown=x",
        Role::Engineer,
    ),
    rpc("preview_postmortem", "markdown=x", Role::Engineer),
    rpc("postmortem_status", "id=999999&status=in_review", Role::Engineer),
    rpc(
        "add_action_item",
        "incident_id=999999&title=x&owner=x&due=2026-01-01",
        Role::Engineer,
    ),
    rpc("set_action_item", "id=999999&status=done&back=/", Role::Engineer),
    rpc("action_item_list", "filter[status]=open", Role::Viewer),
    page("/incidents", Role::Viewer),
    page("/incidents/new", Role::Engineer),
    page("/incidents/1", Role::Viewer),
    page("/incidents/1/postmortem", Role::Viewer),
    page("/action-items", Role::Viewer),
    rest("GET", "/api/v1/metrics", "", Role::Viewer),
    rest("GET", "/api/v1/metrics/series", "", Role::Viewer),
    rpc("metrics_page", "query[range]=30d", Role::Viewer),
    page("/metrics", Role::Viewer),
    rpc("delivery_report", "query[range]=30d", Role::Viewer),
    page("/metrics/report", Role::Viewer),
];

/// A caller of the matrix: who, how, and what role (none for nobody or a dead token).
struct Identity {
    label: String,
    credential: Credential,
    role: Option<Role>,
    is_token: bool,
}

fn request(row: &Row) -> Request<Body> {
    match row.surface {
        Surface::Rest if row.body.is_empty() => Request::builder()
            .method(row.method)
            .uri(row.path)
            .body(Body::empty())
            .expect("request"),
        Surface::Rest => json_request(
            row.method,
            row.path,
            &serde_json::from_str(row.body).expect("JSON body"),
        ),
        Surface::Rpc => rpc_request(row.path, row.body),
        Surface::Page => Request::get(row.path)
            .header("accept", "text/html")
            .body(Body::empty())
            .expect("request"),
    }
}

on_both_engines!(
    every_entry_point_admits_exactly_the_roles_allowed,
    every_entry_point_has_a_row_and_refuses_other_sites,
);

/// Entry points open to anyone, each for a reason: everything else needs a row above.
const PUBLIC: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/health", "liveness for load balancers"),
    ("GET", "/api/v1/openapi.json", "the API's description"),
    ("POST", "/api/v1/session", "logging in"),
    ("DELETE", "/api/v1/session", "logging out"),
    (
        "POST",
        "/api/v1/webhooks/github",
        "signed with the webhook secret",
    ),
    (
        "POST",
        "/api/v1/webhooks/generic",
        "signed with the webhook secret",
    ),
    ("GET", "/api/v1/prometheus", "its own bearer token"),
    ("POST", "/rpc/login", "logging in"),
    ("POST", "/rpc/logout", "logging out"),
    ("POST", "/rpc/complete_setup", "the one-time setup link"),
    (
        "POST",
        "/rpc/setup_status",
        "whether a setup link still works",
    ),
    ("POST", "/rpc/current_user", "who is asking, or nobody"),
    ("GET", "/login", "logging in"),
    ("GET", "/setup", "the one-time setup link"),
];

/// Whether `concrete` (a row's path, maybe with a query) is an instance of `template`
/// (`/api/v1/users/{id}`, `/deployments/:id`).
fn instance_of(template: &str, concrete: &str) -> bool {
    let concrete = concrete.split('?').next().unwrap_or_default();
    let (t, c): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), concrete.split('/').collect());
    t.len() == c.len()
        && t.iter()
            .zip(&c)
            .all(|(t, c)| t == c || t.starts_with('{') || t.starts_with(':'))
}

/// Every REST operation the OpenAPI document describes, server function registered and page
/// routed: `(METHOD, path template)`.
async fn entry_points(app: &TestApp) -> Vec<(String, String)> {
    let document = app.get("/api/v1/openapi.json").await.json();
    let mut entries = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                entries.push((method.to_uppercase(), format!("/api{path}")));
            }
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        entries.push((method.as_str().to_owned(), path.to_owned()));
    }
    for path in server::http::page_paths() {
        entries.push(("GET".to_owned(), path));
    }
    entries.sort();
    entries.dedup();
    entries
}

/// Security review: the matrix was a hand-written list that had missed routes and pages. Now
/// an entry point without a row (or a place in [`PUBLIC`]) fails this test, and a request
/// from another site carrying a user's cookie is refused at every entry that changes data.
async fn every_entry_point_has_a_row_and_refuses_other_sites(engine: Engine) {
    let app = TestApp::new(engine).await;
    let entries = entry_points(&app).await;
    assert!(entries.len() > 100, "{entries:?}");
    let covered = |method: &str, path: &str| {
        PUBLIC.iter().any(|(m, p, _)| *m == method && *p == path)
            || MATRIX.iter().any(|row| {
                let concrete = match row.surface {
                    Surface::Rpc => format!("/rpc/{}", row.path),
                    _ => row.path.to_owned(),
                };
                row.method == method && instance_of(path, &concrete)
            })
    };
    let missing: Vec<String> = entries
        .iter()
        .filter(|(method, path)| !covered(method, path))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "entry points without an access row:\n{}",
        missing.join("\n")
    );

    let admin = app.logged_in(Role::Admin).await;
    let mut let_through = Vec::new();
    for (method, path) in entries.iter().filter(|(method, _)| method != "GET") {
        let uri = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let request = Request::builder()
            .method(method.as_str())
            .uri(&uri)
            .header("content-type", "application/json")
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example")
            .body(Body::from("{}"))
            .expect("request");
        let answer = app.send_as(&admin, request).await;
        if answer.status != 403 || !answer.body.contains("cross_origin") {
            let_through.push(format!("{method} {uri}: {} {}", answer.status, answer.body));
        }
    }
    assert!(
        let_through.is_empty(),
        "cross-site requests let through:\n{}",
        let_through.join("\n")
    );
}

async fn every_entry_point_admits_exactly_the_roles_allowed(engine: Engine) {
    let app = TestApp::new(engine).await;
    let mut identities = vec![Identity {
        label: "anonymous".into(),
        credential: Credential::Anonymous,
        role: None,
        is_token: false,
    }];
    for role in Role::ALL {
        identities.push(Identity {
            label: format!("{role} session"),
            credential: app.logged_in(role).await,
            role: Some(role),
            is_token: false,
        });
        identities.push(Identity {
            label: format!("{role} token"),
            credential: Credential::Bearer(app.token(&format!("t-{role}"), role, "90d").await),
            role: Some(role),
            is_token: true,
        });
    }
    let revoked = app.token("revoked", Role::Admin, "").await;
    app.execute("UPDATE api_tokens SET revoked_at = 1 WHERE name = 'revoked'")
        .await
        .expect("revoke");
    let expired = app.token("expired", Role::Admin, "30d").await;
    app.execute("UPDATE api_tokens SET expires_at = 1 WHERE name = 'expired'")
        .await
        .expect("expire");
    for (label, secret) in [
        ("revoked admin token", revoked),
        ("expired admin token", expired),
    ] {
        identities.push(Identity {
            label: label.into(),
            credential: Credential::Bearer(secret),
            role: None,
            is_token: true,
        });
    }

    let mut failures = Vec::new();
    for row in MATRIX {
        for who in &identities {
            // Tokens only open the REST API; elsewhere they count as nobody.
            let role = who
                .role
                .filter(|_| !who.is_token || row.surface == Surface::Rest);
            let allowed = role.is_some_and(|role| role >= row.least);
            let response = app.send_as(&who.credential, request(row)).await;
            let status = response.status.as_u16();
            let redirected_to_login = status == 302
                && response
                    .headers
                    .get("location")
                    .is_some_and(|l| l.to_str().unwrap_or("").starts_with("/login"));
            let outcome_ok = match (allowed, role) {
                (true, _) => !matches!(status, 401 | 403) && !redirected_to_login && status < 500,
                // Nobody: 401 from the API and server functions, the login page for pages.
                (false, None) if row.surface == Surface::Page => redirected_to_login,
                (false, None) => status == 401,
                (false, Some(_)) => status == 403,
            };
            if !outcome_ok {
                failures.push(format!(
                    "{} {} as {}: expected {}, got {status} {}",
                    row.method,
                    row.path,
                    who.label,
                    if allowed { "access" } else { "refusal" },
                    response.body.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
