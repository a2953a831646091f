use super::*;
use crate::domain::deployments::DeploymentStatus;

fn v(text: &str) -> Version {
    Version::parse(text).expect("valid version")
}

fn blue_green(idle: Option<&str>, previous: Option<&str>) -> EnvironmentState {
    EnvironmentState {
        name: "production".into(),
        strategy: Strategy::BlueGreen,
        revision: 7,
        live: Some(SlotColor::Blue),
        blue: Some(v("2.4.0")),
        green: idle.map(v),
        current_version: None,
        canary: None,
        previous_version: previous.map(v),
    }
}

fn rolling(current: Option<&str>, previous: Option<&str>) -> EnvironmentState {
    EnvironmentState {
        strategy: Strategy::Rolling,
        live: None,
        blue: None,
        green: None,
        current_version: current.map(v),
        previous_version: previous.map(v),
        ..blue_green(None, None)
    }
}

fn canary(running: Option<(&str, u8)>) -> EnvironmentState {
    EnvironmentState {
        strategy: Strategy::Canary,
        canary: running.map(|(version, weight)| Canary {
            version: v(version),
            weight,
        }),
        ..rolling(Some("2.4.0"), Some("2.3.9"))
    }
}

fn request(action: OperationAction, version: Option<&str>) -> Request {
    Request {
        action,
        version: version.map(v),
        expected_revision: 7,
        weight: None,
    }
}

fn planned(state: &EnvironmentState, action: OperationAction, version: Option<&str>) -> Plan {
    plan(state, &request(action, version), &DEFAULT_CANARY_STEPS).expect("plannable")
}

fn refused_field(state: &EnvironmentState, request: &Request) -> (bool, String) {
    match plan(state, request, &DEFAULT_CANARY_STEPS) {
        Ok(plan) => panic!("expected a refusal, planned {plan:?}"),
        Err(Refusal::Invalid(e)) => (false, e.field),
        Err(Refusal::Conflict(e)) => (true, e.field),
    }
}

/// Runs `plan`, answering each step with `answer(step index among all handed out, step)`.
fn run(
    plan: Plan,
    mut answer: impl FnMut(usize, &Step, bool) -> StepOutcome,
) -> (Vec<Step>, Ending) {
    let mut run = Run::new(plan);
    let mut handed = Vec::new();
    let mut next = run.next(None);
    loop {
        match next {
            Next::Run { step, recovery } => {
                let outcome = answer(handed.len(), &step, recovery);
                handed.push(step);
                next = run.next(Some(outcome));
            }
            Next::End(ending) => return (handed, ending),
        }
        assert!(handed.len() < 20, "a run never loops");
    }
}

fn all_succeed(plan: Plan) -> (Vec<Step>, Ending) {
    run(plan, |_, _, _| StepOutcome::Succeeded)
}

fn fail_at(plan: Plan, index: usize) -> (Vec<Step>, Ending) {
    run(plan, move |i, _, _| {
        if i == index {
            StepOutcome::Failed("503 Service Unavailable".into())
        } else {
            StepOutcome::Succeeded
        }
    })
}

fn switch_to(slot: SlotColor) -> Step {
    Step::Drive {
        action: DriverAction::Switch,
        slot: Some(slot),
        version: v("2.4.1"),
        weight: None,
    }
}

#[test]
fn deploy_to_idle_puts_the_version_on_the_idle_slot_and_leaves_the_deployment_running() {
    let plan = planned(
        &blue_green(None, None),
        OperationAction::Deploy,
        Some("2.4.1"),
    );
    assert_eq!(plan.target_slot, Some(SlotColor::Green));
    assert_eq!(
        plan.question,
        "Deploy 2.4.1 to the idle slot green of production? It takes no traffic until you switch."
    );
    let (steps, ending) = all_succeed(plan);
    assert_eq!(steps.len(), 2);
    assert_eq!(ending.status(), OperationStatus::Succeeded);
    assert_eq!(
        ending.slot_version,
        Some((SlotColor::Green, Some(v("2.4.1"))))
    );
    assert_eq!(ending.live, None, "a deploy to idle moves no traffic");
    assert_eq!(
        ending.deployment, None,
        "the switch finishes the deployment"
    );
}

