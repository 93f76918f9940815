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

/// Id and version of the rule set: every esito names the one that produced it.
pub const RULE_SET: &str = "cigo-regole/5";

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
    STR_CONTROLLI_NON_ESEGUITI = "STR-099", Struttura, Avviso,
        "Controlli non eseguiti per gli errori di struttura della domanda: i campi dei quadri non leggibili, la coerenza tra i quadri, con le altre domande e con l'archivio", TRACCIATO;

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
    CAM_IBAN = "CAM-006", Campi, Errore,
        "IBAN per il pagamento diretto non valido (struttura ISO 13616, 27 caratteri per l'Italia, controllo mod-97)", "ISO 13616; D.Lgs. 148/2015 art. 7 (pagamento diretto)";
    CAM_MINUTI = "CAM-007", Campi, Errore,
        "Orario contrattuale dei quadri G: i minuti devono essere compresi tra 0 e 59 e le ore tra 0 e 48", "Modulo CIG industria, quadri G1-G4; D.Lgs. 66/2003 art. 4";
    CAM_GIORNI = "CAM-008", Campi, Errore,
        "Orario contrattuale dei quadri G: i giorni lavorativi della settimana devono essere da 1 a 7", "Modulo CIG industria, quadri G1-G4";
    CAM_ORE_GIORNO = "CAM-009", Campi, Errore,
        "Quadro H: le ore di un giorno (ordinarie, straordinarie, altro, totale) non possono superare 24", "Modulo CIG industria, quadro H";
    CAM_ORE_CONTRATTUALI = "CAM-010", Campi, Errore,
        "Le ore settimanali contrattuali del lavoratore devono essere maggiori di 0 e non superiori a 48", "D.Lgs. 66/2003 art. 4; D.Lgs. 148/2015 art. 3";
    CAM_DATA = "CAM-011", Campi, Errore,
        "Data fuori dall'intervallo ammesso (anni dal 1900 al 2099)", TRACCIATO;
    CAM_EMAIL = "CAM-012", Campi, Errore,
        "Indirizzo e-mail dell'azienda non valido", "Modulo CIG industria, quadro A";
    CAM_TELEFONO = "CAM-013", Campi, Errore,
        "Numero di telefono, cellulare o fax non valido (da 6 a 15 cifre, eventualmente preceduto da +)", "Modulo CIG industria, quadro A";
    CAM_ANNO_INDICATORE = "CAM-014", Campi, Errore,
        "Anno di un indicatore economico fuori dall'intervallo ammesso (dal 1990 al 2099)", "D.M. 95442/2016 art. 2 (relazione tecnica)";

    COE_PERIODO_INVERTITO = "COE-001", Coerenza, Errore,
        "La data di inizio del periodo è successiva alla data di fine", "D.Lgs. 148/2015 art. 15";
    COE_MAX_13_SETTIMANE = "COE-002", Coerenza, Errore,
        "Il periodo supera 13 settimane consecutive", "D.Lgs. 148/2015 art. 12 c. 1";
    COE_NUMERO_SETTIMANE = "COE-003", Coerenza, Errore,
        "Il numero di settimane intere di calendario indicato non corrisponde al periodo (per i limiti valgono le settimane di calendario, da lunedì a domenica, toccate dal periodo)", "Modulo CIG industria, quadro C (numero settimane intere di calendario); D.Lgs. 148/2015 art. 12 c. 1";
    COE_ORE_40 = "COE-004", Coerenza, Avviso,
        "Ore di CIG di un lavoratore in una settimana superiori alle 40 dell'orario normale di legge: integrabili solo se comprese nell'orario contrattuale (il limite di 40 ore settimanali della L. 164/1975 non è più in vigore)", "D.Lgs. 148/2015 art. 3 c. 1; D.Lgs. 66/2003 art. 3 c. 1";
    COE_ORE_CONTRATTUALI = "COE-005", Coerenza, Errore,
        "Ore di CIG di un lavoratore in una settimana superiori all'orario contrattuale: si integrano solo le ore comprese fra zero e l'orario contrattuale", "D.Lgs. 148/2015 art. 3 c. 1";
    COE_TOTALE_ORE = "COE-006", Coerenza, Errore,
        "Il totale delle ore di CIG del quadro C non è uguale alla somma delle ore dei lavoratori (per i limiti valgono le ore dei lavoratori)", "Modulo CIG industria, quadri C e G; D.Lgs. 148/2015 art. 12 c. 5";
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
    COE_D_AVVENUTA_N = "COE-019", Coerenza, Errore,
        "Quadro D: ripresa avvenuta ma quadro N assente", "Modulo CIG industria, quadri D e N";
    COE_D_PREVISTA_O = "COE-020", Coerenza, Errore,
        "Quadro D: ripresa prevista ma quadro O assente", "Modulo CIG industria, quadri D e O";
    COE_D_NON_PREVEDIBILE_P = "COE-021", Coerenza, Errore,
        "Quadro D: ripresa non prevedibile ma quadro P assente", "Modulo CIG industria, quadri D e P";
    COE_D_DATA = "COE-022", Coerenza, Errore,
        "Quadro D: data di ripresa mancante (ripresa avvenuta o prevista) o indicata per una ripresa non prevedibile", "Modulo CIG industria, quadro D";
    COE_D_DATA_DIVERSA = "COE-023", Coerenza, Errore,
        "La data di ripresa del quadro D è diversa da quella dei quadri N o O", "Modulo CIG industria, quadri D, N e O";
    COE_RIPRESA_PRIMA = "COE-024", Coerenza, Errore,
        "La ripresa dell'attività risulta avvenuta prima dell'inizio del periodo di CIG", "Modulo CIG industria, quadri C, D e N";
    COE_METEO_CANTIERE = "COE-025", Coerenza, Errore,
        "Causale EVENTI_METEO senza i dati del cantiere nel quadro B (genere di attività, fase lavorativa, mansioni, lavori al coperto o allo scoperto)", "D.M. 95442/2016 art. 8; modulo CIG industria, quadro B";
    COE_METEO_CODICI = "COE-026", Coerenza, Errore,
        "Causale EVENTI_METEO senza quadro H o senza codici evento nei giorni di CIG", "D.M. 95442/2016 art. 8; modulo CIG industria, quadro H";
    COE_EVENTO_ALTRO = "COE-027", Coerenza, Errore,
        "Codice evento 8 (altro) senza DescrizioneEvento", "Modulo CIG industria, quadro H";
    COE_EVENTO_SENZA_METEO = "COE-028", Coerenza, Avviso,
        "Codici evento meteo nel quadro H con una causale diversa da EVENTI_METEO", "Modulo CIG industria, quadri C e H";
    COE_H_TOTALE = "COE-029", Coerenza, Errore,
        "Quadro H: il totale del giorno non è uguale a ore ordinarie + straordinarie + altro", "Modulo CIG industria, quadro H";
    COE_GH_FUORI_PERIODO = "COE-030", Coerenza, Errore,
        "Quadri G o H: settimana che non rientra nel periodo della domanda", "Modulo CIG industria, quadri C, G e H";
    COE_GH_DOPPIA = "COE-031", Coerenza, Errore,
        "Quadri G o H: la stessa settimana (o lo stesso giorno, o lo stesso orario contrattuale) è indicata più volte", "Modulo CIG industria, quadri G e H";
    COE_G_ORE_LAVORATORI = "COE-032", Coerenza, Errore,
        "Quadri G: le ore di CIG richieste in una settimana per tipo di orario e qualifica non corrispondono alla somma delle ore dei lavoratori", "Modulo CIG industria, quadri G e I";
    COE_G_QUADRO_E = "COE-033", Coerenza, Errore,
        "Quadri G: sospesi e a orario ridotto di una settimana superano il totale in CIG del quadro E", "Modulo CIG industria, quadri E e G";
    COE_G_MANCANTE = "COE-034", Coerenza, Errore,
        "Lavoratori di un tipo di orario (tempo pieno, part-time, inserimento, solidarietà) assenti dal quadro G corrispondente (G1-G4)", "Modulo CIG industria, quadri G1-G4";
    COE_INSERIMENTO_Q = "COE-035", Coerenza, Errore,
        "Lavoratore con contratto di inserimento senza il contratto nel quadro Q", "Modulo CIG industria, quadri G3 e Q";
    COE_Q_SCONOSCIUTO = "COE-036", Coerenza, Avviso,
        "Quadro Q: contratto di inserimento di un lavoratore che non è nell'elenco o non ha tipo orario INSERIMENTO", "Modulo CIG industria, quadro Q";
    COE_ANZIANITA = "COE-037", Coerenza, Errore,
        "Lavoratore con meno di 30 giorni di anzianità presso l'unità produttiva alla data di presentazione della domanda (non richiesti per eventi oggettivamente non evitabili)", "D.Lgs. 148/2015 art. 1 c. 2";
    COE_ASSUNTO_DOPO = "COE-038", Coerenza, Errore,
        "Lavoratore assunto dopo la fine del periodo di CIG", "D.Lgs. 148/2015 art. 1";
    COE_M_DATE_INVERTITE = "COE-039", Coerenza, Errore,
        "Quadro M: la consultazione sindacale risulta precedente alla comunicazione", "D.Lgs. 148/2015 art. 14";
    COE_M_ESAME_TARDIVO = "COE-040", Coerenza, Avviso,
        "Quadro M: esame congiunto oltre 25 giorni dalla comunicazione (10 giorni fino a 50 dipendenti)", "D.Lgs. 148/2015 art. 14 c. 3";
    COE_M_COMUNICAZIONE_TARDIVA = "COE-041", Coerenza, Avviso,
        "Quadro M: la comunicazione sindacale è successiva all'inizio della sospensione (ammesso solo per eventi oggettivamente non evitabili)", "D.Lgs. 148/2015 art. 14 c. 1 e 4";
    COE_M_CONSULTAZIONE = "COE-042", Coerenza, Avviso,
        "Quadro M incoerente con il quadro C: consultazione dichiarata senza data, o data di consultazione con consultazione non dichiarata, o mancata consultazione senza motivi", "D.Lgs. 148/2015 art. 14; modulo CIG industria, quadri C e M";
    COE_I_INTERESSATI = "COE-043", Coerenza, Errore,
        "Quadro I: i lavoratori interessati alla CIG di un reparto superano gli addetti", "Modulo CIG industria, quadro I";
    COE_I_REPARTO = "COE-044", Coerenza, Errore,
        "Quadro I: reparto non interessato alla CIG con lavoratori interessati, o interessato senza lavoratori", "Modulo CIG industria, quadro I";
    COE_L_PERIODO = "COE-045", Coerenza, Errore,
        "Quadro L: periodo di ferie con data di inizio successiva alla data di fine", "Modulo CIG industria, quadro L";
    COE_L_SOVRAPPOSTO = "COE-046", Coerenza, Avviso,
        "Quadro L: periodo di ferie sovrapposto al periodo di CIG", "Modulo CIG industria, quadri C e L";
    COE_N_LAVORATORI = "COE-047", Coerenza, Errore,
        "Quadro N: ripresa non con tutti i lavoratori ma senza il numero di lavoratori ancora sospesi o a orario ridotto", "Modulo CIG industria, quadro N";
    COE_O_DATA = "COE-048", Coerenza, Avviso,
        "Quadro O: ripresa prevista prima della fine del periodo di CIG", "Modulo CIG industria, quadri C e O";
    COE_R_CIGS = "COE-049", Coerenza, Errore,
        "Quadro R: richiesta di CIGS presentata senza causale o numero di lavoratori", "Modulo CIG industria, quadro R";
    COE_S_PROCEDURA = "COE-050", Coerenza, Avviso,
        "Quadro S: procedura concorsuale o liquidazione in corso (la CIGO presuppone la ripresa dell'attività)", "D.Lgs. 148/2015 art. 11";
    COE_T_DISPONIBILITA = "COE-051", Coerenza, Avviso,
        "Quadro T: dichiarazione di immediata disponibilità non resa", "D.Lgs. 150/2015 art. 22; modulo CIG industria, quadro T";
    COE_RELAZIONE_CAUSALE = "COE-052", Coerenza, Errore,
        "Relazione tecnica senza i dati richiesti dalla causale (indicatori economici, macchinario, fornitore, bollettino meteo, provvedimento dell'autorità)", "D.M. 95442/2016 art. 2 e seguenti";
    COE_INDICATORI = "COE-053", Coerenza, Errore,
        "Indicatori economici ripetuti per lo stesso anno o trimestre, o annuali e trimestrali mescolati per lo stesso anno", "D.M. 95442/2016 art. 2";
    COE_EVENTO_DOPO = "COE-054", Coerenza, Errore,
        "Relazione tecnica: data dell'evento successiva alla fine del periodo di CIG", "D.M. 95442/2016 art. 2";
    COE_TERMINE = "COE-055", Coerenza, Avviso,
        "Domanda presentata oltre il termine (15 giorni dall'inizio della sospensione; fine del mese successivo a quello dell'evento per eventi oggettivamente non evitabili): l'integrazione decorre dall'inizio della settimana precedente quella di presentazione", "D.Lgs. 148/2015 art. 15 c. 2 (secondo periodo aggiunto dal D.Lgs. 185/2016 art. 2 c. 1 lett. a) e c. 3";
    COE_IBAN_DOPPIO = "COE-056", Coerenza, Avviso,
        "Lo stesso IBAN è indicato per lavoratori diversi", "D.Lgs. 148/2015 art. 7 (pagamento diretto)";
    COE_TARDIVA_INTERA = "COE-057", Coerenza, Errore,
        "Domanda presentata oltre il termine per un periodo che finisce prima della settimana precedente quella di presentazione: nessuna parte del periodo è integrabile", "D.Lgs. 148/2015 art. 15 c. 2 e 3";
    COE_CAUSALE_NON_AMMESSA = "COE-058", Coerenza, Errore,
        "Causale ALTRO: l'integrazione ordinaria si concede solo per le causali del D.M. 95442/2016 (eventi transitori non imputabili, situazioni temporanee di mercato); indicare la causale che corrisponde all'evento", "D.Lgs. 148/2015 art. 11 c. 1; D.M. 95442/2016 artt. 1 e seguenti";
    COE_RIPRESA_NON_PREVEDIBILE = "COE-059", Coerenza, Errore,
        "Quadro D: ripresa dell'attività non prevedibile alla presentazione della domanda: manca la transitorietà della situazione aziendale richiesta per la CIGO", "D.Lgs. 148/2015 art. 11 c. 1; D.M. 95442/2016 art. 1";
    COE_STESSA_SOSPENSIONE = "COE-060", Coerenza, Errore,
        "Due domande della richiesta per la stessa matricola, periodi sovrapposti e lavoratori in comune, con unità produttive diverse: è la stessa sospensione, le stesse ore non possono essere integrate due volte", "D.Lgs. 148/2015 art. 3 c. 1 (ore non lavorate fra zero e l'orario contrattuale del rapporto); art. 15";
    COE_LAVORATORE_ALTRA_MATRICOLA = "COE-061", Coerenza, Avviso,
        "Lo stesso lavoratore compare in un'altra domanda della richiesta, di un'altra matricola, per un periodo sovrapposto: ammesso solo per un altro rapporto di lavoro, con il proprio orario contrattuale", "D.Lgs. 148/2015 art. 3 c. 1";
    COE_SEGNALAZIONI_TRONCATE = "COE-099", Coerenza, Avviso,
        "Troppe segnalazioni per la domanda: l'elenco è stato troncato", "Limiti di elaborazione del servizio";

    ARC_PERIODO_SOVRAPPOSTO = "ARC-001", Archivio, Errore,
        "Per la stessa unità produttiva risulta già protocollata (o autorizzata) una domanda per un periodo sovrapposto", "D.Lgs. 148/2015 art. 15";
    ARC_52_SETTIMANE = "ARC-002", Archivio, Errore,
        "Oltre 52 settimane di CIGO nel biennio mobile per l'unità produttiva (eventi oggettivamente non evitabili esclusi, salvo che per le imprese dell'edilizia e lapidee)", "D.Lgs. 148/2015 art. 12 c. 3 e 4; art. 10 c. 1 lett. m), n), o)";
    ARC_UN_TERZO_ORE = "ARC-003", Archivio, Errore,
        "Ore di CIGO nel biennio mobile oltre un terzo delle ore ordinarie lavorabili dai lavoratori dell'unità produttiva mediamente occupati nel semestre precedente (tracciato versione 2; nella versione 1, i lavoratori in forza del quadro E); contano anche gli eventi oggettivamente non evitabili", "D.Lgs. 148/2015 art. 12 c. 4, 5 e 6";
    ARC_QUINQUENNIO = "ARC-004", Archivio, Errore,
        "Oltre 24 mesi (30 per edilizia e lapidei) di integrazione salariale nel quinquennio mobile per l'unità produttiva", "D.Lgs. 148/2015 art. 4 c. 1 e 2";
    ARC_LAVORATORE_NON_IN_FORZA = "ARC-005", Archivio, Errore,
        "Lavoratore non alle dipendenze della matricola in alcun giorno del periodo (rapporti di lavoro in archivio)", "D.Lgs. 148/2015 art. 1 c. 1";
    ARC_LAVORATORE_PARZIALE = "ARC-006", Archivio, Avviso,
        "Lavoratore alle dipendenze della matricola solo per parte del periodo: le ore fuori dal rapporto non sono integrabili", "D.Lgs. 148/2015 art. 1 c. 1";
    ARC_DATA_ASSUNZIONE = "ARC-007", Archivio, Avviso,
        "Data di assunzione del lavoratore diversa da quella dei rapporti di lavoro in archivio", "D.Lgs. 148/2015 art. 1 c. 2";
    ARC_STESSA_SOSPENSIONE = "ARC-008", Archivio, Errore,
        "Lavoratori già in una domanda protocollata della stessa matricola, per un'altra unità produttiva e un periodo sovrapposto: è la stessa sospensione, le stesse ore non possono essere integrate due volte", "D.Lgs. 148/2015 art. 3 c. 1 (ore non lavorate fra zero e l'orario contrattuale del rapporto); art. 15";
    ARC_LAVORATORE_ALTRA_MATRICOLA = "ARC-009", Archivio, Avviso,
        "Lavoratore già in una domanda protocollata di un'altra matricola per un periodo sovrapposto: ammesso solo per un altro rapporto di lavoro, con il proprio orario contrattuale", "D.Lgs. 148/2015 art. 3 c. 1";
    ARC_52_CONSECUTIVE = "ARC-010", Archivio, Errore,
        "Dopo 52 settimane consecutive di CIGO una nuova domanda per la stessa unità produttiva è possibile solo dopo 52 settimane di normale attività lavorativa (eventi oggettivamente non evitabili esclusi, salvo che per le imprese dell'edilizia e lapidee)", "D.Lgs. 148/2015 art. 12 c. 2 e 4; art. 10 c. 1 lett. m), n), o)";
    ARC_BASE_UN_TERZO_PRESUNTA = "ARC-011", Archivio, Avviso,
        "Tracciato versione 1: il limite di un terzo delle ore lavorabili è rispettato solo sulla base presunta (lavoratori in forza del quadro E), non sui soli lavoratori elencati; la legge conta i lavoratori mediamente occupati nel semestre precedente per orario contrattuale (tracciato versione 2)", "D.Lgs. 148/2015 art. 12 c. 5 e 6";
    ARC_DELEGA_MANCANTE = "ARC-050", Archivio, Errore,
        "L'intermediario non ha una delega per la matricola dell'azienda (né è l'azienda stessa)", "L. 12/1979 art. 1; D.Lgs. 148/2015 art. 15 (domanda dell'impresa o di un suo intermediario delegato)";
}

