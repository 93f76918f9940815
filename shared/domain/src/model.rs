//! The tracciato (version 1): one richiesta carries 1..N domande; a domanda follows the paper form
//! for industry (quadri A..T, the structured relazione tecnica and the list of workers). Quadri
//! A, B, C, E and the list of workers are required; D, F..T and the relazione are optional. Field
//! and element names follow the form's Italian terms; the serde renames match the XML (`@name` = attribute, `$text` = text content), so the
//! model can be written or read by quick-xml's serde support as well as by [`crate::write`].
//!

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Namespace of the tracciato, version 1.
pub const NAMESPACE: &str = "urn:cigo:richiesta:1";
/// Namespace of the tracciato, version 2.
pub const NAMESPACE_V2: &str = "urn:cigo:richiesta:2";

/// The versions of the tracciato this release reads. Each has its namespace and the same value in
/// the `versione` attribute of `RichiestaCIGO`. Version 2 adds what the law asks a domanda to
/// state and version 1 could not: the employer's sector (D.Lgs. 148/2015 art. 10 c. 1 lett. m-o,
/// art. 4 c. 2, art. 12 c. 4), the identifier of the unità produttiva (INPS circ. 9/2017 § 2.1)
/// and the workers mediamente occupati in the previous semester by contractual hours (art. 12
/// c. 5-6). See docs/tracciato.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Versione {
    #[default]
    V1,
    V2,
}

impl Versione {
    pub const ALL: [Versione; 2] = [Versione::V1, Versione::V2];

    pub const fn namespace(self) -> &'static str {
        match self {
            Versione::V1 => NAMESPACE,
            Versione::V2 => NAMESPACE_V2,
        }
    }

    /// The value of the `versione` attribute.
    pub const fn as_str(self) -> &'static str {
        match self {
            Versione::V1 => "1",
            Versione::V2 => "2",
        }
    }

    pub fn from_namespace(ns: &[u8]) -> Option<Versione> {
        Versione::ALL
            .into_iter()
            .find(|v| v.namespace().as_bytes() == ns)
    }

    pub fn from_attr(v: &str) -> Option<Versione> {
        Versione::ALL.into_iter().find(|x| x.as_str() == v)
    }
}

impl fmt::Display for Versione {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "RichiestaCIGO")]
pub struct Richiesta {
    #[serde(rename = "@xmlns")]
    pub xmlns: String,
    #[serde(rename = "@versione")]
    pub versione: String,
    #[serde(rename = "Domanda")]
    pub domande: Vec<Domanda>,
}

/// One domanda: one employer, one unità produttiva, one period, one causale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domanda {
    #[serde(rename = "@progressivo")]
    pub progressivo: u32,
    #[serde(rename = "TipoDomanda")]
    pub tipo: TipoDomanda,
    /// Quadro A: the employer.
    #[serde(rename = "QuadroA")]
    pub azienda: Azienda,
    /// Quadro B: the unità produttiva.
    #[serde(rename = "QuadroB")]
    pub unita_produttiva: UnitaProduttiva,
    /// Quadro C: period, hours, causale.
    #[serde(rename = "QuadroC")]
    pub periodo: Periodo,
    /// Quadro D: resumption of activity.
    #[serde(rename = "QuadroD", default, skip_serializing_if = "Option::is_none")]
    pub quadro_d: Option<QuadroD>,
    /// Quadro E: employees by tipo orario and qualifica.
    #[serde(rename = "QuadroE")]
    pub quadro_e: QuadroE,
    #[serde(rename = "QuadroF", default, skip_serializing_if = "Option::is_none")]
    pub quadro_f: Option<QuadroF>,
    #[serde(rename = "QuadroG", default, skip_serializing_if = "Option::is_none")]
    pub quadro_g: Option<QuadroG>,
    #[serde(rename = "QuadroH", default, skip_serializing_if = "Option::is_none")]
    pub quadro_h: Option<QuadroH>,
    #[serde(rename = "QuadroI", default, skip_serializing_if = "Option::is_none")]
    pub quadro_i: Option<QuadroI>,
    #[serde(rename = "QuadroL", default, skip_serializing_if = "Option::is_none")]
    pub quadro_l: Option<QuadroL>,
    #[serde(rename = "QuadroM", default, skip_serializing_if = "Option::is_none")]
    pub quadro_m: Option<QuadroM>,
    #[serde(rename = "QuadroN", default, skip_serializing_if = "Option::is_none")]
    pub quadro_n: Option<QuadroN>,
    #[serde(rename = "QuadroO", default, skip_serializing_if = "Option::is_none")]
    pub quadro_o: Option<QuadroO>,
    #[serde(rename = "QuadroP", default, skip_serializing_if = "Option::is_none")]
    pub quadro_p: Option<QuadroP>,
    #[serde(rename = "QuadroQ", default, skip_serializing_if = "Option::is_none")]
    pub quadro_q: Option<QuadroQ>,
    #[serde(rename = "QuadroR", default, skip_serializing_if = "Option::is_none")]
    pub quadro_r: Option<QuadroR>,
    #[serde(rename = "QuadroS", default, skip_serializing_if = "Option::is_none")]
    pub quadro_s: Option<QuadroS>,
    #[serde(rename = "QuadroT", default, skip_serializing_if = "Option::is_none")]
    pub quadro_t: Option<QuadroT>,
    #[serde(rename = "RelazioneTecnica", default, skip_serializing_if = "Option::is_none")]
    pub relazione: Option<RelazioneTecnica>,
    #[serde(rename = "Lavoratori")]
    pub lavoratori: Lavoratori,
}

/// Quadro B, weather events only: the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cantiere {
    #[serde(rename = "GenereAttivita")]
    pub genere_attivita: String,
    #[serde(rename = "FaseLavorativa")]
    pub fase_lavorativa: String,
    #[serde(rename = "Mansione")]
    pub mansioni: Vec<Mansione>,
    #[serde(rename = "LuogoLavori")]
    pub luogo_lavori: LuogoLavori,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mansione {
    #[serde(rename = "Numero")]
    pub numero: u32,
    #[serde(rename = "Descrizione")]
    pub descrizione: String,
}

