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

mod access;
mod archivio;
mod attestati;
mod outbox;
mod richieste;

use crate::common::sqlite_ts;
use crate::{Result, StoreError, Timestamp};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Connections of the reader pool.
const READERS: u32 = 4;

/// "`matricola` is in the list `$1`" (see [`list`]).
const IN_LIST: &str = "IN (SELECT value FROM json_each($1))";

pub struct SqliteStore {
    /// Exactly one connection: every write transaction.
    writer: SqlitePool,
    /// Reads (the same pool as `writer` for an in-memory database).
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it, and its directory, if missing) the database file named by `url`:
    /// `sqlite:///abs/path.db` or `sqlite://relative.db`. Does not migrate.
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

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// A write transaction: on the one writer, taking the write lock at once.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A read transaction: the queries in it see one snapshot.
    async fn begin_read(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.reader.begin().await?)
    }
}

crate::forward::forward_store!(SqliteStore, "sqlite");

/// A timestamp as SQLite stores it.
fn ts(t: Timestamp) -> String {
    sqlite_ts(t)
}

/// A list as one parameter: a JSON array, read with `json_each`.
fn list<T: serde::Serialize>(items: &[T]) -> Result<String> {
    serde_json::to_string(items).map_err(|e| StoreError::Corrupt(e.to_string()))
}
