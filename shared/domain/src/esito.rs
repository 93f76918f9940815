//! The outcome of prevalidating one richiesta, as the worker hands it to the store.

use crate::archivio::DatiArchivio;
use crate::finding::{Finding, Severity};
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
