//! The receipts of a richiesta: the attestato di trasmissione (issued at approva all'invio; its
//! date is the legal filing date) and the attestato di consegna (issued when sending is done,
//! with the protocol numbers). The domain says what they contain
//! ([`cigo_domain::attestato`]); this use case gathers it from the store (and, for what the store
//! does not keep of a domanda, its causale and its workers, from the original file), and records
//! each attestato the first time it is built, by its verification code: its content is fixed
//! once it is issued, and `GET /api/v1/attestati/verifica/{codice}` answers from that record.

use super::richieste::MAX_PAGE_SIZE;
use super::{Caller, Service, ServiceError};
use cigo_domain::attestato::{
    unita_leggibile, Attestato, AttestatoConsegna, AttestatoTrasmissione, CodiceVerifica, DatiRichiesta,
    DomandaProtocollata, DomandaScartataInInvio, DomandaTrasmessa, Motivo, Totali,
};
use cigo_domain::esito::DatiArchivio;
use cigo_domain::{EsitoDomanda, Severity, StatoRichiesta};
use cigo_store::{AttestatoRecord, DomandaRecord, NuovoAttestato, Richiesta};
use std::collections::HashMap;

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

    /// As the attestato's `tipo` says it: `TRASMISSIONE`, `CONSEGNA`.
    pub fn as_str(self) -> &'static str {
        match self {
            TipoAttestato::Trasmissione => "TRASMISSIONE",
            TipoAttestato::Consegna => "CONSEGNA",
        }
    }

    /// Whether the richiesta has this attestato yet.
    pub fn issued(self, r: &Richiesta) -> bool {
        match self {
            TipoAttestato::Trasmissione => r.data_approvazione.is_some(),
            TipoAttestato::Consegna => {
                r.data_consegna.is_some()
                    && matches!(r.stato, StatoRichiesta::Consegnata | StatoRichiesta::ScartataInInvio)
            }
        }
    }
}

/// An issued attestato: its content, its verification code, and the JSON the API answers (the
/// canonical JSON the code hashes, with the code added as `codice_verifica`).
#[derive(Debug, Clone)]
pub struct AttestatoEmesso {
    pub attestato: Attestato,
    pub codice: CodiceVerifica,
    pub json: serde_json::Value,
}

impl AttestatoEmesso {
    /// The attestato as PDF/A-2u (the same attestato always gives the same bytes), rendered on a
    /// blocking thread; and the name of its file, `attestato-consegna-N.pdf`.
    pub async fn pdf(self) -> Result<(Vec<u8>, String), ServiceError> {
        let a = &self.attestato;
        let filename = format!("attestato-{}-{}.pdf", a.tipo().to_ascii_lowercase(), a.richiesta().numero_richiesta);
        let attestato = self.attestato;
        let bytes = tokio::task::spawn_blocking(move || cigo_receipts::attestato_pdf(&attestato))
            .await
            .map_err(ServiceError::internal)?
            .map_err(ServiceError::internal)?;
        Ok((bytes, filename))
    }

    fn from_record(rec: &AttestatoRecord) -> Result<Self, ServiceError> {
        let corrupt = |what: &str| ServiceError::internal(anyhow::anyhow!("attestato {} corrupt: {what}", rec.codice));
        let codice: CodiceVerifica = rec.codice.parse().map_err(|_| corrupt("code"))?;
        let attestato = Attestato::from_json(&rec.json).map_err(|_| corrupt("json"))?;
        if attestato.codice_verifica() != codice {
            return Err(corrupt("the code is not the hash of the content"));
        }
        let mut json: serde_json::Value = serde_json::from_str(&rec.json).map_err(|_| corrupt("json"))?;
        if let Some(map) = json.as_object_mut() {
            map.insert("codice_verifica".into(), serde_json::Value::String(codice.to_string()));
        }
        Ok(AttestatoEmesso { attestato, codice, json })
    }
}

/// The counts of a richiesta's domande, as its record keeps them.
pub fn totali(r: &Richiesta) -> Totali {
    let n = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    Totali {
        domande: n(r.domande_totali),
        scartate_in_prevalidazione: n(r.domande_scartate - r.domande_scartate_in_invio),
        protocollate: n(r.domande_protocollate),
        scartate_in_invio: n(r.domande_scartate_in_invio),
    }
}