/// Quadro D: resumption happened / expected / not foreseeable (pointing to N, O, P).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroD {
    #[serde(rename = "Ripresa")]
    pub ripresa: Ripresa,
    #[serde(rename = "DataRipresa", default, skip_serializing_if = "Option::is_none")]
    pub data_ripresa: Option<NaiveDate>,
}

/// Quadro F: the declaration of the employer or legal representative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroF {
    #[serde(rename = "CodiceFiscale")]
    pub codice_fiscale: String,
    #[serde(rename = "Cognome")]
    pub cognome: String,
    #[serde(rename = "Nome")]
    pub nome: String,
    #[serde(rename = "Qualita")]
    pub qualita: QualitaFirmatario,
    #[serde(rename = "DataDichiarazione")]
    pub data: NaiveDate,
}

/// Quadri G1-G4 (one per tipo orario): contractual schedule and hours per week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroG {
    #[serde(rename = "OrarioContrattuale", default)]
    pub orari: Vec<OrarioContrattuale>,
    #[serde(rename = "Settimana")]
    pub settimane: Vec<SettimanaG>,
}

/// Weekly schedule of one (tipo orario, qualifica): hours and minutes over a number of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrarioContrattuale {
    #[serde(rename = "@tipoOrario")]
    pub tipo_orario: TipoOrario,
    #[serde(rename = "@qualifica")]
    pub qualifica: QualificaE,
    #[serde(rename = "Ore")]
    pub ore: u32,
    #[serde(rename = "Minuti")]
    pub minuti: u32,
    #[serde(rename = "Giorni")]
    pub giorni: u32,
}

/// One week of G1-G4 for one (tipo orario, qualifica).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettimanaG {
    #[serde(rename = "@numero")]
    pub numero: u32,
    #[serde(rename = "@tipoOrario")]
    pub tipo_orario: TipoOrario,
    #[serde(rename = "@qualifica")]
    pub qualifica: QualificaE,
    #[serde(rename = "Sospesi")]
    pub sospesi: u32,
    #[serde(rename = "OrarioRidotto")]
    pub orario_ridotto: u32,
    #[serde(rename = "OreCIGRichieste")]
    pub ore_cig: Ore,
}

/// Quadro H: hours per day per week, with the weather event code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroH {
    #[serde(rename = "Settimana")]
    pub settimane: Vec<SettimanaH>,
    #[serde(rename = "DescrizioneEvento", default, skip_serializing_if = "Option::is_none")]
    pub descrizione_evento: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettimanaH {
    #[serde(rename = "@numero")]
    pub numero: u32,
    #[serde(rename = "Giorno")]
    pub giorni: Vec<GiornoH>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiornoH {
    #[serde(rename = "@giorno")]
    pub giorno: GiornoSettimana,
    #[serde(rename = "OreOrdinarie")]
    pub ordinarie: Ore,
    #[serde(rename = "OreStraordinarie")]
    pub straordinarie: Ore,
    #[serde(rename = "OreAltro")]
    pub altro: Ore,
    #[serde(rename = "TotaleOre")]
    pub totale: Ore,
    #[serde(rename = "CodiceEvento", default, skip_serializing_if = "Option::is_none")]
    pub codice_evento: Option<CodiceEvento>,
}

/// Quadro I: departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroI {
    #[serde(rename = "Reparto")]
    pub reparti: Vec<Reparto>,
    #[serde(rename = "MotivoLicenziamenti", default, skip_serializing_if = "Option::is_none")]
    pub motivo_licenziamenti: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reparto {
    #[serde(rename = "Nome")]
    pub nome: String,
    #[serde(rename = "InteressatoCIG")]
    pub interessato: bool,
    #[serde(rename = "AddettiOperai")]
    pub addetti_operai: u32,
    #[serde(rename = "AddettiImpiegati")]
    pub addetti_impiegati: u32,
    #[serde(rename = "InteressatiOperai")]
    pub interessati_operai: u32,
    #[serde(rename = "InteressatiImpiegati")]
    pub interessati_impiegati: u32,
    #[serde(rename = "AssuntiUltimi3Mesi")]
    pub assunti: u32,
    #[serde(rename = "LicenziatiUltimi3Mesi")]
    pub licenziati: u32,
    #[serde(rename = "LicenziamentiPrevisti")]
    pub licenziamenti_previsti: u32,
}

/// Quadro L: holidays, compensatory rest, paid leave (days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroL {
    #[serde(rename = "FerieAnnoPrecedente")]
    pub ferie_anno_precedente: u32,
    #[serde(rename = "FerieAnnoInCorso")]
    pub ferie_anno_in_corso: u32,
    #[serde(rename = "FerieAggiuntive")]
    pub ferie_aggiuntive: u32,
    #[serde(rename = "RiposiCompensativi")]
    pub riposi_compensativi: u32,
    #[serde(rename = "PermessiRetribuiti")]
    pub permessi_retribuiti: u32,
    #[serde(rename = "PeriodoFerie", default)]
    pub periodi: Vec<PeriodoFerie>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodoFerie {
    #[serde(rename = "Dal")]
    pub dal: NaiveDate,
    #[serde(rename = "Al")]
    pub al: NaiveDate,
    #[serde(rename = "FissatoIn")]
    pub fissato_in: FissatoIn,
}

/// Quadro M: union consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroM {
    #[serde(rename = "ModalitaComunicazione")]
    pub modalita: ModalitaComunicazione,
    #[serde(rename = "DataComunicazione")]
    pub data_comunicazione: NaiveDate,
    #[serde(rename = "DataConsultazione", default, skip_serializing_if = "Option::is_none")]
    pub data_consultazione: Option<NaiveDate>,
    #[serde(rename = "MotiviMancataConsultazione", default, skip_serializing_if = "Option::is_none")]
    pub motivi_mancata_consultazione: Option<String>,
}

