//! Richieste, where SQLite differs: the upload's serialisation, the case-insensitive search, the
//! domande of a sending written one by one. The rest is in `both/richieste.rs`.

use super::{ts, Conn, Db};
use crate::{Result, Timestamp};
use cigo_domain::piano::PianoInvio;
use cigo_domain::EsitoDomanda;
use sqlx::QueryBuilder;

/// Nothing to take: the upload's transaction began with `BEGIN IMMEDIATE` on the one writer, so
/// writes are serialised and the checks that follow cannot race.
pub(super) async fn serialise_uploads(_conn: &mut Conn, _intermediario: &str) -> Result<()> {
    Ok(())
}

/// `{column}` contains the `LIKE` pattern `pattern` (escaped with `\`), ignoring case. lower()
/// folds ASCII only (as LIKE does): enough for the denominazioni of the tracciato.
pub(super) fn contains_ci(qb: &mut QueryBuilder<'_, Db>, column: &str, pattern: String) {
    qb.push(format!("lower({column}) LIKE lower("))
        .push_bind(pattern)
        .push(") ESCAPE '\\'");
}

/// The domande of a sending marked as its plan says: one UPDATE each (on the one local writer, a
/// statement is cheap).
pub(super) async fn mark_invio(conn: &mut Conn, numero: i64, piano: &PianoInvio, at: Timestamp) -> Result<()> {
    for s in &piano.scartate {
        sqlx::query("UPDATE domande SET esito = $3 WHERE numero_richiesta = $1 AND progressivo = $2")
            .bind(numero)
            .bind(s.progressivo)
            .bind(EsitoDomanda::ScartataInInvio)
            .execute(&mut *conn)
            .await?;
    }
    for p in &piano.protocollate {
        sqlx::query(
            "UPDATE domande SET esito = $3, protocollo = $4, data_protocollo = $5 \
             WHERE numero_richiesta = $1 AND progressivo = $2",
        )
        .bind(numero)
        .bind(p.progressivo)
        .bind(EsitoDomanda::Protocollata)
        .bind(&p.protocollo)
        .bind(ts(at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
