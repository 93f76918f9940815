//! The rule catalogue: every code a finding can carry, defined once, with its layer, severity,
//! description and legal basis. Codes are stable: a rule that changes meaning gets a new code.
//!
//! Scheme: `FIL-nnn` (file), `STR-nnn` (structure, what the XSD says), `CAM-nnn` (single fields),
//! `COE-nnn` (coherence inside a domanda and between domande of one richiesta), `ARC-nnn` (archive).

use crate::finding::{Finding, Layer, Severity};

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: &'static str,
    pub layer: Layer,
    pub severity: Severity,
    pub description: &'static str,
    pub legal_basis: &'static str,
}

impl RuleInfo {
    /// A finding of this rule.
    pub fn finding(&self, message: impl Into<String>) -> Finding {
        Finding {
            code: self.code.to_string(),
            layer: self.layer,
            severity: self.severity,
            message: message.into(),
            xpath: None,
            line: None,
            column: None,
            value: None,
        }
    }
}

const TRACCIATO: &str = "Tracciato XML CIGO, versione 1 (schema richiesta-v1.xsd)";
const XML: &str = "W3C XML 1.0; tracciato XML CIGO, versione 1";

macro_rules! rules {
    ($($name:ident = $code:literal, $layer:ident, $sev:ident, $descr:literal, $basis:expr;)+) => {
        $(
            #[doc = $descr]
            pub const $name: RuleInfo = RuleInfo {
                code: $code,
                layer: Layer::$layer,
                severity: Severity::$sev,
                description: $descr,
                legal_basis: $basis,
            };
        )+
        static CATALOGO: &[RuleInfo] = &[$($name),+];
    };
}

