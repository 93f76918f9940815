//! The attestati: what a richiesta's receipts say, as data, and their verification code.
//!
//! - The **attestato di trasmissione** proves what was sent and when: it is issued when the
//!   richiesta is approved for sending (in direct mode, when it is accepted for sending), and its
//!   `data_trasmissione` is the legal filing date. It lists the domande sent and carries no
//!   protocol number: none exists yet.
//! - The **attestato di consegna** says what INPS took in charge: every domanda protocollata with
//!   its number and date, every domanda scartata in fase d'invio with the rules that rejected it,
//!   the totals, and the verification code of the trasmissione it follows.
//!
//! # Canonical JSON
//!
//! [`Attestato::canonical_json`] is the one byte form that the verification code hashes. It is
//! the JSON Canonicalization Scheme (RFC 8785) over a value space without floating point numbers:
//! - no white space; object keys sorted by their UTF-16 code units (all keys are ASCII);
//! - strings escaped as RFC 8785 says (`"`, `\` and control characters only; non-ASCII text such
//!   as "Niccolò" is written as UTF-8, never as `\u` escapes);
//! - integers only (counts, sizes, progressivi); hours are decimal strings with exactly two
//!   fraction digits (`"12.50"`), so no reader ever rounds them;
//! - instants in RFC 3339 with seconds, in the Europe/Rome time of that instant and its offset
//!   (`"2026-03-01T00:30:00+01:00"`): a filing at 00:30 in Rome shows the day it was made;
//!   dates as `AAAA-MM-GG`;
//! - an absent optional value is left out, never written as `null`;
//! - the top-level `formato` key names this format's version ([`FORMATO`]).
//!
//! # Verification code
//!
//! [`CodiceVerifica`]: the first 160 bits of the SHA-256 of the canonical JSON, in RFC 4648
//! base32 (A-Z, 2-7: no 0/O or 1/I to confuse) as 8 groups of 4 letters, e.g.
//! `ABCD-EFGH-...`. 160 bits make a code that nobody guesses and that no second content shares,
//! and it is short enough to read over the phone.

use crate::model::Ore;
use crate::stato::EsitoDomanda;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Europe::Rome;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Name and version of the canonical JSON format, written as its `formato` key.
pub const FORMATO: &str = "cigo-attestato/1";

/// The instant `t` as a clock in Italy shows it (CET/CEST, with the offset of that instant).
pub fn ora_di_roma(t: DateTime<Utc>) -> DateTime<chrono_tz::Tz> {
    t.with_timezone(&Rome)
}