/// Quadro N: resumption happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroN {
    #[serde(rename = "DataRipresa")]
    pub data_ripresa: NaiveDate,
    #[serde(rename = "ConTuttiILavoratori")]
    pub con_tutti: bool,
    #[serde(rename = "OperaiSospesi", default, skip_serializing_if = "Option::is_none")]
    pub operai_sospesi: Option<u32>,
    #[serde(rename = "OperaiOrarioRidotto", default, skip_serializing_if = "Option::is_none")]
    pub operai_orario_ridotto: Option<u32>,
    #[serde(rename = "ImpiegatiSospesi", default, skip_serializing_if = "Option::is_none")]
    pub impiegati_sospesi: Option<u32>,
    #[serde(rename = "ImpiegatiOrarioRidotto", default, skip_serializing_if = "Option::is_none")]
    pub impiegati_orario_ridotto: Option<u32>,
    #[serde(rename = "CantiereRipresa", default, skip_serializing_if = "Option::is_none")]
    pub cantiere: Option<String>,
}

/// Quadro O: resumption expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroO {
    #[serde(rename = "DataRipresaPrevista")]
    pub data_prevista: NaiveDate,
    #[serde(rename = "NumeroLavoratori")]
    pub numero_lavoratori: u32,
    #[serde(rename = "UnitaRipresa")]
    pub unita: UnitaRipresa,
    #[serde(rename = "ElementiGiustificativi")]
    pub elementi: String,
}

/// Quadro P: reasons for an extension beyond 13 weeks / resumption not foreseeable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroP {
    #[serde(rename = "MotiviProroga")]
    pub motivi: String,
}

/// Quadro Q: inserimento contracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroQ {
    #[serde(rename = "ContrattoInserimento")]
    pub contratti: Vec<ContrattoInserimento>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContrattoInserimento {
    #[serde(rename = "CodiceFiscale")]
    pub codice_fiscale: String,
    #[serde(rename = "DataApprovazione")]
    pub data_approvazione: NaiveDate,
    #[serde(rename = "DataAssunzione")]
    pub data_assunzione: NaiveDate,
    #[serde(rename = "DurataMesi")]
    pub durata_mesi: u32,
    #[serde(rename = "OreAddestramento")]
    pub ore_addestramento: Ore,
    #[serde(rename = "OreAddestramentoEsaurite")]
    pub addestramento_esaurito: bool,
}

/// Quadro R: CIGS requests for the same period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroR {
    #[serde(rename = "CIGSPresentata")]
    pub presentata: bool,
    #[serde(rename = "CausaleCIGS", default, skip_serializing_if = "Option::is_none")]
    pub causale: Option<String>,
    #[serde(rename = "NumeroLavoratori", default, skip_serializing_if = "Option::is_none")]
    pub numero_lavoratori: Option<u32>,
    #[serde(rename = "Reparti", default, skip_serializing_if = "Option::is_none")]
    pub reparti: Option<String>,
}

/// Quadro S: insolvency and other procedures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroS {
    #[serde(rename = "Procedura")]
    pub procedure: Vec<Procedura>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedura {
    #[serde(rename = "TipoProcedura")]
    pub tipo: TipoProcedura,
    #[serde(rename = "Data")]
    pub data: NaiveDate,
}

/// Quadro T: availability declaration (DID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroT {
    #[serde(rename = "DichiarazioneResa")]
    pub resa: bool,
    #[serde(rename = "DataDichiarazione")]
    pub data: NaiveDate,
}

/// The structured relazione tecnica: causale-specific fields and economic indicators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelazioneTecnica {
    #[serde(rename = "Descrizione")]
    pub descrizione: String,
    #[serde(rename = "DataEvento", default, skip_serializing_if = "Option::is_none")]
    pub data_evento: Option<NaiveDate>,
    #[serde(rename = "CommesseInCorso", default, skip_serializing_if = "Option::is_none")]
    pub commesse_in_corso: Option<u32>,
    #[serde(rename = "OrdiniInPortafoglio", default, skip_serializing_if = "Option::is_none")]
    pub ordini_in_portafoglio: Option<Importo>,
    #[serde(rename = "Macchinario", default, skip_serializing_if = "Option::is_none")]
    pub macchinario: Option<String>,
    #[serde(rename = "Fornitore", default, skip_serializing_if = "Option::is_none")]
    pub fornitore: Option<String>,
    #[serde(rename = "BollettinoMeteo", default, skip_serializing_if = "Option::is_none")]
    pub bollettino_meteo: Option<String>,
    #[serde(rename = "ProvvedimentoAutorita", default, skip_serializing_if = "Option::is_none")]
    pub provvedimento_autorita: Option<String>,
    #[serde(rename = "IndicatoriEconomici", default, skip_serializing_if = "Option::is_none")]
    pub indicatori: Option<IndicatoriEconomici>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatoriEconomici {
    #[serde(rename = "Indicatore")]
    pub indicatori: Vec<Indicatore>,
}

/// Economic indicators of one year (no `trimestre`) or one quarter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicatore {
    #[serde(rename = "@anno")]
    pub anno: u32,
    #[serde(rename = "@trimestre", default, skip_serializing_if = "Option::is_none")]
    pub trimestre: Option<u32>,
    #[serde(rename = "Fatturato")]
    pub fatturato: Importo,
    #[serde(rename = "Ordinativi", default, skip_serializing_if = "Option::is_none")]
    pub ordinativi: Option<Importo>,
    #[serde(rename = "OreLavorate", default, skip_serializing_if = "Option::is_none")]
    pub ore_lavorate: Option<Ore>,
    #[serde(rename = "Dipendenti", default, skip_serializing_if = "Option::is_none")]
    pub dipendenti: Option<u32>,
}

