//! `switchyard demo`: a year of believable history in an empty database, so a new user sees a
//! full dashboard (metrics, incidents, post-mortems, releases) a minute after installing. The
//! history is planned by a pure, seeded function ([`plan`]: the same seed, the same year) and
//! written in one transaction, so a failure leaves the database empty.

use super::{
    storage::{StorageError, Tx},
    Database,
};
use crate::{
    domain::{
        incidents::markdown,
        releases::checklist::{Template, TemplateKind},
        Timestamp,
    },
    error::AppError,
    on_pool, on_tx,
};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The services of the demo: name, description, owning team, production deployments per
/// working day, and how much slower than the others its changes travel.
const SERVICES: [(&str, &str, &str, f64, f64); 4] = [
    (
        "china-car-parts-api",
        "The deployment guide's example: the parts catalogue and orders API for car workshops.",
        "Parts",
        1.6,
        1.0,
    ),
    (
        "storefront",
        "The web shop customers order from.",
        "Web",
        1.1,
        0.8,
    ),
    (
        "payments",
        "Card and wallet payments.",
        "Payments",
        0.4,
        2.5,
    ),
    (
        "search",
        "Product search and suggestions.",
        "Discovery",
        0.8,
        1.2,
    ),
];
const PEOPLE: [&str; 6] = [
    "mei.chen",
    "jonas.weber",
    "amara.okafor",
    "li.wei",
    "sofia.rossi",
    "tom.baker",
];

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub services: usize,
    pub deployments: usize,
    pub incidents: usize,
    pub postmortems: usize,
    pub action_items: usize,
    pub releases: usize,
}

/// Fills an empty database with the year up to `now` that `seed` plans; refuses one that
/// holds any service or deployment.
pub async fn fill(db: &Database, seed: u64, now: Timestamp) -> Result<Summary, AppError> {
    let existing: i64 = on_pool!(db.reader(), |pool| {
        sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM services) + (SELECT COUNT(*) FROM deployments)",
        )
        .fetch_one(pool)
        .await
    })
    .map_err(StorageError::from)?;
    if existing > 0 {
        return Err(AppError::Conflict(crate::domain::FieldError::new(
            "database",
            "This database already holds services or deployments; demo data goes only into an empty one. Point --config or SWITCHYARD_DATABASE_URL at a new database.",
        )));
    }
    let plan = plan(seed, now);
    let mut tx = db.begin().await?;
    let summary = write(&mut tx, &plan, now).await?;
    tx.commit().await?;
    Ok(summary)
}

/// A deployment of the plan; `service` and the other indexes point into the plan's lists.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoDeployment {
    pub service: usize,
    pub production: bool,
    pub version: String,
    pub sha: String,
    pub commit_at: Option<i64>,
    pub started_at: i64,
    pub finished_at: i64,
    pub status: &'static str,
    pub is_rollback: bool,
    pub rolled_back_at: Option<i64>,
    pub by: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DemoIncident {
    pub service: usize,
    pub title: String,
    pub severity: &'static str,
    pub started_at: i64,
    pub detected_at: i64,
    pub resolved_at: Option<i64>,
    pub commander: &'static str,
    pub cause: Option<usize>,
    pub fix: Option<usize>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub deployments: Vec<DemoDeployment>,
    pub incidents: Vec<DemoIncident>,
}

/// SplitMix64: small, seedable, and good enough for believable noise.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.unit() * (high - low) as f64) as i64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn sha(&mut self) -> String {
        format!(
            "{:016x}{:016x}{:08x}",
            self.next(),
            self.next(),
            self.next() as u32
        )
    }
}

