//! Incidents: declaring (or importing) them, moving them through their lifecycle, their
//! timeline, their links to deployments, the response checklists, and the rollback pressed
//! from the incident page. Post-mortems and action items are in [`postmortems`]; the entries
//! Switchyard writes itself when operations run are in [`timeline`].

pub mod postmortems;
pub mod store;
pub mod timeline;

use futures_util::{stream, Stream, StreamExt};
use serde_json::json;

use super::{
    audit, catalog,
    events::Event,
    operations, releases,
    storage::{stored, Tx},
    AppState, Caller, Database,
};
use crate::{
    domain::{
        csv,
        incidents::{
            describe_rto, suggested, Change, IncidentInput, IncidentPatch, IncidentStatus,
            LinkInput, LinkKind, TimelineInput, SUGGESTION_WINDOW,
        },
        operations::{OperationAction, OperationInput},
        releases::checklist::TemplateKind,
        time::{describe_age, describe_duration},
        Action, FieldError, Timestamp, Username,
    },
    error::AppError,
    model::{
        Attention, ChecklistStep, Incident, IncidentChecklist, IncidentFilter, IncidentLink,
        IncidentSummary, Operation, RecentDeployment, Recorder, SuggestedDeployment, TimelineEntry,
        TimelineKind,
    },
};

/// How many incidents a list shows.
pub const LIST_LIMIT: i64 = 200;

