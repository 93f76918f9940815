//! The Rust the two backends share, written once and compiled twice.
//!
//! SQLite and PostgreSQL run the same SQL for most of the store (`crate::sql`), and the Rust around
//! it (bind, fetch, decode, the steps of a transaction) is the same too: only the connection types
//! and a few statements differ. So each method of the store is written once, here, by aggregate
//! (`richieste.rs`, `outbox.rs`, `access.rs`, `archivio.rs`, `attestati.rs`, `purga.rs`), and each backend compiles this folder
//! as a child module of its own:
//!
//! ```text
//! // in sqlite/mod.rs and in postgres/mod.rs
//! #[path = "../both/mod.rs"]
//! mod both;
//! ```
//!
//! Inside it, `super` is the backend. The `use super::…` lines below are the whole contract
//! (the prelude): every backend provides the same names, each meaning its own thing, and the files
//! of this folder take them from here (`use super::{Conn, ts, …}`). The types and the pools are
//! declared by `crate::forward::backend_prelude!`, the rest by hand in the backend's `mod.rs` and,
//! for what belongs to one aggregate, in its file of the same name:
//!
//! | name | what | SQLite | PostgreSQL |
//! |---|---|---|---|
//! | `Db`, `Conn` | the database and its connection | `Sqlite`, `SqliteConnection` | `Postgres`, `PgConnection` |
//! | `Backend` | the store the methods are added to (`impl Backend`) | `SqliteStore` | `PgStore` |
//! | `Backend::{reader, writer}` | the pool for reads, for writes | the reader pool, the one writer | the one pool, both |
//! | `BEGIN_READ`, `BEGIN_WRITE` | how a snapshot, a write transaction begin | `BEGIN`, `BEGIN IMMEDIATE` | `REPEATABLE READ READ ONLY`, `BEGIN` |
//! | `MIGRATOR` | the migrations | `migrations/sqlite` | `migrations/postgres` |
//! | `ts` | a timestamp as bound | fixed-width TEXT | `TIMESTAMPTZ` |
//! | `list`, `IN_LIST` | a list as one parameter, "is in it" | JSON, `json_each` | array, `= ANY` |
//! | `FOR_UPDATE` | after a select whose rows the transaction holds | nothing (one writer) | ` FOR UPDATE` |
//! | `richieste::serialise_uploads` | the uploads of one intermediario one at a time | nothing (`BEGIN IMMEDIATE`) | advisory lock |
//! | `richieste::contains_ci` | case-insensitive `LIKE` | `lower() LIKE lower()` | `ILIKE` |
//! | `richieste::mark_invio` | the domande of a sending marked | one `UPDATE` each | two, by arrays |
//! | `outbox::SKIP_LOCKED` | after the selects of relay and reaper | nothing (one writer) | ` FOR UPDATE SKIP LOCKED` |
//! | `outbox::{FINISHED_WITHIN, sla_bound}` | the SLA count, its bound | `julianday`, seconds | `FILTER`, interval |
//! | `outbox::set_outbox` | outbox rows by ids | chunks of `IN (…)` | `= ANY` |
//!
//! In each compilation these are concrete types (`Conn` is `SqliteConnection` in one and
//! `PgConnection` in the other), so the bodies are plain code with no type parameter and no trait
//! bound, and a body that does not suit one backend fails that backend's build (a name missing
//! from a backend fails it here, at the `use`). The alternative, functions generic over
//! `sqlx::Database`, needs for every query an `Executor` bound on the connection, `Encode + Type`
//! for every bound value and `IntoArguments` for the arguments, and for every row `FromRow` over
//! the generic row: more bounds than code. Clippy's `duplicate_mod` (a file loaded as two modules)
//! is allowed at the two `mod both` lines: here that is the point.
//!
//! Multi-row inserts are the same in both ([`insert_rows`]: `VALUES` rows, [`INSERT_CHUNK`] a
//! statement). What stays in `sqlite/` and `postgres/` is only what each says its own way: the
//! pools and connecting, the prelude and, in the file of its aggregate, the dialect functions
//! above. A new aggregate adds its shared file here (declared below) and, if the dialects differ
//! on it, its functions in `sqlite/<aggregate>.rs` and `postgres/<aggregate>.rs`, their names on
//! the `use` lines below and in the table above.

use super::outbox::{set_outbox, sla_bound, FINISHED_WITHIN, SKIP_LOCKED};
use super::richieste::{contains_ci, mark_invio, serialise_uploads};
use super::{list, ts, Backend, Conn, Db, BEGIN_READ, BEGIN_WRITE, FOR_UPDATE, IN_LIST, MIGRATOR};

use crate::common::INSERT_CHUNK;
use crate::tx::Tx;
use crate::Result;
use sqlx::query_builder::Separated;
use sqlx::QueryBuilder;

impl Backend {
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(self.writer()).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.reader()).await?;
        Ok(())
    }

    pub async fn probe_write(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE heartbeat SET at = $1 WHERE id = 1")
            .bind(ts(crate::common::now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// A write transaction, on the writer ([`BEGIN_WRITE`]). Every write transaction of the
    /// store begins here: one that fails takes its connection with it ([`Tx`]), so a failure the
    /// database ended on its own (a full disk) cannot leave the writer unusable.
    pub(super) async fn begin_write(&self) -> Result<Tx<Db>> {
        Tx::begin(self.writer(), BEGIN_WRITE).await
    }

    /// A read transaction, whose queries see one snapshot ([`BEGIN_READ`]); its connection is
    /// reused only if it ended as it should, like a write transaction's.
    pub(super) async fn begin_read(&self) -> Result<Tx<Db>> {
        Tx::begin(self.reader(), BEGIN_READ).await
    }

    /// [`insert_rows`] in a write transaction of its own.
    async fn write_rows<'a, R>(
        &self,
        insert: &str,
        rows: &'a [R],
        tail: &str,
        push_row: impl FnMut(Separated<'_, 'a, Db, &'static str>, &'a R),
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let written = insert_rows(&mut tx, insert, rows, tail, push_row).await?;
        tx.commit().await?;
        Ok(written)
    }
}

mod access;
mod archivio;
mod attestati;
mod outbox;
mod purga;
mod richieste;

/// Inserts `rows` by multi-row statements of [`INSERT_CHUNK`] rows each: `insert`, then `VALUES`
/// with the binds `push_row` makes of each row, then `tail` (an `ON CONFLICT` clause, or nothing);
/// returns the rows written. Inside the caller's transaction.
async fn insert_rows<'a, R>(
    conn: &mut Conn,
    insert: &str,
    rows: &'a [R],
    tail: &str,
    mut push_row: impl FnMut(Separated<'_, 'a, Db, &'static str>, &'a R),
) -> Result<u64> {
    let mut written = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<Db>::new(insert);
        qb.push_values(chunk, &mut push_row);
        qb.push(tail);
        written += qb
            .build()
            .persistent(false)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(written)
}
