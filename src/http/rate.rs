//! A rate limit per caller on `/graphql`: one token bucket per token subject (anonymous callers share
//! one), so a department's runaway script slows itself down, not everyone. Over the limit a request is
//! answered `429 RATE_LIMITED` with `Retry-After` before anything runs.

use crate::auth::Identity;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// The limiter of one process; cheap to clone.
#[derive(Clone)]
pub struct RateLimit(Option<Arc<DefaultKeyedRateLimiter<String>>>);

impl RateLimit {
    /// `per_minute` requests per caller with bursts of a tenth of it (at least one); 0 turns it off.
    pub fn new(per_minute: u32) -> Self {
        RateLimit(NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new((per_minute / 10).max(1)).unwrap_or(NonZeroU32::MIN);
            Arc::new(governor::RateLimiter::keyed(
                Quota::per_minute(rate).allow_burst(burst),
            ))
        }))
    }

    /// `Ok` when `identity` may send another request now, else how long to wait.
    pub fn check(&self, identity: &Identity) -> Result<(), Duration> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        let key = identity.subject().to_owned();
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))?;
        // Keys of callers who stopped sending are dropped now and then, so the map stays small.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        Ok(())
    }
}
