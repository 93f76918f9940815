//! The PostgreSQL implementation of [`crate::Store`]: production, shared by any number of API,
//! worker, sender and relay processes.
//!
//! Concurrency: state changes are compare-and-sets (`UPDATE … WHERE stato = $from`) after the
//! row is locked (`FOR UPDATE`); sendings are serialised by the row lock on the protocol counter
//! of the year (taken first, before the richiesta: one lock order, no deadlocks); the outbox
//! relays lease rows with `FOR UPDATE SKIP LOCKED`. Timestamps come from the application clock
//! (see `common`). A list travels as one array parameter (`= ANY($1)`).

mod access;
mod archivio;
mod attestati;
mod outbox;
mod richieste;

use crate::{Result, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// "`matricola` is in the list `$1`" (see [`list`]).
const IN_LIST: &str = "= ANY($1)";

/// Read-only work that runs more than one query (count + page, domande + findings) sees one
/// snapshot.
const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Rows per batched statement (`UNNEST` of arrays).
const BATCH: usize = 1_000;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects (eagerly: an unreachable server is an error here) with a pool of at most
    /// `max_connections` connections.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// The pool, for administrative tools and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A write transaction (the rows it needs are locked by its statements).
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// A read transaction: the queries in it see one snapshot.
    async fn begin_read(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin_with(BEGIN_SNAPSHOT).await?)
    }
}

crate::forward::forward_store!(PgStore, "postgres");

/// A timestamp as PostgreSQL stores it (`TIMESTAMPTZ`).
fn ts(t: Timestamp) -> Timestamp {
    t
}

/// A list as one parameter: an array.
fn list<T: Clone>(items: &[T]) -> Result<Vec<T>> {
    Ok(items.to_vec())
}
