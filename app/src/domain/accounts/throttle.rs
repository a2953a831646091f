//! Brute-force protection that a stranger cannot turn against a user. Failed logins count per
//! (username, client address) and per client address, never per username alone: guessing
//! alice's password from one address slows that address down, while alice, from her own
//! address, still logs in (during an incident, a releaser locked out is an outage of its own).
//! Past the free failures, each further one doubles the wait before the next attempt, up to
//! [`MAX_WAIT`]; an admin can clear a user's failures.

use std::time::Duration;

use crate::domain::Timestamp;

/// Failed logins one address may make for one username within the window before waiting.
pub const PAIR_FAILURES: usize = 5;
/// Failed logins one address may make for any usernames within the window before waiting
/// (password spraying).
pub const ADDRESS_FAILURES: usize = 20;
/// How far back failed logins count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The wait after the last free failure; each further failure doubles it.
pub const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// How long the next attempt must wait, given the times of recent failures (in any order) and
/// how many of them are `free`, or `None` when it may go ahead. The wait runs from the newest
/// failure: [`FIRST_WAIT`] once the free failures are used up, doubling with each further one.
pub fn retry_after(failures: &[Timestamp], free: usize, now: Timestamp) -> Option<Duration> {
    let window_start = now.minus(WINDOW);
    let recent: Vec<Timestamp> = failures
        .iter()
        .copied()
        .filter(|&at| at > window_start && at <= now)
        .collect();
    let beyond = recent.len().checked_sub(free)?;
    let newest = recent.iter().copied().max()?;
    let doublings = u32::try_from(beyond).unwrap_or(u32::MAX).min(10);
    let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(MAX_WAIT);
    let until = newest.plus(wait);
    (until > now).then(|| until.since(now).max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000;

    fn at(seconds: i64) -> Timestamp {
        Timestamp(1_000_000_000 + seconds * SECOND)
    }

    fn wait(failures: &[Timestamp], now: Timestamp) -> Option<u64> {
        retry_after(failures, PAIR_FAILURES, now).map(|d| d.as_secs())
    }

    #[test]
    fn the_free_failures_pass_then_the_wait_runs_from_the_newest() {
        let four = [at(1), at(2), at(3), at(4)];
        assert_eq!(wait(&four, at(5)), None);
        let five = [at(5), at(1), at(2), at(3), at(4)];
        assert_eq!(wait(&five, at(5)), Some(30));
        assert_eq!(wait(&five, at(20)), Some(15));
        assert_eq!(wait(&five, at(35)), None, "after the wait, one more try");
    }

    #[test]
    fn each_further_failure_doubles_the_wait_up_to_the_most() {
        for extra in 0..8 {
            let count = PAIR_FAILURES + extra;
            let failures: Vec<Timestamp> = (0..count as i64).map(at).collect();
            let newest = at(count as i64 - 1);
            let want = (30u64 << extra).min(MAX_WAIT.as_secs());
            assert_eq!(wait(&failures, newest), Some(want), "{count} failures");
        }
        let many: Vec<Timestamp> = (0..200).map(at).collect();
        assert_eq!(
            wait(&many, at(199)),
            Some(MAX_WAIT.as_secs()),
            "no overflow"
        );
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let now = at(20 * 60);
        let failures = [at(1), at(2), at(3), at(4), at(6 * 60), at(7 * 60)];
        assert_eq!(wait(&failures, now), None);
    }

    #[test]
    fn an_address_spraying_many_usernames_gets_more_free_tries() {
        let sprayed: Vec<Timestamp> = (1..=19).map(at).collect();
        assert_eq!(retry_after(&sprayed, ADDRESS_FAILURES, at(20)), None);
        let twenty: Vec<Timestamp> = (1..=20).map(at).collect();
        assert_eq!(
            retry_after(&twenty, ADDRESS_FAILURES, at(20)).map(|d| d.as_secs()),
            Some(30)
        );
    }
}
