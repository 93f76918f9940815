//! The receipts of a richiesta: the attestato di trasmissione (issued at approva all'invio; its
//! date is the legal filing date) and the attestato di consegna (issued when sending is done,
//! with the protocol numbers).

use super::richieste::MAX_PAGE_SIZE;
use super::{Caller, Service, ServiceError};
use chrono::{DateTime, NaiveDate, Utc};
use cigo_domain::{EsitoDomanda, Finding, StatoRichiesta};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoAttestato {
    Trasmissione,
    Consegna,
}

impl TipoAttestato {
    /// As written in a URL: `trasmissione`, `consegna`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "trasmissione" => Some(TipoAttestato::Trasmissione),
            "consegna" => Some(TipoAttestato::Consegna),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TipoAttestato::Trasmissione => "TRASMISSIONE",
            TipoAttestato::Consegna => "CONSEGNA",
        }
    }

    /// Whether the richiesta has this attestato yet.
    fn issued(self, r: &cigo_store::Richiesta) -> bool {
        match self {
            TipoAttestato::Trasmissione => r.data_approvazione.is_some(),
            TipoAttestato::Consegna => matches!(r.stato, StatoRichiesta::Consegnata | StatoRichiesta::ScartataInInvio),
        }
    }

    /// The domande it lists: all those sent (trasmissione), those taken in charge or rejected at
    /// sending (consegna).
    fn lists(self, esito: EsitoDomanda) -> bool {
        match self {
            TipoAttestato::Trasmissione => esito != EsitoDomanda::Scartata,
            TipoAttestato::Consegna => matches!(esito, EsitoDomanda::Protocollata | EsitoDomanda::ScartataInInvio),
        }
    }
}

/// A receipt. `TRASMISSIONE` proves when the richiesta was sent (its date is the legal filing
/// date); `CONSEGNA` lists the domande taken in charge with their protocol numbers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attestato {
    /// `TRASMISSIONE` or `CONSEGNA`.
    pub tipo: &'static str,
    pub numero_richiesta: i64,
    /// Codice fiscale of the intermediario that filed it.
    pub intermediario: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub data_inserimento: DateTime<Utc>,
    pub data_trasmissione: DateTime<Utc>,
    pub data_consegna: Option<DateTime<Utc>>,
    pub stato: StatoRichiesta,
    pub domande: Vec<AttestatoDomanda>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttestatoDomanda {
    pub progressivo: i64,
    pub matricola: Option<String>,
    pub denominazione: Option<String>,
    pub periodo_dal: Option<NaiveDate>,
    pub periodo_al: Option<NaiveDate>,
    pub esito: EsitoDomanda,
    pub protocollo: Option<String>,
    pub data_protocollo: Option<DateTime<Utc>>,
    /// For domande rejected at sending: why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub motivi_scarto: Vec<Finding>,
}

impl Service {
    /// The attestato `tipo` (`trasmissione` or `consegna`; anything else is
    /// [`ServiceError::NotFound`]), once issued; [`ServiceError::AttestatoNotAvailable`] before.
    pub async fn attestato(&self, caller: &Caller, numero: i64, tipo: &str) -> Result<Attestato, ServiceError> {
        let r = self.load(caller, numero).await?;
        let tipo = TipoAttestato::parse(tipo).ok_or(ServiceError::NotFound)?;
        let Some(data_trasmissione) = r.data_approvazione.filter(|_| tipo.issued(&r)) else {
            return Err(ServiceError::AttestatoNotAvailable { numero, stato: r.stato });
        };
        self.audit(caller, "lettura_attestato", Some(numero), Some(tipo.as_str().to_string()))
            .await?;
        let mut domande = Vec::new();
        let mut page = 1;
        loop {
            let chunk = self
                .app
                .store
                .list_domande(numero, None, page, MAX_PAGE_SIZE)
                .await?;
            let done = chunk.items.len() < MAX_PAGE_SIZE as usize;
            domande.extend(
                chunk
                    .items
                    .into_iter()
                    .filter(|d| tipo.lists(d.esito))
                    .map(|d| AttestatoDomanda {
                        progressivo: d.progressivo,
                        matricola: d.matricola,
                        denominazione: d.denominazione,
                        periodo_dal: d.periodo_dal,
                        periodo_al: d.periodo_al,
                        esito: d.esito,
                        protocollo: d.protocollo,
                        data_protocollo: d.data_protocollo,
                        motivi_scarto: if d.esito == EsitoDomanda::ScartataInInvio {
                            d.findings
                                .into_iter()
                                .filter(|f| f.layer == cigo_domain::Layer::Archivio)
                                .collect()
                        } else {
                            Vec::new()
                        },
                    }),
            );
            if done {
                break;
            }
            page += 1;
        }
        Ok(Attestato {
            tipo: tipo.as_str(),
            numero_richiesta: r.numero,
            intermediario: r.intermediario,
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            data_inserimento: r.data_inserimento,
            data_trasmissione,
            data_consegna: r.data_consegna,
            stato: r.stato,
            domande,
        })
    }
}
