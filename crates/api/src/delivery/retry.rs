//! When a message that failed for a passing reason (a 4xx answer, a server out of reach) goes
//! again: after the base wait, doubling with each attempt, never more than six hours apart, until
//! the attempts run out.

use time::{Duration, OffsetDateTime};

/// The longest wait between two attempts.
const MAX_WAIT_SECS: i64 = 6 * 3600;

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub max_attempts: i32,
    /// The wait after the first attempt, in seconds.
    pub base_secs: i64,
}

impl RetryPolicy {
    /// When to try again after `attempts` attempts, or `None` when they have run out.
    pub fn next(&self, attempts: i32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
        let wait = self
            .base_secs
            .max(1)
            .saturating_mul(1i64 << doublings)
            .min(MAX_WAIT_SECS);
        Some(now + Duration::seconds(wait))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn waits_double_up_to_six_hours_until_the_attempts_run_out() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let p = RetryPolicy {
            max_attempts: 20,
            base_secs: 60,
        };
        let waits: Vec<i64> = (1..=10)
            .map(|a| (p.next(a, now).unwrap() - now).whole_seconds())
            .collect();
        assert_eq!(
            waits,
            [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600]
        );
        assert_eq!(p.next(20, now), None);
        assert!(p.next(19, now).is_some());
    }
}
