//! What the API answers, as JSON. These views are the public contract (see the OpenAPI
//! document); store records stay internal.

use chrono::{DateTime, NaiveDate, Utc};
use cigo_domain::{EsitoDomanda, Finding, StatoRichiesta};
use cigo_store::{DomandaRecord, Richiesta, Transizione};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct RichiestaView {
    pub numero_richiesta: i64,
    pub stato: StatoRichiesta,
    /// What a person reads in the "Esito elaborazione" column.
    pub esito_elaborazione: String,
    /// `false`: direct mode (validated and sent with no approval step).
    pub prevalidazione: bool,
    pub data_inserimento: DateTime<Utc>,
    pub data_prevalidazione: Option<DateTime<Utc>>,
    /// The date of the attestato di trasmissione (legal filing date).
    pub data_approvazione: Option<DateTime<Utc>>,
    pub data_consegna: Option<DateTime<Utc>>,
    pub data_eliminazione: Option<DateTime<Utc>>,
    /// The name of the uploaded file as it was sent (multipart `filename`, `?nome=` or
    /// `X-Nome-File`), when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nome_file: Option<String>,
    /// SHA-256 of the uploaded file, lower-case hex.
    pub sha256: String,
    pub size_bytes: i64,
    pub domande_totali: i64,
    pub domande_valide: i64,
    pub domande_scartate: i64,
    pub domande_protocollate: i64,
    /// Why the file was rejected as a whole, when it was.
    pub file_finding: Option<Finding>,
    /// Id and version of the rules that produced the esito.
    pub rule_set: Option<String>,
    /// The richiesta whose rejected domande this one sends again (the `rinvioDi` of its file).
    pub rinvio_di: Option<i64>,
    /// The latest richiesta that sends this one's rejected domande again.
    pub rinviata_in: Option<i64>,
    /// What the owner may do now: `approva`, `elimina`.
    pub azioni: Vec<&'static str>,
    pub links: RichiestaLinks,
    /// Set when processing failed for good (the job went to the dead-letter queue after its
    /// retries): what went wrong. The richiesta keeps its state until an operator replays the
    /// job (`cigo admin dlq replay`); shown only by `GET /richieste/{n}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errore_elaborazione: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RichiestaLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub domande: String,
    pub xml: String,
    pub transizioni: String,
    /// The esito as CSV and as XML.
    pub esito_csv: String,
    pub esito_xml: String,
    /// The file of the rejected domande to correct and upload again, once there are some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scartate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestato_trasmissione: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestato_consegna: Option<String>,
}

/// The text of the "Esito elaborazione" column, in the style of the INPS screens.
pub fn esito_elaborazione(r: &Richiesta) -> String {
    use cigo_domain::attestato::{riepilogo_esito, riepilogo_prevalidazione};
    use StatoRichiesta as S;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    match r.stato {
        S::Ricevuta | S::InElaborazione | S::Approvata | S::InInvio | S::Eliminata => r.stato.descrizione().to_string(),
        S::Scartata => match &r.file_finding {
            Some(f) => format!("File scartato ({}): {}", f.code, f.message),
            None => format!(
                "Tutte le domande sono state scartate in fase di validazione preventiva ({} su {})",
                r.domande_scartate, r.domande_totali
            ),
        },
        S::Prevalidata => format!(
            "Validazione preventiva completata: {}. La richiesta può essere approvata all'invio.",
            riepilogo_prevalidazione(n(r.domande_valide), n(r.domande_scartate))
        ),
        S::Consegnata => format!("Richiesta consegnata: {}", riepilogo_esito(&crate::service::totali(r))),
        S::ScartataInInvio => {
            format!("{}: {}", S::ScartataInInvio.descrizione(), riepilogo_esito(&crate::service::totali(r)))
        }
    }
}

/// Whether some domanda of `r` was rejected, in prevalidazione or in fase d'invio.
fn ha_scartate(r: &Richiesta) -> bool {
    let sent = matches!(r.stato, StatoRichiesta::Consegnata | StatoRichiesta::ScartataInInvio);
    r.domande_scartate > 0 || (sent && r.domande_protocollate < r.domande_valide)
}

