//! Attestati: the receipts issued, recorded for their verification (SQLite). The methods are
//! those of both backends (`sql::attestati_methods`).

use super::SqliteStore;
use sqlx::SqlitePool;

crate::sql::attestati_methods!(SqliteStore, SqlitePool, writer, reader);
