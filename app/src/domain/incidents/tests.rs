use super::*;

fn at(text: &str) -> Timestamp {
    Timestamp::parse("t", text).expect("a time")
}

fn declare() -> IncidentInput {
    IncidentInput {
        title: "Checkout returns 502".into(),
        service: "parts".into(),
        environment: "production".into(),
        severity: "SEV2".into(),
        ..Default::default()
    }
}

#[test]
fn every_transition_outside_the_lifecycle_is_refused() {
    use IncidentStatus::*;
    let legal = [
        (Investigating, Identified),
        (Identified, Monitoring),
        (Monitoring, Resolved),
        (Monitoring, Investigating),
        (Resolved, Investigating),
    ];
    for from in IncidentStatus::ALL {
        for to in IncidentStatus::ALL {
            assert_eq!(
                from.may_become(*to),
                legal.contains(&(*from, *to)),
                "{from} → {to}"
            );
        }
    }
    let refusal = Investigating.refuse(Resolved);
    assert_eq!(refusal.field, "status");
    assert_eq!(
        refusal.message,
        "An incident cannot go from investigating to resolved; from investigating it may go to identified."
    );
    assert_eq!(Resolved.next()[0].verb(Resolved), "Reopen");
}

#[test]
fn suggestions_are_the_24_hours_before_the_start() {
    let start = at("2026-12-03 12:00");
    assert!(suggested(at("2026-12-03 12:00"), start));
    assert!(suggested(at("2026-12-02 12:00"), start));
    assert!(!suggested(at("2026-12-02 11:59"), start));
    assert!(!suggested(at("2026-12-03 12:01"), start));
}

#[test]
fn a_declaration_defaults_to_now_and_investigating() {
    let now = at("2026-12-03 12:00");
    let new = declare().parse(now).expect("accepted");
    assert_eq!(new.status, IncidentStatus::Investigating);
    assert_eq!(new.times.started_at, now);
    assert_eq!(new.times.detected_at, now);
    assert_eq!(new.times.resolved_at, None);
    assert_eq!(new.severity, Severity::Sev2);
}

#[test]
fn a_past_incident_imports_whole() {
    let now = at("2026-12-03 12:00");
    let new = IncidentInput {
        status: Some("resolved".into()),
        started_at: Some("2026-11-01T10:00:00Z".into()),
        detected_at: Some("2026-11-01T10:04:00Z".into()),
        resolved_at: Some("2026-11-01T11:30:00Z".into()),
        ..declare()
    }
    .parse(now)
    .expect("accepted");
    assert_eq!(new.status, IncidentStatus::Resolved);
    assert_eq!(new.times.resolved_at, Some(at("2026-11-01 11:30")));
}

#[test]
fn wrong_times_are_refused_naming_each_field() {
    let now = at("2026-12-03 12:00");
    let refused = |input: IncidentInput| -> Vec<String> {
        input
            .parse(now)
            .expect_err("refused")
            .0
            .into_iter()
            .map(|e| e.field)
            .collect()
    };
    // Resolved before started, detected before started.
    assert_eq!(
        refused(IncidentInput {
            status: Some("resolved".into()),
            started_at: Some("2026-12-02 10:00".into()),
            detected_at: Some("2026-12-02 09:00".into()),
            resolved_at: Some("2026-12-01 10:00".into()),
            ..declare()
        }),
        ["detected_at", "resolved_at"]
    );
    // In the future.
    assert_eq!(
        refused(IncidentInput {
            started_at: Some("2026-12-04 10:00".into()),
            ..declare()
        }),
        ["started_at", "detected_at"]
    );
    // A resolution time without the resolved status.
    assert_eq!(
        refused(IncidentInput {
            resolved_at: Some("2026-12-03 10:00".into()),
            ..declare()
        }),
        ["resolved_at"]
    );
    // Unknown severity and status, empty title, bad commander.
    assert_eq!(
        refused(IncidentInput {
            title: " ".into(),
            severity: "SEV5".into(),
            status: Some("closed".into()),
            commander: Some("Ada Lovelace".into()),
            ..declare()
        }),
        ["title", "severity", "commander", "status"]
    );
}

#[test]
fn a_patch_must_change_something_and_resolved_at_comes_with_resolved() {
    assert_eq!(
        IncidentPatch::default().parse().expect_err("refused").0[0].field,
        "incident"
    );
    assert_eq!(
        IncidentPatch {
            resolved_at: Some("2026-12-01 10:00".into()),
            ..Default::default()
        }
        .parse()
        .expect_err("refused")
        .0[0]
            .field,
        "resolved_at"
    );
    let change = IncidentPatch {
        severity: Some("SEV1".into()),
        ..Default::default()
    }
    .parse()
    .expect("accepted");
    assert_eq!(change.severity, Some(Severity::Sev1));
}

#[test]
fn timeline_entries_need_text_and_a_past_time() {
    let now = at("2026-12-03 12:00");
    let entry = |text: &str, when: Option<&str>| TimelineInput {
        text: text.into(),
        at: when.map(str::to_owned),
    };
    assert_eq!(
        entry("Rolled back", None).parse(now).expect("ok"),
        ("Rolled back".to_owned(), now)
    );
    assert_eq!(
        entry(" ", None).parse(now).expect_err("refused").0[0].field,
        "text"
    );
    assert_eq!(
        entry("x", Some("2026-12-04 00:00"))
            .parse(now)
            .expect_err("refused")
            .0[0]
            .field,
        "at"
    );
    assert!(LinkInput {
        deployment_id: 1,
        kind: "blame".into()
    }
    .parse()
    .is_err());
}

#[test]
fn the_recovery_objective_follows_the_guide() {
    assert_eq!(Severity::Sev1.rto(), Duration::from_secs(3600));
    assert_eq!(Severity::Sev4.rto(), Duration::from_secs(4 * 3600));
    assert!(Severity::Sev2.needs_postmortem() && !Severity::Sev3.needs_postmortem());
    assert_eq!(
        describe_rto(Duration::from_secs(42 * 60), Severity::Sev1, false),
        "42 min since start; the 1 h recovery objective ends in 18 min."
    );
    assert_eq!(
        describe_rto(Duration::from_secs(65 * 60), Severity::Sev1, true),
        "Resolved in 1 h 5 min, past the 1 h recovery objective."
    );
}