impl Service {
    /// The attestato `tipo` (`trasmissione` or `consegna`; anything else is
    /// [`ServiceError::NotFound`]), once issued; [`ServiceError::AttestatoNotAvailable`] before.
    /// Built and recorded the first time it is asked for, read back from the record after.
    pub async fn attestato(&self, caller: &Caller, numero: i64, tipo: &str) -> Result<AttestatoEmesso, ServiceError> {
        let r = self.load(caller, numero).await?;
        super::con_i_dati(&r)?;
        let tipo = TipoAttestato::parse(tipo).ok_or(ServiceError::NotFound)?;
        if !tipo.issued(&r) {
            return Err(ServiceError::AttestatoNotAvailable { numero, stato: r.stato });
        }
        self.audit(caller, "lettura_attestato", Some(numero), Some(tipo.as_str().to_string()))
            .await?;
        self.emesso(&r, tipo).await
    }

    /// The attestato issued with this verification code (typed by a person: any case, with or
    /// without the dashes). No token: the code is the secret, and the answer holds only what its
    /// holder already has. `invalid_codice_verifica` for a string that is no code,
    /// [`ServiceError::AttestatoNotFound`] for a code this server did not issue.
    pub async fn verifica_attestato(&self, codice: &str) -> Result<AttestatoEmesso, ServiceError> {
        let codice: CodiceVerifica = codice
            .parse()
            .map_err(|e: cigo_domain::attestato::CodiceNonValido| {
                ServiceError::invalid("invalid_codice_verifica", e.to_string())
            })?;
        let Some(rec) = self
            .app
            .store
            .attestato_per_codice(codice.as_letters())
            .await?
        else {
            return Err(ServiceError::AttestatoNotFound);
        };
        self.app
            .store
            .append_audit(cigo_store::NewAudit {
                actor: "verifica:codice".into(),
                action: "verifica_attestato".into(),
                numero_richiesta: Some(rec.numero_richiesta),
                detail: Some(rec.tipo.clone()),
            })
            .await?;
        AttestatoEmesso::from_record(&rec)
    }

    /// The recorded attestato, or a new one built, recorded and read back (two requests at once
    /// build the same content; the record keeps one). The consegna names the trasmissione it
    /// follows, so the trasmissione is recorded first.
    async fn emesso(&self, r: &Richiesta, tipo: TipoAttestato) -> Result<AttestatoEmesso, ServiceError> {
        let trasmissione = match self.registrato(r, TipoAttestato::Trasmissione).await? {
            Some(t) => t,
            None => {
                let a = Attestato::Trasmissione(self.trasmissione(r).await?);
                self.registra(r, a).await?
            }
        };
        if tipo == TipoAttestato::Trasmissione {
            return Ok(trasmissione);
        }
        if let Some(c) = self.registrato(r, TipoAttestato::Consegna).await? {
            return Ok(c);
        }
        let a = Attestato::Consegna(self.consegna(r, trasmissione.codice).await?);
        self.registra(r, a).await
    }

    async fn registrato(&self, r: &Richiesta, tipo: TipoAttestato) -> Result<Option<AttestatoEmesso>, ServiceError> {
        match self.app.store.attestato_di(r.numero, tipo.as_str()).await? {
            Some(rec) => Ok(Some(AttestatoEmesso::from_record(&rec)?)),
            None => Ok(None),
        }
    }

    async fn registra(&self, r: &Richiesta, attestato: Attestato) -> Result<AttestatoEmesso, ServiceError> {
        let nuovo = NuovoAttestato {
            codice: attestato.codice_verifica().as_letters().to_string(),
            numero_richiesta: r.numero,
            tipo: attestato.tipo().to_string(),
            json: attestato.canonical_json(),
        };
        let rec = self.app.store.issue_attestato(&nuovo).await?;
        tracing::info!(numero = r.numero, tipo = %rec.tipo, codice = %rec.codice, "attestato issued");
        AttestatoEmesso::from_record(&rec)
    }