/// Quadro A.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Azienda {
    #[serde(rename = "Matricola")]
    pub matricola: String,
    #[serde(rename = "CodiceFiscale")]
    pub codice_fiscale: String,
    #[serde(rename = "Denominazione")]
    pub denominazione: String,
    #[serde(rename = "Indirizzo")]
    pub indirizzo: String,
    #[serde(rename = "Comune")]
    pub comune: String,
    #[serde(rename = "Provincia")]
    pub provincia: String,
    #[serde(rename = "Cap")]
    pub cap: String,
    #[serde(rename = "Telefono", default, skip_serializing_if = "Option::is_none")]
    pub telefono: Option<String>,
    #[serde(rename = "Cellulare", default, skip_serializing_if = "Option::is_none")]
    pub cellulare: Option<String>,
    #[serde(rename = "Email", default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "Fax", default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    #[serde(rename = "Attivita", default, skip_serializing_if = "Option::is_none")]
    pub attivita: Option<String>,
    #[serde(rename = "DataInizioAttivita", default, skip_serializing_if = "Option::is_none")]
    pub data_inizio_attivita: Option<NaiveDate>,
    #[serde(rename = "LavoratoriInForza")]
    pub lavoratori_in_forza: u32,
    /// Tracciato v2 (required there): the sector that decides the 24 or 30 months of the
    /// quinquennio (art. 4) and whether eventi non evitabili count toward the 52 weeks (art. 12 c. 4).
    #[serde(rename = "Settore", default, skip_serializing_if = "Option::is_none")]
    pub settore: Option<Settore>,
}

/// Quadro B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitaProduttiva {
    /// Tracciato v2 (required there): the identifier of the unità produttiva the employer
    /// registered with INPS and declares in UniEmens (element `UnitaProduttiva`, INPS circ.
    /// 9/2017 § 2.1). When present it is the unit's identity for every archive rule.
    #[serde(rename = "CodiceUnitaProduttiva", default, skip_serializing_if = "Option::is_none")]
    pub codice: Option<String>,
    #[serde(rename = "Indirizzo")]
    pub indirizzo: String,
    #[serde(rename = "Comune")]
    pub comune: String,
    #[serde(rename = "Provincia")]
    pub provincia: String,
    #[serde(rename = "Cap")]
    pub cap: String,
    /// Weather events only: the site.
    #[serde(rename = "Cantiere", default, skip_serializing_if = "Option::is_none")]
    pub cantiere: Option<Cantiere>,
}

fn normalizza(s: &str, out: &mut String) {
    let mut first = true;
    for w in s.split_whitespace() {
        if !first {
            out.push(' ');
        }
        first = false;
        for c in w.chars() {
            out.extend(c.to_uppercase());
        }
    }
}

impl UnitaProduttiva {
    /// The unit's identity: `UP:<codice>` when the domanda gives the INPS identifier (v2), else
    /// the normalised address `CAP|COMUNE|INDIRIZZO` (upper case, runs of white space collapsed
    /// to one space). Two domande with the same key are for the same unità produttiva.
    pub fn key(&self) -> String {
        match &self.codice {
            Some(c) => unita_key_codice(c),
            None => unita_key(&self.cap, &self.comune, &self.indirizzo),
        }
    }
}

/// [`UnitaProduttiva::key`] of a unit identified by its INPS code.
pub fn unita_key_codice(codice: &str) -> String {
    let mut k = String::from("UP:");
    normalizza(codice, &mut k);
    k
}

/// [`UnitaProduttiva::key`] from loose parts.
pub fn unita_key(cap: &str, comune: &str, indirizzo: &str) -> String {
    let mut k = String::with_capacity(cap.len() + comune.len() + indirizzo.len() + 2);
    normalizza(cap, &mut k);
    k.push('|');
    normalizza(comune, &mut k);
    k.push('|');
    normalizza(indirizzo, &mut k);
    k
}

/// Quadro C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Periodo {
    #[serde(rename = "PeriodoDal")]
    pub dal: NaiveDate,
    #[serde(rename = "PeriodoAl")]
    pub al: NaiveDate,
    #[serde(rename = "NumeroSettimane")]
    pub numero_settimane: u32,
    #[serde(rename = "TotaleOreCIG")]
    pub totale_ore_cig: Ore,
    #[serde(rename = "Causale")]
    pub causale: Causale,
    #[serde(rename = "DescrizioneCausale", default, skip_serializing_if = "Option::is_none")]
    pub descrizione_causale: Option<String>,
    #[serde(rename = "ConsultazioneSindacale")]
    pub consultazione_sindacale: bool,
}

impl Periodo {
    /// Number of calendar weeks (Monday to Sunday) the period touches; 0 if `al < dal`.
    pub fn settimane(&self) -> u32 {
        settimane_tra(self.dal, self.al)
    }
}

/// Number of calendar weeks, Monday to Sunday, that the days from `dal` to `al` touch (0 if `al <
/// dal`): the "settimane intere di calendario" of quadro C. A week with one day of CIG counts as
/// a whole week, for the 13 weeks of a domanda as for the 52 of the biennio mobile.
pub fn settimane_tra(dal: NaiveDate, al: NaiveDate) -> u32 {
    if al < dal {
        return 0;
    }
    let lunedi = |d: NaiveDate| d.num_days_from_ce() - d.weekday().num_days_from_monday() as i32;
    ((lunedi(al) - lunedi(dal)) / 7 + 1).max(0) as u32
}

/// Quadro E.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroE {
    #[serde(rename = "Riga")]
    pub righe: Vec<RigaE>,
    /// Tracciato v2 (required there): the workers of the unit mediamente occupati in the
    /// semester before the domanda, by contractual weekly hours (D.Lgs. 148/2015 art. 12 c. 6):
    /// the base of the one-third limit (c. 5).
    #[serde(rename = "OccupatiSemestre", default, skip_serializing_if = "Option::is_none")]
    pub occupati_semestre: Option<OccupatiSemestre>,
}