/// `t` in RFC 3339 with seconds, Europe/Rome offset: `2026-07-01T10:00:00+02:00`.
pub fn rfc3339_roma(t: DateTime<Utc>) -> String {
    ora_di_roma(t).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// `t` as a person reads it on a receipt: `01/07/2026 10:00:00 (UTC+02:00)`.
pub fn data_ora_leggibile(t: DateTime<Utc>) -> String {
    ora_di_roma(t)
        .format("%d/%m/%Y %H:%M:%S (UTC%:z)")
        .to_string()
}

/// A date as Italians write it: `GG/MM/AAAA`.
pub fn data_leggibile(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Serde form of instants in the canonical JSON: RFC 3339 in Europe/Rome (any offset is read).
mod istante {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339_roma(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Serde form of hours in the canonical JSON: a decimal string with two fraction digits.
mod ore_fisse {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(o: &Option<Ore>, s: S) -> Result<S::Ok, S::Error> {
        match o {
            Some(o) => s.serialize_str(&super::ore_due_decimali(*o, '.')),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ore>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| s.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Hours with exactly two fraction digits and the given decimal separator: `12.50`, `12,50`.
pub fn ore_due_decimali(o: Ore, separatore: char) -> String {
    let c = o.centesimi();
    let segno = if c < 0 { "-" } else { "" };
    format!("{segno}{}{separatore}{:02}", c.abs() / 100, c.abs() % 100)
}

/// What both attestati say of the richiesta itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatiRichiesta {
    pub numero_richiesta: i64,
    /// Codice fiscale of the intermediario that filed it.
    pub intermediario: String,
    /// The name of the uploaded file, as the intermediario sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nome_file: Option<String>,
    /// SHA-256 of the uploaded file, lower-case hex.
    pub sha256: String,
    pub dimensione_byte: u64,
    #[serde(with = "istante")]
    pub data_ricezione: DateTime<Utc>,
    /// The legal filing date: when the richiesta was approved for sending.
    #[serde(with = "istante")]
    pub data_trasmissione: DateTime<Utc>,
}

/// One domanda as the attestato di trasmissione lists it. Optional fields are those an older
/// richiesta may not have on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomandaTrasmessa {
    pub progressivo: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matricola: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominazione: Option<String>,
    /// The unità produttiva as a person reads it (address, comune).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unita_produttiva: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periodo_dal: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periodo_al: Option<NaiveDate>,
    /// Code of the causale (quadro C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causale: Option<String>,
    /// Number of workers concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lavoratori: Option<u32>,
    /// Total CIG hours asked for (quadro C).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ore_fisse")]
    pub ore_cig: Option<Ore>,
}

/// The attestato di trasmissione.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestatoTrasmissione {
    pub richiesta: DatiRichiesta,
    /// The domande sent, in file order.
    pub domande: Vec<DomandaTrasmessa>,
}

/// A domanda INPS took in charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomandaProtocollata {
    pub progressivo: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matricola: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominazione: Option<String>,
    pub protocollo: String,
    #[serde(with = "istante")]
    pub data_protocollo: DateTime<Utc>,
}

/// Why a domanda was rejected: the rule's stable code and its Italian message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Motivo {
    pub codice: String,
    pub messaggio: String,
}

/// A domanda rejected by the re-validation at sending time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomandaScartataInInvio {
    pub progressivo: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matricola: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominazione: Option<String>,
    pub motivi: Vec<Motivo>,
}

/// The counts of a richiesta's domande after sending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totali {
    /// Domande in the file.
    pub domande: u32,
    pub scartate_in_prevalidazione: u32,
    pub protocollate: u32,
    pub scartate_in_invio: u32,
}

impl Totali {
    /// The totals of a richiesta from the esito of each of its domande.
    pub fn da_esiti(esiti: impl IntoIterator<Item = EsitoDomanda>) -> Totali {
        let mut t = Totali::default();
        esiti.into_iter().for_each(|e| t.conta(e));
        t
    }

    /// Counts one more domanda with esito `e`.
    pub fn conta(&mut self, e: EsitoDomanda) {
        self.domande += 1;
        match e {
            EsitoDomanda::Scartata => self.scartate_in_prevalidazione += 1,
            EsitoDomanda::Protocollata => self.protocollate += 1,
            EsitoDomanda::ScartataInInvio => self.scartate_in_invio += 1,
            EsitoDomanda::Valida | EsitoDomanda::ValidaConAvvisi => {}
        }
    }

    /// The domande sent (valid at prevalidation).
    pub fn trasmesse(&self) -> u32 {
        self.domande - self.scartate_in_prevalidazione
    }
}

/// The attestato di consegna.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestatoConsegna {
    pub richiesta: DatiRichiesta,
    #[serde(with = "istante")]
    pub data_consegna: DateTime<Utc>,
    /// The verification code of the attestato di trasmissione this one follows.
    pub codice_trasmissione: CodiceVerifica,
    pub protocollate: Vec<DomandaProtocollata>,
    pub scartate_in_invio: Vec<DomandaScartataInInvio>,
    pub totali: Totali,
}

/// Either attestato; `tipo` in the JSON says which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "tipo", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Attestato {
    Trasmissione(AttestatoTrasmissione),
    Consegna(AttestatoConsegna),
}

impl Attestato {
    pub fn richiesta(&self) -> &DatiRichiesta {
        match self {
            Attestato::Trasmissione(a) => &a.richiesta,
            Attestato::Consegna(a) => &a.richiesta,
        }
    }