    async fn trasmissione(&self, r: &Richiesta) -> Result<AttestatoTrasmissione, ServiceError> {
        let mut dal_file = self.dati_dal_file(r).await?;
        let mut domande = Vec::new();
        self.each_domanda(r.numero, None, |d| {
            if d.esito != EsitoDomanda::Scartata {
                let progressivo = progressivo(&d);
                let dati = dal_file.remove(&progressivo);
                domande.push(DomandaTrasmessa {
                    progressivo,
                    matricola: d.matricola,
                    denominazione: d.denominazione,
                    unita_produttiva: d.unita_produttiva.as_deref().map(unita_leggibile),
                    periodo_dal: d.periodo_dal,
                    periodo_al: d.periodo_al,
                    causale: dati.as_ref().and_then(|a| a.causale.clone()),
                    lavoratori: dati
                        .as_ref()
                        .map(|a| u32::try_from(a.lavoratori.len()).unwrap_or(u32::MAX)),
                    ore_cig: dati.as_ref().map(|a| a.ore_cig),
                });
            }
        })
        .await?;
        Ok(AttestatoTrasmissione { richiesta: dati_richiesta(r)?, domande })
    }

    async fn consegna(
        &self,
        r: &Richiesta,
        codice_trasmissione: CodiceVerifica,
    ) -> Result<AttestatoConsegna, ServiceError> {
        let mut protocollate = Vec::new();
        self.each_domanda(r.numero, Some(EsitoDomanda::Protocollata), |d| {
            if let (Some(protocollo), Some(data_protocollo)) = (d.protocollo.clone(), d.data_protocollo) {
                protocollate.push(DomandaProtocollata {
                    progressivo: progressivo(&d),
                    matricola: d.matricola,
                    denominazione: d.denominazione,
                    protocollo,
                    data_protocollo,
                });
            }
        })
        .await?;
        let mut scartate_in_invio = Vec::new();
        self.each_domanda(r.numero, Some(EsitoDomanda::ScartataInInvio), |d| {
            // The domanda was valid at prevalidation: its errors are those of the sending.
            let motivi = d
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Errore)
                .map(|f| Motivo { codice: f.code.clone(), messaggio: f.message.clone() })
                .collect();
            scartate_in_invio.push(DomandaScartataInInvio {
                progressivo: progressivo(&d),
                matricola: d.matricola,
                denominazione: d.denominazione,
                motivi,
            });
        })
        .await?;
        let data_consegna = r
            .data_consegna
            .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("richiesta {} has no data_consegna", r.numero)))?;
        Ok(AttestatoConsegna {
            richiesta: dati_richiesta(r)?,
            data_consegna,
            codice_trasmissione,
            protocollate,
            scartate_in_invio,
            totali: totali(r),
        })
    }

    /// Every domanda of a richiesta (with one esito, when given), in file order, page by page.
    async fn each_domanda(
        &self,
        numero: i64,
        esito: Option<EsitoDomanda>,
        mut f: impl FnMut(DomandaRecord),
    ) -> Result<(), ServiceError> {
        let mut page = 1;
        loop {
            let chunk = self
                .app
                .store
                .list_domande(numero, esito, page, MAX_PAGE_SIZE)
                .await?;
            let done = chunk.items.len() < MAX_PAGE_SIZE as usize;
            chunk.items.into_iter().for_each(&mut f);
            if done {
                return Ok(());
            }
            page += 1;
        }
    }

    /// What the store does not keep of each domanda (causale, workers), read again from the
    /// original file, streamed, by progressivo.
    async fn dati_dal_file(&self, r: &Richiesta) -> Result<HashMap<u32, DatiArchivio>, ServiceError> {
        let stream = self.app.blob.get(&r.blob_key).await?;
        let esito = crate::app::prevalidate_blob(stream, None)
            .await
            .map_err(ServiceError::internal)?;
        Ok(esito
            .domande
            .into_iter()
            .filter_map(|d| Some((d.progressivo, d.archivio?)))
            .collect())
    }
}

fn progressivo(d: &DomandaRecord) -> u32 {
    u32::try_from(d.progressivo).unwrap_or(0)
}

fn dati_richiesta(r: &Richiesta) -> Result<DatiRichiesta, ServiceError> {
    let data_trasmissione = r
        .data_approvazione
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("richiesta {} was never approved", r.numero)))?;
    Ok(DatiRichiesta {
        numero_richiesta: r.numero,
        intermediario: r.intermediario.clone(),
        nome_file: r.nome_file.clone(),
        sha256: r.sha256.clone(),
        dimensione_byte: u64::try_from(r.size_bytes).unwrap_or(0),
        data_ricezione: r.data_inserimento,
        data_trasmissione,
    })
}
