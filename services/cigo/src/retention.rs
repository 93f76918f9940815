//! The retention as a loop of the reaper role: when a rule is on (`--retention-eliminate-days`,
//! `--retention-days`), the purge of [`crate::service::purga`] runs at start and then once a day.
//! Several reapers may run at once: each purge re-reads its richiesta under a lock, so a
//! richiesta is purged once. `cigo_richieste_purgate_total{regola}` counts what went.

use crate::app::App;
use crate::service::purga;
use std::time::Duration;

/// How often the purge runs after the first one, and again after a failure.
const PERIOD: Duration = Duration::from_secs(24 * 3600);
const RETRY: Duration = Duration::from_secs(3600);

/// Who the audit rows of the daily purge name.
pub const ACTOR: &str = "sistema:reaper";

pub async fn run(app: App) {
    for regola in [cigo_store::RegolaPurga::Eliminata, cigo_store::RegolaPurga::Conservazione] {
        metrics::counter!("cigo_richieste_purgate_total", "regola" => regola.as_str()).increment(0);
    }
    if purga::criterio(&app.settings, chrono::Utc::now()).is_off() {
        return;
    }
    loop {
        let run = purga::purga(
            app.store.as_ref(),
            app.blob.as_ref(),
            &app.settings,
            chrono::Utc::now(),
            false,
            ACTOR,
            |_| {},
        )
        .await;
        let pause = match run {
            Ok(t) => {
                if t.richieste > 0 {
                    tracing::info!(
                        richieste = t.richieste,
                        domande = t.domande,
                        blob_non_rimossi = t.blob_non_rimossi,
                        "retention: richieste purged"
                    );
                }
                PERIOD
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention: the purge failed; trying again in an hour");
                RETRY
            }
        };
        if !app.pause(pause).await {
            return;
        }
    }
}