/// Art. 12 c. 6: the average number of workers of the previous semester, one `Fascia` per
/// contractual weekly schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccupatiSemestre {
    #[serde(rename = "Fascia")]
    pub fasce: Vec<FasciaOccupati>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FasciaOccupati {
    /// Contractual weekly hours of the group.
    #[serde(rename = "OreSettimanali")]
    pub ore_settimanali: Ore,
    /// Average number of workers in the semester, with up to two decimals (in hundredths).
    #[serde(rename = "MediaLavoratori")]
    pub media_lavoratori: Ore,
}

impl OccupatiSemestre {
    /// Ordinary weekly hours of the unit: the sum over the groups of average workers times
    /// contractual hours, in hundredths of an hour.
    pub fn ore_settimanali(&self) -> Ore {
        Ore(self
            .fasce
            .iter()
            .map(|f| f.ore_settimanali.0.saturating_mul(f.media_lavoratori.0) / 100)
            .fold(0i64, i64::saturating_add))
    }
}

/// One row of quadro E: employees of one (tipo orario, qualifica) at the start of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RigaE {
    #[serde(rename = "@tipoOrario")]
    pub tipo_orario: TipoOrario,
    #[serde(rename = "@qualifica")]
    pub qualifica: QualificaE,
    #[serde(rename = "InForza")]
    pub in_forza: u32,
    #[serde(rename = "Sospesi")]
    pub sospesi: u32,
    #[serde(rename = "OrarioRidotto")]
    pub orario_ridotto: u32,
    #[serde(rename = "TotaleInCIG")]
    pub totale_in_cig: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lavoratori {
    #[serde(rename = "Lavoratore")]
    pub lavoratori: Vec<Lavoratore>,
}

/// One worker concerned by the domanda, with the CIG hours asked for each week of the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lavoratore {
    #[serde(rename = "CodiceFiscale")]
    pub codice_fiscale: String,
    #[serde(rename = "Cognome")]
    pub cognome: String,
    #[serde(rename = "Nome")]
    pub nome: String,
    #[serde(rename = "Qualifica")]
    pub qualifica: Qualifica,
    #[serde(rename = "TipoOrario")]
    pub tipo_orario: TipoOrario,
    #[serde(rename = "OreSettimanaliContrattuali")]
    pub ore_settimanali_contrattuali: Ore,
    #[serde(rename = "DataAssunzione", default, skip_serializing_if = "Option::is_none")]
    pub data_assunzione: Option<NaiveDate>,
    /// IBAN for direct payment by INPS, where asked.
    #[serde(rename = "Iban", default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(rename = "OreCIG")]
    pub ore_cig: Vec<OreSettimana>,
}

/// `<OreCIG settimana="n">ore</OreCIG>`: CIG hours in week `n` (1-based) of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OreSettimana {
    #[serde(rename = "@settimana")]
    pub settimana: u32,
    #[serde(rename = "$text")]
    pub ore: Ore,
}

/// Hours as an exact decimal with two fraction digits, stored in hundredths (so that sums are exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ore(pub i64);

impl Ore {
    pub const fn from_hours(h: i64) -> Ore {
        Ore(h * 100)
    }
    pub const fn centesimi(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Ore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (i, c) = (self.0 / 100, (self.0 % 100).abs());
        if c == 0 {
            write!(f, "{i}")
        } else if c % 10 == 0 {
            write!(f, "{i}.{}", c / 10)
        } else {
            write!(f, "{i}.{c:02}")
        }
    }
}

/// Parse error of a typed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("valore non valido: {0}")]
pub struct ValoreNonValido(pub String);

pub(crate) fn is_xml_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Hours as the XSD writes them: `\d{1,7}(\.\d{1,2})?`.
pub(crate) fn parse_ore(s: &str) -> Option<Ore> {
    parse_centesimi(s, 7).map(Ore)
}

/// A non-negative decimal with at most `max_int` integer digits and two fraction digits, the dot
/// as separator (`\d{1,max_int}(\.\d{1,2})?`), in hundredths: the lexical form of [`Ore`] and
/// [`Importo`].
fn parse_centesimi(s: &str, max_int: usize) -> Option<i64> {
    let b = s.as_bytes();
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    if int.is_empty() || int.len() > max_int || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in int {
        v = v * 10 + (c - b'0') as i64;
    }
    let mut cents = 0;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 2 || !f.iter().all(u8::is_ascii_digit) {
            return None;
        }
        cents = (f[0] - b'0') as i64 * 10;
        if f.len() == 2 {
            cents += (f[1] - b'0') as i64;
        }
    }
    Some(v * 100 + cents)
}

/// An amount in euro with two fraction digits, stored in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Importo(pub i64);

impl fmt::Display for Importo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, (self.0 % 100).abs())
    }
}

/// Amounts as the XSD writes them: `\d{1,13}(\.\d{1,2})?`.
pub(crate) fn parse_importo(s: &str) -> Option<Importo> {
    parse_centesimi(s, 13).map(Importo)
}

/// `FromStr` (the XSD's lexical form, surrounding white space ignored) and serde as that text, for
/// a value in hundredths.
macro_rules! centesimi_text {
    ($ty:ident, $parse:ident) => {
        impl FromStr for $ty {
            type Err = ValoreNonValido;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $parse(s.trim_matches(is_xml_ws)).ok_or_else(|| ValoreNonValido(s.to_string()))
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

centesimi_text!(Ore, parse_ore);
centesimi_text!(Importo, parse_importo);

/// An enumeration of the tracciato (a closed list of codes).
pub trait XmlCode: Sized + Copy + 'static {
    fn from_code(s: &str) -> Option<Self>;
    fn all() -> &'static [Self];
    fn code(self) -> &'static str;
}

macro_rules! xml_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal, $descr:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The code written in the XML.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// Italian description.
            pub fn descrizione(self) -> &'static str {
                match self { $($name::$variant => $descr),+ }
            }
            /// From the code written in the XML (exact match).
            pub fn from_code(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl XmlCode for $name {
            fn from_code(s: &str) -> Option<Self> { $name::from_code(s) }
            fn all() -> &'static [Self] { $name::ALL }
            fn code(self) -> &'static str { self.as_str() }
        }
        impl FromStr for $name {
            type Err = ValoreNonValido;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::from_code(s).ok_or_else(|| ValoreNonValido(s.to_string()))
            }
        }
    };
}

