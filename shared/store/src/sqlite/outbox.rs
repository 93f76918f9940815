//! Outbox and jobs: the rows the relay publishes, the SLA reaper, the failures of jobs and their
//! replay, the SLA figures (SQLite).

use super::{richieste::must_fetch_richiesta, ts, SqliteStore};
use crate::common::{self, db_err, now, INSERT_CHUNK};
use crate::sql::{self, ERRORE_COLS, OUTBOX_COLS};
use crate::{ErroreElaborazione, OutboxMessage, Result, SlaStats, Timestamp};
use cigo_domain::piano::lavoro_in_corso;
use cigo_domain::{JobKind, StatoRichiesta};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::time::Duration;

/// An outbox row for `kind` on `numero` (see [`sql::INSERT_OUTBOX`]), inside the caller's transaction.
pub(super) async fn enqueue(
    conn: &mut SqliteConnection,
    kind: JobKind,
    numero: i64,
    trace_context: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(sql::INSERT_OUTBOX)
        .bind(kind)
        .bind(numero)
        .bind(trace_context)
        .bind(ts(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `UPDATE outbox SET {set} WHERE published_at IS NULL AND id IN (ids)`, in chunks, in one
/// transaction; `value` is bound as `$1` of `set`.
async fn update_unpublished(store: &SqliteStore, set: &str, value: Option<String>, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin_write().await?;
    for chunk in ids.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("UPDATE outbox SET {set} = "));
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

impl SqliteStore {
    pub async fn lease_outbox(&self, limit: i64, lease: Duration) -> Result<Vec<OutboxMessage>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let now = now();
        // One statement on the one writer connection: two relays cannot lease the same row.
        let mut rows: Vec<OutboxMessage> = sqlx::query_as(&format!(
            "UPDATE outbox SET leased_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL \
                          AND (leased_until IS NULL OR leased_until < $2) ORDER BY id LIMIT $3) \
             RETURNING {OUTBOX_COLS}"
        ))
        .bind(ts(common::plus(now, lease)))
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&self.writer)
        .await
        .map_err(db_err)?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    pub async fn mark_published(&self, ids: &[i64]) -> Result<()> {
        update_unpublished(self, "published_at", Some(ts(now())), ids).await
    }

    pub async fn release_outbox(&self, ids: &[i64]) -> Result<()> {
        update_unpublished(self, "leased_until", None, ids).await
    }

    pub async fn requeue_stale(&self, older_than: Duration) -> Result<u64> {
        let now = now();
        let mut tx = self.begin_write().await?;
        let stale: Vec<(i64, StatoRichiesta)> = sqlx::query_as(sql::SELECT_STALE)
            .bind(ts(common::minus(now, older_than)))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut requeued = 0u64;
        for (numero, stato) in stale {
            let Some(kind) = lavoro_in_corso(stato) else {
                continue;
            };
            enqueue(&mut tx, kind, numero, None, now).await?;
            sqlx::query(sql::TOUCH_RICHIESTA)
                .bind(numero)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
            requeued += 1;
        }
        tx.commit().await?;
        Ok(requeued)
    }

    pub async fn set_errore_elaborazione(
        &self,
        numero: i64,
        kind: JobKind,
        errore: &str,
        tentativi: i32,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        must_fetch_richiesta(&mut tx, numero).await?;
        sqlx::query(sql::UPSERT_ERRORE)
            .bind(numero)
            .bind(kind)
            .bind(errore)
            .bind(tentativi)
            .bind(ts(now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn errore_elaborazione(&self, numero: i64) -> Result<Option<ErroreElaborazione>> {
        sqlx::query_as(&format!("SELECT {ERRORE_COLS} FROM errori_elaborazione WHERE numero_richiesta = $1"))
            .bind(numero)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_err)
    }

    pub async fn list_errori_elaborazione(&self, limit: i64) -> Result<Vec<ErroreElaborazione>> {
        sqlx::query_as(&format!("SELECT {ERRORE_COLS} FROM errori_elaborazione ORDER BY at, numero_richiesta LIMIT $1"))
            .bind(limit.max(0))
            .fetch_all(&self.reader)
            .await
            .map_err(db_err)
    }

    pub async fn replay_job(&self, numero: i64, kind: JobKind) -> Result<()> {
        let now = now();
        let mut tx = self.begin_write().await?;
        must_fetch_richiesta(&mut tx, numero).await?;
        sqlx::query(sql::DELETE_ERRORE)
            .bind(numero)
            .execute(&mut *tx)
            .await?;
        enqueue(&mut tx, kind, numero, None, now).await?;
        sqlx::query(sql::TOUCH_RICHIESTA)
            .bind(numero)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn sla_stats(&self, bound: Duration, window: Duration) -> Result<SlaStats> {
        let now = now();
        let oldest: Option<Timestamp> = sqlx::query_scalar(sql::SELECT_OLDEST_UNFINISHED)
            .fetch_one(&self.reader)
            .await
            .map_err(db_err)?;
        let (finished, finished_within): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN \
                 (julianday(data_prevalidazione) - julianday(data_inserimento)) * 86400.0 <= $2 THEN 1 ELSE 0 END), 0) \
             FROM richieste WHERE data_inserimento >= $1 AND data_prevalidazione IS NOT NULL",
        )
        .bind(ts(common::minus(now, window)))
        .bind(bound.as_secs_f64())
        .fetch_one(&self.reader)
        .await
        .map_err(db_err)?;
        Ok(SlaStats { oldest_unfinished: oldest, finished, finished_within })
    }
}
