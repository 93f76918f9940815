//! The SQL both backends run as it is: SQLite and PostgreSQL agree on these statements (`$N`
//! placeholders, `CAST(… AS TEXT)` for a parameter that may be NULL, `ON CONFLICT`, `RETURNING`).
//! What differs (lists, row locks, batch updates, date arithmetic) is written in each backend, the
//! Rust around the statements once in `both/`.

pub(crate) const RICHIESTA_COLS: &str = "numero, intermediario, stato, prevalidazione, blob_key, sha256, size_bytes, \
    data_inserimento, data_prevalidazione, data_approvazione, data_consegna, data_eliminazione, updated_at, \
    domande_totali, domande_valide, domande_scartate, domande_protocollate, file_finding, rule_set, \
    rinvio_di, rinviata_in, nome_file, domande_scartate_in_invio, purgata_il";

pub(crate) const TOKEN_COLS: &str = "id, intermediario, nome, ruolo, created_at, expires_at, revoked_at";

pub(crate) const SESSIONE_COLS: &str = "id, csrf_token, token_id, created_at, expires_at, ended_at";

pub(crate) const DOMANDA_COLS: &str =
    "numero_richiesta, progressivo, matricola, codice_fiscale_azienda, denominazione, \
    unita_produttiva, periodo_dal, periodo_al, esito, protocollo, data_protocollo";

pub(crate) const OUTBOX_COLS: &str = "id, kind, numero_richiesta, trace_context, created_at, attempts";

pub(crate) const ERRORE_COLS: &str = "numero_richiesta, kind, errore, tentativi, at";

// --- Richieste ----------------------------------------------------------------------------------

pub(crate) const SELECT_STATO: &str = "SELECT stato FROM richieste WHERE numero = $1";

/// `$1` intermediario, `$2` stato, `$3` prevalidazione, `$4` blob_key, `$5` sha256, `$6` size, `$7` now,
/// `$8` rinvio_di, `$9` nome_file.
pub(crate) const INSERT_RICHIESTA: &str = "INSERT INTO richieste (intermediario, stato, prevalidazione, blob_key, \
    sha256, size_bytes, data_inserimento, updated_at, rinvio_di, nome_file) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING numero";

/// `$1` the richiesta sent again, `$2` the new one that holds its rejected domande (the latest
/// wins). Not a change of the old one's state or esito, so `updated_at` stays.
pub(crate) const SET_RINVIATA_IN: &str = "UPDATE richieste SET rinviata_in = $2 WHERE numero = $1";

pub(crate) const INSERT_TRANSIZIONE: &str =
    "INSERT INTO transizioni (numero_richiesta, da, a, actor, at, nota) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const SELECT_TRANSIZIONI: &str =
    "SELECT numero_richiesta, da, a, actor, at, nota FROM transizioni WHERE numero_richiesta = $1 ORDER BY id";

pub(crate) const SELECT_IDEMPOTENCY_KEY: &str =
    "SELECT numero_richiesta FROM idempotency_keys WHERE intermediario = $1 AND chiave = $2";

pub(crate) const INSERT_IDEMPOTENCY_KEY: &str =
    "INSERT INTO idempotency_keys (intermediario, chiave, numero_richiesta, created_at) VALUES ($1, $2, $3, $4)";

pub(crate) const SELECT_DUPLICATE: &str = "SELECT numero FROM richieste WHERE intermediario = $1 AND sha256 = $2 \
    AND stato <> 'ELIMINATA' ORDER BY numero DESC LIMIT 1";

/// The compare-and-set of a transition: `$1` numero, `$2` from, `$3` to, `$4` now; `{date_set}`
/// sets the date column of the target state to `$4` (see `common::date_column_of`).
pub(crate) fn update_stato(date_set: Option<&str>) -> String {
    let date_set = date_set.map(|c| format!(", {c} = $4")).unwrap_or_default();
    format!("UPDATE richieste SET stato = $3, updated_at = $4{date_set} WHERE numero = $1 AND stato = $2")
}

