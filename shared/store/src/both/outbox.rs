//! Outbox and jobs: the rows the relay publishes, the SLA reaper, the failures of jobs and their
//! replay, the SLA figures, for both backends (see the module doc of `both`).

use super::richieste::must_fetch_richiesta;
use super::{set_outbox, sla_bound, ts, Backend, Conn, FINISHED_WITHIN, SKIP_LOCKED};
use crate::common::{self, db_err, now};
use crate::sql::{self, ERRORE_COLS, OUTBOX_COLS};
use crate::{ErroreElaborazione, OutboxMessage, Result, SlaStats, Timestamp};
use cigo_domain::piano::lavoro_in_corso;
use cigo_domain::{JobKind, StatoRichiesta};
use std::time::Duration;

/// An outbox row for `kind` on `numero` (see [`sql::INSERT_OUTBOX`]), inside the caller's transaction.
pub(super) async fn enqueue(
    conn: &mut Conn,
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

/// `kind` queued again for `numero`, its `updated_at` moved to `now` (so that the reaper waits
/// for it a whole bound again), inside the caller's transaction.
async fn requeue(conn: &mut Conn, kind: JobKind, numero: i64, now: Timestamp) -> Result<()> {
    enqueue(conn, kind, numero, None, now).await?;
    sqlx::query(sql::TOUCH_RICHIESTA)
        .bind(numero)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Outbox rows by `ids` updated (see the backend's `set_outbox`); none for no ids.
async fn set_unpublished(store: &Backend, set: &str, value: Option<Timestamp>, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    set_outbox(store, set, value, ids).await
}

impl Backend {
    pub async fn lease_outbox(&self, limit: i64, lease: Duration) -> Result<Vec<OutboxMessage>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let now = now();
        // Two relays never lease the same row: PostgreSQL skips the rows another has locked
        // ([`SKIP_LOCKED`]), SQLite runs the one statement on its one writer.
        let mut rows: Vec<OutboxMessage> = sqlx::query_as(&format!(
            "UPDATE outbox SET leased_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL \
                          AND (leased_until IS NULL OR leased_until < $2) ORDER BY id LIMIT $3{SKIP_LOCKED}) \
             RETURNING {OUTBOX_COLS}"
        ))
        .bind(ts(common::plus(now, lease)))
        .bind(ts(now))
        .bind(limit)
        .fetch_all(self.writer())
        .await
        .map_err(db_err)?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    pub async fn mark_published(&self, ids: &[i64]) -> Result<()> {
        set_unpublished(self, "published_at", Some(now()), ids).await
    }

    pub async fn release_outbox(&self, ids: &[i64]) -> Result<()> {
        set_unpublished(self, "leased_until", None, ids).await
    }

    pub async fn trace_context_of(&self, numero: i64) -> Result<Option<String>> {
        let first: Option<Option<String>> =
            sqlx::query_scalar("SELECT trace_context FROM outbox WHERE numero_richiesta = $1 ORDER BY id LIMIT 1")
                .bind(numero)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err)?;
        Ok(first.flatten())
    }

    pub async fn release_all_outbox_leases(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET leased_until = NULL WHERE published_at IS NULL AND leased_until IS NOT NULL",
        )
        .execute(self.writer())
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    pub async fn requeue_stale(&self, older_than: Duration) -> Result<u64> {
        let now = now();
        let mut tx = self.begin_write().await?;
        // Two reapers at once take different richieste ([`SKIP_LOCKED`]).
        let stale: Vec<(i64, StatoRichiesta)> = sqlx::query_as(&format!("{}{SKIP_LOCKED}", sql::SELECT_STALE))
            .bind(ts(common::minus(now, older_than)))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut requeued = 0u64;
        for (numero, stato) in stale {
            let Some(kind) = lavoro_in_corso(stato) else {
                continue;
            };
            requeue(&mut tx, kind, numero, now).await?;
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
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)
    }

    pub async fn list_errori_elaborazione(&self, limit: i64) -> Result<Vec<ErroreElaborazione>> {
        sqlx::query_as(&format!("SELECT {ERRORE_COLS} FROM errori_elaborazione ORDER BY at, numero_richiesta LIMIT $1"))
            .bind(limit.max(0))
            .fetch_all(self.reader())
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
        requeue(&mut tx, kind, numero, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn sla_stats(&self, bound: Duration, window: Duration) -> Result<SlaStats> {
        let now = now();
        let oldest: Option<Timestamp> = sqlx::query_scalar(sql::SELECT_OLDEST_UNFINISHED)
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        let (finished, finished_within): (i64, i64) = sqlx::query_as(FINISHED_WITHIN)
            .bind(ts(common::minus(now, window)))
            .bind(sla_bound(bound))
            .fetch_one(self.reader())
            .await
            .map_err(db_err)?;
        let (waiting_prevalidazione, waiting_invio): (Option<Timestamp>, Option<Timestamp>) =
            sqlx::query_as(sql::SELECT_OLDEST_WAITING)
                .fetch_one(self.reader())
                .await
                .map_err(db_err)?;
        Ok(SlaStats { oldest_unfinished: oldest, finished, finished_within, waiting_prevalidazione, waiting_invio })
    }
}