/// The year up to `now`, planned from `seed`: production deployments on working days (each
/// tried in staging first) with commit times, failures fixed forward, rollbacks with the
/// incidents they caused, incidents of their own, and one still open. Failures grow rarer
/// over the year, as a team that learns from its post-mortems would see.
pub fn plan(seed: u64, now: Timestamp) -> Plan {
    let mut dice = Dice(seed);
    let mut plan = Plan::default();
    let today = now.0 - now.0.rem_euclid(DAY);
    for (service, &(_, _, _, rate, slowness)) in SERVICES.iter().enumerate() {
        let mut minor = 0;
        let mut good: Option<String> = None;
        for days_ago in (1..=365).rev() {
            let day = today - days_ago * DAY;
            // 1970-01-01 was a Thursday: days 2 and 3 of each week are the weekend.
            if matches!((day / DAY).rem_euclid(7), 2 | 3) {
                continue;
            }
            let year_done = 1.0 - days_ago as f64 / 365.0;
            let count = (rate + dice.unit() - 0.5).round().max(0.0) as i64;
            for n in 0..count {
                minor += 1;
                let mut patch = 0;
                let version = format!("{}.{minor}.{patch}", 1 + minor / 100);
                let start = day + 9 * HOUR + n * 3 * HOUR + dice.between(0, 2 * HOUR);
                let lead = (dice.between(30, 60 * 72) as f64 * slowness) as i64 * MINUTE;
                let sha = dice.sha();
                let by = dice.pick(&PEOPLE);
                let commit_at = (dice.unit() > 0.08).then_some(start - lead);
                plan.deployments.push(DemoDeployment {
                    service,
                    production: false,
                    version: version.clone(),
                    sha: sha.clone(),
                    commit_at,
                    // Staging between the commit and production.
                    started_at: start - lead / 2,
                    finished_at: start - lead / 2 + dice.between(2, 8) * MINUTE,
                    status: "succeeded",
                    is_rollback: false,
                    rolled_back_at: None,
                    by,
                });
                let took = dice.between(3, 12) * MINUTE * slowness.max(1.0) as i64;
                let failure_odds = 0.11 - 0.07 * year_done;
                let roll = dice.unit();
                let status = if roll < failure_odds {
                    "failed"
                } else if roll < failure_odds + 0.02 {
                    "cancelled"
                } else {
                    "succeeded"
                };
                let index = plan.deployments.len();
                plan.deployments.push(DemoDeployment {
                    service,
                    production: true,
                    version: version.clone(),
                    sha,
                    commit_at,
                    started_at: start,
                    finished_at: start + took,
                    status,
                    is_rollback: false,
                    rolled_back_at: None,
                    by,
                });
                match status {
                    "failed" => {
                        // Fixed forward within a few hours.
                        patch += 1;
                        let fix_start = start + took + dice.between(40, 180) * MINUTE;
                        let fix = format!("{}.{minor}.{patch}", 1 + minor / 100);
                        plan.deployments.push(DemoDeployment {
                            service,
                            production: true,
                            version: fix.clone(),
                            sha: dice.sha(),
                            commit_at: Some(fix_start - dice.between(20, 90) * MINUTE),
                            started_at: fix_start,
                            finished_at: fix_start + took,
                            status: "succeeded",
                            is_rollback: false,
                            rolled_back_at: None,
                            by,
                        });
                        good = Some(fix);
                    }
                    "succeeded" if dice.unit() < 0.05 - 0.02 * year_done && good.is_some() => {
                        // Bad after all: rolled back, and often an incident.
                        let rollback_start = start + took + dice.between(8, 30) * MINUTE;
                        let rollback_end = rollback_start + dice.between(2, 6) * MINUTE;
                        plan.deployments[index].rolled_back_at = Some(rollback_end);
                        let rollback = plan.deployments.len();
                        plan.deployments.push(DemoDeployment {
                            service,
                            production: true,
                            version: good.clone().unwrap_or_default(),
                            sha: dice.sha(),
                            commit_at: None,
                            started_at: rollback_start,
                            finished_at: rollback_end,
                            status: "succeeded",
                            is_rollback: true,
                            rolled_back_at: None,
                            by: dice.pick(&PEOPLE),
                        });
                        if dice.unit() < 0.7 {
                            let started = start + took + dice.between(2, 10) * MINUTE;
                            plan.incidents.push(DemoIncident {
                                service,
                                title: format!(
                                    "{} errors after {version}",
                                    dice.pick(&[
                                        "Checkout",
                                        "Search",
                                        "Login",
                                        "Order",
                                        "Catalogue"
                                    ])
                                ),
                                severity: dice.pick(&["SEV1", "SEV2", "SEV2", "SEV3"]),
                                started_at: started,
                                detected_at: started + dice.between(1, 8) * MINUTE,
                                resolved_at: Some(rollback_end + dice.between(5, 25) * MINUTE),
                                commander: dice.pick(&PEOPLE),
                                cause: Some(index),
                                fix: Some(rollback),
                            });
                        }
                    }
                    "succeeded" => good = Some(version.clone()),
                    _ => {}
                }
            }
            // Now and then something breaks that no deployment caused.
            if dice.unit() < 0.02 {
                let started = day + dice.between(0, 22) * HOUR;
                plan.incidents.push(DemoIncident {
                    service,
                    title: dice
                        .pick(&[
                            "Database connections exhausted",
                            "Slow responses from the CDN",
                            "Certificate about to expire",
                            "Queue backlog growing",
                        ])
                        .to_owned(),
                    severity: dice.pick(&["SEV2", "SEV3", "SEV3", "SEV4"]),
                    started_at: started,
                    detected_at: started + dice.between(2, 20) * MINUTE,
                    resolved_at: Some(started + dice.between(30, 360) * MINUTE),
                    commander: dice.pick(&PEOPLE),
                    cause: None,
                    fix: None,
                });
            }
        }
    }
    // One incident is still being worked on.
    let started = now.0 - 40 * MINUTE;
    plan.incidents.push(DemoIncident {
        service: 1,
        title: "Images load slowly on product pages".into(),
        severity: "SEV3",
        started_at: started,
        detected_at: started + 6 * MINUTE,
        resolved_at: None,
        commander: PEOPLE[0],
        cause: None,
        fix: None,
    });
    plan
}