rules! {
    FIL_NON_BEN_FORMATO = "FIL-001", File, Errore,
        "Il file non è un documento XML ben formato", XML;
    FIL_DOCTYPE = "FIL-002", File, Errore,
        "Il file contiene una dichiarazione DOCTYPE/DTD (non ammessa, anche per evitare l'espansione di entità)", XML;
    FIL_ENTITA = "FIL-003", File, Errore,
        "Il file contiene un riferimento a un'entità non predefinita", XML;
    FIL_RADICE = "FIL-004", File, Errore,
        "L'elemento radice non è RichiestaCIGO nel namespace urn:cigo:richiesta:1", TRACCIATO;
    FIL_VERSIONE = "FIL-005", File, Errore,
        "Versione del tracciato assente o non supportata (attributo versione di RichiestaCIGO)", TRACCIATO;
    FIL_ENCODING = "FIL-006", File, Errore,
        "Codifica dichiarata diversa da UTF-8", TRACCIATO;
    FIL_UTF8 = "FIL-007", File, Errore,
        "Il file contiene byte che non sono UTF-8 valido o caratteri non ammessi in XML", XML;
    FIL_NESSUNA_DOMANDA = "FIL-008", File, Errore,
        "La richiesta non contiene alcuna domanda", TRACCIATO;
    FIL_LIMITI = "FIL-009", File, Errore,
        "Il file supera i limiti di elaborazione (profondità, elementi per domanda, lunghezza dei testi, numero di domande)", TRACCIATO;
    FIL_CONTENUTO_RICHIESTA = "FIL-010", File, Errore,
        "Contenuto non previsto al livello della richiesta (ammessi solo elementi Domanda)", TRACCIATO;

    STR_MANCANTE = "STR-001", Struttura, Errore,
        "Elemento obbligatorio mancante", TRACCIATO;
    STR_NON_PREVISTO = "STR-002", Struttura, Errore,
        "Elemento non previsto, fuori sequenza o ripetuto più volte del consentito", TRACCIATO;
    STR_TIPO = "STR-003", Struttura, Errore,
        "Valore non conforme al tipo (data, numero decimale, numero intero, booleano, testo)", TRACCIATO;
    STR_ENUM = "STR-004", Struttura, Errore,
        "Valore non compreso tra quelli ammessi (codifica)", TRACCIATO;
    STR_ATTRIBUTO_MANCANTE = "STR-005", Struttura, Errore,
        "Attributo obbligatorio mancante", TRACCIATO;
    STR_ATTRIBUTO_NON_PREVISTO = "STR-006", Struttura, Errore,
        "Attributo non previsto", TRACCIATO;
    STR_TESTO_NON_PREVISTO = "STR-007", Struttura, Errore,
        "Testo non previsto in un elemento che contiene solo altri elementi", TRACCIATO;

    CAM_MATRICOLA = "CAM-001", Campi, Errore,
        "La matricola INPS dell'azienda deve essere di 10 cifre", "Tracciato XML CIGO; codifica matricole INPS";
    CAM_CF_AZIENDA = "CAM-002", Campi, Errore,
        "Codice fiscale dell'azienda non valido (11 cifre con cifra di controllo, o 16 caratteri per la ditta individuale)", "D.P.R. 605/1973; D.M. 23/12/1976";
    CAM_CF_PERSONA = "CAM-003", Campi, Errore,
        "Codice fiscale della persona non valido (struttura o carattere di controllo, omocodia compresa)", "D.P.R. 605/1973; D.M. 23/12/1976";
    CAM_PROVINCIA = "CAM-004", Campi, Errore,
        "Sigla di provincia non compresa nell'elenco delle province italiane", "Elenco ISTAT delle province";
    CAM_CAP = "CAM-005", Campi, Errore,
        "Il CAP deve essere di 5 cifre", "Codice di avviamento postale (Poste Italiane)";

    COE_PERIODO_INVERTITO = "COE-001", Coerenza, Errore,
        "La data di inizio del periodo è successiva alla data di fine", "D.Lgs. 148/2015 art. 15";
    COE_MAX_13_SETTIMANE = "COE-002", Coerenza, Errore,
        "Il periodo supera 13 settimane consecutive", "D.Lgs. 148/2015 art. 12 c. 1";
    COE_NUMERO_SETTIMANE = "COE-003", Coerenza, Avviso,
        "Il numero di settimane indicato non corrisponde al periodo", "Modulo CIG industria, quadro C";
    COE_ORE_40 = "COE-004", Coerenza, Errore,
        "Ore di CIG di un lavoratore in una settimana superiori a 40", "D.Lgs. 148/2015 art. 3 c. 5";
    COE_ORE_CONTRATTUALI = "COE-005", Coerenza, Errore,
        "Ore di CIG di un lavoratore in una settimana superiori all'orario contrattuale (entro le 40 ore)", "D.Lgs. 148/2015 art. 3 c. 1";
    COE_TOTALE_ORE = "COE-006", Coerenza, Avviso,
        "Il totale delle ore di CIG del quadro C non è uguale alla somma delle ore dei lavoratori", "Modulo CIG industria, quadri C e G";
    COE_QUADRO_E_LAVORATORI = "COE-007", Coerenza, Errore,
        "Il totale in CIG del quadro E per tipo di orario e qualifica non corrisponde all'elenco dei lavoratori", "Modulo CIG industria, quadri E e I";
    COE_QUADRO_E_RIGA = "COE-008", Coerenza, Errore,
        "Riga del quadro E incoerente: totale in CIG diverso da sospesi + orario ridotto, o superiore ai lavoratori in forza", "Modulo CIG industria, quadro E";
    COE_QUADRO_E_DOPPIA = "COE-009", Coerenza, Errore,
        "Il quadro E contiene due righe per lo stesso tipo di orario e qualifica", "Modulo CIG industria, quadro E";
    COE_SETTIMANA_FUORI_PERIODO = "COE-010", Coerenza, Errore,
        "Ore di CIG indicate per una settimana che non rientra nel periodo", "Modulo CIG industria, quadri C e G";
    COE_SETTIMANA_DOPPIA = "COE-011", Coerenza, Errore,
        "Ore di CIG indicate due volte per la stessa settimana dello stesso lavoratore", "Modulo CIG industria, quadro G";
    COE_DIRIGENTE = "COE-012", Coerenza, Errore,
        "I dirigenti non possono essere posti in CIG", "D.Lgs. 148/2015 art. 1 c. 1";
    COE_CAUSALE_ALTRO = "COE-013", Coerenza, Errore,
        "Causale ALTRO senza descrizione", "D.M. 95442/2016 art. 2; modulo CIG industria, quadro C";
    COE_LAVORATORE_DOPPIO = "COE-014", Coerenza, Errore,
        "Lo stesso lavoratore compare più volte nella domanda", "Modulo CIG industria, quadro I";
    COE_DOMANDE_SOVRAPPOSTE = "COE-015", Coerenza, Errore,
        "Due domande della richiesta per la stessa matricola e unità produttiva hanno periodi sovrapposti", "D.Lgs. 148/2015 art. 15 (una domanda per periodo e unità produttiva)";
    COE_PROGRESSIVO = "COE-016", Coerenza, Avviso,
        "L'attributo progressivo non corrisponde alla posizione della domanda nel file", TRACCIATO;
    COE_FORZA_AZIENDA = "COE-017", Coerenza, Avviso,
        "I lavoratori in forza del quadro E superano i lavoratori in forza dell'azienda (quadro A)", "Modulo CIG industria, quadri A ed E";
    COE_INIZIO_ATTIVITA = "COE-018", Coerenza, Avviso,
        "La data di inizio attività è successiva all'inizio del periodo di CIG", "Modulo CIG industria, quadri A e C";
    COE_SEGNALAZIONI_TRONCATE = "COE-099", Coerenza, Avviso,
        "Troppe segnalazioni per la domanda: l'elenco è stato troncato", "Limiti di elaborazione del servizio";

    ARC_PERIODO_SOVRAPPOSTO = "ARC-001", Archivio, Errore,
        "Per la stessa unità produttiva risulta già protocollata una domanda per un periodo sovrapposto", "D.Lgs. 148/2015 art. 15";
}

/// Every code any finding can carry, including the archive rules (checked at sending time).
pub fn catalogue() -> &'static [RuleInfo] {
    CATALOGO
}

/// The catalogue entry of a code.
pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    CATALOGO.iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_follow_the_scheme() {
        let mut seen = HashSet::new();
        for r in catalogue() {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            let prefix = match r.layer {
                Layer::File => "FIL-",
                Layer::Struttura => "STR-",
                Layer::Campi => "CAM-",
                Layer::Coerenza => "COE-",
                Layer::Archivio => "ARC-",
            };
            assert!(r.code.starts_with(prefix) && r.code.len() == 7, "{}", r.code);
            assert!(!r.description.is_empty() && !r.legal_basis.is_empty());
        }
        assert_eq!(ARC_PERIODO_SOVRAPPOSTO.code, crate::archivio::ARC_PERIODO_SOVRAPPOSTO);
        assert_eq!(rule("COE-004"), Some(&COE_ORE_40));
    }
}
