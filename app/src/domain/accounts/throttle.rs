//! Brute-force protection: after [`MAX_FAILURES`] failed logins for one account or from one
//! client address within [`WINDOW`], further attempts wait.

use std::time::Duration;

use crate::domain::Timestamp;

/// Failed logins allowed within the window before attempts are refused.
pub const MAX_FAILURES: usize = 5;
/// How far back failed logins count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long the next attempt must wait, given the times of recent failures (for one account
/// or one address, in any order), or `None` when it may go ahead. The wait ends when the
/// oldest failure that keeps the count at the limit leaves the window.
pub fn retry_after(failures: &[Timestamp], now: Timestamp) -> Option<Duration> {
    let window_start = now.minus(WINDOW);
    let mut recent: Vec<Timestamp> = failures
        .iter()
        .copied()
        .filter(|&at| at > window_start && at <= now)
        .collect();
    if recent.len() < MAX_FAILURES {
        return None;
    }
    recent.sort_unstable();
    let deciding = recent[recent.len() - MAX_FAILURES];
    Some(deciding.plus(WINDOW).since(now).max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn at(minutes: i64) -> Timestamp {
        Timestamp(1_000_000_000 + minutes * MINUTE)
    }

    #[test]
    fn four_failures_are_allowed_the_fifth_locks() {
        let now = at(10);
        let four = [at(1), at(2), at(3), at(4)];
        assert_eq!(retry_after(&four, now), None);
        let five = [at(5), at(1), at(2), at(3), at(4)];
        // The failure at minute 1 leaves the window at minute 16: six minutes from now.
        assert_eq!(retry_after(&five, now), Some(Duration::from_secs(6 * 60)));
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let now = at(20);
        let failures = [at(1), at(2), at(3), at(4), at(6), at(7)];
        // Only minutes 6 and 7 fall inside (5, 20].
        assert_eq!(retry_after(&failures, now), None);
    }

    #[test]
    fn with_more_failures_than_the_limit_the_wait_follows_the_fifth_newest() {
        let now = at(10);
        let failures = [at(1), at(2), at(3), at(4), at(5), at(6)];
        // Count falls to four once minute 2 leaves the window, at minute 17.
        assert_eq!(
            retry_after(&failures, now),
            Some(Duration::from_secs(7 * 60))
        );
    }
}