/// The esito's compare-and-set: `$1` numero, `$2` from, `$3` to, `$4..$6` counters, `$7` rule set,
/// `$8` file finding (JSON), `$9` now.
pub(crate) const UPDATE_ESITO: &str = "UPDATE richieste SET stato = $3, domande_totali = $4, domande_valide = $5, \
    domande_scartate = $6, domande_protocollate = 0, rule_set = $7, file_finding = $8, data_prevalidazione = $9, \
    updated_at = $9 WHERE numero = $1 AND stato = $2";

pub(crate) const DELETE_FINDINGS: &str = "DELETE FROM findings WHERE numero_richiesta = $1";
pub(crate) const DELETE_DOMANDE: &str = "DELETE FROM domande WHERE numero_richiesta = $1";
pub(crate) const DELETE_LAVORATORI: &str = "DELETE FROM domande_lavoratori WHERE numero_richiesta = $1";

/// Followed by the rows (`VALUES`): the workers of the domande that can be sent.
pub(crate) const INSERT_LAVORATORI: &str =
    "INSERT INTO domande_lavoratori (numero_richiesta, progressivo, posizione, codice_fiscale, line, col) ";

/// The workers of the domande of richiesta `$1` still to be sent, as `(progressivo,
/// LavoratoreDomanda)` columns.
pub(crate) const SELECT_LAVORATORI_INVIO: &str = "SELECT l.progressivo, l.posizione, l.codice_fiscale, l.line, l.col \
    FROM domande_lavoratori l JOIN domande d ON d.numero_richiesta = l.numero_richiesta AND d.progressivo = l.progressivo \
    WHERE l.numero_richiesta = $1 AND d.esito IN ('VALIDA', 'VALIDA_CON_AVVISI') ORDER BY l.progressivo, l.posizione";

pub(crate) const INSERT_DOMANDE: &str = "INSERT INTO domande (numero_richiesta, progressivo, matricola, \
    codice_fiscale_azienda, denominazione, unita_produttiva, periodo_dal, periodo_al, esito, ore_cig_centesimi, \
    evento_non_evitabile, ore_lavorabili_centesimi, mesi_quinquennio, termine_presentazione) ";

pub(crate) const INSERT_FINDINGS: &str = "INSERT INTO findings (numero_richiesta, progressivo, fase, seq, code, \
    layer, severity, message, xpath, line, col, value) ";

pub(crate) const SELECT_NUMERO: &str = "SELECT numero FROM richieste WHERE numero = $1";

/// `list_domande`: `$1` numero, `$2` esito or NULL, `$3` limit, `$4` offset.
pub(crate) const COUNT_DOMANDE: &str =
    "SELECT COUNT(*) FROM domande WHERE numero_richiesta = $1 AND (CAST($2 AS TEXT) IS NULL OR esito = $2)";

pub(crate) const PAGE_DOMANDE: &str = "FROM domande WHERE numero_richiesta = $1 \
    AND (CAST($2 AS TEXT) IS NULL OR esito = $2) ORDER BY progressivo LIMIT $3 OFFSET $4";

pub(crate) const PAGE_FINDINGS: &str = "SELECT progressivo, code, layer, severity, message, xpath, line, col, value \
    FROM findings WHERE numero_richiesta = $1 AND progressivo IN \
      (SELECT progressivo FROM domande WHERE numero_richiesta = $1 AND (CAST($2 AS TEXT) IS NULL OR esito = $2) \
       ORDER BY progressivo LIMIT $3 OFFSET $4) \
    ORDER BY progressivo, CASE fase WHEN 'PREVALIDAZIONE' THEN 0 ELSE 1 END, seq";

// --- Sending --------------------------------------------------------------------------------------

