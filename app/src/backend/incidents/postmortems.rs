//! Post-mortems and their action items: the write-up started from the template, saved with a
//! version so that two editors never overwrite each other silently, reviewed and published;
//! then the action items followed to done.

use serde_json::json;

use super::{announce, no_such_incident, owner_like, store};
use crate::{
    backend::{audit, AppState, Caller, Database},
    domain::{
        incidents::{
            action_items::{overdue, ActionItemInput, ActionItemPatch, ActionItemStatus},
            markdown,
            postmortem::{template, PostmortemInput, PostmortemStatus, TemplateFacts},
        },
        Action, FieldError, Timestamp,
    },
    error::AppError,
    model::{ActionItem, ActionItemFilter, Postmortem, PostmortemConflict},
};

/// How many action items a list shows.
pub const LIST_LIMIT: i64 = 500;

/// Today (UTC) as `YYYY-MM-DD`, the form due dates are stored in.
pub fn today(now: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(now.millis())
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default()
}

/// Incident `id`'s post-mortem: the saved one, or the template pre-filled from the incident
/// and its timeline (version 0, not saved).
pub async fn get(db: &Database, caller: &Caller, id: i64) -> Result<Postmortem, AppError> {
    caller.authorize(Action::Read)?;
    load(db, caller, id).await
}

async fn load(db: &Database, caller: &Caller, id: i64) -> Result<Postmortem, AppError> {
    let incident = store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_incident(id))?;
    let may_write = caller
        .principal
        .as_ref()
        .is_some_and(|p| p.role().may(Action::WriteIncidents));
    let items = action_items(
        db,
        caller,
        &ActionItemFilter {
            incident_id: Some(id),
            ..Default::default()
        },
    )
    .await?;
    let saved = store::postmortem(db.reader(), id).await?;
    let Some(saved) = saved else {
        let entries = store::entries(db.reader(), id).await?;
        let facts = TemplateFacts {
            title: &incident.title,
            service: &incident.service,
            environment: &incident.environment,
            severity: &incident.severity,
            started_at: incident.started_at.to_string(),
            detected_at: incident.detected_at.to_string(),
            resolved_at: incident.resolved_at.map(|t| t.to_string()),
            timeline: entries
                .iter()
                .map(|e| format!("{}: {} ({})", e.at, e.text, e.author))
                .collect(),
        };
        let markdown = template(&facts);
        return Ok(Postmortem {
            incident_id: id,
            title: format!("Post-mortem: {}", incident.title),
            incident_title: incident.title,
            html: markdown::render(&markdown),
            markdown,
            version: 0,
            status: PostmortemStatus::Draft,
            updated_by: None,
            updated_at: None,
            published_at: None,
            saved: false,
            may_edit: may_write,
            next_statuses: Vec::new(),
            action_items: items,
        });
    };
    let status = saved.status()?;
    Ok(Postmortem {
        incident_id: id,
        incident_title: incident.title,
        title: saved.title,
        markdown: saved.markdown,
        html: saved.html,
        version: saved.version,
        status,
        updated_by: Some(saved.updated_by),
        updated_at: Some(saved.updated_at),
        published_at: saved.published_at,
        saved: true,
        may_edit: may_write && status != PostmortemStatus::Published,
        next_statuses: if may_write {
            status
                .next()
                .into_iter()
                .map(|to| (to, to.verb().to_owned()))
                .collect()
        } else {
            Vec::new()
        },
        action_items: items,
    })
}

/// The sanitized HTML of `markdown`, for the editor's preview (engineers and above).
pub fn preview(caller: &Caller, markdown: &str) -> Result<String, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let checked = PostmortemInput {
        markdown: markdown.to_owned(),
        base_version: 0,
        title: None,
    }
    .parse()?;
    Ok(markdown::render(&checked.markdown))
}

