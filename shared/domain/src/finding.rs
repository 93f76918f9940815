//! A finding: what one rule says about one place of a file.

use crate::str_enum::str_enum;
use serde::{Deserialize, Serialize};

/// How bad a finding is. `Errore` rejects the domanda (or the file, at layer `File`); `Avviso` does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Avviso,
    Errore,
}

/// The ordered layers of prevalidation (as in Peppol's phive: each layer runs only if the one before
/// it let the file through).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Layer {
    /// Encoding, well-formedness, root element, version: a failure stops the whole file.
    File,
    /// What the XSD says: required elements, types, lengths, patterns, enumerations.
    Struttura,
    /// Single fields: codice fiscale, matricola, dates, hours.
    Campi,
    /// Coherence inside a domanda, and between domande of one richiesta.
    Coerenza,
    /// Against what the archive already holds (checked again at sending time).
    Archivio,
}

str_enum!(Severity { Avviso => "AVVISO", Errore => "ERRORE" });
str_enum!(Layer {
    File => "FILE",
    Struttura => "STRUTTURA",
    Campi => "CAMPI",
    Coerenza => "COERENZA",
    Archivio => "ARCHIVIO",
});

/// One finding. `code` is stable across releases (clients match on it); `message` is Italian and
/// tells the user what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub code: String,
    pub layer: Layer,
    pub severity: Severity,
    pub message: String,
    /// Where in the file, e.g. `/RichiestaCIGO/Domanda[3]/QuadroC/PeriodoAl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xpath: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The offending value, as written in the file (truncated if long).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Errore
    }
}

/// The longest offending value a finding reports, in characters.
const MAX_VALUE_CHARS: usize = 200;

/// The offending value as reported in a finding ([`Finding::value`]): at most 200 characters.
pub(crate) fn truncate_value(s: &str) -> String {
    match s.char_indices().nth(MAX_VALUE_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation() {
        let long = "é".repeat(300);
        let t = truncate_value(&long);
        assert_eq!(t.chars().count(), 201);
        assert_eq!(truncate_value("abc"), "abc");
    }
}