pub(crate) const INSERT_CONTATORE: &str =
    "INSERT INTO protocollo_contatori (anno, ultimo) VALUES ($1, 0) ON CONFLICT (anno) DO NOTHING";

pub(crate) const SELECT_CONTATORE: &str = "SELECT ultimo FROM protocollo_contatori WHERE anno = $1";

pub(crate) const UPDATE_CONTATORE: &str = "UPDATE protocollo_contatori SET ultimo = $2 WHERE anno = $1";

/// The domande still to be sent, as `archivio::DomandaInvio`.
pub(crate) const SELECT_DOMANDE_INVIO: &str = "SELECT progressivo, matricola, unita_produttiva, periodo_dal, \
    periodo_al, ore_cig_centesimi, evento_non_evitabile, ore_lavorabili_centesimi, mesi_quinquennio, \
    termine_presentazione FROM domande WHERE numero_richiesta = $1 AND esito IN ('VALIDA', 'VALIDA_CON_AVVISI') ORDER BY progressivo";

/// The end of a sending: `$1` numero, `$2` final state, `$3` at, `$4` now.
pub(crate) const UPDATE_CONSEGNA: &str = "UPDATE richieste SET stato = $2, data_consegna = $3, updated_at = $4, \
    domande_protocollate = (SELECT COUNT(*) FROM domande WHERE numero_richiesta = $1 AND esito = 'PROTOCOLLATA'), \
    domande_valide = (SELECT COUNT(*) FROM domande WHERE numero_richiesta = $1 \
                      AND esito IN ('VALIDA', 'VALIDA_CON_AVVISI', 'PROTOCOLLATA')), \
    domande_scartate = (SELECT COUNT(*) FROM domande WHERE numero_richiesta = $1 \
                        AND esito IN ('SCARTATA', 'SCARTATA_IN_INVIO')), \
    domande_scartate_in_invio = (SELECT COUNT(*) FROM domande WHERE numero_richiesta = $1 \
                                 AND esito = 'SCARTATA_IN_INVIO') \
    WHERE numero = $1 AND stato = $5";

// --- Attestati ----------------------------------------------------------------------------------

pub(crate) const ATTESTATO_COLS: &str = "codice, numero_richiesta, tipo, json, emesso_il";

/// Issues an attestato: `$1` codice, `$2` numero, `$3` tipo, `$4` json, `$5` now. Nothing is
/// written when that code, or an attestato of that tipo for that richiesta, exists already.
pub(crate) const INSERT_ATTESTATO: &str = "INSERT INTO attestati (codice, numero_richiesta, tipo, json, emesso_il) \
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

// --- Outbox and jobs ------------------------------------------------------------------------------

/// An outbox row; with no trace context of its own (`$3` NULL) it carries on the trace of the
/// latest outbox row of the richiesta (the upload's). `$1` kind, `$2` numero, `$4` now.
pub(crate) const INSERT_OUTBOX: &str =
    "INSERT INTO outbox (kind, numero_richiesta, trace_context, created_at, attempts) \
    VALUES ($1, $2, COALESCE($3, (SELECT o.trace_context FROM outbox o WHERE o.numero_richiesta = $2 \
                                  ORDER BY o.id DESC LIMIT 1)), $4, 0)";

pub(crate) const TOUCH_RICHIESTA: &str = "UPDATE richieste SET updated_at = $2 WHERE numero = $1";

/// The richieste in progress not updated since `$1`, with nothing queued and no recorded failure.
pub(crate) const SELECT_STALE: &str = "SELECT numero, stato FROM richieste r \
    WHERE stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'APPROVATA', 'IN_INVIO') AND updated_at < $1 \
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.numero_richiesta = r.numero AND o.published_at IS NULL) \
      AND NOT EXISTS (SELECT 1 FROM errori_elaborazione e WHERE e.numero_richiesta = r.numero) \
    ORDER BY numero";

