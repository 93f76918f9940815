//! The bounds of one prevalidation: what protects the service from hostile or broken files, and
//! the few facts the caller knows that the file does not say (the filing date). The parser and
//! the rules both read them.

use chrono::NaiveDate;

/// Bounds that protect the service from hostile or broken files. Exceeding one is a file-level
/// failure (FIL-009).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum element nesting (the root is depth 1).
    pub max_depth: usize,
    /// Maximum number of elements in one `<Domanda>` (itself included).
    pub max_elements_per_domanda: usize,
    /// Maximum length, in characters, of one text value.
    pub max_text_len: usize,
    /// Maximum number of domande in one richiesta.
    pub max_domande: usize,
    /// Findings kept per domanda; beyond it one AVVISO (COE-099) says the list was truncated.
    pub max_findings_per_domanda: usize,
    /// Findings kept per file: once reached, each further domanda keeps only its first ERRORE (so
    /// that its esito stays explained) and one AVVISO (COE-099) says the list was truncated.
    pub max_findings_per_file: usize,
    /// Filing date of the domanda, when known (the crate has no clock). It is the reference date for
    /// the 30 days of seniority (otherwise PeriodoDal) and enables the deadline rule (COE-055).
    pub data_presentazione: Option<NaiveDate>,
    /// Read plainly written domande with the parser's fast path (the default). Off only to
    /// compare the two ways of reading, which must give the same esito (tests, fuzzing).
    pub parser_fast_path: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_elements_per_domanda: 20_000,
            max_text_len: 4096,
            max_domande: 100_000,
            max_findings_per_domanda: 50,
            max_findings_per_file: 10_000,
            data_presentazione: None,
            parser_fast_path: true,
        }
    }
}