/// Writes `plan` inside `tx`.
async fn write(tx: &mut Tx, plan: &Plan, now: Timestamp) -> Result<Summary, StorageError> {
    let mut summary = Summary::default();
    let mut environments = Vec::new();
    for (name, description, team, _, _) in SERVICES {
        let service: i64 = on_tx!(tx, |conn| {
            sqlx::query_scalar("INSERT INTO services (name, description, owner_team, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(name)
                .bind(description)
                .bind(team)
                .bind(now.0 - 366 * DAY)
                .fetch_one(conn)
                .await
        })?;
        let mut ids = [0; 2];
        for (slot, (environment, tier)) in [("staging", "staging"), ("production", "production")]
            .into_iter()
            .enumerate()
        {
            ids[slot] = on_tx!(tx, |conn| {
                sqlx::query_scalar("INSERT INTO environments (service_id, name, tier, strategy, created_at) VALUES ($1, $2, $3, 'rolling', $4) RETURNING id")
                    .bind(service)
                    .bind(environment)
                    .bind(tier)
                    .bind(now.0 - 366 * DAY)
                    .fetch_one(conn)
                    .await
            })?;
        }
        environments.push((service, ids));
        summary.services += 1;
    }
    let mut deployment_ids = Vec::with_capacity(plan.deployments.len());
    for d in &plan.deployments {
        let (service, ids) = environments[d.service];
        let environment = ids[usize::from(d.production)];
        let id: i64 = on_tx!(tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO deployments (service_id, environment_id, version, commit_sha, commit_at, \
                 strategy, started_at, finished_at, status, is_rollback, rolled_back_at, recorded_by_kind, \
                 recorded_by, source, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'rolling', $6, $7, $8, $9, $10, 'user', $11, 'api', $7) RETURNING id",
            )
            .bind(service)
            .bind(environment)
            .bind(&d.version)
            .bind(&d.sha)
            .bind(d.commit_at)
            .bind(d.started_at)
            .bind(d.finished_at)
            .bind(d.status)
            .bind(d.is_rollback)
            .bind(d.rolled_back_at)
            .bind(d.by)
            .fetch_one(conn)
            .await
        })?;
        deployment_ids.push(id);
        if d.status == "succeeded" {
            on_tx!(tx, |conn| {
                sqlx::query("UPDATE environments SET current_version = $2, current_deployment_id = $3 WHERE id = $1")
                    .bind(environment)
                    .bind(&d.version)
                    .bind(id)
                    .execute(conn)
                    .await
                    .map(drop)
            })?;
        }
        summary.deployments += 1;
    }
    summary.releases = write_releases(tx, plan, &deployment_ids, &environments, now).await?;
    let resolved_count = plan
        .incidents
        .iter()
        .filter(|i| i.resolved_at.is_some())
        .count();
    for (n, incident) in plan.incidents.iter().enumerate() {
        let (service, ids) = environments[incident.service];
        let status = if incident.resolved_at.is_some() {
            "resolved"
        } else {
            "investigating"
        };
        let id: i64 = on_tx!(tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO incidents (service_id, environment_id, title, severity, status, commander, \
                 description, declared_by_kind, declared_by, started_at, detected_at, resolved_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'user', $6, $8, $9, $10, $9) RETURNING id",
            )
            .bind(service)
            .bind(ids[1])
            .bind(&incident.title)
            .bind(incident.severity)
            .bind(status)
            .bind(incident.commander)
            .bind("Demo data: customers saw errors until the change was rolled back.")
            .bind(incident.started_at)
            .bind(incident.detected_at)
            .bind(incident.resolved_at)
            .fetch_one(conn)
            .await
        })?;
        summary.incidents += 1;
        let links = [(incident.cause, "cause"), (incident.fix, "fix")];
        for (deployment, kind) in links
            .into_iter()
            .filter_map(|(d, k)| Some((deployment_ids[d?], k)))
        {
            on_tx!(tx, |conn| {
                sqlx::query("INSERT INTO incident_links (incident_id, deployment_id, kind, linked_by, linked_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id)
                    .bind(deployment)
                    .bind(kind)
                    .bind(incident.commander)
                    .bind(incident.detected_at)
                    .execute(conn)
                    .await
                    .map(drop)
            })?;
        }
        let (Some(resolved_at), true) = (
            incident.resolved_at,
            matches!(incident.severity, "SEV1" | "SEV2"),
        ) else {
            continue;
        };
        // The last two serious incidents are still being written up.
        let status = match resolved_count.saturating_sub(n) {
            0..=1 => "draft",
            2 => "in_review",
            _ => "published",
        };
        let text = format!(
            "# {}\n\n## Summary\n\nA change reached production and {} users saw errors until it was rolled back.\n\n## Lessons\n\n- **Went well:** the rollback took minutes.\n- **Went wrong:** the canary did not cover this path.\n",
            incident.title,
            incident.severity
        );
        let published = (status == "published").then_some(resolved_at + 2 * DAY);
        on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO postmortems (incident_id, title, markdown, html, version, status, created_by, \
                 created_at, updated_by, updated_at, published_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $6, $7, $8)",
            )
            .bind(id)
            .bind(&incident.title)
            .bind(&text)
            .bind(markdown::render(&text))
            .bind(status)
            .bind(incident.commander)
            .bind(resolved_at + DAY)
            .bind(published)
            .execute(conn)
            .await
            .map(drop)
        })?;
        summary.postmortems += 1;
        for (k, title) in [
            "Add a canary check for this path",
            "Alert on the error rate per endpoint",
        ]
        .into_iter()
        .enumerate()
        {
            let due_ms = resolved_at + (14 + 7 * k as i64) * DAY;
            let due = chrono::DateTime::from_timestamp_millis(due_ms)
                .unwrap_or_default()
                .format("%Y-%m-%d")
                .to_string();
            // Done, unless due only recently: those are still open, some overdue.
            let item_status = if due_ms < now.0 - 20 * DAY {
                "done"
            } else {
                "open"
            };
            on_tx!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO action_items (incident_id, title, owner, due, status, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                )
                .bind(id)
                .bind(title)
                .bind(PEOPLE[(n + k) % PEOPLE.len()])
                .bind(due)
                .bind(item_status)
                .bind(incident.commander)
                .bind(resolved_at + DAY)
                .execute(conn)
                .await
                .map(drop)
            })?;
            summary.action_items += 1;
        }
    }
    Ok(summary)
}