pub(crate) const UPSERT_ERRORE: &str =
    "INSERT INTO errori_elaborazione (numero_richiesta, kind, errore, tentativi, at) \
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (numero_richiesta) DO UPDATE SET kind = excluded.kind, \
    errore = excluded.errore, tentativi = excluded.tentativi, at = excluded.at";

pub(crate) const DELETE_ERRORE: &str = "DELETE FROM errori_elaborazione WHERE numero_richiesta = $1";

pub(crate) const SELECT_OLDEST_UNFINISHED: &str = "SELECT MIN(data_inserimento) FROM richieste \
    WHERE stato IN ('RICEVUTA', 'IN_ELABORAZIONE', 'APPROVATA', 'IN_INVIO')";

/// The oldest richiesta waiting for a worker (queued, not taken yet) and for a sender.
pub(crate) const SELECT_OLDEST_WAITING: &str = "SELECT \
    (SELECT MIN(data_inserimento) FROM richieste WHERE stato = 'RICEVUTA'), \
    (SELECT MIN(data_approvazione) FROM richieste WHERE stato = 'APPROVATA')";

// --- Access -------------------------------------------------------------------------------------

/// Followed by the rows (`VALUES`) and [`DELEGHE_CONFLICT`]: a delega held already is left alone.
pub(crate) const INSERT_DELEGHE: &str = "INSERT INTO deleghe (intermediario, matricola, created_at) ";

pub(crate) const DELEGHE_CONFLICT: &str = " ON CONFLICT (intermediario, matricola) DO NOTHING";

pub(crate) const REMOVE_DELEGA: &str = "DELETE FROM deleghe WHERE intermediario = $1 AND matricola = $2";

pub(crate) const SELECT_DELEGHE: &str = "SELECT intermediario, matricola, created_at FROM deleghe \
    WHERE (CAST($1 AS TEXT) IS NULL OR intermediario = $1) AND (CAST($2 AS TEXT) IS NULL OR matricola = $2) \
    ORDER BY intermediario, matricola";

pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit (at, actor, action, numero_richiesta, detail) VALUES ($1, $2, $3, $4, $5)";

/// The audit rows and the transitions, of richiesta `$1` (or all when NULL), as one table.
const AUDIT_UNION: &str = "SELECT at, actor, action, numero_richiesta, detail, 0 AS src, id FROM audit \
      WHERE (CAST($1 AS BIGINT) IS NULL OR numero_richiesta = $1) \
    UNION ALL \
    SELECT at, actor, 'transizione', numero_richiesta, COALESCE(da, '-') || ' -> ' || a, 1, id \
      FROM transizioni WHERE (CAST($1 AS BIGINT) IS NULL OR numero_richiesta = $1)";

pub(crate) fn count_audit() -> String {
    format!("SELECT COUNT(*) FROM ({AUDIT_UNION}) u")
}

/// `$2` limit, `$3` offset.
pub(crate) fn page_audit() -> String {
    format!("SELECT at, actor, action, numero_richiesta, detail FROM ({AUDIT_UNION}) u ORDER BY at, src, id LIMIT $2 OFFSET $3")
}

// --- Archivio -------------------------------------------------------------------------------------

/// The periods of CIG as `archivio::PeriodoArchivio`: the domande protocollate (hours and causale
/// unknown, so 0 and not an evento non evitabile, for those saved before the columns existed)
/// and the imported authorisations. `{in_matricole}` is the backend's "matricola is in the list
/// `$1`"; `$2` is the first day that matters.
pub(crate) fn select_periodi(in_matricole: &str) -> String {
    format!(
        "SELECT matricola, unita_produttiva, protocollo AS riferimento, periodo_dal AS dal, periodo_al AS al, \
                COALESCE(ore_cig_centesimi, 0) AS ore, COALESCE(evento_non_evitabile, FALSE) AS evento_non_evitabile \
         FROM domande WHERE esito = 'PROTOCOLLATA' AND protocollo IS NOT NULL \
          AND unita_produttiva IS NOT NULL AND periodo_dal IS NOT NULL AND periodo_al >= $2 AND matricola {in_matricole} \
         UNION ALL \
         SELECT matricola, unita_produttiva, riferimento, periodo_dal, periodo_al, ore_centesimi, evento_non_evitabile \
         FROM archivio_autorizzazioni WHERE periodo_al >= $2 AND matricola {in_matricole} \
         ORDER BY 1, 4, 3"
    )
}

