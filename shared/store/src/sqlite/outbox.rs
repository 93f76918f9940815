//! Outbox and jobs, where SQLite differs: no row locks to skip, unpublished rows updated by lists
//! of ids in chunks, the SLA bound in seconds. The rest is in `both/outbox.rs`.

use super::{ts, Backend, Db};
use crate::common::INSERT_CHUNK;
use crate::{Result, Timestamp};
use sqlx::QueryBuilder;
use std::time::Duration;

/// Nothing to add to the selects of the relay and of the reaper: they run on the one writer, so two
/// relays (or reapers) never take the same row.
pub(super) const SKIP_LOCKED: &str = "";

/// The richieste prevalidated since `$1` and, of those, the ones that took at most `$2` (seconds,
/// see [`sla_bound`]).
pub(super) const FINISHED_WITHIN: &str = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN \
    (julianday(data_prevalidazione) - julianday(data_inserimento)) * 86400.0 <= $2 THEN 1 ELSE 0 END), 0) \
    FROM richieste WHERE data_inserimento >= $1 AND data_prevalidazione IS NOT NULL";

/// The SLA bound as [`FINISHED_WITHIN`] compares it.
pub(super) fn sla_bound(bound: Duration) -> f64 {
    bound.as_secs_f64()
}

/// `UPDATE outbox SET {set} = value WHERE published_at IS NULL AND id IN (ids)`, in chunks, in one
/// transaction.
pub(super) async fn set_outbox(store: &Backend, set: &str, value: Option<Timestamp>, ids: &[i64]) -> Result<()> {
    let value = value.map(ts);
    let mut tx = store.begin_write().await?;
    for chunk in ids.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<Db>::new(format!("UPDATE outbox SET {set} = "));
        qb.push_bind(value.clone())
            .push(" WHERE published_at IS NULL AND id IN (");
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        qb.push(")");
        qb.build().persistent(false).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