/// A released release, its checklist signed in full, for each production deployment of the
/// last 60 days that was not a rollback and did not fail or get cancelled.
async fn write_releases(
    tx: &mut Tx,
    plan: &Plan,
    deployment_ids: &[i64],
    environments: &[(i64, [i64; 2])],
    now: Timestamp,
) -> Result<usize, StorageError> {
    let template = Template::guide(TemplateKind::Release);
    let mut count = 0;
    let recent = plan
        .deployments
        .iter()
        .zip(deployment_ids)
        .filter(|(d, _)| {
            d.production
                && !d.is_rollback
                && d.status == "succeeded"
                && d.finished_at > now.0 - 60 * DAY
        });
    for (d, _) in recent {
        let (service, ids) = environments[d.service];
        let opened = d.started_at - 3 * HOUR;
        let release: i64 = on_tx!(tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO releases (service_id, environment_id, version, commit_sha, status, template_revision, \
                 opened_by_kind, opened_by, opened_at, ended_by, ended_at) \
                 VALUES ($1, $2, $3, $4, 'released', 0, 'user', $5, $6, $5, $7) RETURNING id",
            )
            .bind(service)
            .bind(ids[1])
            .bind(&d.version)
            .bind(&d.sha)
            .bind(d.by)
            .bind(opened)
            .bind(d.finished_at)
            .fetch_one(conn)
            .await
        })?;
        for (position, item) in template.items.iter().enumerate() {
            let signer = PEOPLE[position % PEOPLE.len()];
            let evidence = item.evidence.then(|| {
                format!(
                    "https://ci.example.com/runs/{}",
                    release * 100 + position as i64
                )
            });
            on_tx!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO release_items (release_id, position, key, group_name, title, description, role, required, evidence) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(release)
                .bind(position as i64)
                .bind(&item.key)
                .bind(&item.group)
                .bind(&item.title)
                .bind(&item.description)
                .bind(item.role.as_str())
                .bind(item.required)
                .bind(item.evidence)
                .execute(conn)
                .await
                .map(drop)
            })?;
            on_tx!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO release_signoffs (release_id, item_key, signed_by_kind, signed_by, signed_at, evidence_url) \
                     VALUES ($1, $2, 'user', $3, $4, $5)",
                )
                .bind(release)
                .bind(&item.key)
                .bind(signer)
                .bind(opened + (position as i64 + 1) * 5 * MINUTE)
                .bind(evidence)
                .execute(conn)
                .await
                .map(drop)
            })?;
        }
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_796_547_600_000);

    #[test]
    fn the_same_seed_plans_the_same_year_and_another_seed_another() {
        assert_eq!(plan(7, NOW), plan(7, NOW));
        assert_ne!(plan(7, NOW).deployments, plan(8, NOW).deployments);
    }

    #[test]
    fn the_year_is_believable_and_consistent() {
        let plan = plan(1, NOW);
        let production: Vec<_> = plan.deployments.iter().filter(|d| d.production).collect();
        assert!(
            production.len() > 700,
            "{} production deployments",
            production.len()
        );
        for d in &plan.deployments {
            assert!(
                d.started_at <= d.finished_at && d.finished_at < NOW.0,
                "{d:?}"
            );
            assert!(d.commit_at.is_none_or(|c| c <= d.started_at), "{d:?}");
            assert!(
                d.sha.len() == 40 && d.sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{d:?}"
            );
        }
        let failed = production.iter().filter(|d| d.status == "failed").count();
        let rollbacks = production.iter().filter(|d| d.is_rollback).count();
        assert!(
            failed > 10 && rollbacks > 3,
            "{failed} failed, {rollbacks} rollbacks"
        );
        // Every rollback has the deployment it replaced marked.
        assert_eq!(
            rollbacks,
            production
                .iter()
                .filter(|d| d.rolled_back_at.is_some())
                .count()
        );
        // Incidents: caused, standalone and one open.
        assert!(plan.incidents.iter().any(|i| i.cause.is_some()));
        assert!(plan
            .incidents
            .iter()
            .any(|i| i.cause.is_none() && i.resolved_at.is_some()));
        assert_eq!(
            plan.incidents
                .iter()
                .filter(|i| i.resolved_at.is_none())
                .count(),
            1
        );
        for i in &plan.incidents {
            assert!(
                i.started_at <= i.detected_at && i.resolved_at.is_none_or(|r| r >= i.started_at),
                "{i:?}"
            );
        }
    }
}
