//! Richieste, where PostgreSQL differs: the upload's advisory lock, `ILIKE`, the domande of a
//! sending written in two statements. The rest is in `both/richieste.rs`.

use super::{ts, Conn, Db};
use crate::{Result, Timestamp};
use cigo_domain::piano::PianoInvio;
use cigo_domain::EsitoDomanda;
use sqlx::QueryBuilder;

/// Serialises the uploads of one intermediario for the checks that follow (the advisory lock is
/// held to the end of the transaction).
pub(super) async fn serialise_uploads(conn: &mut Conn, intermediario: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('cigo.upload:' || $1, 0))")
        .bind(intermediario)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `{column}` contains the `LIKE` pattern `pattern` (escaped with `\`), ignoring case.
pub(super) fn contains_ci(qb: &mut QueryBuilder<'_, Db>, column: &str, pattern: String) {
    qb.push(format!("{column} ILIKE "))
        .push_bind(pattern)
        .push(" ESCAPE '\\'");
}

/// The domande of a sending marked as its plan says: one statement for the rejected ones, one for
/// the protocollate (arrays, whatever their number).
pub(super) async fn mark_invio(conn: &mut Conn, numero: i64, piano: &PianoInvio, at: Timestamp) -> Result<()> {
    let scartate: Vec<i64> = piano.scartate.iter().map(|s| s.progressivo).collect();
    sqlx::query("UPDATE domande SET esito = $3 WHERE numero_richiesta = $1 AND progressivo = ANY($2)")
        .bind(numero)
        .bind(&scartate)
        .bind(EsitoDomanda::ScartataInInvio)
        .execute(&mut *conn)
        .await?;
    let (progressivi, numeri): (Vec<i64>, Vec<&str>) = piano
        .protocollate
        .iter()
        .map(|p| (p.progressivo, p.protocollo.as_str()))
        .unzip();
    sqlx::query(
        "UPDATE domande AS d SET esito = $3, protocollo = v.protocollo, data_protocollo = $2 \
         FROM UNNEST($4::bigint[], $5::text[]) AS v(progressivo, protocollo) \
         WHERE d.numero_richiesta = $1 AND d.progressivo = v.progressivo",
    )
    .bind(numero)
    .bind(ts(at))
    .bind(EsitoDomanda::Protocollata)
    .bind(&progressivi)
    .bind(&numeri)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
