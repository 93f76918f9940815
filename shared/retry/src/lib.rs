//! # cigo-retry
//!
//! Every loop of cigo that waits for something to come back (the broker at start, a consumer,
//! the outbox relay, a job's transient failure) waits by the same rule: exponential backoff,
//! doubling from a first delay up to a cap, each delay stretched by a random jitter (backon adds
//! up to the current delay again, so a delay `d` becomes one in `[d, 2d)`). Without the jitter,
//! processes that failed together (every worker after a broker restart) would all retry at the
//! same instants and knock the service over again.
//!
//! The policy is [`backon::ExponentialBuilder`]; [`exponential`] is the one place it is built.
//! Loops that sleep themselves (to race the sleep with a shutdown) iterate the delays of
//! [`BackoffBuilder::build`]; one-shot operations use backon's [`Retryable`].

use std::time::Duration;

pub use backon::{Backoff, BackoffBuilder, ExponentialBackoff, ExponentialBuilder, Retryable};

/// Delays from `first`, doubling up to `max`, with jitter, without end: callers that give up
/// add `.with_max_times(n)` (attempts after the first) or `.with_total_delay(Some(d))`.
pub fn exponential(first: Duration, max: Duration) -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(first)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_each_with_its_jitter() {
        let first = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        let delays: Vec<Duration> = exponential(first, max).build().take(8).collect();
        assert_eq!(delays.len(), 8, "no end unless asked");
        let mut nominal = first;
        for d in &delays {
            assert!(*d >= nominal && *d < nominal * 2 + Duration::from_millis(1), "{d:?} for {nominal:?}");
            nominal = (nominal * 2).min(max);
        }
    }

    #[test]
    fn two_processes_do_not_retry_in_lockstep() {
        let policy = exponential(Duration::from_millis(100), Duration::from_secs(10));
        let a: Vec<Duration> = policy.build().take(6).collect();
        let b: Vec<Duration> = policy.build().take(6).collect();
        assert_ne!(a, b, "the jitter differs between two backoffs");
    }

    #[test]
    fn a_limit_of_attempts_ends_the_delays() {
        let delays = exponential(Duration::from_millis(1), Duration::from_millis(4))
            .with_max_times(3)
            .build()
            .count();
        assert_eq!(delays, 3);
    }

    #[tokio::test]
    async fn retryable_gives_up_after_the_limit() {
        let mut calls = 0;
        let result: Result<(), &str> = (|| {
            calls += 1;
            async { Err("down") }
        })
        .retry(exponential(Duration::from_millis(1), Duration::from_millis(2)).with_max_times(2))
        .await;
        assert_eq!(result, Err("down"));
        assert_eq!(calls, 3);
    }
}
