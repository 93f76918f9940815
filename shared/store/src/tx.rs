//! The transactions of the store, and the one rule about their connections: a connection goes
//! back to its pool only from a transaction known to be over.
//!
//! sqlx's own `Transaction` returns its connection to the pool whatever happened, after queueing a
//! `ROLLBACK` whose result nobody checks. When the database already ended the transaction by
//! itself (SQLite rolls back on `SQLITE_FULL`, `SQLITE_IOERR`, `SQLITE_NOMEM`; a `COMMIT` that
//! fails), that `ROLLBACK` fails, sqlx still counts the transaction as open, and the connection
//! goes back poisoned: every later `begin` on it answers "attempted to call begin_with at non-zero
//! transaction depth". With SQLite's one writer that stops every write until a restart.
//!
//! So [`Tx`] holds the pool connection itself and ends it by what is known: after a `COMMIT` (or
//! an explicit `ROLLBACK`) that succeeded the connection is reused; on any other end (a statement
//! failed and `?` dropped the transaction, the `COMMIT` failed, the future was cancelled) the
//! connection is closed, the server rolls back whatever was left, and the next transaction opens
//! a fresh connection.

use crate::{Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, TransactionManager};
use std::ops::{Deref, DerefMut};

/// A transaction on a connection of its own from the pool; derefs to the connection, so its
/// statements run as `.execute(&mut *tx)` and helpers take `&mut tx` as `&mut Conn`.
pub(crate) struct Tx<DB: Database> {
    /// `None` once ended ([`Tx::commit`], [`Tx::rollback`]).
    conn: Option<PoolConnection<DB>>,
}

impl<DB: Database> Tx<DB> {
    /// Takes a connection from `pool` and begins with `statement` (`BEGIN`, `BEGIN IMMEDIATE`...).
    pub(crate) async fn begin(pool: &Pool<DB>, statement: &'static str) -> Result<Self> {
        let mut conn = pool.acquire().await?;
        if let Err(e) = DB::TransactionManager::begin(&mut conn, Some(statement.into())).await {
            // Whether the BEGIN took effect is unknown: the connection is not reused.
            conn.close_on_drop();
            return Err(e.into());
        }
        Ok(Tx { conn: Some(conn) })
    }

    /// Commits. On failure the connection is closed (the database may or may not have ended the
    /// transaction: SQLite keeps it open after a `SQLITE_BUSY` commit, ends it after `SQLITE_FULL`).
    pub(crate) async fn commit(mut self) -> Result<()> {
        let mut conn = self.take();
        let result = DB::TransactionManager::commit(&mut conn).await;
        release(conn, result.is_ok());
        Ok(result?)
    }

    /// Rolls back on purpose (an answer found without writing: a replayed upload, a state
    /// conflict). The connection is reused if the rollback succeeded.
    pub(crate) async fn rollback(mut self) -> Result<()> {
        let mut conn = self.take();
        let result = DB::TransactionManager::rollback(&mut conn).await;
        release(conn, result.is_ok());
        Ok(result?)
    }

    /// Rolls back and answers `error`: the end of a transaction that found a
    /// [`StoreError::StateConflict`] or a [`StoreError::NotFound`], where no statement failed and
    /// the connection can be reused. Any other error is answered as is and the connection closed.
    pub(crate) async fn refuse<T>(self, error: StoreError) -> Result<T> {
        if matches!(error, StoreError::StateConflict { .. } | StoreError::NotFound(_)) {
            self.rollback().await?;
        }
        Err(error)
    }

    fn take(&mut self) -> PoolConnection<DB> {
        self.conn.take().expect("a transaction is ended once")
    }
}

/// Gives `conn` back to the pool if its transaction is known to be over (`ended`, and sqlx agrees
/// that no transaction is open on it), else closes it.
fn release<DB: Database>(mut conn: PoolConnection<DB>, ended: bool) {
    if !ended || DB::TransactionManager::get_transaction_depth(&conn) != 0 {
        conn.close_on_drop();
    }
}

impl<DB: Database> Drop for Tx<DB> {
    /// Dropped before its end (a statement failed, or the caller was cancelled): the state of the
    /// transaction is unknown, so the connection is closed rather than reused.
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.close_on_drop();
        }
    }
}

impl<DB: Database> Deref for Tx<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.conn.as_ref().expect("a transaction in progress")
    }
}