impl RichiestaView {
    pub fn from_record(r: &Richiesta) -> Self {
        let base = format!("/api/v1/richieste/{}", r.numero);
        let azioni = crate::service::Azione::ammesse(r.stato)
            .into_iter()
            .map(crate::service::Azione::as_str)
            .collect();
        RichiestaView {
            errore_elaborazione: None,
            numero_richiesta: r.numero,
            stato: r.stato,
            esito_elaborazione: esito_elaborazione(r),
            prevalidazione: r.prevalidazione,
            data_inserimento: r.data_inserimento,
            data_prevalidazione: r.data_prevalidazione,
            data_approvazione: r.data_approvazione,
            data_consegna: r.data_consegna,
            data_eliminazione: r.data_eliminazione,
            nome_file: r.nome_file.clone(),
            sha256: r.sha256.clone(),
            size_bytes: r.size_bytes,
            domande_totali: r.domande_totali,
            domande_valide: r.domande_valide,
            domande_scartate: r.domande_scartate,
            domande_protocollate: r.domande_protocollate,
            file_finding: r.file_finding.clone(),
            rule_set: r.rule_set.clone(),
            rinvio_di: r.rinvio_di,
            rinviata_in: r.rinviata_in,
            azioni,
            links: RichiestaLinks {
                domande: format!("{base}/domande"),
                xml: format!("{base}/xml"),
                transizioni: format!("{base}/transizioni"),
                esito_csv: format!("{base}/esito.csv"),
                esito_xml: format!("{base}/esito.xml"),
                scartate: ha_scartate(r).then(|| format!("{base}/scartate.xml")),
                attestato_trasmissione: r
                    .data_approvazione
                    .map(|_| format!("{base}/attestati/trasmissione")),
                attestato_consegna: r
                    .data_consegna
                    .map(|_| format!("{base}/attestati/consegna")),
                self_: base,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RichiestePage {
    pub items: Vec<RichiestaView>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomandaView {
    pub progressivo: i64,
    pub matricola: Option<String>,
    pub codice_fiscale_azienda: Option<String>,
    pub denominazione: Option<String>,
    pub unita_produttiva: Option<String>,
    pub periodo_dal: Option<NaiveDate>,
    pub periodo_al: Option<NaiveDate>,
    pub esito: EsitoDomanda,
    /// Protocol number, once protocollata.
    pub protocollo: Option<String>,
    pub data_protocollo: Option<DateTime<Utc>>,
    pub findings: Vec<Finding>,
}

impl From<DomandaRecord> for DomandaView {
    fn from(d: DomandaRecord) -> Self {
        DomandaView {
            progressivo: d.progressivo,
            matricola: d.matricola,
            codice_fiscale_azienda: d.codice_fiscale_azienda,
            denominazione: d.denominazione,
            unita_produttiva: d.unita_produttiva,
            periodo_dal: d.periodo_dal,
            periodo_al: d.periodo_al,
            esito: d.esito,
            protocollo: d.protocollo,
            data_protocollo: d.data_protocollo,
            findings: d.findings,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomandePage {
    pub numero_richiesta: i64,
    pub items: Vec<DomandaView>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransizioneView {
    pub da: Option<StatoRichiesta>,
    pub a: StatoRichiesta,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub nota: Option<String>,
}

impl From<Transizione> for TransizioneView {
    fn from(t: Transizione) -> Self {
        TransizioneView { da: t.da, a: t.a, actor: t.actor, at: t.at, nota: t.nota }
    }
}

/// The search form of the screens. Empty parameters are ignored.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RichiesteQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub numero: Option<i64>,
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(max_length = 200)]
    pub matricola: Option<String>,
    /// Codice fiscale azienda.
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(max_length = 200)]
    pub codice_fiscale: Option<String>,
    /// Part of the denominazione azienda (case-insensitive).
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(max_length = 200)]
    pub denominazione: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub inserita_dal: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub inserita_al: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub approvata_dal: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub approvata_al: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(value_type = Option<String>)]
    pub stato: Option<StatoRichiesta>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub page: Option<u32>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub page_size: Option<u32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DomandeQuery {
    /// Only domande with this esito.
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(value_type = Option<String>)]
    pub esito: Option<EsitoDomanda>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub page: Option<u32>,
    /// Up to 1000 (default 100).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub page_size: Option<u32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `false`: direct mode, validated and sent with no approval step. Default `true`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub prevalidazione: Option<bool>,
    /// The original name of the file, for a raw body (a multipart form uses its `filename`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub nome: Option<String>,
}

/// Treats `?x=` like an absent `x` (HTML forms send empty fields). Only the empty string counts:
/// `?inserita_al=%0D` is a malformed date and gets its 400, as the OpenAPI document says.
fn empty_as_none<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Option<String> = Option::deserialize(de)?;
    match raw.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

impl RichiestaView {
    /// Adds a recorded processing failure to the view: `errore_elaborazione`, and the
    /// "Esito elaborazione" text says so.
    pub fn with_errore(mut self, errore: Option<cigo_store::ErroreElaborazione>) -> Self {
        if let Some(e) = errore {
            self.esito_elaborazione = format!(
                "Elaborazione non riuscita dopo {} tentativi ({}): la richiesta è in carico all'assistenza, \
                 che la rielaborerà; non è necessario inviarla di nuovo",
                e.tentativi, e.kind
            );
            self.errore_elaborazione = Some(e.errore);
        }
        self
    }
}
