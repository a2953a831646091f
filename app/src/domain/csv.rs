//! The CSV exports of deployments and incidents (RFC 4180): the rows behind any metric, for a
//! spreadsheet. One line per record, so an export streams page by page.

use crate::model::{Deployment, IncidentSummary};

use super::Timestamp;

/// The header line of a deployments export.
pub const DEPLOYMENT_HEADER: &str = "id,service,environment,version,status,rollback,\
started_at,finished_at,duration_seconds,commit_sha,commit_at,lead_time_seconds,\
rolled_back_at,strategy,slot,source,recorded_by,url\r\n";

/// The header line of an incidents export.
pub const INCIDENT_HEADER: &str = "id,service,environment,title,severity,status,commander,\
started_at,resolved_at,duration_seconds,postmortem_status,postmortem_due\r\n";

/// One deployment as a line of [`DEPLOYMENT_HEADER`]'s columns.
pub fn deployment_line(d: &Deployment) -> String {
    let lead_time = d
        .commit_at
        .zip(d.finished_at)
        .map(|(commit, finish)| finish.since(commit));
    line(&[
        d.id.to_string(),
        d.service.clone(),
        d.environment.clone(),
        d.version.clone(),
        d.status.as_str().to_owned(),
        d.is_rollback.to_string(),
        time(Some(d.started_at)),
        time(d.finished_at),
        seconds(d.finished_at.map(|f| f.since(d.started_at))),
        d.commit_sha.clone().unwrap_or_default(),
        time(d.commit_at),
        seconds(lead_time),
        time(d.rolled_back_at),
        d.strategy.as_str().to_owned(),
        d.slot.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        d.source.as_str().to_owned(),
        format!("{}:{}", d.recorded_by.kind, d.recorded_by.name),
        d.url.clone().unwrap_or_default(),
    ])
}

/// One incident as a line of [`INCIDENT_HEADER`]'s columns.
pub fn incident_line(i: &IncidentSummary) -> String {
    line(&[
        i.id.to_string(),
        i.service.clone(),
        i.environment.clone(),
        i.title.clone(),
        i.severity.as_str().to_owned(),
        i.status.as_str().to_owned(),
        i.commander.clone(),
        time(Some(i.started_at)),
        time(i.resolved_at),
        seconds(i.resolved_at.map(|r| r.since(i.started_at))),
        i.postmortem_status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        i.postmortem_due.to_string(),
    ])
}

fn time(at: Option<Timestamp>) -> String {
    at.and_then(Timestamp::to_rfc3339).unwrap_or_default()
}

fn seconds(duration: Option<std::time::Duration>) -> String {
    duration
        .map(|d| d.as_secs().to_string())
        .unwrap_or_default()
}

/// Fields joined into one CRLF-ended line. A field with a comma, quote or line break is
/// quoted with its quotes doubled; one a spreadsheet would run as a formula (`=`, `+`, `-`,
/// `@`, tab, carriage return first) is prefixed with `'`, since titles and versions come from
/// users and CI, and a CSV opened in a spreadsheet must not execute them.
fn line(fields: &[String]) -> String {
    let mut out = String::new();
    for (n, field) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let guarded;
        let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            guarded = format!("'{field}");
            &guarded
        } else {
            field
        };
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(fields: &[&str]) -> String {
        line(&fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn plain_fields_are_joined_and_the_line_ends_in_crlf() {
        assert_eq!(fields(&["1", "parts", ""]), "1,parts,\r\n");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(fields(&["a,b"]), "\"a,b\"\r\n");
        assert_eq!(fields(&["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(fields(&["two\nlines"]), "\"two\nlines\"\r\n");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(
            fields(&["=HYPERLINK(\"x\")"]),
            "\"'=HYPERLINK(\"\"x\"\")\"\r\n"
        );
        for start in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert_eq!(fields(&[start]), format!("'{start}\r\n"));
        }
        assert_eq!(fields(&["\rx"]), "\"'\rx\"\r\n");
    }

    fn columns(text: &str) -> usize {
        text.split(',').count()
    }

    #[test]
    fn a_deployment_fills_every_column_with_times_in_utc() {
        use crate::domain::{
            catalog::{SlotColor, Strategy},
            deployments::{DeploymentStatus, Source},
        };
        let at = |t: &str| Timestamp::parse("t", t).unwrap();
        let deployment = Deployment {
            id: 7,
            service: "parts".into(),
            environment: "production".into(),
            version: "2.4.1".into(),
            commit_sha: Some("abc1234".into()),
            commit_at: Some(at("2026-11-20T09:00:00Z")),
            strategy: Strategy::BlueGreen,
            slot: Some(SlotColor::Green),
            started_at: at("2026-11-20T10:00:00Z"),
            finished_at: Some(at("2026-11-20T10:05:00Z")),
            status: DeploymentStatus::Succeeded,
            is_rollback: false,
            rolled_back_at: None,
            recorded_by: crate::model::Recorder {
                kind: "user".into(),
                name: "ana".into(),
            },
            source: Source::Ui,
            notes: "not exported: free text belongs on the page".into(),
            url: None,
            created_at: at("2026-11-20T10:00:00Z"),
            superseded_by: None,
        };
        let line = deployment_line(&deployment);
        assert_eq!(
            line,
            "7,parts,production,2.4.1,succeeded,false,2026-11-20T10:00:00.000Z,\
             2026-11-20T10:05:00.000Z,300,abc1234,2026-11-20T09:00:00.000Z,3900,,blue_green,\
             green,ui,user:ana,\r\n"
        );
        assert_eq!(columns(&line), columns(DEPLOYMENT_HEADER));
    }

    #[test]
    fn an_open_incident_leaves_its_resolution_empty() {
        use crate::domain::incidents::{IncidentStatus, Severity};
        let incident = IncidentSummary {
            id: 3,
            title: "Checkout, 502s".into(),
            service: "parts".into(),
            environment: "production".into(),
            severity: Severity::Sev1,
            status: IncidentStatus::Investigating,
            commander: "ana".into(),
            started_at: Timestamp::parse("t", "2026-11-20T10:00:00Z").unwrap(),
            resolved_at: None,
            postmortem_status: None,
            postmortem_due: false,
            duration: "open for 5 min".into(),
        };
        let line = incident_line(&incident);
        assert_eq!(
            line,
            "3,parts,production,\"Checkout, 502s\",SEV1,investigating,ana,\
             2026-11-20T10:00:00.000Z,,,,false\r\n"
        );
        // The quoted comma is inside one field.
        assert_eq!(columns(&line), columns(INCIDENT_HEADER) + 1);
    }
}
