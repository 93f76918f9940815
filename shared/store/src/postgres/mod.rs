//! The PostgreSQL implementation of [`crate::Store`]: production, shared by any number of API,
//! worker, sender and relay processes.
//!
//! Concurrency: state changes are compare-and-sets (`UPDATE … WHERE stato = $from`) after the
//! row is locked (`FOR UPDATE`); sendings are serialised by the row lock on the protocol counter
//! of the year (taken first, before the richiesta: one lock order, no deadlocks); the outbox
//! relays lease rows with `FOR UPDATE SKIP LOCKED`. Timestamps come from the application clock
//! (see `common`). A list travels as one array parameter (`= ANY($1)`).
//!
//! The methods of the store are in `both/` (shared with SQLite, see its module doc); this folder
//! holds the prelude they import (below) and, by aggregate, what PostgreSQL says its own way.

// The shared bodies, compiled here with the prelude below as `super` (and again in the other
// backend: that is the point, see `both/mod.rs`).
#[path = "../both/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod both;

mod outbox;
mod richieste;

use crate::{Result, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres};
use std::str::FromStr;
use std::time::Duration;

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
}

crate::forward::forward_store!(PgStore, "postgres");

// --- The prelude of `both/` (see there) ----------------------------------------------------------

crate::forward::backend_prelude!(PgStore, Postgres, PgConnection, reader: pool, writer: pool);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// A timestamp as PostgreSQL stores it (`TIMESTAMPTZ`).
fn ts(t: Timestamp) -> Timestamp {
    t
}

/// A write transaction: the rows it needs are locked by its statements.
const BEGIN_WRITE: &str = "BEGIN";

/// A read transaction: read-only work that runs more than one query (count + page, domande +
/// findings) sees one snapshot.
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// "`matricola` is in the list `$1`" (see [`list`]).
const IN_LIST: &str = "= ANY($1)";

/// A list as one parameter: an array.
fn list<T: Clone>(items: &[T]) -> Result<Vec<T>> {
    Ok(items.to_vec())
}

/// Appended to a select whose rows the transaction must hold: they stay locked to its end.
const FOR_UPDATE: &str = " FOR UPDATE";