/// Saves the post-mortem over `base_version`. A save from a stale version is refused with
/// 409 and the text saved meanwhile, to merge by hand.
pub async fn save(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: &PostmortemInput,
) -> Result<Postmortem, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let save = input.parse()?;
    let db = &state.db;
    let incident = store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_incident(id))?;
    let now = Timestamp::now();
    let by = caller.actor();
    let html = markdown::render(&save.markdown);
    let mut tx = db.begin().await?;
    let current = store::postmortem_in(&mut tx, id).await?;
    if let Some(current) = &current {
        if current.status()? == PostmortemStatus::Published {
            return Err(AppError::Conflict(FieldError::new(
                "status",
                "The post-mortem is published and read-only; only its action items' status may change.",
            )));
        }
    }
    let title = save
        .title
        .clone()
        .or_else(|| current.as_ref().map(|c| c.title.clone()))
        .unwrap_or_else(|| format!("Post-mortem: {}", incident.title));
    let row = store::Save {
        incident_id: id,
        title: &title,
        markdown: &save.markdown,
        html: &html,
        by: by.name(),
        now,
    };
    let Some(version) = store::save_postmortem(&mut tx, &row, save.base_version).await? else {
        drop(tx);
        return Err(stale(db, id, save.base_version).await);
    };
    audit::change(
        &mut tx,
        caller,
        "postmortem.saved",
        format!("incident:{id}/postmortem"),
        Some(json!({ "version": save.base_version })),
        json!({ "version": version, "bytes": save.markdown.len() }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, incident.environment_id, id);
    load(db, caller, id).await
}

/// The refusal for a save from `base`: the version saved meanwhile, with its text.
async fn stale(db: &Database, id: i64, base: i64) -> AppError {
    match store::postmortem(db.reader(), id).await {
        Ok(Some(current)) => AppError::EditConflict(Box::new(PostmortemConflict {
            version: current.version,
            markdown: current.markdown,
            updated_by: current.updated_by,
            updated_at: current.updated_at,
        })),
        Ok(None) => AppError::Conflict(FieldError::new(
            "base_version",
            format!(
                "There is no saved version {base} yet: send base_version 0 for the first save."
            ),
        )),
        Err(e) => AppError::from(e),
    }
}

/// Moves the post-mortem to `status` (`in_review`, `published`, or back to `draft`).
pub async fn set_status(
    state: &AppState,
    caller: &Caller,
    id: i64,
    status: &str,
) -> Result<Postmortem, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let to = PostmortemStatus::parse("status", status)?;
    let db = &state.db;
    let incident = store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_incident(id))?;
    let current = store::postmortem(db.reader(), id).await?.ok_or_else(|| {
        AppError::Conflict(FieldError::new(
            "status",
            "Save the post-mortem first: there is nothing to review yet.",
        ))
    })?;
    let from = current.status()?;
    if !from.may_become(to) {
        let next: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
        return Err(AppError::Invalid(FieldError::new(
            "status",
            if next.is_empty() {
                format!("A {from} post-mortem stays {from}.")
            } else {
                format!(
                    "A post-mortem cannot go from {from} to {to}; it may go to {}.",
                    crate::domain::words::or_list(&next)
                )
            },
        )));
    }
    let now = Timestamp::now();
    let by = caller.actor();
    let mut tx = db.begin().await?;
    if !store::set_postmortem_status(&mut tx, id, from, to, by.name(), now).await? {
        return Err(AppError::Conflict(FieldError::new(
            "status",
            "The post-mortem changed meanwhile; look again.",
        )));
    }
    let entry = store::NewEntry {
        incident_id: id,
        at: now,
        kind: crate::model::TimelineKind::Postmortem.as_str(),
        author: &by.recorder(),
        text: &format!("Post-mortem {from} → {to}."),
        operation_id: None,
        action: None,
        source: None,
    };
    store::add_entry(&mut tx, &entry).await?;
    audit::change(
        &mut tx,
        caller,
        "postmortem.status_changed",
        format!("incident:{id}/postmortem"),
        Some(json!({ "status": from })),
        json!({ "status": to }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, incident.environment_id, id);
    load(db, caller, id).await
}

/// Action items matching `filter`, overdue first. `owner: "me"` is the caller.
pub async fn action_items(
    db: &Database,
    caller: &Caller,
    filter: &ActionItemFilter,
) -> Result<Vec<ActionItem>, AppError> {
    caller.authorize(Action::Read)?;
    let status = filter.status.clone().filter(|s| !s.trim().is_empty());
    if let Some(status) = &status {
        ActionItemStatus::parse("status", status)?;
    }
    let owner = filter
        .owner
        .clone()
        .filter(|s| !s.trim().is_empty())
        .map(|owner| {
            if owner == "me" {
                caller.actor().name().to_owned()
            } else {
                owner
            }
        });
    let now = Timestamp::now();
    let today = today(now);
    let query = store::ActionItemFilter {
        status,
        owner,
        incident_id: filter.incident_id,
        due_before: filter.overdue.unwrap_or(false).then(|| today.clone()),
    };
    store::action_items(db.reader(), &query, &today, LIST_LIMIT)
        .await?
        .into_iter()
        .map(|row| item(row, now))
        .collect()
}

