//! When to try again: about 1 s after the first failure, doubling, capped
//! at 5 minutes, spread by jitter so a burst of failures does not retry in
//! lockstep.

use std::time::Duration;

/// The delay after `attempts` failed attempts; `jitter` in [0, 1) spreads
/// it by up to ±20 %.
pub fn retry_delay(attempts: i32, jitter: f64) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    let base = Ord::min(1u64 << exp, 300) as f64;
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::from_secs_f64((base * spread).min(300.0))
}

/// A source of jitter in [0, 1); tests pass a fixed one.
pub type Jitter = fn() -> f64;

/// Random jitter from the OS.
pub fn random_jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_retry_is_after_about_one_second() {
        let d = retry_delay(1, 0.5);
        assert!((0.8..=1.2).contains(&d.as_secs_f64()), "{d:?}");
    }

    #[test]
    fn retries_back_off_exponentially() {
        assert_eq!(retry_delay(2, 0.5), Duration::from_secs(2));
        assert_eq!(retry_delay(5, 0.5), Duration::from_secs(16));
    }

    #[test]
    fn retries_are_capped_at_five_minutes() {
        for attempts in [9, 10, 20, 1000] {
            assert!(retry_delay(attempts, 0.99) <= Duration::from_secs(300));
        }
    }

    #[test]
    fn jitter_spreads_retries() {
        assert!(retry_delay(3, 0.0) < retry_delay(3, 0.99));
    }

    #[test]
    fn random_jitter_is_in_range() {
        for _ in 0..100 {
            assert!((0.0..1.0).contains(&random_jitter()));
        }
    }
}
