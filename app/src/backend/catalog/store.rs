//! The `services`, `environments` and `slots` tables.

use sqlx::FromRow;

use super::super::{
    storage::{stored, Pool, Tx},
    StorageError,
};
use crate::{
    domain::{
        catalog::{
            EnvironmentChange, NewEnvironment, NewService, NewSlot, ServiceChange, SlotColor,
            Strategy, Tier,
        },
        Timestamp,
    },
    model::{CanaryShare, Environment, Service, Shipped, Slot},
    on_pool, on_tx,
};

const SERVICE_COLUMNS: &str = "id, name, description, owner_team, created_at";

/// Inserts a service; a taken name is a unique violation the caller reports.
pub async fn insert_service(
    tx: &mut Tx,
    service: &NewService,
    now: Timestamp,
) -> Result<Service, StorageError> {
    let sql = format!(
        "INSERT INTO services (name, description, owner_team, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING {SERVICE_COLUMNS}"
    );
    let row: ServiceRow = on_tx!(tx, |conn| {
        sqlx::query_as(&sql)
            .bind(service.name.as_str())
            .bind(&service.description)
            .bind(&service.owner_team)
            .bind(now)
            .fetch_one(conn)
            .await
    })?;
    Ok(row.into())
}

#[derive(Debug, FromRow)]
struct ServiceRow {
    id: i64,
    name: String,
    description: String,
    owner_team: String,
    created_at: Timestamp,
}

impl From<ServiceRow> for Service {
    fn from(row: ServiceRow) -> Self {
        Service {
            id: row.id,
            name: row.name,
            description: row.description,
            owner_team: row.owner_team,
            created_at: row.created_at,
        }
    }
}

/// Every service, by name.
pub async fn services(pool: Pool<'_>) -> Result<Vec<Service>, StorageError> {
    let sql = format!("SELECT {SERVICE_COLUMNS} FROM services ORDER BY name");
    let rows: Vec<ServiceRow> = on_pool!(pool, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The service called `name`.
pub async fn service(pool: Pool<'_>, name: &str) -> Result<Option<Service>, StorageError> {
    let sql = format!("SELECT {SERVICE_COLUMNS} FROM services WHERE name = $1");
    let row: Option<ServiceRow> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(name).fetch_optional(pool).await
    })?;
    Ok(row.map(Into::into))
}

/// The service with `id`.
pub async fn service_by_id(pool: Pool<'_>, id: i64) -> Result<Option<Service>, StorageError> {
    let sql = format!("SELECT {SERVICE_COLUMNS} FROM services WHERE id = $1");
    let row: Option<ServiceRow> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?;
    Ok(row.map(Into::into))
}

/// Inserts an environment of service `service_id` with its slots (blue live at first);
/// returns its id. A taken name is a unique violation.
pub async fn insert_environment(
    tx: &mut Tx,
    service_id: i64,
    environment: &NewEnvironment,
    now: Timestamp,
) -> Result<i64, StorageError> {
    let live_slot =
        (environment.strategy == Strategy::BlueGreen).then_some(SlotColor::Blue.as_str());
    let id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO environments (service_id, name, tier, strategy, live_slot, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(service_id)
        .bind(environment.name.as_str())
        .bind(environment.tier.as_str())
        .bind(environment.strategy.as_str())
        .bind(live_slot)
        .bind(now)
        .fetch_one(conn)
        .await
    })?;
    save_slots(tx, id, &environment.slots).await?;
    Ok(id)
}

/// Sets the addresses of environment `id`'s slots, creating them the first time; the
/// versions they hold stay.
async fn save_slots(tx: &mut Tx, id: i64, slots: &[NewSlot]) -> Result<(), StorageError> {
    for slot in slots {
        on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO slots (environment_id, color, upstream, health_url) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (environment_id, color) \
                 DO UPDATE SET upstream = excluded.upstream, health_url = excluded.health_url",
            )
            .bind(id)
            .bind(slot.color.as_str())
            .bind(&slot.upstream)
            .bind(&slot.health_url)
            .execute(conn)
            .await
            .map(drop)
        })?;
    }
    Ok(())
}

/// Replaces what `change` gives of service `id`.
pub async fn update_service(
    tx: &mut Tx,
    id: i64,
    change: &ServiceChange,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE services SET description = COALESCE($2, description), \
             owner_team = COALESCE($3, owner_team) WHERE id = $1",
        )
        .bind(id)
        .bind(&change.description)
        .bind(&change.owner_team)
        .execute(conn)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Replaces what `change` gives of environment `id`: its tier, its slots' addresses (the
/// versions they hold stay).
/// Applies `change`; `moved` (a slot's address changed) also counts in the revision.
pub async fn update_environment(
    tx: &mut Tx,
    id: i64,
    change: &EnvironmentChange,
    moved: bool,
) -> Result<(), StorageError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE environments SET tier = COALESCE($2, tier), revision = revision + $3 WHERE id = $1",
        )
            .bind(id)
            .bind(change.tier.map(Tier::as_str))
            .bind(i64::from(moved))
            .execute(conn)
            .await
            .map(drop)
    })?;
    save_slots(tx, id, &change.slots).await
}

#[derive(Debug, FromRow)]
struct EnvironmentRow {
    id: i64,
    service: String,
    name: String,
    tier: String,
    strategy: String,
    live_slot: Option<String>,
    revision: i64,
    current_version: Option<String>,
    canary_version: Option<String>,
    canary_weight: Option<i64>,
    created_at: Timestamp,
    shipped_id: Option<i64>,
    shipped_by: Option<String>,
    shipped_at: Option<Timestamp>,
}

