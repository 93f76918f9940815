//! The tracciato (version 1): one richiesta carries 1..N domande; a domanda follows the paper form
//! (quadri A, B, C, E and the list of workers). Field and element names follow the form's Italian
//! terms; the serde renames match the XML (`@name` = attribute, `$text` = text content), so the
//! model can be written or read by quick-xml's serde support as well as by [`crate::write`].
//!
//! Later quadri (D, G, H, ...) slot in as further `Option<...>` fields of [`Domanda`], a further
//! [`crate::parse::Tag`] per element and a further entry in the sequence of `Domanda`.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Namespace of the tracciato, version 1.
pub const NAMESPACE: &str = "urn:cigo:richiesta:1";
/// The only `versione` this release reads.
pub const VERSIONE: &str = "1";

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
    /// Quadro E: employees by tipo orario and qualifica.
    #[serde(rename = "QuadroE")]
    pub quadro_e: QuadroE,
    #[serde(rename = "Lavoratori")]
    pub lavoratori: Lavoratori,
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
    #[serde(rename = "Attivita", default, skip_serializing_if = "Option::is_none")]
    pub attivita: Option<String>,
    #[serde(rename = "DataInizioAttivita", default, skip_serializing_if = "Option::is_none")]
    pub data_inizio_attivita: Option<NaiveDate>,
    #[serde(rename = "LavoratoriInForza")]
    pub lavoratori_in_forza: u32,
}

/// Quadro B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitaProduttiva {
    #[serde(rename = "Indirizzo")]
    pub indirizzo: String,
    #[serde(rename = "Comune")]
    pub comune: String,
    #[serde(rename = "Provincia")]
    pub provincia: String,
    #[serde(rename = "Cap")]
    pub cap: String,
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
    /// Normalised key `CAP|COMUNE|INDIRIZZO` (upper case, runs of white space collapsed to one
    /// space): two domande with the same key are for the same unità produttiva.
    pub fn key(&self) -> String {
        unita_key(&self.cap, &self.comune, &self.indirizzo)
    }
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
    /// Number of weeks the period touches (7-day blocks starting at `dal`); 0 if `al < dal`.
    pub fn settimane(&self) -> u32 {
        settimane_tra(self.dal, self.al)
    }
}

/// Number of 7-day blocks from `dal` that cover `al` (0 if `al < dal`).
pub fn settimane_tra(dal: NaiveDate, al: NaiveDate) -> u32 {
    let giorni = (al - dal).num_days() + 1;
    if giorni <= 0 {
        0
    } else {
        ((giorni + 6) / 7).min(u32::MAX as i64) as u32
    }
}

/// Quadro E.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadroE {
    #[serde(rename = "Riga")]
    pub righe: Vec<RigaE>,
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

impl FromStr for Ore {
    type Err = ValoreNonValido;
    /// The lexical form the XSD allows: `\d{1,7}(\.\d{1,2})?`, surrounding white space ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_ore(s.trim_matches(is_xml_ws)).ok_or_else(|| ValoreNonValido(s.to_string()))
    }
}

pub(crate) fn is_xml_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

pub(crate) fn parse_ore(s: &str) -> Option<Ore> {
    let b = s.as_bytes();
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    if int.is_empty() || int.len() > 7 || !int.iter().all(u8::is_ascii_digit) {
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
    Some(Ore(v * 100 + cents))
}

impl Serialize for Ore {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

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
        FineCantiere => "FINE_CANTIERE", "Fine cantiere, fine lavoro, fine fase lavorativa",
        MancanzaMateriePrime => "MANCANZA_MATERIE_PRIME", "Mancanza di materie prime o componenti",
        EventiMeteo => "EVENTI_METEO", "Eventi meteo",
        Sciopero => "SCIOPERO", "Sciopero di un reparto o di altra impresa",
        IncendioCalamita => "INCENDIO_CALAMITA", "Incendio, alluvione, sisma, crollo, mancanza di energia elettrica",
        ImpraticabilitaLocali => "IMPRATICABILITA_LOCALI", "Impraticabilità dei locali, anche per ordine di pubblica autorità",
        SospensioneAutorita => "SOSPENSIONE_AUTORITA", "Sospensione o riduzione dell'attività per ordine di pubblica autorità",
        GuastoMacchinari => "GUASTO_MACCHINARI", "Guasto ai macchinari",
        ManutenzioneStraordinaria => "MANUTENZIONE_STRAORDINARIA", "Manutenzione straordinaria",
        Altro => "ALTRO", "Altro (da descrivere)",
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

    /// Needs a `DescrizioneCausale`.
    pub fn richiede_descrizione(self) -> bool {
        self == Causale::Altro
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

/// Matricola INPS azienda: exactly 10 digits.
pub fn is_matricola(s: &str) -> bool {
    s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit())
}

/// CAP: exactly 5 digits.
pub fn is_cap(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
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
    fn unit_key_is_normalised() {
        let u = UnitaProduttiva {
            indirizzo: " via  Roma\t12 ".into(),
            comune: "Milano".into(),
            provincia: "MI".into(),
            cap: "20121".into(),
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
    fn causali_flags() {
        let eone: Vec<_> = Causale::ALL
            .iter()
            .filter(|c| c.oggettivamente_non_evitabile())
            .collect();
        assert_eq!(eone.len(), 5);
        assert!(Causale::Altro.richiede_descrizione());
        assert_eq!(Causale::from_code("EVENTI_METEO"), Some(Causale::EventiMeteo));
    }
}
