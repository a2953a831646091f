//! Test fixtures: fresh databases, a built application, and requests through its router.

use app::{
    backend::{
        accounts::manage::{self, NewTokenInput},
        accounts::{self, NewUserInput},
        Caller,
    },
    domain::Role,
    model::User,
};
use axum::{
    body::Body,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use server::{http::SESSION_COOKIE, Application, Config};
use tempfile::TempDir;
use tower::ServiceExt;

/// The engines every storage and HTTP test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Generates a `sqlite` and a `postgres` test for each named `async fn(Engine)`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Engine::Sqlite).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::helpers::Engine::Postgres).await
                }
            }
        )*
    };
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists only for one test: a SQLite file in a temporary folder, or a
/// PostgreSQL database dropped when this value is.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub dir: TempDir,
    postgres_name: Option<String>,
}

impl TestDb {
    pub async fn new(engine: Engine) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        match engine {
            Engine::Sqlite => Self {
                url: format!(
                    "sqlite://{}",
                    dir.path().join("data/switchyard.db").display()
                ),
                dir,
                postgres_name: None,
            },
            Engine::Postgres => {
                let name = format!("switchyard_test_{}", uuid::Uuid::new_v4().simple());
                admin_execute(&format!("CREATE DATABASE {name}")).await;
                let admin = postgres_admin_url();
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                Self {
                    url: format!("{base}/{name}"),
                    dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    /// A database at `url` that the test manages itself (on a server or a disk of its own),
    /// with a temporary folder beside it.
    pub fn at(url: String) -> Self {
        Self {
            url,
            dir: tempfile::tempdir().expect("temporary folder"),
            postgres_name: None,
        }
    }

    /// The PostgreSQL database's name, for tests that act on it from outside.
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres_name.as_deref()
    }

    /// The first column of the first row of `sql` as an integer, read over a connection of
    /// its own: for tests whose server runs as another process.
    pub async fn count(&self, sql: &str) -> i64 {
        let db = app::backend::Database::connect(&self.url)
            .await
            .expect("opens");
        let count = app::on_pool!(db.reader(), |pool| {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        db.close().await;
        count
    }

    /// How many deployments each version has, over a connection of its own.
    pub async fn versions(&self) -> std::collections::BTreeMap<String, i64> {
        let db = app::backend::Database::connect(&self.url)
            .await
            .expect("opens");
        let rows: Vec<(String, i64)> = app::on_pool!(db.reader(), |pool| sqlx::query_as(
            "SELECT version, COUNT(*) FROM deployments GROUP BY version"
        )
        .fetch_all(pool)
        .await
        .expect("versions"));
        db.close().await;
        rows.into_iter().collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(admin_execute(&format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )));
        })
        .join()
        .expect("database cleanup");
    }
}

/// Runs one statement on the PostgreSQL maintenance database.
pub async fn admin_execute(sql: &str) {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(&postgres_admin_url())
        .await
        .expect("PostgreSQL must run for the tests (see README: Testing)");
    sqlx::query(sql)
        .execute(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// An application built as `switchyard serve` builds it, on a fresh database.
pub struct TestApp {
    pub app: Application,
    pub router: Router,
    pub db: TestDb,
}

/// A response with its body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("ASCII header")
    }
}

/// The hashes of the stand-in site's files.
pub const SITE_CSS: &str = "/pkg/switchyard.CssCssCssCssCssCssCss0.css";

/// A stand-in for the compiled site under `root`: the files `hash.txt` names, with content
/// hashes in their names as cargo-leptos writes them, so the server starts and serves them.
pub fn write_site(root: &std::path::Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site folder");
    std::fs::write(
        root.join("hash.txt"),
        "js: JsJsJsJsJsJsJsJsJsJs00\nwasm: WasmWasmWasmWasmWasm00\ncss: CssCssCssCssCssCssCss0\n",
    )
    .expect("hash file");
    std::fs::write(
        pkg.join("switchyard.JsJsJsJsJsJsJsJsJsJs00.js"),
        "export {};",
    )
    .expect("js");
    std::fs::write(pkg.join("switchyard.WasmWasmWasmWasmWasm00.wasm"), b"\0asm").expect("wasm");
    std::fs::write(
        root.join(SITE_CSS.trim_start_matches('/')),
        "body { color: black; }",
    )
    .expect("css");
}

/// The configuration tests use: port 0, the given database, a stand-in site in the test
/// folder.
pub fn test_config(db: &TestDb) -> Config {
    write_site(&db.dir.path().join("site"));
    Config {
        addr: "127.0.0.1:0".parse().expect("address"),
        database_url: db.url.clone(),
        site_root: db.dir.path().join("site"),
        ..Config::default()
    }
}

impl TestApp {
    pub async fn new(engine: Engine) -> Self {
        let db = TestDb::new(engine).await;
        let config = test_config(&db);
        Self::build(db, config).await
    }

