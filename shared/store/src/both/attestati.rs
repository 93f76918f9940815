//! Attestati: the receipts issued, recorded by verification code. Once issued an attestato never
//! changes, so a stored row is what `GET /api/v1/attestati/verifica/{codice}` answers.

use super::{ts, Backend};
use crate::common::{db_err, now};
use crate::sql::{ATTESTATO_COLS, INSERT_ATTESTATO};
use crate::{AttestatoRecord, NuovoAttestato, Result, StoreError};

impl Backend {
    pub async fn issue_attestato(&self, new: &NuovoAttestato) -> Result<AttestatoRecord> {
        sqlx::query(INSERT_ATTESTATO)
            .bind(&new.codice)
            .bind(new.numero_richiesta)
            .bind(&new.tipo)
            .bind(&new.json)
            .bind(ts(now()))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        // Read back through the writer, which has seen its own write.
        self.attestato_on(true, new.numero_richiesta, &new.tipo)
            .await?
            .ok_or(StoreError::NotFound(new.numero_richiesta))
    }

    pub async fn attestato_di(&self, numero: i64, tipo: &str) -> Result<Option<AttestatoRecord>> {
        self.attestato_on(false, numero, tipo).await
    }

    pub async fn attestato_per_codice(&self, codice: &str) -> Result<Option<AttestatoRecord>> {
        sqlx::query_as(&format!("SELECT {ATTESTATO_COLS} FROM attestati WHERE codice = $1"))
            .bind(codice)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)
    }

    /// The attestato `tipo` of richiesta `numero`, read on the writer's pool when `writer`.
    async fn attestato_on(&self, writer: bool, numero: i64, tipo: &str) -> Result<Option<AttestatoRecord>> {
        let pool = if writer { self.writer() } else { self.reader() };
        sqlx::query_as(&format!("SELECT {ATTESTATO_COLS} FROM attestati WHERE numero_richiesta = $1 AND tipo = $2"))
            .bind(numero)
            .bind(tipo)
            .fetch_optional(pool)
            .await
            .map_err(db_err)
    }
}
