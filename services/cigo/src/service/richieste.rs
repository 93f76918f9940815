//! Reading and acting on richieste: search, the esito, the domande, the transitions, approva
//! all'invio, elimina, the original file.

use super::{Caller, Service, ServiceError};
use chrono::NaiveDate;
use cigo_domain::{EsitoDomanda, Event, JobKind, StatoRichiesta};
use cigo_store::{
    DomandaRecord, ErroreElaborazione, Page, Richiesta, RichiestaFilter, StoreError, TransitionRequest, Transizione,
};
use tracing::Instrument;

/// The largest page any list answers.
pub(super) const MAX_PAGE_SIZE: u32 = 1000;

/// The longest text a search field takes, in characters (a denominazione of the tracciato is at
/// most 200; a longer pattern is refused before the database sees it).
pub const MAX_TESTO_RICERCA: usize = 200;

/// Which page of a list, as the caller asked for it (`None`: the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Paging {
    /// 1-based (default 1).
    pub page: Option<u32>,
    /// 1 to [`MAX_PAGE_SIZE`] (the default depends on the list).
    pub page_size: Option<u32>,
}

impl Paging {
    /// The page number; `invalid_query` for 0.
    pub(super) fn page(&self) -> Result<u32, ServiceError> {
        match self.page {
            None => Ok(1),
            Some(0) => Err(ServiceError::invalid("invalid_query", "page parte da 1")),
            Some(n) => Ok(n),
        }
    }

    /// The page size, `default` when not given; `invalid_query` out of bounds.
    pub(super) fn page_size(&self, default: u32) -> Result<u32, ServiceError> {
        match self.page_size {
            None => Ok(default),
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            Some(n) => Err(ServiceError::invalid(
                "invalid_query",
                format!("page_size deve essere tra 1 e {MAX_PAGE_SIZE} (ricevuto {n})"),
            )),
        }
    }
}

/// The search form of the screens ("Ricerca elaborazioni"); `None` fields are not filters.
#[derive(Debug, Clone, Default)]
pub struct Ricerca {
    pub numero: Option<i64>,
    pub matricola: Option<String>,
    /// Codice fiscale azienda.
    pub codice_fiscale: Option<String>,
    /// Part of the denominazione azienda (case-insensitive).
    pub denominazione: Option<String>,
    pub inserita_dal: Option<NaiveDate>,
    pub inserita_al: Option<NaiveDate>,
    pub approvata_dal: Option<NaiveDate>,
    pub approvata_al: Option<NaiveDate>,
    pub stato: Option<StatoRichiesta>,
    /// Default page size 50.
    pub paging: Paging,
}

/// A richiesta with what its owner needs to read about it.
#[derive(Debug, Clone)]
pub struct Dettaglio {
    pub richiesta: Richiesta,
    /// Set when processing failed for good (the job is a dead letter until an operator replays it).
    pub errore: Option<ErroreElaborazione>,
}

/// A change the owner of a richiesta can ask for, as a screen offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Azione {
    /// Approva all'invio.
    Approva,
    Elimina,
}

impl Azione {
    pub const ALL: [Azione; 2] = [Azione::Approva, Azione::Elimina];

    pub fn as_str(self) -> &'static str {
        match self {
            Azione::Approva => "approva",
            Azione::Elimina => "elimina",
        }
    }

    fn event(self) -> Event {
        match self {
            Azione::Approva => Event::Approve,
            Azione::Elimina => Event::Delete,
        }
    }

    /// What the state machine allows from `stato`, whoever asks.
    pub fn ammesse(stato: StatoRichiesta) -> Vec<Azione> {
        Azione::ALL
            .into_iter()
            .filter(|a| stato.apply(a.event()).is_ok())
            .collect()
    }
}

impl Caller {
    /// What this caller may do now on `r`: the buttons a screen shows. Empty for a caller who
    /// may change nothing (operatore, admin, emulazione), whatever the state.
    pub fn azioni(&self, r: &Richiesta) -> Vec<Azione> {
        if self.ensure_may_change().is_err() || !self.may_read(&r.intermediario) {
            return Vec::new();
        }
        Azione::ammesse(r.stato)
    }
}

/// At most this many richieste in one bulk action: a page of the search at its largest.
pub const MAX_MASSIVA: usize = MAX_PAGE_SIZE as usize;

