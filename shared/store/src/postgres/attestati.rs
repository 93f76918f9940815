//! Attestati: the receipts issued, recorded for their verification (PostgreSQL). The methods are
//! those of both backends (`sql::attestati_methods`).

use super::PgStore;
use sqlx::PgPool;

crate::sql::attestati_methods!(PgStore, PgPool, pool, pool);
