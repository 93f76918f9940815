//! The outcome of prevalidating one richiesta, as the worker hands it to the store.

use crate::finding::{Finding, Severity};
use crate::model::{Ore, Settore};
use crate::stato::{EsitoDomanda, StatoRichiesta};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One domanda after prevalidation: the keys the archive and the search form need, its esito and
/// its findings. (The full domanda stays in the original file; the store keeps only this.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomandaEsito {
    /// 1-based position of the domanda in the file.
    pub progressivo: u32,
    pub matricola: Option<String>,
    pub codice_fiscale_azienda: Option<String>,
    pub denominazione: Option<String>,
    /// Normalised key of the unità produttiva (see `model::UnitaProduttiva::key`).
    pub unita_produttiva: Option<String>,
    pub periodo_dal: Option<NaiveDate>,
    pub periodo_al: Option<NaiveDate>,
    pub esito: EsitoDomanda,
    pub findings: Vec<Finding>,
    /// What the archive rules (layer 5) need from the file; `None` when the domanda could not be
    /// read far enough. Not serialised: the API shows findings, not this.
    #[serde(skip)]
    pub archivio: Option<DatiArchivio>,
}

impl DomandaEsito {
    /// The esito that follows from a list of findings.
    pub fn esito_from(findings: &[Finding]) -> EsitoDomanda {
        if findings.iter().any(|f| f.severity == Severity::Errore) {
            EsitoDomanda::Scartata
        } else if findings.is_empty() {
            EsitoDomanda::Valida
        } else {
            EsitoDomanda::ValidaConAvvisi
        }
    }
}

/// The outcome of prevalidating one richiesta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EsitoPrevalidazione {
    /// A file-level failure (layer FILE): the file is rejected as a whole and `domande` is empty.
    pub file_finding: Option<Finding>,
    pub domande: Vec<DomandaEsito>,
    /// Id and version of the rule set that produced this esito, e.g. `cigo-regole/1`.
    pub rule_set: String,
}

impl EsitoPrevalidazione {
    /// `Prevalidata` when at least one domanda can be sent, `Scartata` otherwise.
    pub fn stato_finale(&self) -> StatoRichiesta {
        if self.file_finding.is_none() && self.domande.iter().any(|d| d.esito.is_sendable()) {
            StatoRichiesta::Prevalidata
        } else {
            StatoRichiesta::Scartata
        }
    }

    pub fn valide(&self) -> usize {
        self.domande
            .iter()
            .filter(|d| d.esito.is_sendable())
            .count()
    }

    pub fn scartate(&self) -> usize {
        self.domande.len() - self.valide()
    }
}

/// What the archive rules need to know about one domanda, read from the file at prevalidation.
/// Not part of the API's view of an esito (the store keeps `ore_cig` and `evento_non_evitabile`
/// on the domanda, so that it counts for later domande once protocollata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatiArchivio {
    /// Quadro C, TotaleOreCIG.
    pub ore_cig: Ore,
    /// The causale is an "evento oggettivamente non evitabile": outside the 52-week count.
    pub evento_non_evitabile: bool,
    /// 24, or 30 for the employers of art. 10 c. 1 lett. m), n), o) (D.Lgs. 148/2015 art. 4).
    pub mesi_quinquennio: u32,
    /// The sector (tracciato v2, QuadroA/Settore): edilizia and lapidei count eventi non
    /// evitabili toward the 52 weeks (art. 12 c. 4).
    pub settore: Settore,
    /// The file could not state the sector (v1): presumed from a cantiere in quadro B or the
    /// activity of quadro A, and the findings that depend on it say so.
    pub settore_presunto: bool,
    /// Ordinary weekly hours of the unit, the base of the one-third limit (art. 12 c. 5): the
    /// workers mediamente occupati in the semester by contractual hours (v2, art. 12 c. 6); in
    /// v1, the workers in force at the unit (quadro E) times the listed workers' average
    /// contractual hours (40 when none is listed).
    pub ore_lavorabili_settimanali: Ore,
    /// v1 only (`None` when the base is declared): the lowest base the file is sure of, the
    /// listed workers' contractual hours. When the limit holds on the presumed base but not on
    /// this one, the verdict depends on the presumption and ARC-011 says so.
    pub ore_lavorabili_minime: Option<Ore>,
    pub lavoratori: Vec<LavoratoreDomanda>,
    /// Code of the causale (quadro C), for the attestato di trasmissione; `None` when unknown.
    pub causale: Option<String>,
    /// The last day the domanda can be filed without losing days (D.Lgs. 148/2015 art. 15 c. 2):
    /// judged again at sending, when the filing date is the attestato's. `None` when unknown.
    pub termine_presentazione: Option<NaiveDate>,
}

impl Default for DatiArchivio {
    /// No hours, not an evento non evitabile, 24 months, workable hours unknown (ARC-003 skipped).
    fn default() -> Self {
        DatiArchivio {
            ore_cig: Ore(0),
            evento_non_evitabile: false,
            mesi_quinquennio: 24,
            settore: Settore::Industria,
            settore_presunto: false,
            ore_lavorabili_settimanali: Ore(0),
            ore_lavorabili_minime: None,
            lavoratori: Vec::new(),
            causale: None,
            termine_presentazione: None,
        }
    }
}

/// A worker of the domanda, with where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LavoratoreDomanda {
    pub codice_fiscale: String,
    pub data_assunzione: Option<NaiveDate>,
    /// 1-based position among the `Lavoratore` elements of the domanda.
    pub posizione: u32,
    pub line: u32,
    pub column: u32,
}