/// Declares an incident, or imports a past one whole (engineers and above).
pub async fn declare(
    state: &AppState,
    caller: &Caller,
    input: &IncidentInput,
) -> Result<Incident, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let now = Timestamp::now();
    let new = input.parse(now)?;
    let db = &state.db;
    let environment =
        catalog::find_environment(db, new.service.as_str(), new.environment.as_str()).await?;
    let service = catalog::find_service(db, &environment.service).await?;
    let actor = caller.actor();
    let commander = match &new.commander {
        Some(name) => commander(db, name).await?,
        None => actor.name().to_owned(),
    };
    let declared_by = actor.recorder();
    let row = store::NewRow {
        service_id: service.id,
        environment_id: environment.id,
        title: &new.title,
        severity: new.severity,
        status: new.status,
        commander: &commander,
        description: &new.description,
        declared_by: &declared_by,
        started_at: new.times.started_at,
        detected_at: new.times.detected_at,
        resolved_at: new.times.resolved_at,
        now,
    };
    let mut tx = db.begin().await?;
    let id = store::insert(&mut tx, &row).await?;
    let imported = new.status == IncidentStatus::Resolved;
    let text = if imported {
        format!(
            "Imported as resolved by {}: {} {}, commander {commander}.",
            actor.name(),
            new.severity,
            new.title
        )
    } else {
        format!(
            "Declared by {}: {} {}, commander {commander}.",
            actor.name(),
            new.severity,
            new.title
        )
    };
    let entry = store::NewEntry {
        incident_id: id,
        at: if imported { new.times.started_at } else { now },
        kind: TimelineKind::Declared.as_str(),
        author: &declared_by,
        text: &text,
        operation_id: None,
        action: None,
        source: Some("declared"),
    };
    store::add_entry(&mut tx, &entry).await?;
    if !new.causes.is_empty() {
        let incident = store::find_in(&mut tx, id)
            .await?
            .ok_or_else(|| no_such_incident(id))?;
        for cause in &new.causes {
            link_in(&mut tx, caller, &incident, *cause, LinkKind::Cause, db).await?;
        }
    }
    audit::created(
        &mut tx,
        caller,
        "incident.declared",
        format!("incident:{id}"),
        json!({
            "service": environment.service,
            "environment": environment.name,
            "severity": new.severity,
            "status": new.status,
            "commander": commander,
            "started_at": new.times.started_at,
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, environment.id, id);
    load(db, caller, id).await
}

/// The commander's username, checked to be an active user.
async fn commander(db: &Database, name: &Username) -> Result<String, AppError> {
    owner_like(db, "commander", name).await
}

/// `name` if it names an active user; otherwise a refusal naming `field`.
pub(crate) async fn owner_like(
    db: &Database,
    field: &str,
    name: &Username,
) -> Result<String, AppError> {
    match store::user_active(db.reader(), name.as_str()).await? {
        Some(true) => Ok(name.as_str().to_owned()),
        Some(false) => Err(FieldError::new(
            field,
            format!("{name} is deactivated; choose someone who can act on it."),
        )
        .into()),
        None => Err(FieldError::new(
            field,
            format!("There is no user {name}; choose one from Admin → Users."),
        )
        .into()),
    }
}

/// Incidents matching `filter`.
pub async fn list(
    db: &Database,
    caller: &Caller,
    filter: &IncidentFilter,
) -> Result<Vec<IncidentSummary>, AppError> {
    caller.authorize(Action::Read)?;
    let filter = selection(filter)?;
    let now = Timestamp::now();
    store::list(db.reader(), &filter, LIST_LIMIT)
        .await?
        .iter()
        .map(|row| summary(row, now))
        .collect()
}

/// Every incident matching `filter`, newest first, as CSV: the header, then one chunk per
/// page of [`LIST_LIMIT`] rows, each read when the client has taken the one before, so a
/// large history never sits in memory. The filter is checked before the first byte.
pub async fn export(
    db: &Database,
    caller: &Caller,
    filter: &IncidentFilter,
) -> Result<impl Stream<Item = Result<String, AppError>> + Send + 'static, AppError> {
    caller.authorize(Action::Read)?;
    let filter = selection(filter)?;
    let db = db.clone();
    let now = Timestamp::now();
    let header = stream::iter([Ok(csv::INCIDENT_HEADER.to_owned())]);
    // The state is the page still to read (`Some(before)`: below that id, or from the top),
    // or `None` once a short page has said there is no more.
    let pages = stream::try_unfold(Some(None), move |before: Option<Option<i64>>| {
        let (db, filter) = (db.clone(), filter.clone());
        async move {
            let Some(before) = before else {
                return Ok(None);
            };
            let rows = store::page(db.reader(), &filter, before, LIST_LIMIT).await?;
            let mut chunk = String::new();
            for row in &rows {
                chunk.push_str(&csv::incident_line(&summary(row, now)?));
            }
            let full = rows.len() as i64 == LIST_LIMIT;
            let next = rows.last().filter(|_| full).map(|last| Some(last.id));
            Ok::<_, AppError>(Some((chunk, next)))
        }
    });
    Ok(header.chain(pages))
}

/// The store's filter for `filter`, each field checked.
fn selection(filter: &IncidentFilter) -> Result<store::Filter, AppError> {
    let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let status = given(&filter.status);
    if let Some(status) = status.as_deref().filter(|s| *s != "open") {
        IncidentStatus::parse("status", status)?;
    }
    let severity = given(&filter.severity);
    if let Some(severity) = &severity {
        crate::domain::incidents::Severity::parse("severity", severity)?;
    }
    let day_or_time = |field: &str, text: &Option<String>, whole_day: bool| {
        given(text)
            .map(|t| Timestamp::parse_day_or_time(field, &t, whole_day))
            .transpose()
    };
    crate::check_fields! {
        from = day_or_time("from", &filter.from, false),
        to = day_or_time("to", &filter.to, true),
        resolved_from = day_or_time("resolved_from", &filter.resolved_from, false),
        resolved_to = day_or_time("resolved_to", &filter.resolved_to, true),
        tier = given(&filter.tier)
            .map(|t| crate::domain::catalog::Tier::parse("tier", &t).map(|t| t.as_str().to_owned()))
            .transpose(),
    }
    Ok(store::Filter {
        status,
        severity,
        service: given(&filter.service),
        environment: given(&filter.environment),
        from,
        to,
        resolved_from,
        resolved_to,
        tier,
        postmortem_due: filter.postmortem_due.unwrap_or(false),
    })
}

