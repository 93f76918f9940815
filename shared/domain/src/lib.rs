//! # cigo-domain
//!
//! Everything the project knows about CIGO that does not touch a network, a disk or a clock:
//!
//! - [`stato`]: the table-driven state machines of a richiesta and of a domanda;
//! - [`finding`]: what a rule says about a file or a domanda (code, layer, severity, place);
//! - [`esito`]: the outcome of prevalidating one richiesta, as the worker hands it to the store;
//! - [`model`], [`parse`], [`rules`], [`validate`]: the tracciato, its streaming parser and the rule catalogue;
//! - [`rinvio`]: the file of a richiesta's rejected domande, to correct and upload again;
//! - [`termine`]: the filing deadline, judged at prevalidation and again at sending;
//! - [`generate`]: deterministic synthetic richieste for demos, tests and benchmarks.
//!
//! The crate is deliberately synchronous and pure so that the worker, the sender, the offline
//! validator and the tests all run exactly the same rules.

pub mod archivio;
pub mod attestato;
pub mod codice_fiscale;
pub mod esito;
pub mod finding;
pub mod generate;
pub mod job;
pub mod limits;
pub mod model;
pub mod parse;
pub mod piano;
pub mod rinvio;
pub mod rules;
pub mod ruolo;
#[cfg(feature = "sqlx")]
mod sql;
pub mod stato;
mod str_enum;
pub mod termine;
pub mod validate;
pub mod write;

pub use esito::{DomandaEsito, EsitoPrevalidazione};
pub use finding::{Finding, Layer, Severity};
pub use job::JobKind;
pub use ruolo::Ruolo;
pub use stato::{EsitoDomanda, Event, StatoRichiesta, TransitionError};

pub use codice_fiscale::{is_valid_codice_fiscale_azienda, is_valid_codice_fiscale_persona};
pub use generate::{generate, generate_versione, GenerateOptions, GeneratedDomanda};
pub use limits::Limits;
pub use model::{is_matricola, Domanda, Richiesta, Settore, UnitaProduttiva, Versione};
pub use rules::{catalogue, RuleInfo, RULE_SET};
pub use validate::prevalidate;

/// The XML Schema of the tracciato, version 1.
pub const XSD_V1: &str = include_str!("../schema/richiesta-v1.xsd");
/// The XSD of tracciato version 2 (namespace `urn:cigo:richiesta:2`).
pub const XSD_V2: &str = include_str!("../schema/richiesta-v2.xsd");