xml_enum!(
    /// The employer's sector, as far as the limits of D.Lgs. 148/2015 tell them apart (tracciato
    /// v2, QuadroA/Settore): the employers of art. 10 c. 1 lett. m) (edilizia e affini) and n), o)
    /// (escavazione e lavorazione di materiale lapideo) have 30 months in the quinquennio (art. 4
    /// c. 2) and count eventi non evitabili toward the 52 weeks (art. 12 c. 4).
    Settore {
        Industria => "INDUSTRIA", "Industria (art. 10 c. 1 lett. a-l)",
        Edilizia => "EDILIZIA", "Imprese industriali e artigiane dell'edilizia e affini (art. 10 c. 1 lett. m)",
        Lapidei => "LAPIDEI", "Escavazione e lavorazione di materiale lapideo (art. 10 c. 1 lett. n, o)",
    }
);

impl Settore {
    /// What a v1 file, which cannot state the sector, lets one presume: the activity of quadro A
    /// when it names construction or stone, else industry. (Not quadro B's cantiere: every
    /// weather domanda describes one, whatever the sector.)
    pub fn presunto(attivita: Option<&str>) -> Settore {
        let a = attivita.unwrap_or("").to_lowercase();
        if ["edil", "costruzion"].iter().any(|k| a.contains(k)) {
            Settore::Edilizia
        } else if ["lapid", "cava", "marm"].iter().any(|k| a.contains(k)) {
            Settore::Lapidei
        } else {
            Settore::Industria
        }
    }

    /// Art. 10 c. 1 lett. m), n), o): edilizia and lapidei.
    pub fn edile_o_lapideo(self) -> bool {
        matches!(self, Settore::Edilizia | Settore::Lapidei)
    }
}

xml_enum!(
    /// Richiesta (first domanda for the period) or proroga (extension).
    TipoDomanda {
        Richiesta => "RICHIESTA", "Richiesta",
        Proroga => "PROROGA", "Proroga",
    }
);

xml_enum!(
    /// Causali of CIGO (D.Lgs. 148/2015 art. 11; DM 95442/2016).
    Causale {
        MancanzaLavoro => "MANCANZA_LAVORO", "Mancanza di lavoro o di commesse",
        CrisiMercato => "CRISI_MERCATO", "Crisi di mercato",
        FineCantiere => "FINE_CANTIERE", "Fine cantiere, fine lavoro, fine fase lavorativa, perizia di variante e suppletiva al progetto",
        MancanzaMateriePrime => "MANCANZA_MATERIE_PRIME", "Mancanza di materie prime o componenti",
        EventiMeteo => "EVENTI_METEO", "Eventi meteo",
        Sciopero => "SCIOPERO", "Sciopero di un reparto o di altra impresa",
        IncendioCalamita => "INCENDIO_CALAMITA", "Incendio, alluvione, sisma, crollo, mancanza di energia elettrica",
        ImpraticabilitaLocali => "IMPRATICABILITA_LOCALI", "Impraticabilità dei locali, anche per ordine di pubblica autorità",
        SospensioneAutorita => "SOSPENSIONE_AUTORITA", "Sospensione o riduzione dell'attività per ordine di pubblica autorità",
        GuastoMacchinari => "GUASTO_MACCHINARI", "Guasto ai macchinari",
        ManutenzioneStraordinaria => "MANUTENZIONE_STRAORDINARIA", "Manutenzione straordinaria",
        Altro => "ALTRO", "Altro (non ammessa: non è una causale del D.M. 95442/2016)",
    }
);

impl Causale {
    /// An "evento oggettivamente non evitabile" (EONE): no minimum seniority, outside the biennio
    /// mobile count, later deadline.
    pub fn oggettivamente_non_evitabile(self) -> bool {
        matches!(
            self,
            Causale::EventiMeteo
                | Causale::Sciopero
                | Causale::IncendioCalamita
                | Causale::SospensioneAutorita
                | Causale::ImpraticabilitaLocali
        )
    }
}

xml_enum!(
    /// Tipo di orario / contratto (quadro E columns, quadri G1..G4).
    TipoOrario {
        TempoPieno => "TEMPO_PIENO", "Tempo pieno",
        PartTime => "PART_TIME", "Tempo parziale",
        Inserimento => "INSERIMENTO", "Contratto di inserimento",
        Solidarieta => "SOLIDARIETA", "Contratto di solidarietà",
    }
);

xml_enum!(
    /// Qualifica of a row of quadro E.
    QualificaE {
        Operai => "OPERAI", "Operai",
        Impiegati => "IMPIEGATI", "Impiegati",
    }
);

xml_enum!(
    /// Qualifica of a worker.
    Qualifica {
        Operaio => "OPERAIO", "Operaio",
        Impiegato => "IMPIEGATO", "Impiegato",
        Quadro => "QUADRO", "Quadro",
        Apprendista => "APPRENDISTA", "Apprendista",
        Dirigente => "DIRIGENTE", "Dirigente",
    }
);

impl Qualifica {
    /// The quadro E row a worker is counted in: operai and apprendisti as OPERAI, impiegati and
    /// quadri as IMPIEGATI; dirigenti are not eligible and are counted nowhere.
    pub fn riga_e(self) -> Option<QualificaE> {
        match self {
            Qualifica::Operaio | Qualifica::Apprendista => Some(QualificaE::Operai),
            Qualifica::Impiegato | Qualifica::Quadro => Some(QualificaE::Impiegati),
            Qualifica::Dirigente => None,
        }
    }
}

