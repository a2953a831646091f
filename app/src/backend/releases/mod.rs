//! Releases: checklist templates (admins), opening, signing, withdrawing and abandoning
//! releases (engineers), freeze windows (admins), and the gate operations ask before they put a
//! version in front of users. Each use case checks the caller's rights, writes its change and
//! its audit entry in one transaction, then tells live pages.

pub mod store;

use serde_json::json;

use super::{
    audit,
    catalog::{self, find_environment},
    events::Event,
    AppState, Caller, Database, StorageError,
};
use crate::{
    domain::{
        catalog::{SlotColor, Tier},
        operations::OperationAction,
        releases::{
            checklist::{ChecklistItem, Template, TemplateInput, TemplateKind},
            describe_progress,
            freeze::FreezeInput,
            gate::{closed_because, ActiveFreeze, GateCheck, Readiness},
            AbandonInput, ReleaseInput, ReleaseStatus, SignInput,
        },
        Action, FieldError, Role, Timestamp,
    },
    error::AppError,
    model::{
        ChecklistTemplate, Environment, FreezeWindow, Recorder, Release, ReleaseFilter,
        ReleaseItem, ReleaseSummary, SignOff,
    },
};

/// How many releases a list shows.
pub const LIST_LIMIT: i64 = 100;

/// `service`'s checklist of `kind`: the saved one, or the guide's.
pub async fn template(
    db: &Database,
    caller: &Caller,
    service: &str,
    kind: TemplateKind,
) -> Result<ChecklistTemplate, AppError> {
    caller.authorize(Action::Read)?;
    let service = catalog::find_service(db, service).await?;
    current_template(db, service.id, &service.name, kind).await
}

pub(crate) async fn current_template(
    db: &Database,
    service_id: i64,
    service: &str,
    kind: TemplateKind,
) -> Result<ChecklistTemplate, AppError> {
    let saved = store::template(db.reader(), service_id, kind).await?;
    Ok(match saved {
        Some((revision, items, by, at)) => ChecklistTemplate {
            service: service.to_owned(),
            template: Template {
                kind,
                revision,
                items,
            },
            updated_by: Some(by),
            updated_at: Some(at),
        },
        None => ChecklistTemplate {
            service: service.to_owned(),
            template: Template::guide(kind),
            updated_by: None,
            updated_at: None,
        },
    })
}

/// Replaces `service`'s checklist of `kind` (admins). Releases already open keep their copy.
pub async fn save_template(
    db: &Database,
    caller: &Caller,
    service: &str,
    kind: TemplateKind,
    input: &TemplateInput,
) -> Result<ChecklistTemplate, AppError> {
    caller.authorize(Action::ManageChecklists)?;
    let items = input.parse()?;
    let service = catalog::find_service(db, service).await?;
    let before = current_template(db, service.id, &service.name, kind).await?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let by = caller.actor().name().to_owned();
    let revision = store::save_template(&mut tx, service.id, kind, &items, &by, now).await?;
    audit::change(
        &mut tx,
        caller,
        "checklist.saved",
        format!("checklist:{}/{kind}", service.name),
        Some(json!({ "revision": before.template.revision, "items": before.template.items.len() })),
        json!({ "revision": revision, "items": items.len() }),
        now,
    )
    .await?;
    tx.commit().await?;
    current_template(db, service.id, &service.name, kind).await
}