#[test]
fn a_failed_deploy_to_idle_forgets_the_idle_version_and_fails_the_deployment() {
    for failing in 0..2 {
        let plan = planned(
            &blue_green(Some("2.4.0"), None),
            OperationAction::Deploy,
            Some("2.4.1"),
        );
        let (steps, ending) = fail_at(plan, failing);
        assert_eq!(steps.len(), failing + 1, "nothing runs after the failure");
        assert_eq!(ending.status(), OperationStatus::Failed);
        assert_eq!(ending.slot_version, Some((SlotColor::Green, None)));
        assert_eq!(ending.deployment, Some(DeploymentStatus::Failed));
        assert!(ending.error.as_deref().unwrap_or_default().contains("503"));
    }
}

#[test]
fn switch_checks_the_idle_slot_then_moves_traffic_then_watches_it() {
    let plan = planned(
        &blue_green(Some("2.4.1"), None),
        OperationAction::Switch,
        None,
    );
    assert_eq!(plan.question, "Switch production to green, version 2.4.1?");
    assert!(plan
        .deployment
        .as_ref()
        .is_some_and(|d| d.continues_running && !d.is_rollback));
    let (steps, ending) = all_succeed(plan);
    assert_eq!(
        steps,
        vec![
            Step::AwaitHealthy {
                slot: Some(SlotColor::Green)
            },
            switch_to(SlotColor::Green),
            Step::Verify {
                slot: Some(SlotColor::Green)
            },
        ]
    );
    assert_eq!(ending.live, Some(SlotColor::Green));
    assert_eq!(ending.deployment, Some(DeploymentStatus::Succeeded));
}

#[test]
fn a_switch_that_fails_after_moving_traffic_switches_back() {
    for failing in [1, 2] {
        let plan = planned(
            &blue_green(Some("2.4.1"), None),
            OperationAction::Switch,
            None,
        );
        let (steps, ending) = fail_at(plan, failing);
        assert_eq!(
            steps.last(),
            Some(&switch_to(SlotColor::Blue)),
            "failing at {failing}"
        );
        assert_eq!(ending.live, Some(SlotColor::Blue));
        assert_eq!(ending.deployment, Some(DeploymentStatus::Failed));
        let error = ending.error.unwrap_or_default();
        assert!(error.ends_with("Switched traffic back to blue."), "{error}");
        assert_eq!(ending.deployment_note.as_deref(), Some(error.as_str()));
    }
}

#[test]
fn an_unhealthy_idle_slot_stops_a_switch_before_any_traffic_moves() {
    let plan = planned(
        &blue_green(Some("2.4.1"), None),
        OperationAction::Switch,
        None,
    );
    let (steps, ending) = fail_at(plan, 0);
    assert_eq!(steps.len(), 1);
    assert_eq!(ending.live, None);
    assert_eq!(ending.deployment, Some(DeploymentStatus::Failed));
}

#[test]
fn when_switching_back_fails_too_the_error_says_to_check_by_hand() {
    // The switch itself failed: traffic most likely stayed on blue.
    let plan = planned(
        &blue_green(Some("2.4.1"), None),
        OperationAction::Switch,
        None,
    );
    let (_, ending) = run(plan, |i, _, _| {
        if i >= 1 {
            StepOutcome::Failed("exit status 1".into())
        } else {
            StepOutcome::Succeeded
        }
    });
    assert_eq!(ending.live, Some(SlotColor::Blue));
    assert!(ending
        .error
        .unwrap_or_default()
        .contains("check it by hand"));
    // Verification failed after the switch: traffic is on green.
    let plan = planned(
        &blue_green(Some("2.4.1"), None),
        OperationAction::Switch,
        None,
    );
    let (_, ending) = run(plan, |i, _, _| {
        if i >= 2 {
            StepOutcome::Failed("timeout".into())
        } else {
            StepOutcome::Succeeded
        }
    });
    assert_eq!(ending.live, Some(SlotColor::Green));
    assert_eq!(ending.status(), OperationStatus::Failed);
}