xml_enum!(
    /// Quadro D: resumption of activity.
    Ripresa {
        Avvenuta => "AVVENUTA", "Ripresa avvenuta (quadro N)",
        Prevista => "PREVISTA", "Ripresa prevista (quadro O)",
        NonPrevedibile => "NON_PREVEDIBILE", "Ripresa non prevedibile (quadro P)",
    }
);

xml_enum!(
    /// Quadro B (weather events): works done indoors or outdoors.
    LuogoLavori {
        AlCoperto => "AL_COPERTO", "Lavori svolti al coperto",
        AlloScoperto => "ALLO_SCOPERTO", "Lavori svolti allo scoperto",
    }
);

xml_enum!(
    /// Quadro F: who signs.
    QualitaFirmatario {
        Titolare => "TITOLARE", "Datore di lavoro / titolare",
        LegaleRappresentante => "LEGALE_RAPPRESENTANTE", "Legale rappresentante",
    }
);

xml_enum!(
    /// Quadro H: weather event codes.
    CodiceEvento {
        Pioggia => "1", "Pioggia",
        Neve => "2", "Neve",
        Vento => "3", "Vento",
        Nebbia => "4", "Nebbia",
        Gelo => "5", "Gelo",
        Fango => "6", "Fango",
        TemperatureElevate => "7", "Temperature elevate",
        Altro => "8", "Altro (da specificare)",
    }
);

xml_enum!(
    /// Quadro H: day of the week.
    GiornoSettimana {
        Lun => "LUN", "Lunedì",
        Mar => "MAR", "Martedì",
        Mer => "MER", "Mercoledì",
        Gio => "GIO", "Giovedì",
        Ven => "VEN", "Venerdì",
        Sab => "SAB", "Sabato",
        Dom => "DOM", "Domenica",
    }
);

xml_enum!(
    /// Quadro L: what fixes the holiday period.
    FissatoIn {
        Ccnl => "CCNL", "A: contratto collettivo nazionale",
        ContrattoProvinciale => "CONTRATTO_PROVINCIALE", "B: contratto provinciale",
        AccordoAziendale => "ACCORDO_AZIENDALE", "C: accordo aziendale",
    }
);

xml_enum!(
    /// Quadro M: how the union was informed.
    ModalitaComunicazione {
        TramiteAssociazione => "TRAMITE_ASSOCIAZIONE", "Tramite l'associazione",
        Diretta => "DIRETTA", "Inviata direttamente",
    }
);

xml_enum!(
    /// Quadro O: where work resumes.
    UnitaRipresa {
        StessaUnita => "STESSA_UNITA", "Nell'unità produttiva della richiesta",
        AltraUnitaInEsercizio => "ALTRA_UNITA_IN_ESERCIZIO", "In altra unità produttiva in esercizio",
        AltraUnitaDaAprire => "ALTRA_UNITA_DA_APRIRE", "In altra unità produttiva da aprire",
    }
);

xml_enum!(
    /// Quadro S: insolvency and other procedures.
    TipoProcedura {
        IstanzaFallimento => "ISTANZA_FALLIMENTO", "Istanza di fallimento presentata",
        Fallimento => "FALLIMENTO", "Fallimento dichiarato",
        ConcordatoPreventivo => "CONCORDATO_PREVENTIVO", "Ammissione al concordato preventivo",
        AmministrazioneStraordinaria => "AMMINISTRAZIONE_STRAORDINARIA", "Amministrazione straordinaria",
        LiquidazioneCoatta => "LIQUIDAZIONE_COATTA", "Liquidazione coatta amministrativa disposta",
        LiquidazioneVolontaria => "LIQUIDAZIONE_VOLONTARIA", "Liquidazione dell'impresa deliberata",
    }
);

/// IBAN: ISO 13616 structure (2 letters, 2 check digits, up to 30 alphanumerics; 27 characters
/// for Italy) and the mod-97 check. Spaces are not allowed.
pub fn is_iban(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 15
        || b.len() > 34
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    if &b[..2] == b"IT" && b.len() != 27 {
        return false;
    }
    if !b[4..]
        .iter()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return false;
    }
    let mut r: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        if c.is_ascii_digit() {
            r = (r * 10 + (c - b'0') as u32) % 97;
        } else {
            let v = (c - b'A') as u32 + 10;
            r = (r * 100 + v) % 97;
        }
    }
    r == 1
}

/// Computes the two check digits of an IBAN from country code and BBAN.
pub fn iban_con_controllo(paese: &str, bban: &str) -> String {
    let mut r: u32 = 0;
    for c in bban.bytes().chain(paese.bytes()).chain(*b"00") {
        if c.is_ascii_digit() {
            r = (r * 10 + (c - b'0') as u32) % 97;
        } else {
            r = (r * 100 + (c.to_ascii_uppercase() - b'A') as u32 + 10) % 97;
        }
    }
    format!("{paese}{:02}{bban}", 98 - r)
}

/// Phone or fax: digits, optionally a leading `+`, 6 to 15 digits (spaces, dots, dashes allowed between).
pub fn is_telefono(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    (6..=15).contains(&digits)
        && body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b' ' | b'.' | b'-' | b'/'))
}

/// A plausible e-mail address: one `@`, non-empty local part, a dot in the domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && !s.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// Sigle of the Italian provinces (and metropolitan cities / free consortia). The four historic
/// Sardinian sigle CI, OG, OT, VS are accepted too (still in company records, and being reinstated).
pub const PROVINCE: &[&str] = &[
    "AG", "AL", "AN", "AO", "AP", "AQ", "AR", "AT", "AV", "BA", "BG", "BI", "BL", "BN", "BO", "BR", "BS", "BT", "BZ",
    "CA", "CB", "CE", "CH", "CI", "CL", "CN", "CO", "CR", "CS", "CT", "CZ", "EN", "FC", "FE", "FG", "FI", "FM", "FR",
    "GE", "GO", "GR", "IM", "IS", "KR", "LC", "LE", "LI", "LO", "LT", "LU", "MB", "MC", "ME", "MI", "MN", "MO", "MS",
    "MT", "NA", "NO", "NU", "OG", "OR", "OT", "PA", "PC", "PD", "PE", "PG", "PI", "PN", "PO", "PR", "PT", "PU", "PV",
    "PZ", "RA", "RC", "RE", "RG", "RI", "RM", "RN", "RO", "SA", "SI", "SO", "SP", "SR", "SS", "SU", "SV", "TA", "TE",
    "TN", "TO", "TP", "TR", "TS", "TV", "UD", "VA", "VB", "VC", "VE", "VI", "VR", "VS", "VT", "VV",
];