    /// `TRASMISSIONE` or `CONSEGNA`.
    pub fn tipo(&self) -> &'static str {
        match self {
            Attestato::Trasmissione(_) => "TRASMISSIONE",
            Attestato::Consegna(_) => "CONSEGNA",
        }
    }

    /// The instant the attestato speaks of: the filing for a trasmissione, the delivery for a
    /// consegna. Used as the document's date (e.g. the PDF's creation date), so the same content
    /// always gives the same bytes.
    pub fn data_emissione(&self) -> DateTime<Utc> {
        match self {
            Attestato::Trasmissione(a) => a.richiesta.data_trasmissione,
            Attestato::Consegna(a) => a.data_consegna,
        }
    }

    /// The canonical JSON (see the module documentation), the bytes [`CodiceVerifica`] hashes.
    pub fn canonical_json(&self) -> String {
        let mut value = serde_json::to_value(self).expect("an attestato always serialises");
        if let Value::Object(map) = &mut value {
            map.insert("formato".into(), Value::String(FORMATO.into()));
        }
        let mut out = String::with_capacity(256);
        write_canonical(&value, &mut out);
        out
    }

    pub fn codice_verifica(&self) -> CodiceVerifica {
        CodiceVerifica::of(self.canonical_json().as_bytes())
    }

    /// Reads an attestato back from its JSON (canonical or not).
    pub fn from_json(json: &str) -> Result<Attestato, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// Writes `v` in the canonical form of the module documentation.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            // Every number of an attestato is an integer; serde_json writes integers exactly.
            debug_assert!(n.is_i64() || n.is_u64(), "floating point number in an attestato: {n}");
            out.push_str(&n.to_string());
        }
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

/// Bytes of SHA-256 kept in a verification code (160 bits).
const CODICE_BYTES: usize = 20;
/// Letters of a verification code (160 bits / 5 bits per base32 letter).
const CODICE_LETTERE: usize = CODICE_BYTES * 8 / 5;

/// The verification code of an attestato (see the module documentation). Holds the 32 letters;
/// shown and serialised in groups of four joined by `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodiceVerifica(String);

impl CodiceVerifica {
    /// The code of a canonical JSON.
    pub fn of(canonical_json: &[u8]) -> CodiceVerifica {
        let digest = Sha256::digest(canonical_json);
        CodiceVerifica(data_encoding::BASE32_NOPAD.encode(&digest[..CODICE_BYTES]))
    }