/// Opens a release (engineers and above); 409 when that version already has an open release
/// in that environment.
pub async fn open(
    state: &AppState,
    caller: &Caller,
    input: &ReleaseInput,
) -> Result<Release, AppError> {
    caller.authorize(Action::ManageReleases)?;
    let new = input.parse()?;
    let db = &state.db;
    let environment = find_environment(db, new.service.as_str(), new.environment.as_str()).await?;
    let service = catalog::find_service(db, &environment.service).await?;
    let template = current_template(db, service.id, &service.name, TemplateKind::Release).await?;
    let now = Timestamp::now();
    let actor = caller.actor();
    let opened_by = actor.recorder();
    let row = store::NewRow {
        service_id: service.id,
        environment_id: environment.id,
        version: new.version.as_str(),
        commit_sha: new.commit_sha.as_ref().map(|c| c.as_str()),
        summary: &new.summary,
        url: new.url.as_deref(),
        template_revision: template.template.revision,
        opened_by: &opened_by,
        now,
    };
    let mut tx = db.begin().await?;
    let Some(id) = store::insert(&mut tx, &row, &template.template.items).await? else {
        drop(tx);
        let open = store::open_release(db.reader(), environment.id, new.version.as_str()).await?;
        return Err(AppError::Conflict(FieldError::new(
            "version",
            format!(
                "{} already has an open release of {} (release {}): sign that one.",
                environment.name,
                new.version.as_str(),
                open.unwrap_or_default()
            ),
        )));
    };
    audit::created(
        &mut tx,
        caller,
        "release.opened",
        format!("release:{id}"),
        json!({
            "service": environment.service,
            "environment": environment.name,
            "version": new.version,
            "template_revision": template.template.revision,
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, environment.id, id);
    load(db, caller, id).await
}

/// Opens a release of `version` in a production-tier blue-green environment when a version
/// heads for its idle slot (a deploy to idle, or CI recording one) and none is open; inside
/// the caller's transaction. Returns the new release's id.
pub(crate) async fn open_for_idle_slot(
    tx: &mut super::storage::Tx,
    caller: &Caller,
    service_id: i64,
    environment_id: i64,
    slot: SlotColor,
    version: &str,
    now: Timestamp,
) -> Result<Option<i64>, StorageError> {
    let Some((tier, live)) = store::environment_tier(tx, environment_id).await? else {
        return Ok(None);
    };
    if tier != Tier::Production.as_str() || live.as_deref() == Some(slot.as_str()) {
        return Ok(None);
    }
    let (revision, items) = match store::template_in(tx, service_id, TemplateKind::Release).await? {
        Some((revision, items, ..)) => (revision, items),
        None => (0, Template::guide(TemplateKind::Release).items),
    };
    let actor = caller.actor();
    let opened_by = actor.recorder();
    let summary = format!("Opened when {version} headed for the idle {slot} slot.");
    let row = store::NewRow {
        service_id,
        environment_id,
        version,
        commit_sha: None,
        summary: &summary,
        url: None,
        template_revision: revision,
        opened_by: &opened_by,
        now,
    };
    let id = store::insert(tx, &row, &items).await?;
    if let Some(id) = id {
        audit::created(
            tx,
            caller,
            "release.opened",
            format!("release:{id}"),
            json!({
                "environment_id": environment_id,
                "version": version,
                "template_revision": revision,
                "automatically": true,
            }),
            now,
        )
        .await?;
    }
    Ok(id)
}

/// After whatever may have changed what is live in environment `environment_id` (inside its
/// transaction): the open release of the version now live is released, and open releases of
/// other versions opened before it are abandoned, as a newer one went live first.
pub(crate) async fn settle(
    tx: &mut super::storage::Tx,
    caller: &Caller,
    environment_id: i64,
    now: Timestamp,
) -> Result<(), StorageError> {
    let Some(live) = store::live_version(tx, environment_id).await? else {
        return Ok(());
    };
    let open = store::open_in(tx, environment_id).await?;
    let Some((released, _, released_opened)) = open
        .iter()
        .find(|(_, version, _)| *version == live)
        .cloned()
    else {
        return Ok(());
    };
    let by = caller.actor().name().to_owned();
    store::end(
        tx,
        released,
        ReleaseStatus::Released,
        &by,
        &format!("{live} took traffic."),
        now,
    )
    .await?;
    audit::change(
        tx,
        caller,
        "release.released",
        format!("release:{released}"),
        Some(json!({ "status": "open" })),
        json!({ "status": "released", "version": live }),
        now,
    )
    .await?;
    for (id, version, opened) in open {
        if id == released || opened > released_opened {
            continue;
        }
        let reason = format!("{live} went live before {version}.");
        store::end(tx, id, ReleaseStatus::Abandoned, &by, &reason, now).await?;
        audit::change(
            tx,
            caller,
            "release.abandoned",
            format!("release:{id}"),
            Some(json!({ "status": "open" })),
            json!({ "status": "abandoned", "reason": reason }),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Releases matching `filter`, open ones first.
pub async fn list(
    db: &Database,
    caller: &Caller,
    filter: &ReleaseFilter,
) -> Result<Vec<ReleaseSummary>, AppError> {
    caller.authorize(Action::Read)?;
    if let Some(status) = filter.status.as_deref().filter(|s| !s.is_empty()) {
        ReleaseStatus::parse("status", status)?;
    }
    let filter = ReleaseFilter {
        service: filter.service.clone().filter(|s| !s.is_empty()),
        environment: filter.environment.clone().filter(|s| !s.is_empty()),
        status: filter.status.clone().filter(|s| !s.is_empty()),
    };
    let rows = store::list(db.reader(), &filter, LIST_LIMIT).await?;
    Ok(rows.iter().map(summary).collect::<Result<_, _>>()?)
}

/// A release's line in a list.
pub(crate) fn summary(row: &store::Row) -> Result<ReleaseSummary, StorageError> {
    let (total, signed, left) = counts(row);
    Ok(ReleaseSummary {
        id: row.id,
        status: row.status()?,
        service: row.service.clone(),
        environment: row.environment.clone(),
        version: row.version.clone(),
        opened_by: row.opened_by.clone(),
        opened_at: row.opened_at,
        ended_at: row.ended_at,
        total,
        signed,
        required_left: left,
        progress: describe_progress(signed, total, left),
    })
}

/// Environments in a freeze window now: (environment id, "frozen until …: reason").
pub(crate) async fn frozen_now(db: &Database) -> Result<Vec<(i64, String)>, StorageError> {
    let now = Timestamp::now();
    Ok(store::all_freezes(db.reader())
        .await?
        .into_iter()
        .filter_map(|(environment_id, rule, reason)| {
            rule.active_until(now)
                .map(|until| (environment_id, format!("frozen until {until}: {reason}")))
        })
        .collect())
}

fn counts(row: &store::Row) -> (usize, usize, usize) {
    let n = |v: i64| usize::try_from(v).unwrap_or_default();
    (n(row.total), n(row.signed), n(row.required_left))
}

/// One release, with what `caller` may do to each item.
pub async fn get(db: &Database, caller: &Caller, id: i64) -> Result<Release, AppError> {
    caller.authorize(Action::Read)?;
    load(db, caller, id).await
}

async fn load(db: &Database, caller: &Caller, id: i64) -> Result<Release, AppError> {
    let row = store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_release(id))?;
    let items = store::items(db.reader(), id).await?;
    let signoffs = store::signoffs(db.reader(), id).await?;
    let overrides = store::overrides(db.reader(), row.environment_id, &row.version).await?;
    let status = row.status()?;
    let role = caller.principal.as_ref().map(|p| p.role());
    let actor = caller.actor();
    let items = items
        .into_iter()
        .map(|item| {
            let history: Vec<SignOff> = signoffs
                .iter()
                .filter(|(key, _)| *key == item.key)
                .map(|(_, s)| s.clone())
                .collect();
            let active = history.iter().find(|s| s.withdrawn_at.is_none()).cloned();
            let open = status == ReleaseStatus::Open;
            let strong_enough =
                role.is_some_and(|r| r >= item.role && r.may(Action::SignChecklist));
            let is_signer = active.as_ref().is_some_and(|s| {
                s.signed_by.kind == actor.kind() && s.signed_by.name == actor.name()
            });
            ReleaseItem {
                may_sign: open && active.is_none() && strong_enough,
                may_withdraw: open && active.is_some() && (is_signer || role == Some(Role::Admin)),
                cannot_sign: (open && active.is_none() && !strong_enough)
                    .then(|| format!("Needs {} or above to sign.", item.role)),
                signed_by: active.as_ref().map(|s| s.signed_by.name.clone()),
                signed_at: active.as_ref().map(|s| s.signed_at),
                note: active.as_ref().map(|s| s.note.clone()),
                evidence_url: active.and_then(|s| s.evidence_url),
                history,
                item,
            }
        })
        .collect();
    let (total, signed, left) = counts(&row);
    Ok(Release {
        id: row.id,
        tier: row.tier()?,
        status,
        service: row.service,
        environment: row.environment,
        version: row.version,
        commit_sha: row.commit_sha,
        summary: row.summary,
        url: row.url,
        template_revision: row.template_revision,
        opened_by: Recorder {
            kind: row.opened_by_kind,
            name: row.opened_by,
        },
        opened_at: row.opened_at,
        ended_by: row.ended_by,
        ended_at: row.ended_at,
        end_reason: row.end_reason,
        items,
        signed,
        required_left: left,
        progress: describe_progress(signed, total, left),
        overrides,
    })
}

fn no_such_release(id: i64) -> AppError {
    AppError::NotFound(format!("There is no release {id}."))
}

/// The item `key` of release `id`, or a 404 naming it.
async fn item(db: &Database, id: i64, key: &str) -> Result<ChecklistItem, AppError> {
    store::items(db.reader(), id)
        .await?
        .into_iter()
        .find(|item| item.key == key)
        .ok_or_else(|| AppError::NotFound(format!("Release {id} has no item \"{key}\".")))
}

/// The refusal for changing a release that has ended.
fn ended(id: i64) -> AppError {
    AppError::Conflict(FieldError::new(
        "release",
        format!("Release {id} has ended: its checklist is read-only history."),
    ))
}

/// Signs item `key` of release `id`. A second signer of the same item, even at the same
/// moment, gets a 409 naming who signed first.
pub async fn sign(
    state: &AppState,
    caller: &Caller,
    id: i64,
    key: &str,
    input: &SignInput,
) -> Result<Release, AppError> {
    let principal = caller.authorize(Action::SignChecklist)?;
    let db = &state.db;
    let release = store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_release(id))?;
    let item = item(db, id, key).await?;
    if principal.role() < item.role {
        return Err(AppError::Forbidden {
            role: principal.role(),
            action: format!(
                "sign \"{}\", which needs {} or above",
                item.title, item.role
            ),
        });
    }
    let signoff = input.parse(item.evidence)?;
    let actor = caller.actor();
    let by = actor.recorder();
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    if store::is_open(&mut tx, id).await? != Some(true) {
        return Err(ended(id));
    }
    let row = store::NewSignOffRow {
        release_id: id,
        key,
        by: &by,
        note: &signoff.note,
        evidence_url: signoff.evidence_url.as_deref(),
        now,
    };
    let Some(signoff_id) = store::sign(&mut tx, &row).await? else {
        drop(tx);
        let first = store::active_signoff(db.reader(), id, key).await?;
        return Err(AppError::Conflict(FieldError::new(
            "item",
            match first {
                Some(first) => format!(
                    "{} signed \"{}\" already, at {}.",
                    first.signed_by.name, item.title, first.signed_at
                ),
                None => format!("\"{}\" was signed meanwhile; look again.", item.title),
            },
        )));
    };
    audit::created(
        &mut tx,
        caller,
        "release.item_signed",
        format!("release:{id}/{key}"),
        json!({ "signoff": signoff_id, "note": signoff.note, "evidence_url": signoff.evidence_url }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, release.environment_id, id);
    load(db, caller, id).await
}

/// Withdraws the sign-off of item `key` on release `id`: its signer or an admin, while the
/// release is open. The sign-off stays in the item's history.
pub async fn withdraw(
    state: &AppState,
    caller: &Caller,
    id: i64,
    key: &str,
) -> Result<Release, AppError> {
    let principal = caller.authorize(Action::SignChecklist)?;
    let db = &state.db;
    let release = store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_release(id))?;
    let item = item(db, id, key).await?;
    let active = store::active_signoff(db.reader(), id, key)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(FieldError::new(
                "item",
                format!(
                    "\"{}\" is not signed: there is nothing to withdraw.",
                    item.title
                ),
            ))
        })?;
    let actor = caller.actor();
    let is_signer = active.signed_by.kind == actor.kind() && active.signed_by.name == actor.name();
    if !is_signer && principal.role() != Role::Admin {
        return Err(AppError::Forbidden {
            role: principal.role(),
            action: format!(
                "withdraw {}'s sign-off (only its signer or an admin may)",
                active.signed_by.name
            ),
        });
    }
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    if store::is_open(&mut tx, id).await? != Some(true) {
        return Err(ended(id));
    }
    if !store::withdraw(&mut tx, active.id, actor.name(), now).await? {
        return Err(AppError::Conflict(FieldError::new(
            "item",
            format!(
                "The sign-off of \"{}\" was withdrawn meanwhile.",
                item.title
            ),
        )));
    }
    audit::change(
        &mut tx,
        caller,
        "release.item_withdrawn",
        format!("release:{id}/{key}"),
        Some(json!({ "signed_by": active.signed_by.name })),
        json!({ "withdrawn": true }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, release.environment_id, id);
    load(db, caller, id).await
}

/// Gives up release `id` with a reason (engineers and above).
pub async fn abandon(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: &AbandonInput,
) -> Result<Release, AppError> {
    caller.authorize(Action::ManageReleases)?;
    let reason = input.parse()?;
    let db = &state.db;
    let release = store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_release(id))?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    if !store::end(
        &mut tx,
        id,
        ReleaseStatus::Abandoned,
        caller.actor().name(),
        &reason,
        now,
    )
    .await?
    {
        return Err(ended(id));
    }
    audit::change(
        &mut tx,
        caller,
        "release.abandoned",
        format!("release:{id}"),
        Some(json!({ "status": "open" })),
        json!({ "status": "abandoned", "reason": reason }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, release.environment_id, id);
    load(db, caller, id).await
}

fn announce(state: &AppState, environment_id: i64, release_id: i64) {
    state.events.publish(Event::ReleaseChanged {
        environment_id,
        release_id,
    });
}

/// Why the gate stops `action` from putting `goes_live` in front of users in `environment`
/// now; `None`: it may run. The one place operations (and the buttons) ask.
pub async fn gate(
    db: &Database,
    environment: &Environment,
    action: OperationAction,
    goes_live: Option<&str>,
) -> Result<Option<String>, AppError> {
    if matches!(
        action,
        OperationAction::Rollback | OperationAction::CanaryAbort
    ) {
        return Ok(None);
    }
    let now = Timestamp::now();
    let freeze = store::freezes(db.reader(), environment.id)
        .await?
        .into_iter()
        .find_map(|(id, rule, reason, ..)| {
            rule.active_until(now).map(|ends_at| ActiveFreeze {
                id,
                window: rule.describe(),
                reason,
                ends_at,
            })
        });
    let release = match goes_live.filter(|_| environment.tier == Tier::Production) {
        Some(version) => match store::open_release(db.reader(), environment.id, version).await? {
            Some(id) => store::find(db.reader(), id).await?.map(|row| Readiness {
                release_id: id,
                version: version.to_owned(),
                unsigned_required: counts(&row).2,
            }),
            None => None,
        },
        None => None,
    };
    Ok(closed_because(&GateCheck {
        action,
        environment: &environment.name,
        tier: environment.tier,
        goes_live,
        release: release.as_ref(),
        freeze: freeze.as_ref(),
    }))
}

/// An environment's freeze windows, with whether each is in force now.
pub async fn freezes(
    db: &Database,
    caller: &Caller,
    service: &str,
    environment: &str,
) -> Result<Vec<FreezeWindow>, AppError> {
    caller.authorize(Action::Read)?;
    let environment = find_environment(db, service, environment).await?;
    freeze_windows(db, &environment).await
}

pub(crate) async fn freeze_windows(
    db: &Database,
    environment: &Environment,
) -> Result<Vec<FreezeWindow>, AppError> {
    let now = Timestamp::now();
    Ok(store::freezes(db.reader(), environment.id)
        .await?
        .into_iter()
        .map(|(id, rule, reason, created_by, created_at)| FreezeWindow {
            id,
            service: environment.service.clone(),
            environment: environment.name.clone(),
            window: rule.describe(),
            active_until: rule.active_until(now),
            rule,
            reason,
            created_by,
            created_at,
        })
        .collect())
}

/// Adds a freeze window (admins).
pub async fn add_freeze(
    state: &AppState,
    caller: &Caller,
    service: &str,
    environment: &str,
    input: &FreezeInput,
) -> Result<FreezeWindow, AppError> {
    caller.authorize(Action::ManageFreezes)?;
    let freeze = input.parse()?;
    let db = &state.db;
    let environment = find_environment(db, service, environment).await?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let by = caller.actor().name().to_owned();
    let id = store::insert_freeze(
        &mut tx,
        environment.id,
        &freeze.rule,
        &freeze.reason,
        &by,
        now,
    )
    .await?;
    audit::created(
        &mut tx,
        caller,
        "freeze.added",
        format!("environment:{}/{}", environment.service, environment.name),
        json!({ "freeze": id, "window": freeze.rule.describe(), "reason": freeze.reason }),
        now,
    )
    .await?;
    tx.commit().await?;
    freeze_windows(db, &environment)
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| AppError::NotFound(format!("Freeze window {id} is gone.")))
}

/// Removes freeze window `id` (admins).
pub async fn remove_freeze(
    state: &AppState,
    caller: &Caller,
    service: &str,
    environment: &str,
    id: i64,
) -> Result<(), AppError> {
    caller.authorize(Action::ManageFreezes)?;
    let db = &state.db;
    let environment = find_environment(db, service, environment).await?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let Some((_, reason)) = store::delete_freeze(&mut tx, environment.id, id).await? else {
        return Err(AppError::NotFound(format!(
            "{} has no freeze window {id}.",
            environment.name
        )));
    };
    audit::change(
        &mut tx,
        caller,
        "freeze.removed",
        format!("environment:{}/{}", environment.service, environment.name),
        Some(json!({ "freeze": id, "reason": reason })),
        json!({ "freeze": null }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
