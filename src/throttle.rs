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

    /// Takes one attempt for this phone and address, or `Err(seconds to wait)` when
    /// either is locked. The attempt counts as a failure from now on, so that
    /// concurrent attempts cannot all pass the check before any failure is counted;
    /// [`LoginThrottle::succeeded`] or [`LoginThrottle::release`] take it back.
    pub fn reserve(&self, phone: &str, addr: &str) -> Result<Attempt, u64> {
        let now = Instant::now();
        let attempt = Attempt { phone: phone_key(phone), addr: addr_key(addr), at: now };
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let wait = [(&attempt.phone, self.per_phone), (&attempt.addr, self.per_addr)]
            .into_iter()
            .filter_map(|(key, limit)| wait_if_full(failures.by_key.get_mut(key)?, now, self.window, limit))
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for key in [&attempt.phone, &attempt.addr] {
            failures.by_key.entry(key.clone()).or_default().push_back(now);
        }
        failures.recorded_since_sweep += 1;
        if failures.recorded_since_sweep >= SWEEP_EVERY {
            failures.recorded_since_sweep = 0;
            sweep(&mut failures.by_key, now, self.window);
        }
        Ok(attempt)
    }

    /// The attempt was right: it does not count, and that phone's earlier failures are
    /// forgiven (never the address's).
    pub fn succeeded(&self, attempt: &Attempt) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.by_key.remove(&attempt.phone);
        forget(&mut failures.by_key, &attempt.addr, attempt.at);
    }

    /// The attempt could not be judged (the database was unavailable): it does not count.
    pub fn release(&self, attempt: &Attempt) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        forget(&mut failures.by_key, &attempt.phone, attempt.at);
        forget(&mut failures.by_key, &attempt.addr, attempt.at);
    }
}

/// One login attempt counted by [`LoginThrottle::reserve`].
pub struct Attempt {
    phone: String,
    addr: String,
    at: Instant,
}

fn forget(by_key: &mut HashMap<String, VecDeque<Instant>>, key: &str, at: Instant) {
    if let Some(times) = by_key.get_mut(key) {
        if let Some(index) = times.iter().position(|t| *t == at) {
            times.remove(index);
        }
    }
}

/// Counts events per client address (registrations) in a sliding window, refusing
/// more than `limit`.
pub struct AddressQuota {
    window: Duration,
    limit: usize,
    by_addr: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl AddressQuota {
    pub fn new(window: Duration, limit: u32) -> Self {
        Self { window, limit: limit as usize, by_addr: Mutex::default() }
    }

    /// Takes one unit of the address's quota, or `Err(seconds to wait)`. Give it back
    /// with [`AddressQuota::release`] when the event did not happen after all.
    pub fn reserve(&self, addr: &str) -> Result<Instant, u64> {
        let now = Instant::now();
        let mut by_addr = self.by_addr.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        if by_addr.len() >= SWEEP_EVERY {
            sweep(&mut by_addr, now, window);
        }
        let times = by_addr.entry(addr.to_owned()).or_default();
        if let Some(wait) = wait_if_full(times, now, window, self.limit) {
            return Err(wait);
        }
        times.push_back(now);
        Ok(now)
    }

    pub fn release(&self, addr: &str, at: Instant) {
        let mut by_addr = self.by_addr.lock().unwrap_or_else(|e| e.into_inner());
        forget(&mut by_addr, addr, at);
    }
}

fn phone_key(phone: &str) -> String {
    format!("phone:{phone}")
}

fn addr_key(addr: &str) -> String {
    format!("addr:{addr}")
}

/// Seconds until a slot frees up, when the window already holds `limit` events.
fn wait_if_full(times: &mut VecDeque<Instant>, now: Instant, window: Duration, limit: usize) -> Option<u64> {
    prune(times, now, window);
    (times.len() >= limit).then(|| {
        let oldest = times.front().copied().unwrap_or(now);
        window.saturating_sub(now - oldest).as_secs().max(1)
    })
}

/// Drops the keys whose events all left the window.
fn sweep(by_key: &mut HashMap<String, VecDeque<Instant>>, now: Instant, window: Duration) {
    by_key.retain(|_, times| {
        prune(times, now, window);
        !times.is_empty()
    });
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
            assert!(throttle.reserve("+1", "a").is_ok());
        }
        assert!(throttle.reserve("+1", "a").is_err());
        assert!(throttle.reserve("+2", "a").is_ok(), "other phones are not locked");
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.reserve("+1", "a").is_ok());
    }

    #[test]
    fn the_address_limit_spans_phones() {
        let throttle = LoginThrottle::new(Duration::from_secs(60), 100, 2);
        throttle.reserve("+1", "a").unwrap();
        throttle.reserve("+2", "a").unwrap();
        assert!(throttle.reserve("+3", "a").is_err());
        assert!(throttle.reserve("+3", "b").is_ok());
    }

    #[test]
    fn a_success_forgives_the_phone_and_a_released_attempt_does_not_count() {
        let throttle = LoginThrottle::new(Duration::from_secs(60), 2, 2);
        throttle.reserve("+1", "a").unwrap();
        let right = throttle.reserve("+1", "a").unwrap();
        throttle.succeeded(&right);
        let unjudged = throttle.reserve("+1", "a").unwrap();
        throttle.release(&unjudged);
        assert!(throttle.reserve("+1", "a").is_ok(), "one failure on the address so far");
        assert!(throttle.reserve("+1", "a").is_err());
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let throttle = std::sync::Arc::new(LoginThrottle::new(Duration::from_secs(60), 5, 1000));
        let passed: usize = (0..40)
            .map(|_| {
                let throttle = throttle.clone();
                std::thread::spawn(move || throttle.reserve("+1", "a").is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(passed, 5);
    }

    #[test]
    fn an_address_quota_refuses_past_its_limit_and_takes_releases_back() {
        let quota = AddressQuota::new(Duration::from_secs(60), 2);
        let first = quota.reserve("a").unwrap();
        quota.reserve("a").unwrap();
        assert!(quota.reserve("a").is_err());
        assert!(quota.reserve("b").is_ok());
        quota.release("a", first);
        assert!(quota.reserve("a").is_ok());
    }
}