#[test]
fn rollback_switches_back_when_the_idle_slot_still_holds_the_previous_version() {
    let plan = planned(
        &blue_green(Some("2.3.9"), Some("2.3.9")),
        OperationAction::Rollback,
        None,
    );
    assert_eq!(
        plan.question,
        "Roll production back to 2.3.9 by switching to green?"
    );
    assert!(plan
        .deployment
        .as_ref()
        .is_some_and(|d| d.is_rollback && !d.continues_running));
    assert_eq!(plan.steps.len(), 3, "the fast path deploys nothing");
    let (_, ending) = all_succeed(plan);
    assert_eq!(ending.live, Some(SlotColor::Green));
    assert_eq!(ending.deployment, Some(DeploymentStatus::Succeeded));
}

#[test]
fn rollback_redeploys_the_previous_version_when_the_idle_slot_moved_on() {
    let plan = planned(
        &blue_green(Some("2.5.0"), Some("2.3.9")),
        OperationAction::Rollback,
        None,
    );
    assert_eq!(plan.steps.len(), 4);
    assert!(matches!(
        plan.steps[0],
        Step::Drive {
            action: DriverAction::Deploy,
            ..
        }
    ));
    let (_, ending) = all_succeed(plan.clone());
    assert_eq!(
        ending.slot_version,
        Some((SlotColor::Green, Some(v("2.3.9"))))
    );
    // Failing before the switch: green holds nothing we can name; after: it holds 2.3.9.
    let (_, ending) = fail_at(plan.clone(), 0);
    assert_eq!(ending.slot_version, Some((SlotColor::Green, None)));
    let (_, ending) = fail_at(plan, 3);
    assert_eq!(
        ending.slot_version,
        Some((SlotColor::Green, Some(v("2.3.9"))))
    );
    assert_eq!(ending.live, Some(SlotColor::Blue));
}

#[test]
fn a_failed_rolling_deploy_rolls_back_to_what_ran_before() {
    let plan = planned(
        &rolling(Some("2.4.0"), Some("2.3.9")),
        OperationAction::Deploy,
        Some("2.4.1"),
    );
    let (steps, ending) = fail_at(plan, 2);
    assert_eq!(steps.len(), 4, "three steps and the automatic rollback");
    assert_eq!(ending.current_version, Some(Some(v("2.4.0"))));
    assert!(ending
        .error
        .unwrap_or_default()
        .contains("Rolled back to 2.4.0 automatically"));
    // A first deploy has nothing to go back to: what runs is unknown.
    let plan = planned(&rolling(None, None), OperationAction::Deploy, Some("1.0.0"));
    let (steps, ending) = fail_at(plan, 0);
    assert_eq!(steps.len(), 1);
    assert_eq!(ending.current_version, Some(None));
}

#[test]
fn a_canary_climbs_the_configured_steps_and_becomes_the_stable_version() {
    let mut state = canary(None);
    let plan = planned(&state, OperationAction::Deploy, Some("2.5.0"));
    assert_eq!(plan.weight, Some(10));
    assert_eq!(
        plan.question,
        "Start a canary of 2.5.0 in production with 10% of traffic?"
    );
    let (_, ending) = all_succeed(plan);
    assert_eq!(ending.deployment, None);
    state.canary = ending.canary.clone().flatten();
    for expected in [25, 50, 100] {
        let plan = planned(&state, OperationAction::CanaryPromote, None);
        assert_eq!(plan.weight, Some(expected));
        let (_, ending) = all_succeed(plan);
        if expected == 100 {
            assert_eq!(ending.canary, Some(None));
            assert_eq!(ending.current_version, Some(Some(v("2.5.0"))));
            assert_eq!(ending.deployment, Some(DeploymentStatus::Succeeded));
        } else {
            state.canary = ending.canary.clone().flatten();
            assert_eq!(state.canary.as_ref().map(|c| c.weight), Some(expected));
        }
    }
}

