//! The cruscotto of an azienda: per unità produttiva, what it has used of the limits of D.Lgs.
//! 148/2015 (52 weeks and one third of the workable hours in the biennio mobile, 24 or 30 months
//! in the quinquennio mobile) and the first week a new domanda would fit. The figures come from
//! the domain's `archivio::cruscotto`, the functions the archive rules judge with.

use super::{Caller, Service, ServiceError};
use chrono::NaiveDate;
use cigo_domain::archivio::{self, ChiaviArchivio, DatiArchivio, PeriodoArchivio, Utilizzo};
use cigo_domain::model::{Ore, Settore};
use cigo_store::RichiestaFilter;

/// One unità produttiva of the cruscotto.
#[derive(Debug, Clone)]
pub struct UnitaCruscotto {
    /// The unit's key (`UnitaProduttiva::key`).
    pub unita_produttiva: String,
    /// As the unit's latest domanda protocollata declared it; presumed industria (24 months) and
    /// workable hours unknown for a unit known only from imported authorisations.
    pub settore: Settore,
    pub utilizzo: Utilizzo,
    /// The first Monday a one-week domanda would pass the archive rules; `None`: none in two years.
    pub prossima: Option<NaiveDate>,
    /// The periods of the quinquennio, oldest first (for the chart and the list).
    pub periodi: Vec<PeriodoArchivio>,
}

/// The cruscotto of a matricola on a day.
#[derive(Debug, Clone)]
pub struct Cruscotto {
    pub matricola: String,
    pub oggi: NaiveDate,
    pub unita: Vec<UnitaCruscotto>,
}

impl Service {
    /// The cruscotto of `matricola` today (Europe/Rome). An intermediario sees it for the
    /// matricole it holds a delega for or has filed for; for any other the answer is the same
    /// `NotFound` as for a matricola nobody knows. Audited.
    pub async fn cruscotto(&self, caller: &Caller, matricola: &str) -> Result<Cruscotto, ServiceError> {
        let matricola = matricola.trim();
        if !cigo_domain::is_matricola(matricola) {
            return Err(ServiceError::invalid("invalid_query", "la matricola INPS è di 10 cifre"));
        }
        if let Some(cf) = caller.scope() {
            let delega = !self
                .app
                .store
                .list_deleghe(Some(cf), Some(matricola))
                .await?
                .is_empty();
            let filter = RichiestaFilter {
                intermediario: Some(cf.to_string()),
                matricola: Some(matricola.to_string()),
                page: 1,
                page_size: 1,
                ..RichiestaFilter::default()
            };
            if !delega && self.app.store.search_richieste(&filter).await?.total == 0 {
                return Err(ServiceError::NotFound);
            }
        }
        self.audit(caller, "cruscotto", None, Some(format!("matricola {matricola}")))
            .await?;
        let oggi = crate::app::data_presentazione(&self.app.settings, chrono::Utc::now());
        let chiavi = ChiaviArchivio {
            matricole: vec![matricola.to_string()],
            dal: oggi.checked_sub_months(chrono::Months::new(60)),
            ..ChiaviArchivio::default()
        };
        let periodi = self.app.store.fatti_archivio(&chiavi).await?.periodi;
        let dichiarate = self.app.store.unita_protocollate(matricola).await?;
        let mut chiavi_unita: Vec<String> = periodi.iter().map(|p| p.unita_produttiva.clone()).collect();
        chiavi_unita.sort();
        chiavi_unita.dedup();
        let unita = chiavi_unita
            .into_iter()
            .map(|u| {
                let suoi: Vec<PeriodoArchivio> = periodi
                    .iter()
                    .filter(|p| p.unita_produttiva == u)
                    .cloned()
                    .collect();
                let d = dichiarate.iter().find(|d| d.unita_produttiva == u);
                let mesi = d.and_then(|d| d.mesi_quinquennio).unwrap_or(24);
                let dati = DatiArchivio {
                    mesi_quinquennio: u32::try_from(mesi).unwrap_or(24),
                    // The store keeps the months, 30 only for edilizia and lapidei (art. 4 c. 2).
                    settore: if mesi == 30 { Settore::Edilizia } else { Settore::Industria },
                    ore_lavorabili_settimanali: Ore(d.and_then(|d| d.ore_lavorabili_centesimi).unwrap_or(0)),
                    ..DatiArchivio::default()
                };
                let (utilizzo, prossima) = archivio::cruscotto(&suoi, &dati, oggi);
                UnitaCruscotto { unita_produttiva: u, settore: dati.settore, utilizzo, prossima, periodi: suoi }
            })
            .collect();
        Ok(Cruscotto { matricola: matricola.to_string(), oggi, unita })
    }
}
