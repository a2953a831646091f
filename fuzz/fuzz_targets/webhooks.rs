//! Webhook bodies as the server reads them: GitHub `deployment_status` and `push` events and
//! Switchyard's generic event. Any bytes are read without a panic; what they report is either
//! refused with a field or a deployment input that its own checks then judge.
#![no_main]

use app::domain::{
    deployments::webhook::{GenericEvent, GithubDeploymentStatus, GithubMapping, GithubPush},
    Timestamp,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let mapping = GithubMapping {
        services: vec![("acme/parts".into(), "parts".into())],
        environments: vec![("Production".into(), "production".into())],
    };
    let now = Timestamp(1_790_000_000_000);
    if let Ok(event) = serde_json::from_slice::<GithubDeploymentStatus>(body) {
        if let Ok(Some(reported)) = event.report(&mapping) {
            assert!(!reported.external_id.is_empty());
            let _ = reported.input.parse(now);
        }
    }
    if let Ok(push) = serde_json::from_slice::<GithubPush>(body) {
        if let Ok(times) = push.commit_times() {
            // Each commit once.
            for (i, time) in times.iter().enumerate() {
                assert!(times[..i].iter().all(|earlier| earlier.sha != time.sha));
            }
        }
    }
    if let Ok(event) = serde_json::from_slice::<GenericEvent>(body) {
        if let Ok(reported) = event.report() {
            let _ = reported.input.parse(now);
        }
    }
});
