//! Login throttling: failed attempts counted per phone number and per client address
//! in a sliding window. Once a key reaches its limit, every attempt is refused until
//! its oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    window: Duration,
    per_phone: usize,
    per_addr: usize,
    failures: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    by_key: HashMap<String, VecDeque<Instant>>,
    recorded_since_sweep: usize,
}

/// How many recorded failures between sweeps of keys whose failures all left the window.
const SWEEP_EVERY: usize = 1024;

impl LoginThrottle {
    pub fn new(window: Duration, per_phone: u32, per_addr: u32) -> Self {
        Self { window, per_phone: per_phone as usize, per_addr: per_addr as usize, failures: Mutex::default() }
    }

    /// `Err(seconds to wait)` when either key is locked.
    pub fn check(&self, phone: &str, addr: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let waits = [(phone_key(phone), self.per_phone), (addr_key(addr), self.per_addr)]
            .into_iter()
            .filter_map(|(key, limit)| {
                let times = failures.by_key.get_mut(&key)?;
                prune(times, now, self.window);
                (times.len() >= limit).then(|| {
                    let oldest = times.front().copied().unwrap_or(now);
                    (self.window.saturating_sub(now - oldest).as_secs()).max(1)
                })
            })
            .max();
        match waits {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, phone: &str, addr: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in [phone_key(phone), addr_key(addr)] {
            failures.by_key.entry(key).or_default().push_back(now);
        }
        failures.recorded_since_sweep += 1;
        if failures.recorded_since_sweep >= SWEEP_EVERY {
            failures.recorded_since_sweep = 0;
            let window = self.window;
            failures.by_key.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
    }

    /// A successful login forgives that phone's earlier failures (never the address's).
    pub fn forgive_phone(&self, phone: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.by_key.remove(&phone_key(phone));
    }
}

fn phone_key(phone: &str) -> String {
    format!("phone:{phone}")
}

fn addr_key(addr: &str) -> String {
    format!("addr:{addr}")
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times.front().is_some_and(|t| now.duration_since(*t) >= window) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_window() {
        let throttle = LoginThrottle::new(Duration::from_millis(200), 3, 100);
        for _ in 0..3 {
            assert!(throttle.check("+1", "a").is_ok());
            throttle.record_failure("+1", "a");
        }
        assert!(throttle.check("+1", "a").is_err());
        assert!(throttle.check("+2", "a").is_ok(), "other phones are not locked");
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.check("+1", "a").is_ok());
    }

    #[test]
    fn the_address_limit_spans_phones() {
        let throttle = LoginThrottle::new(Duration::from_secs(60), 100, 2);
        throttle.record_failure("+1", "a");
        throttle.record_failure("+2", "a");
        assert!(throttle.check("+3", "a").is_err());
        assert!(throttle.check("+3", "b").is_ok());
    }
}
