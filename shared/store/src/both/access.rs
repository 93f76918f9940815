//! Access: API tokens, console sessions, deleghe, the audit trail, for both backends (see the module doc of `both`).

use super::{ts, Backend};
use crate::common::{db_err, now, paging};
use crate::sql::{self, SESSIONE_COLS, TOKEN_COLS};
use crate::{AuditEntry, Delega, NewAudit, NuovaSessione, Page, Result, Sessione, Timestamp, TokenRecord};
use cigo_domain::Ruolo;

impl Backend {
    pub async fn create_token(
        &self,
        token_hash: &str,
        intermediario: &str,
        nome: Option<&str>,
        ruolo: Ruolo,
        expires_at: Option<Timestamp>,
    ) -> Result<TokenRecord> {
        sqlx::query_as(&format!(
            "INSERT INTO api_tokens (token_hash, intermediario, nome, ruolo, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLS}"
        ))
        .bind(token_hash)
        .bind(intermediario)
        .bind(nome)
        .bind(ruolo)
        .bind(ts(now()))
        .bind(expires_at.map(ts))
        .fetch_one(self.writer())
        .await
        .map_err(db_err)
    }

    pub async fn find_token(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        sqlx::query_as(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)
    }

    pub async fn get_token(&self, id: i64) -> Result<Option<TokenRecord>> {
        sqlx::query_as(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)
    }

    pub async fn list_tokens(&self, intermediario: Option<&str>) -> Result<Vec<TokenRecord>> {
        sqlx::query_as(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE (CAST($1 AS TEXT) IS NULL OR intermediario = $1) ORDER BY id"
        ))
        .bind(intermediario)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)
    }

    pub async fn revoke_token(&self, id: i64) -> Result<Option<TokenRecord>> {
        sqlx::query_as(&format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING {TOKEN_COLS}"
        ))
        .bind(id)
        .bind(ts(now()))
        .fetch_optional(self.writer())
        .await
        .map_err(db_err)
    }

    pub async fn create_sessione(&self, nuova: NuovaSessione) -> Result<Sessione> {
        sqlx::query_as(&format!(
            "INSERT INTO sessioni (session_hash, csrf_token, token_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {SESSIONE_COLS}"
        ))
        .bind(&nuova.session_hash)
        .bind(&nuova.csrf_token)
        .bind(nuova.token_id)
        .bind(ts(now()))
        .bind(ts(nuova.expires_at))
        .fetch_one(self.writer())
        .await
        .map_err(db_err)
    }

    pub async fn find_sessione(&self, session_hash: &str) -> Result<Option<Sessione>> {
        sqlx::query_as(&format!("SELECT {SESSIONE_COLS} FROM sessioni WHERE session_hash = $1"))
            .bind(session_hash)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)
    }

    pub async fn end_sessione(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE sessioni SET ended_at = COALESCE(ended_at, $2) WHERE id = $1")
            .bind(id)
            .bind(ts(now()))
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn add_deleghe(&self, deleghe: &[(String, String)]) -> Result<u64> {
        let now = now();
        self.write_rows(sql::INSERT_DELEGHE, deleghe, sql::DELEGHE_CONFLICT, |mut b, (i, m)| {
            b.push_bind(i).push_bind(m).push_bind(ts(now));
        })
        .await
    }

    pub async fn remove_delega(&self, intermediario: &str, matricola: &str) -> Result<bool> {
        let done = sqlx::query(sql::REMOVE_DELEGA)
            .bind(intermediario)
            .bind(matricola)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn list_deleghe(&self, intermediario: Option<&str>, matricola: Option<&str>) -> Result<Vec<Delega>> {
        sqlx::query_as(sql::SELECT_DELEGHE)
            .bind(intermediario)
            .bind(matricola)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)
    }

    pub async fn append_audit(&self, entry: NewAudit) -> Result<()> {
        sqlx::query(sql::INSERT_AUDIT)
            .bind(ts(now()))
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(entry.numero_richiesta)
            .bind(&entry.detail)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub async fn list_audit(&self, numero: Option<i64>, page: u32, page_size: u32) -> Result<Page<AuditEntry>> {
        let p = paging(page, page_size);
        let mut tx = self.begin_read().await?;
        let total: i64 = sqlx::query_scalar(&sql::count_audit())
            .bind(numero)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let items = sqlx::query_as(&sql::page_audit())
            .bind(numero)
            .bind(p.limit)
            .bind(p.offset)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await?;
        Ok(Page { items, total, page: p.page, page_size: p.page_size })
    }
}
