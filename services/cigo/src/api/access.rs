//! Per-intermediario limits (issue 5): a request rate limit (GCRA, the algorithm of the
//! `governor` crate, in a few lines: one timestamp per intermediario) and a quota of concurrent
//! uploads. Both answer 429 with `Retry-After`. They are per process: with N API processes
//! behind a load balancer an intermediario gets at most N times the configured numbers.
//!
//! Also the audit helper: every read of a richiesta's data and every change made through the API
//! is appended to the audit trail (fail closed: no audit row, no answer).

use super::auth::Caller;
use super::error::ApiError;
use crate::app::App;
use crate::config::Settings;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared by the handlers of one process.
pub struct AccessControl {
    /// Time between two requests at the steady rate (`None`: no limit).
    interval: Option<Duration>,
    /// How far ahead of now the theoretical arrival time may run (the burst).
    tolerance: Duration,
    /// GCRA state: theoretical arrival time of the next request, per intermediario.
    tat: Mutex<HashMap<String, Instant>>,
    max_uploads: usize,
    uploads: Arc<Mutex<HashMap<String, usize>>>,
}

impl AccessControl {
    pub fn new(settings: &Settings) -> Self {
        let interval =
            (settings.rate_limit_per_minute > 0).then(|| Duration::from_secs(60) / settings.rate_limit_per_minute);
        let tolerance = interval.unwrap_or_default() * settings.rate_limit_burst.max(1);
        AccessControl {
            interval,
            tolerance,
            tat: Mutex::new(HashMap::new()),
            max_uploads: settings.max_concurrent_uploads.max(1),
            uploads: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts one request of `intermediario`; 429 `rate_limited` when over the limit.
    pub fn check_rate(&self, intermediario: &str) -> Result<(), ApiError> {
        self.check_rate_at(intermediario, Instant::now())
    }

    fn check_rate_at(&self, intermediario: &str, now: Instant) -> Result<(), ApiError> {
        let Some(interval) = self.interval else { return Ok(()) };
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        if tat.len() > 100_000 {
            tat.retain(|_, t| *t > now);
        }
        let current = tat.get(intermediario).copied().unwrap_or(now).max(now);
        let allowed_at = current.checked_sub(self.tolerance).unwrap_or(now);
        if allowed_at > now {
            let wait = allowed_at - now;
            return Err(ApiError::TooManyRequests {
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
    pub fn upload_slot(&self, intermediario: &str) -> Result<UploadSlot, ApiError> {
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        let n = uploads.entry(intermediario.to_string()).or_insert(0);
        if *n >= self.max_uploads {
            return Err(ApiError::TooManyRequests {
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

/// Appends one row to the audit trail; the request fails if it cannot be written.
pub async fn audit(
    app: &App,
    caller: &Caller,
    action: &str,
    numero: Option<i64>,
    detail: Option<String>,
) -> Result<(), ApiError> {
    app.store
        .append_audit(cigo_store::NewAudit {
            actor: caller.actor(),
            action: action.to_string(),
            numero_richiesta: numero,
            detail,
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_allows_the_burst_then_429_with_retry_after() {
        let ac = AccessControl::new(&Settings { rate_limit_per_minute: 60, rate_limit_burst: 3, ..Default::default() });
        let t0 = Instant::now();
        for _ in 0..4 {
            ac.check_rate_at("A", t0).unwrap();
        }
        let e = ac.check_rate_at("A", t0).unwrap_err();
        assert!(matches!(e, ApiError::TooManyRequests { retry_after_secs: 1, .. }), "{e:?}");
        // Another intermediario is not affected; after a second one more request passes.
        ac.check_rate_at("B", t0).unwrap();
        ac.check_rate_at("A", t0 + Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn upload_slots_are_released_on_drop() {
        let ac = AccessControl::new(&Settings { max_concurrent_uploads: 2, ..Default::default() });
        let a = ac.upload_slot("A").unwrap();
        let _b = ac.upload_slot("A").unwrap();
        assert!(ac.upload_slot("A").is_err());
        ac.upload_slot("B").unwrap();
        drop(a);
        ac.upload_slot("A").unwrap();
    }
}
