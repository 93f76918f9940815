//! Per-intermediario limits: a request rate limit (GCRA, the algorithm of the `governor` crate,
//! in a few lines: one timestamp per intermediario) and a quota of concurrent uploads. Both are
//! [`ServiceError::TooManyRequests`] (429 with `Retry-After` on HTTP). They belong to the
//! service of one process, not to the process-wide `App`: with N API processes behind a load
//! balancer an intermediario gets at most N times the configured numbers.

use super::ServiceError;
use crate::config::Settings;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared by every adapter of one process.
pub struct Limits {
    /// Time between two requests at the steady rate (`None`: no limit).
    interval: Option<Duration>,
    /// How far ahead of now the theoretical arrival time may run (the burst).
    tolerance: Duration,
    /// GCRA state: theoretical arrival time of the next request, per intermediario.
    tat: Mutex<HashMap<String, Instant>>,
    max_uploads: usize,
    uploads: Arc<Mutex<HashMap<String, usize>>>,
    /// Refused probes recorded in the audit trail, per actor: the start of the current window,
    /// how many were recorded in it and how many were left out since the last one recorded.
    probes: Mutex<HashMap<String, ProbeWindow>>,
}

/// At most this many refused probes of one actor are written to the audit trail per
/// [`PROBE_WINDOW`]; the others are counted into the next row written, so a script trying every
/// numero cannot flood the trail and still leaves its trace.
pub const PROBES_RECORDED_PER_WINDOW: u32 = 10;
pub const PROBE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
struct ProbeWindow {
    since: Instant,
    recorded: u32,
    left_out: u32,
}

impl Limits {
    pub fn from_settings(settings: &Settings) -> Self {
        Limits::new(settings.rate_limit_per_minute, settings.rate_limit_burst, settings.max_concurrent_uploads)
    }

    /// `per_minute` requests at the steady rate (0: no limit) with bursts of `burst`, and at most
    /// `max_uploads` uploads at a time, per intermediario.
    pub fn new(per_minute: u32, burst: u32, max_uploads: usize) -> Self {
        let interval = (per_minute > 0).then(|| Duration::from_secs(60) / per_minute);
        let tolerance = interval.unwrap_or_default() * burst.max(1);
        Limits {
            interval,
            tolerance,
            tat: Mutex::new(HashMap::new()),
            max_uploads: max_uploads.max(1),
            uploads: Arc::new(Mutex::new(HashMap::new())),
            probes: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one refused probe of `actor` (a richiesta of someone else asked for): `Some(n)`
    /// when it is to be recorded, `n` being how many were left out before it; `None` when this
    /// window's rows are used up.
    pub fn record_probe(&self, actor: &str) -> Option<u32> {
        self.record_probe_at(actor, Instant::now())
    }

    fn record_probe_at(&self, actor: &str, now: Instant) -> Option<u32> {
        let mut probes = self.probes.lock().unwrap_or_else(|e| e.into_inner());
        if probes.len() > 10_000 {
            probes.retain(|_, w| now.duration_since(w.since) < PROBE_WINDOW || w.left_out > 0);
        }
        let w = probes
            .entry(actor.to_string())
            .or_insert(ProbeWindow { since: now, recorded: 0, left_out: 0 });
        if now.duration_since(w.since) >= PROBE_WINDOW {
            w.since = now;
            w.recorded = 0;
        }
        if w.recorded >= PROBES_RECORDED_PER_WINDOW {
            w.left_out += 1;
            return None;
        }
        w.recorded += 1;
        Some(std::mem::take(&mut w.left_out))
    }

    /// Counts one request of `intermediario`; 429 `rate_limited` when over the limit.
    pub fn check_rate(&self, intermediario: &str) -> Result<(), ServiceError> {
        self.check_rate_at(intermediario, Instant::now())
    }

    fn check_rate_at(&self, intermediario: &str, now: Instant) -> Result<(), ServiceError> {
        let Some(interval) = self.interval else { return Ok(()) };
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        if tat.len() > 100_000 {
            tat.retain(|_, t| *t > now);
        }
        let current = tat.get(intermediario).copied().unwrap_or(now).max(now);
        let allowed_at = current.checked_sub(self.tolerance).unwrap_or(now);
        if allowed_at > now {
            let wait = allowed_at - now;
            return Err(ServiceError::TooManyRequests {
                code: "rate_limited",
                message: format!(
                    "troppe richieste per questo intermediario: riprovare tra {} secondi",
                    wait.as_secs().max(1)
                ),
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        tat.insert(intermediario.to_string(), current + interval);
        Ok(())
    }

    /// A slot for one upload of `intermediario`, released when dropped; 429
    /// `too_many_concurrent_uploads` when all are taken.
    pub fn upload_slot(&self, intermediario: &str) -> Result<UploadSlot, ServiceError> {
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        let n = uploads.entry(intermediario.to_string()).or_insert(0);
        if *n >= self.max_uploads {
            return Err(ServiceError::TooManyRequests {
                code: "too_many_concurrent_uploads",
                message: format!(
                    "l'intermediario ha già {} caricamenti in corso: attendere che finiscano",
                    self.max_uploads
                ),
                retry_after_secs: 5,
            });
        }
        *n += 1;
        Ok(UploadSlot { uploads: self.uploads.clone(), intermediario: intermediario.to_string() })
    }
}

pub struct UploadSlot {
    uploads: Arc<Mutex<HashMap<String, usize>>>,
    intermediario: String,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = uploads.get_mut(&self.intermediario) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                uploads.remove(&self.intermediario);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_allows_the_burst_then_429_with_retry_after() {
        let ac = Limits::new(60, 3, 4);
        let t0 = Instant::now();
        for _ in 0..4 {
            ac.check_rate_at("A", t0).unwrap();
        }
        let e = ac.check_rate_at("A", t0).unwrap_err();
        assert!(matches!(e, ServiceError::TooManyRequests { retry_after_secs: 1, .. }), "{e:?}");
        // Another intermediario is not affected; after a second one more request passes.
        ac.check_rate_at("B", t0).unwrap();
        ac.check_rate_at("A", t0 + Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn refused_probes_are_recorded_up_to_the_window_then_counted() {
        let ac = Limits::new(0, 1, 1);
        let t0 = Instant::now();
        for _ in 0..PROBES_RECORDED_PER_WINDOW {
            assert_eq!(ac.record_probe_at("A", t0), Some(0));
        }
        assert_eq!(ac.record_probe_at("A", t0), None);
        assert_eq!(ac.record_probe_at("A", t0), None);
        // Another actor has its own window.
        assert_eq!(ac.record_probe_at("B", t0), Some(0));
        // The next window's first row says how many were left out.
        assert_eq!(ac.record_probe_at("A", t0 + PROBE_WINDOW), Some(2));
        assert_eq!(ac.record_probe_at("A", t0 + PROBE_WINDOW), Some(0));
    }

    #[test]
    fn upload_slots_are_released_on_drop() {
        let ac = Limits::new(0, 1, 2);
        let a = ac.upload_slot("A").unwrap();
        let _b = ac.upload_slot("A").unwrap();
        assert!(ac.upload_slot("A").is_err());
        ac.upload_slot("B").unwrap();
        drop(a);
        ac.upload_slot("A").unwrap();
    }
}