/// What a bulk action did to one richiesta.
#[derive(Debug)]
pub struct EsitoAzione {
    pub numero: i64,
    pub esito: Result<Richiesta, ServiceError>,
}

/// The original file of a richiesta, byte for byte.
pub struct FileXml {
    pub richiesta: Richiesta,
    pub bytes: cigo_blob::ByteStream,
}

impl Service {
    /// Search: an intermediario finds only its own richieste, an operatore or admin all of them
    /// (in emulazione: those of the emulated intermediario). Audited with the numbers returned.
    pub async fn ricerca(&self, caller: &Caller, ricerca: Ricerca) -> Result<Page<Richiesta>, ServiceError> {
        for (name, value) in [
            ("matricola", &ricerca.matricola),
            ("codice_fiscale", &ricerca.codice_fiscale),
            ("denominazione", &ricerca.denominazione),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_TESTO_RICERCA)
            {
                return Err(ServiceError::invalid(
                    "invalid_query",
                    format!("{name}: al massimo {MAX_TESTO_RICERCA} caratteri"),
                ));
            }
        }
        let filter = RichiestaFilter {
            intermediario: caller.scope().map(str::to_owned),
            numero: ricerca.numero,
            matricola: ricerca.matricola,
            codice_fiscale: ricerca.codice_fiscale,
            denominazione: ricerca.denominazione,
            inserita_dal: ricerca.inserita_dal,
            inserita_al: ricerca.inserita_al,
            approvata_dal: ricerca.approvata_dal,
            approvata_al: ricerca.approvata_al,
            stato: ricerca.stato,
            page: ricerca.paging.page()?,
            page_size: ricerca.paging.page_size(50)?,
        };
        let found = self.app.store.search_richieste(&filter).await?;
        let numeri: Vec<String> = found.items.iter().map(|r| r.numero.to_string()).collect();
        self.audit(caller, "ricerca", None, Some(format!("richieste lette: [{}]", numeri.join(","))))
            .await?;
        Ok(found)
    }

    /// One richiesta and its processing failure, if any.
    pub async fn richiesta(&self, caller: &Caller, numero: i64) -> Result<Dettaglio, ServiceError> {
        let richiesta = self.load(caller, numero).await?;
        self.audit(caller, "lettura", Some(richiesta.numero), None)
            .await?;
        let errore = self.app.store.errore_elaborazione(richiesta.numero).await?;
        Ok(Dettaglio { richiesta, errore })
    }

    /// The domande of a richiesta with their esito and findings, optionally only one esito
    /// (default page size 100).
    pub async fn domande(
        &self,
        caller: &Caller,
        numero: i64,
        esito: Option<EsitoDomanda>,
        paging: Paging,
    ) -> Result<Page<DomandaRecord>, ServiceError> {
        self.load(caller, numero).await?;
        self.audit(caller, "lettura_domande", Some(numero), None)
            .await?;
        Ok(self
            .app
            .store
            .list_domande(numero, esito, paging.page()?, paging.page_size(100)?)
            .await?)
    }

    /// Every change of state of a richiesta, oldest first.
    pub async fn transizioni(&self, caller: &Caller, numero: i64) -> Result<Vec<Transizione>, ServiceError> {
        self.load(caller, numero).await?;
        self.audit(caller, "lettura_transizioni", Some(numero), None)
            .await?;
        Ok(self.app.store.transizioni(numero).await?)
    }

    /// Approva all'invio: PREVALIDATA -> APPROVATA and the sending queued, in one transaction.
    /// The attestato di trasmissione is issued from then on.
    pub async fn approva(&self, caller: &Caller, numero: i64) -> Result<Richiesta, ServiceError> {
        let r = self
            .act(caller, numero, Event::Approve, Some(JobKind::Invio))
            .await?;
        self.app.outbox_written.notify_one();
        tracing::info!(numero, "richiesta approvata all'invio");
        Ok(r)
    }

    /// Elimina: the richiesta stays, as ELIMINATA, for the audit.
    pub async fn elimina(&self, caller: &Caller, numero: i64) -> Result<Richiesta, ServiceError> {
        let r = self.act(caller, numero, Event::Delete, None).await?;
        tracing::info!(numero, "richiesta eliminata");
        Ok(r)
    }

    /// What "all the richieste the search finds" means for a bulk `azione`: those `ricerca`
    /// finds (every page) on which `caller` may do it now. More than [`MAX_MASSIVA`] found is
    /// refused (`troppe_richieste`): the caller narrows the search.
    pub async fn selezione(
        &self,
        caller: &Caller,
        ricerca: Ricerca,
        azione: Azione,
    ) -> Result<Vec<Richiesta>, ServiceError> {
        let ricerca = Ricerca { paging: Paging { page: Some(1), page_size: Some(MAX_PAGE_SIZE) }, ..ricerca };
        let found = self.ricerca(caller, ricerca).await?;
        if found.total > MAX_MASSIVA as i64 {
            return Err(troppe(found.total));
        }
        Ok(found
            .items
            .into_iter()
            .filter(|r| caller.azioni(r).contains(&azione))
            .collect())
    }

    /// A bulk action: `azione` on each of `numeri` in turn, each in its own transaction exactly
    /// as one at a time ([`Service::approva`], [`Service::elimina`]: the same checks, audit and
    /// state handling), so one that fails (another state by now, not the caller's) stops
    /// nothing and is reported with its reason. Repeated numbers count once.
    pub async fn su_molte(
        &self,
        caller: &Caller,
        azione: Azione,
        numeri: &[i64],
    ) -> Result<Vec<EsitoAzione>, ServiceError> {
        caller.ensure_may_change()?;
        let mut visti = std::collections::HashSet::new();
        let numeri: Vec<i64> = numeri
            .iter()
            .copied()
            .filter(|n| visti.insert(*n))
            .collect();
        if numeri.len() > MAX_MASSIVA {
            return Err(troppe(numeri.len() as i64));
        }
        let mut esiti = Vec::with_capacity(numeri.len());
        for numero in numeri {
            let esito = match azione {
                Azione::Approva => self.approva(caller, numero).await,
                Azione::Elimina => self.elimina(caller, numero).await,
            };
            esiti.push(EsitoAzione { numero, esito });
        }
        Ok(esiti)
    }

    /// The file as it was uploaded.
    pub async fn xml(&self, caller: &Caller, numero: i64) -> Result<FileXml, ServiceError> {
        let richiesta = self.load(caller, numero).await?;
        super::con_i_dati(&richiesta)?;
        self.audit(caller, "download_xml", Some(numero), None)
            .await?;
        let bytes = self.app.blob.get(&richiesta.blob_key).await?;
        Ok(FileXml { richiesta, bytes })
    }

    /// Applies `event` to the richiesta through the state machine, then the store's
    /// compare-and-set (which records the transition with the caller as actor).
    async fn act(
        &self,
        caller: &Caller,
        numero: i64,
        event: Event,
        enqueue: Option<JobKind>,
    ) -> Result<Richiesta, ServiceError> {
        let current = self.load(caller, numero).await?;
        caller.ensure_may_change()?;
        let to = current
            .stato
            .apply(event)
            .map_err(|e| ServiceError::InvalidState { numero, stato: e.from })?;
        // The change continues the richiesta's own trace (the one its upload began), linked to
        // the request that asked for it, so that upload, prevalidation, approval and sending
        // are one trace; the job it queues carries this span as its parent.
        let span = tracing::info_span!("transizione", numero_richiesta = numero, evento = ?event, trace_id = tracing::field::Empty);
        let upload_trace = self.app.store.trace_context_of(numero).await?;
        cigo_telemetry::set_parent(&span, upload_trace.as_deref());
        cigo_telemetry::link_to(&span, &tracing::Span::current());
        cigo_telemetry::record_trace_id(&span);
        let req = TransitionRequest {
            numero,
            from: current.stato,
            to,
            actor: caller.actor(),
            nota: None,
            enqueue,
            trace_context: cigo_telemetry::traceparent_of(&span).or_else(cigo_telemetry::current_traceparent),
        };
        match self.app.store.transition(req).instrument(span).await {
            Ok(r) => Ok(r),
            Err(StoreError::StateConflict { current }) => Err(ServiceError::InvalidState { numero, stato: current }),
            Err(e) => Err(e.into()),
        }
    }
}

fn troppe(n: i64) -> ServiceError {
    ServiceError::invalid(
        "troppe_richieste",
        format!("{n} richieste: un'azione ne tratta al massimo {MAX_MASSIVA}; restringere la ricerca"),
    )
}