    /// The application on a database already filled (by an import, say).
    pub async fn on(db: TestDb) -> Self {
        let config = test_config(&db);
        Self::build(db, config).await
    }

    async fn build(db: TestDb, config: Config) -> Self {
        let app = Application::build(&config)
            .await
            .expect("application builds");
        Self {
            router: app.router(),
            app,
            db,
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        send(&self.router, request).await
    }
}

/// Sends one request through a router and reads the whole response.
pub async fn send(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    TestResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A password every test user gets: long enough, and distinctive, so a test can search the
/// logs for it.
pub const TEST_PASSWORD: &str = "correct-horse-battery-staple";

/// What a request carries to say who sends it.
#[derive(Clone, Debug)]
pub enum Credential {
    Anonymous,
    /// `name=value` of the session cookie.
    Cookie(String),
    Bearer(String),
}

impl Credential {
    pub fn apply(&self, mut request: Request<Body>) -> Request<Body> {
        let headers = request.headers_mut();
        match self {
            Credential::Anonymous => {}
            Credential::Cookie(cookie) => {
                headers.insert(header::COOKIE, cookie.parse().expect("cookie header"));
            }
            Credential::Bearer(token) => {
                headers.insert(
                    header::AUTHORIZATION,
                    format!("Bearer {token}")
                        .parse()
                        .expect("authorization header"),
                );
            }
        }
        request
    }
}

/// A JSON request.
pub fn json_request(method: &str, path: &str, body: &serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// A server-function call, as a form post from the app's own pages.
pub fn rpc_request(name: &str, form: &str) -> Request<Body> {
    Request::post(format!("/rpc/{name}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(form.to_owned()))
        .expect("request")
}

impl TestApp {
    /// Builds the application with a changed configuration.
    pub async fn with_config(engine: Engine, change: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new(engine).await;
        let mut config = test_config(&db);
        change(&mut config);
        Self::build(db, config).await
    }

    /// A second application on this one's database, as another replica behind a load
    /// balancer would run: it shares nothing with this one but the database.
    pub async fn replica(&self) -> Application {
        Application::build(&test_config(&self.db))
            .await
            .expect("a second replica starts")
    }

    /// Creates a user with [`TEST_PASSWORD`], as the command line would.
    pub async fn create_user(&self, username: &str, role: Role) -> User {
        let input = NewUserInput {
            username: username.to_owned(),
            display_name: String::new(),
            role: role.as_str().to_owned(),
            password: TEST_PASSWORD.into(),
        };
        accounts::create_user(&self.app.state().db, &Caller::command_line(), &input)
            .await
            .expect("user created")
    }

    /// Logs in through `POST /api/v1/session`; returns the session cookie.
    pub async fn log_in(&self, username: &str, password: &str) -> Credential {
        let response = self
            .send(json_request(
                "POST",
                "/api/v1/session",
                &serde_json::json!({ "username": username, "password": password }),
            ))
            .await;
        assert_eq!(
            response.status, 200,
            "login as {username}: {}",
            response.body
        );
        Credential::Cookie(session_cookie(&response).expect("a session cookie"))
    }

    /// A user of `role` named after it, logged in.
    pub async fn logged_in(&self, role: Role) -> Credential {
        self.create_user(role.as_str(), role).await;
        self.log_in(role.as_str(), TEST_PASSWORD).await
    }

    /// A new API token with `role`; returns its secret.
    pub async fn token(&self, name: &str, role: Role, expires: &str) -> String {
        let input = NewTokenInput {
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            expires: expires.to_owned(),
        };
        manage::create_token(&self.app.state().db, &Caller::command_line(), &input)
            .await
            .expect("token created")
            .secret
    }

    /// Sends a request as `who`.
    pub async fn send_as(&self, who: &Credential, request: Request<Body>) -> TestResponse {
        self.send(who.apply(request)).await
    }

    /// Runs one SQL statement on the test database and returns the first column of the first
    /// row as an integer (for counting rows).
    pub async fn count(&self, sql: &str) -> i64 {
        app::on_pool!(self.app.state().db.reader(), |pool| {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs one statement that changes the test database.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        app::on_pool!(self.app.state().db.writer(), |pool| {
            sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
    }
}

/// The `name=value` pair of the session cookie a response sets, if it sets one.
pub fn session_cookie(response: &TestResponse) -> Option<String> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(SESSION_COOKIE))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The newest migration's version, read from the migration files, so adding one does not
/// break tests that check the schema is current.
pub fn latest_migration() -> i64 {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
    std::fs::read_dir(folder)
        .expect("migrations folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .expect("at least one migration")
}