fn item(row: store::ActionItemRow, now: Timestamp) -> Result<ActionItem, AppError> {
    let status = crate::backend::storage::stored(ActionItemStatus::parse("status", &row.status))?;
    let due = chrono::NaiveDate::parse_from_str(&row.due, "%Y-%m-%d")
        .map_err(|e| crate::backend::StorageError::Corrupt(e.to_string()))?;
    Ok(ActionItem {
        id: row.id,
        incident_id: row.incident_id,
        incident_title: row.incident_title,
        title: row.title,
        owner: row.owner,
        due: row.due,
        overdue: overdue(status, due, now),
        status,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Adds an action item to incident `input.incident_id`'s post-mortem.
pub async fn add_action_item(
    state: &AppState,
    caller: &Caller,
    input: &ActionItemInput,
) -> Result<ActionItem, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let fields = input.parse()?;
    let db = &state.db;
    let incident = store::find(db.reader(), input.incident_id)
        .await?
        .ok_or_else(|| {
            FieldError::new(
                "incident_id",
                format!("There is no incident {}.", input.incident_id),
            )
        })?;
    let (Some(title), Some(owner), Some(due)) = (fields.title, fields.owner, fields.due) else {
        return Err(FieldError::new("title", "Give a title, an owner and a due date.").into());
    };
    if published(db, incident.id).await? {
        return Err(AppError::Conflict(FieldError::new(
            "incident_id",
            "The post-mortem is published: its action items are settled, and only their status may change.",
        )));
    }
    let owner = owner_like(db, "owner", &owner).await?;
    let now = Timestamp::now();
    let by = caller.actor();
    let due = due.to_string();
    let mut tx = db.begin().await?;
    let new = store::NewActionItem {
        incident_id: incident.id,
        title: &title,
        owner: &owner,
        due: &due,
        by: by.name(),
        now,
    };
    let id = store::insert_action_item(&mut tx, &new).await?;
    audit::created(
        &mut tx,
        caller,
        "action_item.created",
        format!("action_item:{id}"),
        json!({ "incident": incident.id, "title": title, "owner": owner, "due": due }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, incident.environment_id, incident.id);
    find_item(db, id).await
}

/// Whether incident `id`'s post-mortem is published.
async fn published(db: &Database, id: i64) -> Result<bool, AppError> {
    Ok(store::postmortem(db.reader(), id)
        .await?
        .is_some_and(|p| p.status == PostmortemStatus::Published.as_str()))
}

async fn find_item(db: &Database, id: i64) -> Result<ActionItem, AppError> {
    let row = store::action_item(db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no action item {id}.")))?;
    item(row, Timestamp::now())
}

/// Changes an action item. Once its post-mortem is published, only the status may change.
pub async fn update_action_item(
    state: &AppState,
    caller: &Caller,
    id: i64,
    patch: &ActionItemPatch,
) -> Result<ActionItem, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let fields = patch.parse()?;
    let db = &state.db;
    let before = store::action_item(db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no action item {id}.")))?;
    if fields.edits_more_than_status() && published(db, before.incident_id).await? {
        return Err(AppError::Conflict(FieldError::new(
            "action_item",
            "The post-mortem is published: only an action item's status may change now.",
        )));
    }
    let owner = match &fields.owner {
        Some(owner) => Some(owner_like(db, "owner", owner).await?),
        None => None,
    };
    let mut after = before.clone();
    if let Some(title) = fields.title {
        after.title = title;
    }
    if let Some(owner) = owner {
        after.owner = owner;
    }
    if let Some(due) = fields.due {
        after.due = due.to_string();
    }
    if let Some(status) = fields.status {
        after.status = status.as_str().to_owned();
    }
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    store::update_action_item(&mut tx, &after, now).await?;
    audit::change(
        &mut tx,
        caller,
        "action_item.changed",
        format!("action_item:{id}"),
        Some(json!({ "title": before.title, "owner": before.owner, "due": before.due, "status": before.status })),
        json!({ "title": after.title, "owner": after.owner, "due": after.due, "status": after.status }),
        now,
    )
    .await?;
    tx.commit().await?;
    if let Some(incident) = store::find(db.reader(), before.incident_id).await? {
        announce(state, incident.environment_id, incident.id);
    }
    find_item(db, id).await
}