/// An incident's line in a list.
fn summary(row: &store::Row, now: Timestamp) -> Result<IncidentSummary, AppError> {
    let severity = row.severity()?;
    let status = row.status()?;
    let postmortem_status = row.postmortem_status()?;
    Ok(IncidentSummary {
        id: row.id,
        title: row.title.clone(),
        service: row.service.clone(),
        environment: row.environment.clone(),
        severity,
        status,
        commander: row.commander.clone(),
        started_at: row.started_at,
        resolved_at: row.resolved_at,
        postmortem_due: postmortem_due(severity, status, postmortem_status),
        postmortem_status,
        duration: match row.resolved_at {
            Some(resolved) => format!(
                "resolved in {}",
                describe_duration(resolved.since(row.started_at))
            ),
            None => format!("open for {}", describe_duration(now.since(row.started_at))),
        },
    })
}

fn postmortem_due(
    severity: crate::domain::incidents::Severity,
    status: IncidentStatus,
    postmortem: Option<crate::domain::incidents::postmortem::PostmortemStatus>,
) -> bool {
    use crate::domain::incidents::postmortem::PostmortemStatus;
    status == IncidentStatus::Resolved
        && severity.needs_postmortem()
        && postmortem != Some(PostmortemStatus::Published)
}

/// One incident, with what `caller` may do.
pub async fn get(db: &Database, caller: &Caller, id: i64) -> Result<Incident, AppError> {
    caller.authorize(Action::Read)?;
    load(db, caller, id).await
}

async fn find(db: &Database, id: i64) -> Result<store::Row, AppError> {
    store::find(db.reader(), id)
        .await?
        .ok_or_else(|| no_such_incident(id))
}

pub(crate) fn no_such_incident(id: i64) -> AppError {
    AppError::NotFound(format!("There is no incident {id}."))
}