/// The workers of domande protocollate as `archivio::LavoratoreArchivio`: `{in_codici}` is the
/// backend's "codice fiscale is in the list `$1`"; `$2` the first day that matters.
pub(crate) fn select_lavoratori(in_codici: &str) -> String {
    format!(
        "SELECT l.codice_fiscale, d.matricola, d.unita_produttiva, d.protocollo AS riferimento, \
                d.periodo_dal AS dal, d.periodo_al AS al \
         FROM domande_lavoratori l JOIN domande d ON d.numero_richiesta = l.numero_richiesta AND d.progressivo = l.progressivo \
         WHERE d.esito = 'PROTOCOLLATA' AND d.protocollo IS NOT NULL AND d.matricola IS NOT NULL \
          AND d.unita_produttiva IS NOT NULL AND d.periodo_dal IS NOT NULL AND d.periodo_al >= $2 AND l.codice_fiscale {in_codici} \
         ORDER BY 1, 5, 4"
    )
}

/// `$1` a matricola: each unit's latest domanda protocollata (the first row per unit wins).
pub(crate) const SELECT_UNITA_PROTOCOLLATE: &str =
    "SELECT unita_produttiva, ore_lavorabili_centesimi, mesi_quinquennio \
    FROM domande WHERE matricola = $1 AND esito = 'PROTOCOLLATA' AND unita_produttiva IS NOT NULL \
    ORDER BY data_protocollo DESC, numero_richiesta DESC, progressivo DESC";

pub(crate) fn select_rapporti(in_matricole: &str) -> String {
    format!(
        "SELECT matricola, codice_fiscale, assunto_dal, cessato_al FROM archivio_rapporti \
         WHERE matricola {in_matricole} ORDER BY matricola, codice_fiscale, assunto_dal"
    )
}

/// Followed by the rows (`VALUES`) and [`AUTORIZZAZIONI_CONFLICT`]: an authorisation imported
/// again is rewritten.
pub(crate) const INSERT_AUTORIZZAZIONI: &str = "INSERT INTO archivio_autorizzazioni (matricola, riferimento, \
    unita_produttiva, periodo_dal, periodo_al, ore_centesimi, evento_non_evitabile, importata_il) ";

pub(crate) const AUTORIZZAZIONI_CONFLICT: &str = " ON CONFLICT (matricola, riferimento) DO UPDATE SET \
    unita_produttiva = excluded.unita_produttiva, periodo_dal = excluded.periodo_dal, periodo_al = excluded.periodo_al, \
    ore_centesimi = excluded.ore_centesimi, evento_non_evitabile = excluded.evento_non_evitabile, \
    importata_il = excluded.importata_il";

/// Followed by the rows (`VALUES`) and [`RAPPORTI_CONFLICT`]: a rapporto imported again is rewritten.
pub(crate) const INSERT_RAPPORTI: &str =
    "INSERT INTO archivio_rapporti (matricola, codice_fiscale, assunto_dal, cessato_al, importato_il) ";

pub(crate) const RAPPORTI_CONFLICT: &str = " ON CONFLICT (matricola, codice_fiscale, assunto_dal) \
    DO UPDATE SET cessato_al = excluded.cessato_al, importato_il = excluded.importato_il";

/// `$2` is the intermediario.
pub(crate) fn select_deleghe_tenute(in_matricole: &str) -> String {
    format!("SELECT matricola FROM deleghe WHERE intermediario = $2 AND matricola {in_matricole} ORDER BY matricola")
}