#[test]
fn a_canary_step_that_fails_aborts_the_canary() {
    let plan = planned(
        &canary(Some(("2.5.0", 25))),
        OperationAction::CanaryPromote,
        None,
    );
    let (steps, ending) = fail_at(plan, 1);
    assert_eq!(
        steps.last(),
        Some(&Step::Drive {
            action: DriverAction::Canary,
            slot: None,
            version: v("2.5.0"),
            weight: Some(0)
        })
    );
    assert_eq!(ending.canary, Some(None));
    assert_eq!(ending.deployment, Some(DeploymentStatus::Failed));
}

#[test]
fn aborting_a_canary_sends_traffic_back_and_fails_its_deployment() {
    let plan = planned(
        &canary(Some(("2.5.0", 25))),
        OperationAction::CanaryAbort,
        None,
    );
    assert_eq!(
        plan.question,
        "Abort the canary 2.5.0 in production and send all traffic back to 2.4.0?"
    );
    let (_, ending) = all_succeed(plan.clone());
    assert_eq!(ending.status(), OperationStatus::Succeeded);
    assert_eq!(ending.deployment, Some(DeploymentStatus::Failed));
    assert_eq!(
        ending.deployment_note.as_deref(),
        Some("Canary aborted at 25% of traffic.")
    );
    let (_, ending) = fail_at(plan, 0);
    assert_eq!(
        ending.canary, None,
        "a failed abort leaves the canary as it was"
    );
    assert_eq!(ending.deployment, None);
}

#[test]
fn requests_the_state_does_not_allow_are_refused_before_anything_runs() {
    use OperationAction::*;
    let cases: Vec<(EnvironmentState, Request, bool, &str)> = vec![
        (
            blue_green(None, None),
            request(CanaryPromote, None),
            false,
            "action",
        ),
        (rolling(None, None), request(Switch, None), false, "action"),
        (
            blue_green(None, None),
            request(Deploy, None),
            false,
            "version",
        ),
        (
            blue_green(None, None),
            request(Switch, None),
            true,
            "action",
        ),
        (
            blue_green(Some("2.4.1"), None),
            request(Switch, Some("9.9.9")),
            true,
            "version",
        ),
        (
            blue_green(Some("2.4.1"), None),
            request(Rollback, None),
            true,
            "action",
        ),
        (
            blue_green(Some("2.3.9"), Some("2.3.9")),
            request(Rollback, Some("1.0.0")),
            false,
            "version",
        ),
        (canary(None), request(CanaryPromote, None), true, "action"),
        (
            canary(Some(("2.5.0", 10))),
            request(CanaryPromote, Some("9.9.9")),
            true,
            "version",
        ),
        (canary(None), request(CanaryAbort, None), true, "action"),
        (
            canary(Some(("2.5.0", 10))),
            request(Deploy, Some("2.6.0")),
            true,
            "action",
        ),
        (
            canary(Some(("2.5.0", 10))),
            request(Rollback, None),
            true,
            "action",
        ),
        (
            blue_green(Some("2.4.1"), None),
            Request {
                expected_revision: 6,
                ..request(Switch, None)
            },
            true,
            "expected_revision",
        ),
        (
            canary(Some(("2.5.0", 50))),
            Request {
                weight: Some(25),
                ..request(CanaryPromote, None)
            },
            false,
            "weight",
        ),
        (
            blue_green(None, None),
            Request {
                weight: Some(25),
                ..request(Deploy, Some("2.4.1"))
            },
            false,
            "weight",
        ),
    ];
    for (state, request, conflict, field) in cases {
        assert_eq!(
            refused_field(&state, &request),
            (conflict, field.to_owned()),
            "{:?} on {:?}",
            request,
            state.strategy
        );
    }
}

#[test]
fn weights_outside_0_to_100_and_unknown_actions_are_refused_at_parse() {
    let input = |action: &str, weight| OperationInput {
        action: action.into(),
        expected_revision: 1,
        weight,
        ..OperationInput::default()
    };
    assert_eq!(
        input("canary_promote", Some(101))
            .parse()
            .unwrap_err()
            .field,
        "weight"
    );
    assert_eq!(
        input("canary_promote", Some(-1)).parse().unwrap_err().field,
        "weight"
    );
    assert!(input("canary_promote", Some(100)).parse().is_ok());
    let error = input("restart", None).parse().unwrap_err();
    assert_eq!(error.field, "action");
    assert!(error
        .message
        .contains("deploy, switch, rollback, canary_promote or canary_abort"));
}