impl<DB: Database> DerefMut for Tx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect("a transaction in progress")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sqlx::{Postgres, Sqlite};
    use std::str::FromStr;

    /// A pool of one connection, as the store's SQLite writer, on a file of at most `max_pages`
    /// pages (`max_page_count`: past it SQLite answers `SQLITE_FULL`, as on a full disk).
    async fn one_writer(dir: &tempfile::TempDir, max_pages: u32) -> Pool<Sqlite> {
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .pragma("max_page_count", max_pages.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (b BLOB)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    /// Inserts 64 KiB rows until the database refuses one.
    async fn fill(tx: &mut Tx<Sqlite>) -> StoreError {
        for _ in 0..1_000 {
            if let Err(e) = sqlx::query("INSERT INTO t (b) VALUES (zeroblob(65536))")
                .execute(&mut **tx)
                .await
            {
                return e.into();
            }
        }
        panic!("max_page_count did not stop the inserts");
    }

    #[tokio::test]
    async fn after_sqlite_full_the_next_write_transaction_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let pool = one_writer(&dir, 64).await;

        let mut tx = Tx::begin(&pool, "BEGIN IMMEDIATE").await.unwrap();
        let full = fill(&mut tx).await;
        assert!(full.is_disk_full(), "{full:?}");
        // SQLite ended the transaction by itself: this is the state sqlx's own transaction
        // cannot recover from.
        assert!(sqlx::query("ROLLBACK").execute(&mut *tx).await.is_err());
        drop(tx);

        // The next write transaction, on the one connection of the pool, begins and commits.
        let mut tx = Tx::begin(&pool, "BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t (b) VALUES (x'00')")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, 1, "only the last write committed");
    }

    #[tokio::test]
    async fn sqlx_transactions_alone_are_poisoned_by_sqlite_full() {
        // What `Tx` is for: with sqlx's `Transaction` the one connection goes back to the pool
        // still counted in a transaction, and every later begin fails. If a new sqlx fixes this,
        // this test fails and `Tx` may be simplified.
        let dir = tempfile::tempdir().unwrap();
        let pool = one_writer(&dir, 64).await;
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        let mut failed = None;
        for _ in 0..1_000 {
            if let Err(e) = sqlx::query("INSERT INTO t (b) VALUES (zeroblob(65536))")
                .execute(&mut *tx)
                .await
            {
                failed = Some(e);
                break;
            }
        }
        assert!(StoreError::from(failed.unwrap()).is_disk_full());
        drop(tx);
        let again = pool.begin_with("BEGIN IMMEDIATE").await;
        assert!(matches!(again, Err(sqlx::Error::InvalidSavePointStatement)), "sqlx recovers by itself now: {again:?}");
    }

    #[tokio::test]
    async fn a_failed_commit_closes_the_connection() {
        // A deferred foreign key fails at COMMIT and SQLite keeps the transaction open: the
        // connection must not be reused as it is.
        let dir = tempfile::tempdir().unwrap();
        let pool = one_writer(&dir, 1_000).await;
        sqlx::query("CREATE TABLE p (id INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&pool)
            .await
            .unwrap();
        let mut tx = Tx::begin(&pool, "BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO c (p) VALUES (7)")
            .execute(&mut *tx)
            .await
            .unwrap();
        assert!(tx.commit().await.is_err());

        let mut tx = Tx::begin(&pool, "BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO p (id) VALUES (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let orphans: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM c")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(orphans, 0, "the failed transaction was rolled back");
    }

    /// The PostgreSQL server of the contract tests (they fail without it, so do these).
    async fn pg_pool() -> Pool<Postgres> {
        let url = std::env::var("CIGO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("PostgreSQL for the store's tests")
    }

    async fn backend_pid(pool: &Pool<Postgres>) -> i32 {
        let mut tx = Tx::begin(pool, "BEGIN").await.unwrap();
        let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        pid
    }

    #[tokio::test]
    async fn postgres_connections_of_failed_transactions_are_not_reused() {
        let pool = pg_pool().await;
        let first = backend_pid(&pool).await;
        assert_eq!(backend_pid(&pool).await, first, "committed: the connection is reused");

        // A statement fails: the transaction is aborted, the connection closed.
        let mut tx = Tx::begin(&pool, "BEGIN").await.unwrap();
        assert!(sqlx::query("SELECT 1 / 0").execute(&mut *tx).await.is_err());
        drop(tx);
        let second = backend_pid(&pool).await;
        assert_ne!(second, first);

        // The COMMIT fails (a deferred constraint): closed too.
        let mut tx = Tx::begin(&pool, "BEGIN").await.unwrap();
        sqlx::query("CREATE TEMP TABLE u (id INTEGER, CONSTRAINT u_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO u VALUES (1), (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        assert!(tx.commit().await.is_err());
        let third = backend_pid(&pool).await;
        assert_ne!(third, second);

        // Rolled back on purpose: reused.
        let tx = Tx::begin(&pool, "BEGIN").await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(backend_pid(&pool).await, third);
    }
}