/// Every code any finding can carry, including the archive rules (checked at sending time).
pub fn catalogue() -> &'static [RuleInfo] {
    CATALOGO
}

/// The catalogue entry of a code.
pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    CATALOGO.iter().find(|r| r.code == code)
}

/// The catalogue as Markdown: the content of `docs/regole.md` and of `cigo regole --format markdown`.
pub fn catalogue_markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "# Regole di prevalidazione\n\nGenerated by `cigo regole --format markdown`; do not edit by hand.\n\n",
    );
    let _ = writeln!(out, "Rule set: `{}`\n", RULE_SET);
    let _ = writeln!(
        out,
        "{} rules. The last column says which versions of the tracciato each applies to (docs/tracciato.md).\n",
        CATALOGO.len()
    );
    for layer in Layer::ALL {
        let _ = writeln!(out, "## {layer}\n");
        let _ = writeln!(out, "| code | severity | description | legal basis | tracciato |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for r in CATALOGO.iter().filter(|r| r.layer == layer) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.code,
                r.severity,
                r.description.replace('|', "\\|"),
                r.legal_basis.replace('|', "\\|"),
                versioni_testo(r.code)
            );
        }
        out.push('\n');
    }
    out
}

/// The versions of the tracciato a rule applies to. Every rule judges both, save those about
/// what only one version cannot say (ARC-011: the presumed base of v1).
pub fn versioni(code: &str) -> &'static [crate::model::Versione] {
    use crate::model::Versione;
    match code {
        "ARC-011" => &[Versione::V1],
        _ => &Versione::ALL,
    }
}