#[derive(Debug, FromRow)]
struct SlotRow {
    environment_id: i64,
    color: String,
    upstream: String,
    health_url: String,
    version: Option<String>,
    shipped_id: Option<i64>,
    shipped_by: Option<String>,
    shipped_at: Option<Timestamp>,
}

/// Who shipped a version in place: the deployment, its recorder, and when it finished (or
/// started, while it runs).
fn shipped(id: Option<i64>, by: Option<String>, at: Option<Timestamp>) -> Option<Shipped> {
    Some(Shipped {
        deployment_id: id?,
        by: by?,
        at: at?,
    })
}

const ENVIRONMENT_SELECT: &str = "SELECT e.id, s.name AS service, e.name, e.tier, e.strategy, \
    e.live_slot, e.revision, e.current_version, e.canary_version, e.canary_weight, e.created_at, \
    d.id AS shipped_id, d.recorded_by AS shipped_by, COALESCE(d.finished_at, d.started_at) AS shipped_at \
    FROM environments e JOIN services s ON s.id = e.service_id \
    LEFT JOIN deployments d ON d.id = e.current_deployment_id";
const SLOT_SELECT: &str = "SELECT sl.environment_id, sl.color, sl.upstream, sl.health_url, sl.version, \
    d.id AS shipped_id, d.recorded_by AS shipped_by, COALESCE(d.finished_at, d.started_at) AS shipped_at \
    FROM slots sl LEFT JOIN deployments d ON d.id = sl.deployment_id";

/// Every environment with its slots, by service and name.
pub async fn environments(pool: Pool<'_>) -> Result<Vec<Environment>, StorageError> {
    let sql = format!("{ENVIRONMENT_SELECT} ORDER BY s.name, e.name");
    let rows: Vec<EnvironmentRow> =
        on_pool!(pool, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
    let slots: Vec<SlotRow> = on_pool!(pool, |pool| {
        sqlx::query_as(SLOT_SELECT).fetch_all(pool).await
    })?;
    assemble(rows, slots)
}

/// One environment of one service, with its slots.
pub async fn environment(
    pool: Pool<'_>,
    service: &str,
    name: &str,
) -> Result<Option<Environment>, StorageError> {
    let sql = format!("{ENVIRONMENT_SELECT} WHERE s.name = $1 AND e.name = $2");
    let row: Option<EnvironmentRow> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql)
            .bind(service)
            .bind(name)
            .fetch_optional(pool)
            .await
    })?;
    with_slots(pool, row).await
}

/// The environment with `id`, with its slots.
pub async fn environment_by_id(
    pool: Pool<'_>,
    id: i64,
) -> Result<Option<Environment>, StorageError> {
    let sql = format!("{ENVIRONMENT_SELECT} WHERE e.id = $1");
    let row: Option<EnvironmentRow> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
    })?;
    with_slots(pool, row).await
}

async fn with_slots(
    pool: Pool<'_>,
    row: Option<EnvironmentRow>,
) -> Result<Option<Environment>, StorageError> {
    let Some(row) = row else {
        return Ok(None);
    };
    let sql = format!("{SLOT_SELECT} WHERE sl.environment_id = $1");
    let slots: Vec<SlotRow> = on_pool!(pool, |pool| {
        sqlx::query_as(&sql).bind(row.id).fetch_all(pool).await
    })?;
    Ok(assemble(vec![row], slots)?.pop())
}

fn assemble(
    rows: Vec<EnvironmentRow>,
    slots: Vec<SlotRow>,
) -> Result<Vec<Environment>, StorageError> {
    let mut slots = slots
        .into_iter()
        .map(|slot| {
            Ok((
                slot.environment_id,
                Slot {
                    color: stored(SlotColor::parse("color", &slot.color))?,
                    upstream: slot.upstream,
                    health_url: slot.health_url,
                    version: slot.version,
                    shipped: shipped(slot.shipped_id, slot.shipped_by, slot.shipped_at),
                },
            ))
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    slots.sort_by_key(|(id, slot)| (*id, slot.color));
    rows.into_iter()
        .map(|row| {
            Ok(Environment {
                slots: slots
                    .iter()
                    .filter(|(id, _)| *id == row.id)
                    .map(|(_, slot)| slot.clone())
                    .collect(),
                id: row.id,
                service: row.service,
                name: row.name,
                tier: stored(Tier::parse("tier", &row.tier))?,
                strategy: stored(Strategy::parse("strategy", &row.strategy))?,
                live_slot: row
                    .live_slot
                    .map(|slot| stored(SlotColor::parse("live_slot", &slot)))
                    .transpose()?,
                revision: row.revision,
                current_version: row.current_version,
                current_shipped: shipped(row.shipped_id, row.shipped_by, row.shipped_at),
                live_version: None,
                idle_version: None,
                health: Vec::new(),
                canary: match (row.canary_version, row.canary_weight) {
                    (Some(version), Some(weight)) => Some(CanaryShare {
                        version,
                        weight: u8::try_from(weight).map_err(|_| {
                            StorageError::Corrupt(format!("canary weight {weight}"))
                        })?,
                    }),
                    _ => None,
                },
                created_at: row.created_at,
            }
            .with_live_and_idle())
        })
        .collect()
}