    /// The 32 letters without separators, e.g. as a database key.
    pub fn as_letters(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CodiceVerifica {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

/// A string that is not a verification code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("codice di verifica non valido: attese {CODICE_LETTERE} lettere A-Z e cifre 2-7, a gruppi separati da '-'")]
pub struct CodiceNonValido;

impl FromStr for CodiceVerifica {
    type Err = CodiceNonValido;
    /// Reads a code as a person types it: any case, groups separated by `-` or spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let letters: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = letters.len() == CODICE_LETTERE
            && data_encoding::BASE32_NOPAD
                .decode(letters.as_bytes())
                .is_ok_and(|b| b.len() == CODICE_BYTES);
        if valid {
            Ok(CodiceVerifica(letters))
        } else {
            Err(CodiceNonValido)
        }
    }
}

impl Serialize for CodiceVerifica {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CodiceVerifica {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The unità produttiva as a person reads it, from its normalised key `CAP|COMUNE|INDIRIZZO`
/// (see `model::UnitaProduttiva::key`): `VIA ROMA 1, 06012 CITTÀ DI CASTELLO`. A string that is
/// not such a key is returned as it is.
pub fn unita_leggibile(key: &str) -> String {
    match key.splitn(3, '|').collect::<Vec<_>>()[..] {
        [cap, comune, indirizzo] => format!("{indirizzo}, {cap} {comune}"),
        _ => key.to_string(),
    }
}

/// `n` with the Italian thousands separator: `10.000`.
pub fn numero_italiano(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// `n` followed by the singular or the plural form: `1 domanda`, `0 domande`, `1.000 domande`
/// (Italian uses the plural for zero).
pub fn quantita(n: u64, singolare: &str, plurale: &str) -> String {
    format!("{} {}", numero_italiano(n), if n == 1 { singolare } else { plurale })
}

/// The whole story of a sent richiesta in one phrase, singular and plural right:
/// `906 domande protocollate, 94 scartate in prevalidazione, 0 in fase d'invio`,
/// `1 domanda protocollata, 1 scartata in prevalidazione, 1 in fase d'invio`.
pub fn riepilogo_esito(t: &Totali) -> String {
    format!(
        "{}, {} in prevalidazione, {} in fase d'invio",
        quantita(t.protocollate.into(), "domanda protocollata", "domande protocollate"),
        quantita(t.scartate_in_prevalidazione.into(), "scartata", "scartate"),
        numero_italiano(t.scartate_in_invio.into()),
    )
}

/// The esito of a prevalidated richiesta in one phrase:
/// `950 domande valide e 50 scartate in prevalidazione, su 1.000`; `1 domanda valida e 0 scartate
/// in prevalidazione, su 1`.
pub fn riepilogo_prevalidazione(valide: u64, scartate: u64) -> String {
    format!(
        "{} e {} in prevalidazione, su {}",
        quantita(valide, "domanda valida", "domande valide"),
        quantita(scartate, "scartata", "scartate"),
        numero_italiano(valide + scartate),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn dati() -> DatiRichiesta {
        DatiRichiesta {
            numero_richiesta: 42,
            intermediario: "RSSMRA80A01H501U".into(),
            nome_file: Some("domande marzo \"bis\".xml".into()),
            sha256: "ab".repeat(32),
            dimensione_byte: 123_456,
            // 23:10 UTC on 28 February is 00:10 on 1 March in Rome (CET, +01:00).
            data_ricezione: utc(2026, 2, 28, 23, 10),
            // 22:30 UTC on 30 June is 00:30 on 1 July in Rome (CEST, +02:00).
            data_trasmissione: utc(2026, 6, 30, 22, 30),
        }
    }

    fn trasmissione() -> Attestato {
        Attestato::Trasmissione(AttestatoTrasmissione {
            richiesta: dati(),
            domande: vec![
                DomandaTrasmessa {
                    progressivo: 1,
                    matricola: Some("1234567890".into()),
                    denominazione: Some("Officine Niccolò S.r.l.".into()),
                    unita_produttiva: Some("Via Roma 1, Città di Castello".into()),
                    periodo_dal: NaiveDate::from_ymd_opt(2026, 3, 2),
                    periodo_al: NaiveDate::from_ymd_opt(2026, 3, 29),
                    causale: Some("MANCANZA_LAVORO".into()),
                    lavoratori: Some(12),
                    ore_cig: Some(Ore(123_450)),
                },
                DomandaTrasmessa {
                    progressivo: 3,
                    matricola: None,
                    denominazione: None,
                    unita_produttiva: None,
                    periodo_dal: None,
                    periodo_al: None,
                    causale: None,
                    lavoratori: None,
                    ore_cig: None,
                },
            ],
        })
    }

    fn consegna() -> Attestato {
        Attestato::Consegna(AttestatoConsegna {
            richiesta: dati(),
            data_consegna: utc(2026, 7, 1, 8, 0),
            codice_trasmissione: trasmissione().codice_verifica(),
            protocollate: vec![DomandaProtocollata {
                progressivo: 1,
                matricola: Some("1234567890".into()),
                denominazione: Some("Officine Niccolò S.r.l.".into()),
                protocollo: "INPS.CIGO.2026.0000001".into(),
                data_protocollo: utc(2026, 7, 1, 8, 0),
            }],
            scartate_in_invio: vec![DomandaScartataInInvio {
                progressivo: 3,
                matricola: None,
                denominazione: None,
                motivi: vec![Motivo { codice: "ARC-001".into(), messaggio: "Periodo già autorizzato".into() }],
            }],
            totali: Totali { domande: 3, scartate_in_prevalidazione: 1, protocollate: 1, scartate_in_invio: 1 },
        })
    }

    #[test]
    fn canonical_json_of_a_trasmissione_is_the_golden_one() {
        let golden = concat!(
            r#"{"domande":[{"causale":"MANCANZA_LAVORO","denominazione":"Officine Niccolò S.r.l.","#,
            r#""lavoratori":12,"matricola":"1234567890","ore_cig":"1234.50","periodo_al":"2026-03-29","#,
            r#""periodo_dal":"2026-03-02","progressivo":1,"unita_produttiva":"Via Roma 1, Città di Castello"},"#,
            r#"{"progressivo":3}],"formato":"cigo-attestato/1","#,
            r#""richiesta":{"data_ricezione":"2026-03-01T00:10:00+01:00","#,
            r#""data_trasmissione":"2026-07-01T00:30:00+02:00","dimensione_byte":123456,"#,
            r#""intermediario":"RSSMRA80A01H501U","nome_file":"domande marzo \"bis\".xml","#,
            r#""numero_richiesta":42,"sha256":""#,
            "abababababababababababababababababababababababababababababababab",
            r#""},"tipo":"TRASMISSIONE"}"#
        );
        assert_eq!(trasmissione().canonical_json(), golden);
        assert_eq!(trasmissione().codice_verifica(), CodiceVerifica::of(golden.as_bytes()));
    }

    #[test]
    fn canonical_json_of_a_consegna_is_the_golden_one() {
        let codice = trasmissione().codice_verifica().to_string();
        let golden = format!(
            concat!(
                r#"{{"codice_trasmissione":"{codice}","data_consegna":"2026-07-01T10:00:00+02:00","#,
                r#""formato":"cigo-attestato/1","protocollate":[{{"data_protocollo":"2026-07-01T10:00:00+02:00","#,
                r#""denominazione":"Officine Niccolò S.r.l.","matricola":"1234567890","#,
                r#""progressivo":1,"protocollo":"INPS.CIGO.2026.0000001"}}],"#,
                r#""richiesta":{{"data_ricezione":"2026-03-01T00:10:00+01:00","#,
                r#""data_trasmissione":"2026-07-01T00:30:00+02:00","dimensione_byte":123456,"#,
                r#""intermediario":"RSSMRA80A01H501U","nome_file":"domande marzo \"bis\".xml","#,
                r#""numero_richiesta":42,"sha256":"{sha}"}},"#,
                r#""scartate_in_invio":[{{"motivi":[{{"codice":"ARC-001","messaggio":"Periodo già autorizzato"}}],"#,
                r#""progressivo":3}}],"tipo":"CONSEGNA","#,
                r#""totali":{{"domande":3,"protocollate":1,"scartate_in_invio":1,"scartate_in_prevalidazione":1}}}}"#
            ),
            codice = codice,
            sha = "ab".repeat(32)
        );
        assert_eq!(consegna().canonical_json(), golden);
    }

    #[test]
    fn the_verification_code_is_pinned() {
        // A change here changes every code already issued: it needs a new FORMATO.
        let code = trasmissione().codice_verifica().to_string();
        assert_eq!(code.len(), 32 + 7);
        assert_eq!(code, GOLDEN_CODE);
    }

    const GOLDEN_CODE: &str = "2HZ4-GZM5-BDJE-K4MZ-DMIV-W6I3-SGHL-QDSK";

    #[test]
    fn the_json_reads_back_to_the_same_attestato_and_code() {
        for a in [trasmissione(), consegna()] {
            let back = Attestato::from_json(&a.canonical_json()).unwrap();
            assert_eq!(back, a);
            assert_eq!(back.codice_verifica(), a.codice_verifica());
            let pretty = serde_json::to_string_pretty(&a).unwrap();
            assert_eq!(Attestato::from_json(&pretty).unwrap().codice_verifica(), a.codice_verifica());
        }
    }

    #[test]
    fn any_change_of_content_changes_the_code() {
        let a = trasmissione();
        let mut b = a.clone();
        if let Attestato::Trasmissione(t) = &mut b {
            t.domande[0].lavoratori = Some(13);
        }
        assert_ne!(a.codice_verifica(), b.codice_verifica());
    }

    #[test]
    fn codes_are_read_as_people_type_them() {
        let c = trasmissione().codice_verifica();
        let typed = c.to_string().to_lowercase().replace('-', " ");
        assert_eq!(typed.parse::<CodiceVerifica>().unwrap(), c);
        assert_eq!(c.as_letters().parse::<CodiceVerifica>().unwrap(), c);
        for bad in ["", "ABCD", "0000-0000-0000-0000-0000-0000-0000-0000", &format!("{c}A")] {
            assert_eq!(bad.parse::<CodiceVerifica>(), Err(CodiceNonValido), "{bad}");
        }
    }

    #[test]
    fn times_are_shown_in_rome_with_the_offset() {
        // 00:30 in Rome in winter is 23:30 UTC of the previous day.
        let t = utc(2026, 1, 14, 23, 30);
        assert_eq!(rfc3339_roma(t), "2026-01-15T00:30:00+01:00");
        assert_eq!(data_ora_leggibile(t), "15/01/2026 00:30:00 (UTC+01:00)");
        // Summer time, and the night the clocks go forward (29 March 2026, 02:00 -> 03:00).
        assert_eq!(rfc3339_roma(utc(2026, 3, 29, 0, 59)), "2026-03-29T01:59:00+01:00");
        assert_eq!(rfc3339_roma(utc(2026, 3, 29, 1, 0)), "2026-03-29T03:00:00+02:00");
        assert_eq!(data_leggibile(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()), "02/03/2026");
    }

    #[test]
    fn hours_have_two_fraction_digits() {
        assert_eq!(ore_due_decimali(Ore(123_450), '.'), "1234.50");
        assert_eq!(ore_due_decimali(Ore(5), ','), "0,05");
        assert_eq!(ore_due_decimali(Ore(0), ','), "0,00");
    }

    #[test]
    fn the_summary_phrase_agrees_in_number() {
        let t = Totali { domande: 1000, scartate_in_prevalidazione: 94, protocollate: 906, scartate_in_invio: 0 };
        assert_eq!(riepilogo_esito(&t), "906 domande protocollate, 94 scartate in prevalidazione, 0 in fase d'invio");
        let t = Totali { domande: 3, scartate_in_prevalidazione: 1, protocollate: 1, scartate_in_invio: 1 };
        assert_eq!(riepilogo_esito(&t), "1 domanda protocollata, 1 scartata in prevalidazione, 1 in fase d'invio");
        let t = Totali { domande: 10_000, scartate_in_prevalidazione: 0, protocollate: 0, scartate_in_invio: 10_000 };
        assert_eq!(riepilogo_esito(&t), "0 domande protocollate, 0 scartate in prevalidazione, 10.000 in fase d'invio");
        assert_eq!(riepilogo_prevalidazione(1, 0), "1 domanda valida e 0 scartate in prevalidazione, su 1");
        assert_eq!(riepilogo_prevalidazione(950, 50), "950 domande valide e 50 scartate in prevalidazione, su 1.000");
        assert_eq!(quantita(1, "domanda", "domande"), "1 domanda");
        assert_eq!(numero_italiano(1_234_567), "1.234.567");
        assert_eq!(numero_italiano(999), "999");
    }

    #[test]
    fn the_unita_key_reads_as_an_address() {
        assert_eq!(unita_leggibile("06012|CITTÀ DI CASTELLO|VIA ROMA 1"), "VIA ROMA 1, 06012 CITTÀ DI CASTELLO");
        assert_eq!(unita_leggibile("Via Roma 1"), "Via Roma 1");
    }

    #[test]
    fn totals_count_every_esito() {
        use EsitoDomanda as E;
        let t = Totali::da_esiti([E::Protocollata, E::Scartata, E::ScartataInInvio, E::Protocollata]);
        assert_eq!(t, Totali { domande: 4, scartate_in_prevalidazione: 1, protocollate: 2, scartate_in_invio: 1 });
        assert_eq!(t.trasmesse(), 3);
    }
}