/// Every action from every state, with every step failing in turn (and the recovery failing
/// in turn): the run always ends, after at most its steps and their recovery, in a final
/// status, and a failure always says which step failed.
#[test]
fn every_action_from_every_state_ends_whatever_fails() {
    let states = vec![
        blue_green(None, None),
        blue_green(Some("2.4.1"), None),
        blue_green(Some("2.3.9"), Some("2.3.9")),
        blue_green(Some("2.5.0"), Some("2.3.9")),
        rolling(None, None),
        rolling(Some("2.4.0"), Some("2.3.9")),
        canary(None),
        canary(Some(("2.5.0", 10))),
        canary(Some(("2.5.0", 50))),
    ];
    let mut planned_count = 0;
    for state in &states {
        for &action in OperationAction::ALL {
            for version in [None, Some("2.4.1")] {
                let Ok(plan) = plan(state, &request(action, version), &DEFAULT_CANARY_STEPS) else {
                    continue;
                };
                planned_count += 1;
                let (steps, ending) = all_succeed(plan.clone());
                assert_eq!(steps, plan.steps);
                assert_eq!(ending.status(), OperationStatus::Succeeded);
                for failing in 0..plan.steps.len() {
                    let (handed, ending) = fail_at(plan.clone(), failing);
                    assert_eq!(ending.status(), OperationStatus::Failed);
                    let described = plan.steps[failing].describe();
                    assert!(
                        ending
                            .error
                            .as_deref()
                            .is_some_and(|e| e.starts_with(&described)),
                        "{action} failing at {failing}: {:?}",
                        ending.error
                    );
                    let recovery = plan.recovery(failing);
                    assert_eq!(handed.len(), failing + 1 + recovery.len());
                    for recovery_failing in 0..recovery.len() {
                        let (_, ending) = run(plan.clone(), |i, _, is_recovery| {
                            if i == failing || (is_recovery && i == failing + 1 + recovery_failing)
                            {
                                StepOutcome::Failed("refused".into())
                            } else {
                                StepOutcome::Succeeded
                            }
                        });
                        assert_eq!(ending.status(), OperationStatus::Failed);
                        assert!(ending
                            .error
                            .unwrap_or_default()
                            .contains("check it by hand"));
                    }
                }
            }
        }
    }
    assert!(
        planned_count >= 15,
        "the states cover the actions ({planned_count})"
    );
}

#[test]
fn only_what_puts_a_version_in_front_of_all_users_goes_live() {
    use OperationAction::*;
    let live = |state: &EnvironmentState, action, version: Option<&str>| {
        planned(state, action, version)
            .goes_live()
            .map(|v| v.as_str().to_owned())
    };
    let to = |version: &str| Some(version.to_owned());
    // Blue-green: the idle slot takes no traffic; the switch puts its version live; a
    // rollback restores rather than releases.
    assert_eq!(live(&blue_green(None, None), Deploy, Some("2.4.1")), None);
    assert_eq!(
        live(&blue_green(Some("2.4.1"), None), Switch, None),
        to("2.4.1")
    );
    assert_eq!(
        live(&blue_green(Some("2.3.9"), Some("2.3.9")), Rollback, None),
        None
    );
    // Rolling: the deploy itself goes live.
    assert_eq!(
        live(&rolling(Some("2.4.0"), None), Deploy, Some("2.4.1")),
        to("2.4.1")
    );
    assert_eq!(
        live(&rolling(Some("2.4.0"), Some("2.3.9")), Rollback, None),
        None
    );
    // Canary: only the step to 100%.
    assert_eq!(live(&canary(None), Deploy, Some("2.5.0")), None);
    assert_eq!(
        live(&canary(Some(("2.5.0", 25))), CanaryPromote, None),
        None
    );
    assert_eq!(
        live(&canary(Some(("2.5.0", 50))), CanaryPromote, None),
        to("2.5.0")
    );
    assert_eq!(live(&canary(Some(("2.5.0", 50))), CanaryAbort, None), None);
}
