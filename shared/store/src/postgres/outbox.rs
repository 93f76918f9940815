//! Outbox and jobs, where PostgreSQL differs: the relays and reapers skip the rows another holds,
//! unpublished rows are updated by an array of ids, the SLA bound is an interval. The rest is in
//! `both/outbox.rs`.

use super::{ts, Backend};
use crate::common::chrono_duration;
use crate::{Result, Timestamp};
use std::time::Duration;

/// Appended to the selects of the relay and of the reaper: two processes at once take different
/// rows.
pub(super) const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// The richieste prevalidated since `$1` and, of those, the ones that took at most `$2` (an
/// interval, see [`sla_bound`]).
pub(super) const FINISHED_WITHIN: &str = "SELECT COUNT(*), \
    COUNT(*) FILTER (WHERE data_prevalidazione - data_inserimento <= $2) \
    FROM richieste WHERE data_inserimento >= $1 AND data_prevalidazione IS NOT NULL";

/// The SLA bound as [`FINISHED_WITHIN`] compares it.
pub(super) fn sla_bound(bound: Duration) -> chrono::Duration {
    chrono_duration(bound)
}

/// `UPDATE outbox SET {set} = value WHERE published_at IS NULL AND id IN (ids)`, one statement.
pub(super) async fn set_outbox(store: &Backend, set: &str, value: Option<Timestamp>, ids: &[i64]) -> Result<()> {
    sqlx::query(&format!("UPDATE outbox SET {set} = $1 WHERE published_at IS NULL AND id = ANY($2)"))
        .bind(value.map(ts))
        .bind(ids)
        .execute(store.writer())
        .await?;
    Ok(())
}
