//! A generated history: 1,000,000 deployments (or any number) and a tenth as many incidents,
//! the last 10,000 in a 90-day window, written straight into the database. The metrics and
//! soak benchmarks both start from it.

use app::backend::Database;

use super::Rng;

pub const DAY: i64 = 86_400_000;
/// Deployments (and a tenth as many incidents) that finish inside the 90-day window.
pub const WINDOW_ROWS: usize = 10_000;
pub const SERVICES: usize = 4;
/// The window: the 90 days up to `now`.
pub fn window(now: i64) -> (i64, i64) {
    (now - 90 * DAY, now)
}

/// Fills `total` deployments and a tenth as many incidents into `SERVICES` production
/// environments: the last `WINDOW_ROWS` (and incidents) in the window, generated from the
/// same seed whatever `total` is, the rest spread over the ten years before it.
pub async fn fill(db: &Database, total: usize, now: i64) {
    let (from, to) = window(now);
    let mut sql = String::new();
    // PostgreSQL takes given ids only when told to.
    let given = match db.engine() {
        app::backend::Engine::Postgres => " OVERRIDING SYSTEM VALUE",
        app::backend::Engine::Sqlite => "",
    };
    let mut tx = db.begin().await.expect("begin");
    for s in 1..=SERVICES {
        for statement in [
            format!("INSERT INTO services (id, name, created_at){given} VALUES ({s}, 'service-{s}', 0)"),
            format!("INSERT INTO environments (id, service_id, name, tier, strategy, created_at){given} VALUES ({s}, {s}, 'production', 'production', 'rolling', 0)"),
        ] {
            app::on_tx!(&mut tx, |conn| sqlx::query(&statement).execute(conn).await.map(drop)).expect("catalog");
        }
    }
    let old = total - WINDOW_ROWS;
    // Old rows from an ever-changing seed, window rows from a fixed one.
    let (mut old_rng, mut window_rng) = (Rng(17), Rng(29));
    for i in 0..total {
        let (rng, start) = if i < old {
            let step = (10 * 365 * DAY) / old.max(1) as i64;
            (&mut old_rng, from - 10 * 365 * DAY + i as i64 * step)
        } else {
            let step = (to - from) / WINDOW_ROWS as i64;
            (&mut window_rng, from + (i - old) as i64 * step)
        };
        let service = 1 + rng.below(SERVICES as u64);
        let status = match rng.below(100) {
            0..=89 => "succeeded",
            90..=96 => "failed",
            _ => "cancelled",
        };
        let finished = start + 120_000 + rng.below(900_000) as i64;
        let commit = if rng.below(100) < 85 {
            (start - 3_600_000 - rng.below(40 * 3_600_000) as i64).to_string()
        } else {
            "NULL".into()
        };
        let rolled_back = if status == "succeeded" && rng.below(100) < 3 {
            (finished + 1_200_000).to_string()
        } else {
            "NULL".into()
        };
        let is_rollback = if rng.below(100) < 5 { "TRUE" } else { "FALSE" };
        if sql.is_empty() {
            sql.push_str("INSERT INTO deployments (service_id, environment_id, version, commit_sha, commit_at, strategy, started_at, finished_at, status, is_rollback, rolled_back_at, recorded_by_kind, recorded_by, source, created_at) VALUES ");
        } else {
            sql.push(',');
        }
        sql.push_str(&format!("({service}, {service}, '1.{i}', '{:016x}', {commit}, 'rolling', {start}, {finished}, '{status}', {is_rollback}, {rolled_back}, 'token', 'bench', 'api', {finished})", rng.next()));
        if i % 500 == 499 || i + 1 == total {
            app::on_tx!(&mut tx, |conn| sqlx::query(&sql)
                .execute(conn)
                .await
                .map(drop))
            .expect("deployments");
            sql.clear();
        }
        if i % 50_000 == 49_999 {
            eprint!("\r  {} of {total} deployments", i + 1);
        }
    }
    eprintln!();
    // Incidents: each caused by the deployment it follows (deployment ids are 1..=total, in
    // insertion order), fixed by the next one, resolved within two hours.
    let incidents = total / 10;
    for k in 0..incidents {
        let deployment = k * 10 + 1;
        let in_window = deployment > old;
        let rng = if in_window {
            &mut window_rng
        } else {
            &mut old_rng
        };
        let started = if in_window {
            from + ((deployment - old) as i64) * ((to - from) / WINDOW_ROWS as i64) + 900_000
        } else {
            from - 10 * 365 * DAY
                + (deployment as i64) * ((10 * 365 * DAY) / old.max(1) as i64)
                + 900_000
        };
        let resolved = started + 600_000 + rng.below(7_200_000) as i64;
        let service = 1 + rng.below(SERVICES as u64);
        let statement = format!(
            "INSERT INTO incidents (id, service_id, environment_id, title, severity, status, commander, declared_by_kind, declared_by, started_at, detected_at, resolved_at, created_at){given} \
             VALUES ({id}, {service}, {service}, 'bench', 'SEV3', 'resolved', 'bench', 'user', 'bench', {started}, {started}, {resolved}, {started})",
            id = k + 1
        );
        let links = format!(
            "INSERT INTO incident_links (incident_id, deployment_id, kind, linked_by, linked_at) VALUES ({id}, {deployment}, 'cause', 'bench', {started}), ({id}, {fix}, 'fix', 'bench', {started})",
            id = k + 1,
            fix = (deployment + 1).min(total)
        );
        for statement in [statement, links] {
            app::on_tx!(&mut tx, |conn| sqlx::query(&statement)
                .execute(conn)
                .await
                .map(drop))
            .expect("incident");
        }
    }
    tx.commit().await.expect("commit");
    if db.engine() == app::backend::Engine::Postgres {
        // Services, environments and incidents were given their ids: move the sequences past
        // them, so what the API creates afterwards gets ids of its own.
        for table in ["services", "environments", "incidents"] {
            let statement = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            );
            app::on_pool!(db.writer(), |pool| sqlx::query(&statement)
                .execute(pool)
                .await
                .map(drop))
            .expect("sequence");
        }
    }
    app::on_pool!(db.writer(), |pool| sqlx::query("ANALYZE")
        .execute(pool)
        .await
        .map(drop))
    .expect("analyze");
}