fn versioni_testo(code: &str) -> String {
    versioni(code)
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalogue as pretty JSON (`cigo regole --format json`).
pub fn catalogue_json() -> String {
    let list: Vec<_> = CATALOGO
        .iter()
        .map(|r| {
            serde_json::json!({
                "code": r.code,
                "layer": r.layer,
                "severity": r.severity,
                "description": r.description,
                "legal_basis": r.legal_basis,
                "versioni_tracciato": versioni(r.code).iter().map(|v| v.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "rule_set": RULE_SET, "rules": list })).unwrap_or_default() + "\n"
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
        assert!(catalogue().len() >= 60, "{}", catalogue().len());
    }

    #[test]
    fn docs_regole_md_is_the_rendering_of_the_catalogue() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/regole.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if on_disk != catalogue_markdown() {
            if std::env::var_os("CIGO_BLESS").is_some() {
                std::fs::write(path, catalogue_markdown()).expect("write docs/regole.md");
            } else {
                panic!("docs/regole.md differs from the catalogue: regenerate with `CIGO_BLESS=1 cargo test -p cigo-domain --lib docs_regole` or `cigo regole --format markdown > docs/regole.md`");
            }
        }
        let v: serde_json::Value = serde_json::from_str(&catalogue_json()).unwrap();
        assert_eq!(v["rules"].as_array().map(Vec::len), Some(catalogue().len()));
    }
}
