//! The SQLite implementation of [`crate::Store`]: the embedded default, one file.
//!
//! Two pools on the same file: a writer pool of exactly one connection, through which every write
//! goes (each write transaction starts with `BEGIN IMMEDIATE`), and a reader pool of a few
//! connections. With the journal in WAL mode readers never block the writer nor each other, and
//! since there is one writer no transaction ever has to upgrade a read lock to a write lock (the
//! source of `SQLITE_BUSY` that `busy_timeout` cannot fix). The single writer also serialises the
//! sendings, so the protocol counter needs no row lock. `synchronous = FULL`: a committed
//! transaction is on disk (a 202 promises that).
//!
//! Timestamps are TEXT in the fixed format of `common::sqlite_ts`, from the application clock.
//! A list travels as one JSON array parameter (`IN (SELECT value FROM json_each($1))`).
//!
//! The methods of the store are in `both/` (shared with PostgreSQL, see its module doc); this
//! folder holds the prelude they import (below) and, by aggregate, what SQLite says its own way.

// The shared bodies, compiled here with the prelude below as `super` (and again in the other
// backend: that is the point, see `both/mod.rs`).
#[path = "../both/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod both;

mod outbox;
mod richieste;

use crate::common::sqlite_ts;
use crate::{Result, StoreError, Timestamp};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;

/// Connections of the reader pool.
const READERS: u32 = 4;

pub struct SqliteStore {
    /// Exactly one connection: every write transaction.
    writer: SqlitePool,
    /// Reads (the same pool as `writer` for an in-memory database).
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it, and its directory, if missing) the database file named by `url`:
    /// `sqlite:///abs/path.db` or `sqlite://relative.db`. Does not migrate. (`sqlite::memory:`
    /// too, for tests and demos: that database lives in its one connection, which the pool closes
    /// after a failed transaction, see `crate::tx`, or when idle for a while.)
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // An in-memory database lives in one connection: readers must share it.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            if let Some(dir) = options
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(sqlx::Error::Io)?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?
        };
        Ok(Self { writer, reader })
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

crate::forward::forward_store!(SqliteStore, "sqlite");

// --- The prelude of `both/` (see there) ----------------------------------------------------------

crate::forward::backend_prelude!(SqliteStore, Sqlite, SqliteConnection, reader: reader, writer: writer);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// A timestamp as SQLite stores it.
fn ts(t: Timestamp) -> String {
    sqlite_ts(t)
}

/// A write transaction (on the writer): taking the write lock at once.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// A read transaction (on a reader): the queries in it see one snapshot.
const BEGIN_READ: &str = "BEGIN";

/// "`matricola` is in the list `$1`" (see [`list`]).
const IN_LIST: &str = "IN (SELECT value FROM json_each($1))";

/// A list as one parameter: a JSON array, read with `json_each`.
fn list<T: serde::Serialize>(items: &[T]) -> Result<String> {
    serde_json::to_string(items).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Appended to a select whose rows the transaction must hold: nothing, as the one writer (and
/// `BEGIN IMMEDIATE`) already serialises every write transaction.
const FOR_UPDATE: &str = "";