async fn load(db: &Database, caller: &Caller, id: i64) -> Result<Incident, AppError> {
    let row = find(db, id).await?;
    let now = Timestamp::now();
    let severity = row.severity()?;
    let status = row.status()?;
    let postmortem_status = row.postmortem_status()?;
    let actor = caller.actor();
    let may_write = caller
        .principal
        .as_ref()
        .is_some_and(|p| p.role().may(Action::WriteIncidents));
    let edits = store::edits(db.reader(), id).await?;
    let timeline = store::entries(db.reader(), id)
        .await?
        .into_iter()
        .map(|e| {
            let kind = stored(TimelineKind::parse("kind", &e.kind))?;
            let action = e
                .action
                .as_deref()
                .map(|a| stored(OperationAction::parse("action", a)))
                .transpose()?;
            Ok(TimelineEntry {
                may_edit: may_write
                    && kind == TimelineKind::Note
                    && e.author_kind == actor.kind()
                    && e.author == actor.name(),
                edits: edits
                    .iter()
                    .filter(|(entry, ..)| *entry == e.id)
                    .map(|(_, text, at)| (text.clone(), *at))
                    .collect(),
                id: e.id,
                at: e.at,
                kind,
                author: Recorder {
                    kind: e.author_kind,
                    name: e.author,
                },
                text: e.text,
                operation_id: e.operation_id,
                action,
                edited_at: e.edited_at,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let links = store::links(db.reader(), id)
        .await?
        .into_iter()
        .map(|l| {
            Ok(IncidentLink {
                deployment_id: l.deployment_id,
                kind: stored(LinkKind::parse("kind", &l.kind))?,
                version: l.version,
                is_rollback: l.is_rollback,
                finished_at: l.finished_at,
                shipped_by: l.recorded_by,
                linked_by: l.linked_by,
                linked_at: l.linked_at,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let suggestions = suggestions(db, &row, &links).await?;
    let rolled_back = timeline
        .iter()
        .any(|e| e.action == Some(OperationAction::Rollback));
    let checklists = checklists(db, &row, rolled_back).await?;
    let elapsed = row.resolved_at.unwrap_or(now).since(row.started_at);
    let resolved = status == IncidentStatus::Resolved;
    Ok(Incident {
        id: row.id,
        title: row.title,
        service: row.service,
        environment: row.environment,
        severity,
        severity_meaning: severity.meaning().to_owned(),
        status,
        commander: row.commander,
        description: row.description,
        declared_by: Recorder {
            kind: row.declared_by_kind,
            name: row.declared_by,
        },
        started_at: row.started_at,
        detected_at: row.detected_at,
        resolved_at: row.resolved_at,
        rto: describe_rto(elapsed, severity, resolved),
        past_rto: elapsed > severity.rto(),
        postmortem_due: postmortem_due(severity, status, postmortem_status),
        postmortem_status,
        timeline,
        links,
        suggestions,
        checklists,
        next_statuses: if may_write {
            status
                .next()
                .into_iter()
                .map(|to| (to, to.verb(status).to_owned()))
                .collect()
        } else {
            Vec::new()
        },
        may_write,
    })
}

/// Deployments that finished in the incident's environment in the 24 hours before it
/// started, newest first, with how each is linked already.
async fn suggestions(
    db: &Database,
    row: &store::Row,
    links: &[IncidentLink],
) -> Result<Vec<SuggestedDeployment>, AppError> {
    let from = row.started_at.minus(SUGGESTION_WINDOW);
    Ok(
        store::finished_between(db.reader(), row.environment_id, from, row.started_at)
            .await?
            .into_iter()
            .filter_map(|d| {
                let finished_at = d.finished_at?;
                suggested(finished_at, row.started_at).then(|| SuggestedDeployment {
                    linked_as: links
                        .iter()
                        .find(|l| l.deployment_id == d.id)
                        .map(|l| l.kind),
                    before_start: describe_age(finished_at, row.started_at)
                        .replace(" ago", " before the start"),
                    deployment_id: d.id,
                    version: d.version,
                    status: d.status,
                    is_rollback: d.is_rollback,
                    finished_at,
                    shipped_by: d.recorded_by,
                })
            })
            .collect(),
    )
}

/// Deployments that finished anywhere in the last 24 hours: the likely causes the declare
/// form offers before an environment is even chosen.
pub async fn recent_deployments(
    db: &Database,
    caller: &Caller,
) -> Result<Vec<RecentDeployment>, AppError> {
    caller.authorize(Action::Read)?;
    let now = Timestamp::now();
    Ok(
        store::finished_since(db.reader(), now.minus(SUGGESTION_WINDOW))
            .await?
            .into_iter()
            .map(|d| RecentDeployment {
                deployment_id: d.id,
                service: d.service,
                environment: d.environment,
                version: d.version,
                status: d.status,
                shipped_by: d.recorded_by,
                age: describe_age(d.finished_at, now),
            })
            .collect(),
    )
}

/// The deployments suggested as causes of incident `id`.
pub async fn suggested_causes(
    db: &Database,
    caller: &Caller,
    id: i64,
) -> Result<Vec<SuggestedDeployment>, AppError> {
    caller.authorize(Action::Read)?;
    let row = find(db, id).await?;
    let links = load(db, caller, id).await?.links;
    suggestions(db, &row, &links).await
}

/// The incident-response steps, and the rollback steps once a rollback ran, each ticked or
/// not, from the service's templates.
async fn checklists(
    db: &Database,
    row: &store::Row,
    rolled_back: bool,
) -> Result<Vec<IncidentChecklist>, AppError> {
    let checks = store::checks(db.reader(), row.id).await?;
    let mut kinds = vec![(TemplateKind::Incident, "Incident response")];
    if rolled_back {
        kinds.push((TemplateKind::Rollback, "Rollback procedure"));
    }
    let mut lists = Vec::new();
    for (kind, title) in kinds {
        let template = releases::current_template(db, row.service_id, &row.service, kind).await?;
        let steps = template
            .template
            .items
            .into_iter()
            .map(|item| {
                let done = checks
                    .iter()
                    .find(|(k, key, ..)| k == kind.as_str() && *key == item.key);
                ChecklistStep {
                    done_by: done.map(|(_, _, by, _)| by.clone()),
                    done_at: done.map(|(.., at)| *at),
                    key: item.key,
                    title: item.title,
                    description: item.description,
                }
            })
            .collect();
        lists.push(IncidentChecklist {
            kind: kind.as_str().to_owned(),
            title: title.to_owned(),
            steps,
        });
    }
    Ok(lists)
}

/// Changes an incident's title, severity, status, commander, description or detection time
/// (engineers and above); each change lands in the timeline.
pub async fn change(
    state: &AppState,
    caller: &Caller,
    id: i64,
    patch: &IncidentPatch,
) -> Result<Incident, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let change = patch.parse()?;
    let db = &state.db;
    let commander = match &change.commander {
        Some(name) => Some(commander(db, name).await?),
        None => None,
    };
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let before = store::find_in(&mut tx, id)
        .await?
        .ok_or_else(|| no_such_incident(id))?;
    let (after, lines) = apply(&before, &change, commander, now)?;
    if lines.is_empty() {
        return Err(FieldError::new(
            "incident",
            "That is how the incident stands already: nothing changed.",
        )
        .into());
    }
    store::update(&mut tx, &after).await?;
    let by = caller.actor().recorder();
    for (kind, text) in &lines {
        let entry = store::NewEntry {
            incident_id: id,
            at: now,
            kind: kind.as_str(),
            author: &by,
            text,
            operation_id: None,
            action: None,
            source: None,
        };
        store::add_entry(&mut tx, &entry).await?;
    }
    audit::change(
        &mut tx,
        caller,
        "incident.changed",
        format!("incident:{id}"),
        Some(json!({
            "title": before.title, "severity": before.severity, "status": before.status,
            "commander": before.commander, "detected_at": before.detected_at,
        })),
        json!({
            "title": after.title, "severity": after.severity, "status": after.status,
            "commander": after.commander, "detected_at": after.detected_at,
            "resolved_at": after.resolved_at,
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, before.environment_id, id);
    load(db, caller, id).await
}

/// The incident after `change`, and the timeline lines that say what changed; refuses an
/// illegal move or inconsistent times.
fn apply(
    before: &store::Row,
    change: &Change,
    commander: Option<String>,
    now: Timestamp,
) -> Result<(store::Row, Vec<(TimelineKind, String)>), AppError> {
    let mut after = before.clone();
    let mut lines = Vec::new();
    if let Some(title) = change.title.as_ref().filter(|t| **t != before.title) {
        lines.push((TimelineKind::Note, format!("Title changed to \"{title}\".")));
        after.title = title.clone();
    }
    if let Some(severity) = change.severity {
        if severity.as_str() != before.severity {
            lines.push((
                TimelineKind::Severity,
                format!("Severity {} → {severity}.", before.severity),
            ));
            after.severity = severity.as_str().to_owned();
        }
    }
    if let Some(commander) = commander.filter(|c| *c != before.commander) {
        lines.push((
            TimelineKind::Commander,
            format!("Commander {} → {commander}.", before.commander),
        ));
        after.commander = commander;
    }
    if let Some(description) = change
        .description
        .as_ref()
        .filter(|d| **d != before.description)
    {
        lines.push((TimelineKind::Note, "Description updated.".to_owned()));
        after.description = description.clone();
    }
    if let Some(detected_at) = change.detected_at.filter(|d| *d != before.detected_at) {
        lines.push((
            TimelineKind::Note,
            format!("Detection time set to {detected_at}."),
        ));
        after.detected_at = detected_at;
    }
    let from = before.status()?;
    if let Some(to) = change.status.filter(|to| *to != from) {
        if !from.may_become(to) {
            return Err(from.refuse(to).into());
        }
        after.status = to.as_str().to_owned();
        after.resolved_at =
            (to == IncidentStatus::Resolved).then(|| change.resolved_at.unwrap_or(now));
        let text = match to {
            IncidentStatus::Resolved => format!(
                "Resolved at {}, {} after it started.",
                after.resolved_at.unwrap_or(now),
                describe_duration(after.resolved_at.unwrap_or(now).since(before.started_at))
            ),
            _ if from == IncidentStatus::Resolved => "Reopened: investigating again.".to_owned(),
            _ => format!("Status {from} → {to}."),
        };
        lines.push((TimelineKind::Status, text));
    } else if change.resolved_at.is_some() {
        return Err(FieldError::new(
            "resolved_at",
            "The incident is resolved already; its resolution time is kept as it was.",
        )
        .into());
    }
    crate::domain::incidents::IncidentTimes {
        started_at: after.started_at,
        detected_at: after.detected_at,
        resolved_at: after.resolved_at,
    }
    .check(now)?;
    Ok((after, lines))
}

/// Adds a person's note to the timeline (engineers and above).
pub async fn add_note(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: &TimelineInput,
) -> Result<Incident, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let now = Timestamp::now();
    let (text, at) = input.parse(now)?;
    let db = &state.db;
    let incident = find(db, id).await?;
    let by = caller.actor().recorder();
    let mut tx = db.begin().await?;
    let entry = store::NewEntry {
        incident_id: id,
        at,
        kind: TimelineKind::Note.as_str(),
        author: &by,
        text: &text,
        operation_id: None,
        action: None,
        source: None,
    };
    let entry_id = store::add_entry(&mut tx, &entry).await?;
    audit::created(
        &mut tx,
        caller,
        "incident.note_added",
        format!("incident:{id}"),
        json!({ "entry": entry_id, "at": at }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, incident.environment_id, id);
    load(db, caller, id).await
}

/// Replaces the text of a note; only its author may, and the earlier text is kept.
pub async fn edit_note(
    state: &AppState,
    caller: &Caller,
    id: i64,
    entry_id: i64,
    text: &str,
) -> Result<Incident, AppError> {
    let principal = caller.authorize(Action::WriteIncidents)?;
    let text = crate::domain::incidents::entry_text(text)?;
    let db = &state.db;
    let entry = store::entry(db.reader(), entry_id)
        .await?
        .filter(|e| e.incident_id == id)
        .ok_or_else(|| {
            AppError::NotFound(format!("Incident {id} has no timeline entry {entry_id}."))
        })?;
    let actor = caller.actor();
    if entry.kind != TimelineKind::Note.as_str()
        || entry.author_kind != actor.kind()
        || entry.author != actor.name()
    {
        return Err(AppError::Forbidden {
            role: principal.role(),
            action: format!(
                "edit {}'s entry (only a note's author may edit it)",
                entry.author
            ),
        });
    }
    let incident = find(db, id).await?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    store::edit_entry(&mut tx, entry_id, &entry.text, &text, now).await?;
    audit::change(
        &mut tx,
        caller,
        "incident.note_edited",
        format!("incident:{id}/{entry_id}"),
        Some(json!({ "text": entry.text })),
        json!({ "text": text }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, incident.environment_id, id);
    load(db, caller, id).await
}

/// Links a deployment of the incident's service and environment as its cause or fix.
pub async fn link(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: &LinkInput,
) -> Result<Incident, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let (deployment_id, kind) = input.parse()?;
    let db = &state.db;
    let incident = find(db, id).await?;
    let mut tx = db.begin().await?;
    link_in(&mut tx, caller, &incident, deployment_id, kind, db).await?;
    tx.commit().await?;
    announce(state, incident.environment_id, id);
    load(db, caller, id).await
}

/// [`link`] inside `tx`: checks the deployment, writes the link, its timeline line and its
/// audit entry.
async fn link_in(
    tx: &mut Tx,
    caller: &Caller,
    incident: &store::Row,
    deployment_id: i64,
    kind: LinkKind,
    db: &Database,
) -> Result<(), AppError> {
    let deployment = store::deployment(db.reader(), deployment_id)
        .await?
        .ok_or_else(|| {
            FieldError::new(
                "deployment_id",
                format!("There is no deployment {deployment_id}."),
            )
        })?;
    if deployment.service_id != incident.service_id
        || deployment.environment_id != incident.environment_id
    {
        return Err(FieldError::new(
            "deployment_id",
            format!(
                "Deployment {deployment_id} is not in {}/{}: link deployments of the incident's own service and environment.",
                incident.service, incident.environment
            ),
        )
        .into());
    }
    let now = Timestamp::now();
    let by = caller.actor();
    if !store::add_link(
        tx,
        incident.id,
        deployment_id,
        kind.as_str(),
        by.name(),
        now,
    )
    .await?
    {
        return Err(AppError::Conflict(FieldError::new(
            "deployment_id",
            format!("Deployment {deployment_id} is linked as a {kind} of this incident already."),
        )));
    }
    let text = format!(
        "{} linked deployment {deployment_id} ({}) as a {kind}.",
        by.name(),
        deployment.version
    );
    timeline_line(
        tx,
        incident.id,
        TimelineKind::Link,
        &by.recorder(),
        &text,
        now,
    )
    .await?;
    audit::created(
        tx,
        caller,
        "incident.linked",
        format!("incident:{}", incident.id),
        json!({ "deployment": deployment_id, "kind": kind }),
        now,
    )
    .await?;
    Ok(())
}

/// Removes a link.
pub async fn unlink(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: &LinkInput,
) -> Result<Incident, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let (deployment_id, kind) = input.parse()?;
    let db = &state.db;
    let incident = find(db, id).await?;
    let now = Timestamp::now();
    let by = caller.actor();
    let mut tx = db.begin().await?;
    if !store::remove_link(&mut tx, id, deployment_id, kind.as_str()).await? {
        return Err(AppError::NotFound(format!(
            "Deployment {deployment_id} is not linked as a {kind} of incident {id}."
        )));
    }
    let text = format!(
        "{} removed deployment {deployment_id} as a {kind}.",
        by.name()
    );
    timeline_line(&mut tx, id, TimelineKind::Link, &by.recorder(), &text, now).await?;
    audit::change(
        &mut tx,
        caller,
        "incident.unlinked",
        format!("incident:{id}"),
        Some(json!({ "deployment": deployment_id, "kind": kind })),
        json!({ "deployment": null }),
        now,
    )
    .await?;
    tx.commit().await?;
    announce(state, incident.environment_id, id);
    load(db, caller, id).await
}

/// Writes one line by a person to the timeline, inside `tx`.
async fn timeline_line(
    tx: &mut Tx,
    id: i64,
    kind: TimelineKind,
    author: &Recorder,
    text: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let entry = store::NewEntry {
        incident_id: id,
        at: now,
        kind: kind.as_str(),
        author,
        text,
        operation_id: None,
        action: None,
        source: None,
    };
    store::add_entry(tx, &entry).await?;
    Ok(())
}

/// Ticks (or unticks) a step of the incident's response or rollback checklist.
pub async fn check_step(
    state: &AppState,
    caller: &Caller,
    id: i64,
    kind: &str,
    key: &str,
    done: bool,
) -> Result<Incident, AppError> {
    caller.authorize(Action::WriteIncidents)?;
    let db = &state.db;
    let incident = load(db, caller, id).await?;
    let step = incident
        .checklists
        .iter()
        .filter(|list| list.kind == kind)
        .flat_map(|list| &list.steps)
        .find(|step| step.key == key)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Incident {id} has no {kind} step \"{key}\" (the rollback steps appear once a rollback runs)."
            ))
        })?;
    let row = find(db, id).await?;
    let now = Timestamp::now();
    let by = caller.actor();
    let mut tx = db.begin().await?;
    let tick = done.then_some((by.name(), now));
    if store::set_check(&mut tx, id, kind, key, tick).await? {
        let text = if done {
            format!("{} did \"{}\".", by.name(), step.title)
        } else {
            format!("{} unticked \"{}\".", by.name(), step.title)
        };
        timeline_line(
            &mut tx,
            id,
            TimelineKind::Checklist,
            &by.recorder(),
            &text,
            now,
        )
        .await?;
        audit::change(
            &mut tx,
            caller,
            "incident.step_checked",
            format!("incident:{id}/{kind}/{key}"),
            Some(json!({ "done": !done })),
            json!({ "done": done }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    announce(state, row.environment_id, id);
    load(db, caller, id).await
}

/// Rolls the incident's environment back (releasers and above) and links the rollback's
/// deployment as the incident's fix. The operation runs like any other; its start and end
/// reach the timeline through [`timeline`].
pub async fn rollback(
    state: &AppState,
    caller: &Caller,
    id: i64,
    expected_revision: i64,
) -> Result<Operation, AppError> {
    caller.authorize(Action::RunOperation)?;
    let db = &state.db;
    let incident = find(db, id).await?;
    let input = OperationInput {
        action: OperationAction::Rollback.as_str().to_owned(),
        expected_revision,
        ..Default::default()
    };
    let operation = operations::start(
        state,
        caller,
        &incident.service,
        &incident.environment,
        &input,
    )
    .await?;
    if let Some(deployment_id) = operation.deployment_id {
        let mut tx = db.begin().await?;
        link_in(&mut tx, caller, &incident, deployment_id, LinkKind::Fix, db).await?;
        tx.commit().await?;
        announce(state, incident.environment_id, id);
    }
    Ok(operation)
}

/// What the Overview shows of incidents, worded: the open ones (worst first), those whose
/// post-mortem is due, and how many action items are overdue.
pub async fn attention(db: &Database, caller: &Caller) -> Result<Vec<Attention>, AppError> {
    let open = IncidentFilter {
        status: Some("open".into()),
        ..Default::default()
    };
    let due = IncidentFilter {
        postmortem_due: Some(true),
        ..Default::default()
    };
    let today = postmortems::today(Timestamp::now());
    let mut lines: Vec<Attention> = list(db, caller, &open)
        .await?
        .into_iter()
        .map(|i| Attention {
            href: format!("/incidents/{}", i.id),
            badge: i.severity.as_str().to_owned(),
            class: format!("severity-{}", i.severity.as_str().to_lowercase()),
            text: format!(
                "{} in {}/{}: {}, {}, commander {}",
                i.title, i.service, i.environment, i.status, i.duration, i.commander
            ),
        })
        .collect();
    lines.extend(
        list(db, caller, &due)
            .await?
            .into_iter()
            .map(|i| Attention {
                href: format!("/incidents/{}/postmortem", i.id),
                badge: "post-mortem due".to_owned(),
                class: "status-failed".to_owned(),
                text: format!("{} ({}), {}", i.title, i.severity, i.duration),
            }),
    );
    let overdue = store::overdue_count(db.reader(), &today).await?;
    if overdue > 0 {
        lines.push(Attention {
            href: "/action-items?overdue=true".to_owned(),
            badge: "overdue".to_owned(),
            class: "status-failed".to_owned(),
            text: format!(
                "{overdue} action item{} past due",
                if overdue == 1 { "" } else { "s" }
            ),
        });
    }
    Ok(lines)
}

pub(crate) fn announce(state: &AppState, environment_id: i64, incident_id: i64) {
    state.events.publish(Event::IncidentChanged {
        environment_id,
        incident_id,
    });
}
