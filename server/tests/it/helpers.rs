//! Test fixtures: fresh databases, a built application, and requests through its router.

use std::path::PathBuf;

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use server::{Application, Config};
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

    /// The PostgreSQL database's name, for tests that act on it from outside.
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres_name.as_deref()
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
    pub site_root: PathBuf,
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

/// The configuration tests use: port 0, the given database, a site root in the test folder.
pub fn test_config(db: &TestDb) -> Config {
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
        let pkg = config.site_root.join("pkg");
        std::fs::create_dir_all(&pkg).expect("site folder");
        std::fs::write(pkg.join("switchyard.css"), "body { color: black; }").expect("css");
        let app = Application::build(&config)
            .await
            .expect("application builds");
        Self {
            router: app.router(),
            app,
            db,
            site_root: config.site_root,
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