/// The sigla is in [`PROVINCE`] (upper case only).
pub fn is_provincia(s: &str) -> bool {
    PROVINCE.binary_search(&s).is_ok()
}

/// Matricola INPS azienda: exactly 10 digits. The one check of a matricola, wherever one is read
/// (the tracciato, the archive import, the deleghe, the command line).
pub fn is_matricola(s: &str) -> bool {
    solo_cifre(s, 10)
}

/// CAP: exactly 5 digits.
pub fn is_cap(s: &str) -> bool {
    solo_cifre(s, 5)
}

/// Exactly `n` ASCII digits.
fn solo_cifre(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn province_are_sorted_and_unique() {
        assert!(PROVINCE.windows(2).all(|w| w[0] < w[1]));
        assert!(is_provincia("RM") && is_provincia("MB") && !is_provincia("XX") && !is_provincia("rm"));
    }

    #[test]
    fn ore_parse_and_print() {
        assert_eq!("8".parse::<Ore>().unwrap(), Ore(800));
        assert_eq!(" 7.5 ".parse::<Ore>().unwrap(), Ore(750));
        assert_eq!("0.25".parse::<Ore>().unwrap(), Ore(25));
        for bad in ["", ".5", "5.", "-1", "1.234", "1e3", "12345678", "+3"] {
            assert!(bad.parse::<Ore>().is_err(), "{bad}");
        }
        assert_eq!(Ore(750).to_string(), "7.5");
        assert_eq!(Ore(725).to_string(), "7.25");
        assert_eq!(Ore(4000).to_string(), "40");
    }

    #[test]
    fn importo_parse_and_print() {
        assert_eq!("1250.5".parse::<Importo>().unwrap(), Importo(125_050));
        assert_eq!(" 0.05 ".parse::<Importo>().unwrap(), Importo(5));
        assert_eq!("1234567890123".parse::<Importo>().unwrap(), Importo(123_456_789_012_300));
        for bad in ["", ".5", "5.", "-1", "1.234", "12345678901234", "1,5"] {
            assert!(bad.parse::<Importo>().is_err(), "{bad}");
        }
        assert_eq!(Importo(125_050).to_string(), "1250.50");
    }

    #[test]
    fn matricola_and_cap() {
        assert!(is_matricola("1234567890") && !is_matricola("123456789") && !is_matricola("123456789a"));
        assert!(is_cap("00184") && !is_cap("0018") && !is_cap("0018x"));
    }

    #[test]
    fn unit_key_is_normalised() {
        let u = UnitaProduttiva {
            indirizzo: " via  Roma\t12 ".into(),
            comune: "Milano".into(),
            provincia: "MI".into(),
            cap: "20121".into(),
            cantiere: None,
            codice: None,
        };
        assert_eq!(u.key(), "20121|MILANO|VIA ROMA 12");
    }

    #[test]
    fn weeks_between() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(settimane_tra(d("2026-01-05"), d("2026-01-11")), 1);
        assert_eq!(settimane_tra(d("2026-01-05"), d("2026-01-12")), 2);
        assert_eq!(settimane_tra(d("2026-01-05"), d("2026-04-05")), 13);
        assert_eq!(settimane_tra(d("2026-01-05"), d("2026-01-04")), 0);
    }

    #[test]
    fn iban() {
        assert!(is_iban("IT60X0542811101000000123456"));
        assert!(is_iban("GB82WEST12345698765432"));
        assert!(!is_iban("IT60X0542811101000000123457"));
        assert!(!is_iban("IT60X054281110100000012345"));
        let i = iban_con_controllo("IT", "X0542811101000000123456");
        assert_eq!(i, "IT60X0542811101000000123456");
        assert!(is_email("a.b@example.it") && !is_email("a@b") && !is_email("a b@x.it"));
        assert!(is_telefono("+39 02 1234567") && !is_telefono("12ab56"));
    }

    #[test]
    fn causali_flags() {
        let eone: Vec<_> = Causale::ALL
            .iter()
            .filter(|c| c.oggettivamente_non_evitabile())
            .collect();
        assert_eq!(eone.len(), 5);
        assert_eq!(Causale::from_code("EVENTI_METEO"), Some(Causale::EventiMeteo));
    }

    #[test]
    fn weeks_are_calendar_weeks() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Monday to Sunday: one week; Monday to next Monday: two.
        assert_eq!(settimane_tra(d("2026-01-05"), d("2026-01-11")), 1);
        assert_eq!(settimane_tra(d("2026-01-05"), d("2026-01-12")), 2);
        // Wednesday to Tuesday: seven days over two calendar weeks.
        assert_eq!(settimane_tra(d("2026-01-07"), d("2026-01-13")), 2);
        // One day is one week; a Sunday and the next Monday are two.
        assert_eq!(settimane_tra(d("2026-01-07"), d("2026-01-07")), 1);
        assert_eq!(settimane_tra(d("2026-01-11"), d("2026-01-12")), 2);
        // Across a year end (2026-12-28 is a Monday) and reversed.
        assert_eq!(settimane_tra(d("2026-12-28"), d("2027-01-10")), 2);
        assert_eq!(settimane_tra(d("2026-01-12"), d("2026-01-05")), 0);
        // Thirteen whole weeks from a Monday.
        assert_eq!(settimane_tra(d("2026-01-05"), d("2026-04-05")), 13);
    }
}
