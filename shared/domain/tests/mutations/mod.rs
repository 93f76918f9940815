//! Mutations of one domanda of a generated richiesta, shared by the coverage, property and
//! differential (xmllint) tests.
#![allow(dead_code)]

use chrono::NaiveDate;
use cigo_domain::{generate, GenerateOptions};

/// A mutation of one domanda's text: `None` when it does not apply to that domanda.
pub type Mutation = fn(&str) -> Option<String>;

pub struct Case {
    pub code: &'static str,
    /// Codes that may follow from the change besides `code`.
    pub also: &'static [&'static str],
    pub mutate: Mutation,
}

pub fn rep(d: &str, from: &str, to: &str) -> Option<String> {
    d.find(from)
        .map(|i| format!("{}{}{}", &d[..i], to, &d[i + from.len()..]))
}

/// Replaces the text of the first `<tag>` element.
pub fn set(d: &str, tag: &str, value: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let i = d.find(&open)? + open.len();
    let j = i + d[i..].find("</")?;
    Some(format!("{}{}{}", &d[..i], value, &d[j..]))
}

/// Removes the first element `<tag>...</tag>` (with its line).
pub fn drop_el(d: &str, tag: &str) -> Option<String> {
    let i = d.find(&format!("<{tag}>"))?;
    let close = format!("</{tag}>");
    let j = d[i..].find(&close)? + i + close.len();
    let start = d[..i].rfind('\n').unwrap_or(i);
    Some(format!("{}{}", &d[..start], &d[j..]))
}

/// The text of the first `<tag>` element.
pub fn get<'a>(d: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let i = d.find(&open)? + open.len();
    Some(&d[i..i + d[i..].find("</")?])
}

/// The date of the first `<tag>` element.
pub fn date(d: &str, tag: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(get(d, tag)?, "%Y-%m-%d").ok()
}

/// `date` plus `days` (negative: earlier), as text.
pub fn plus(date: NaiveDate, days: i64) -> String {
    (date + chrono::Duration::days(days)).to_string()
}

/// Applies `f` to the first element `<tag>...</tag>` only.
pub fn inside(d: &str, tag: &str, f: impl Fn(&str) -> Option<String>) -> Option<String> {
    let i = d.find(&format!("<{tag}>"))?;
    let close = format!("</{tag}>");
    let j = d[i..].find(&close)? + i + close.len();
    Some(format!("{}{}{}", &d[..i], f(&d[i..j])?, &d[j..]))
}

/// Causali of events that are objectively unavoidable (no seniority, later deadlines, late union
/// communication allowed).
pub const EONE: &[&str] =
    &["EVENTI_METEO", "SCIOPERO", "INCENDIO_CALAMITA", "SOSPENSIONE_AUTORITA", "IMPRATICABILITA_LOCALI"];

/// Whether the domanda's causale is not an objectively unavoidable event.
pub fn evitabile(d: &str) -> bool {
    get(d, "Causale").is_some_and(|c| !EONE.contains(&c))
}

/// Moves every date of the domanda by `days`, keeping all their relations.
pub fn shift_dates(d: &str, days: i64) -> Option<String> {
    let mut out = String::with_capacity(d.len());
    let mut rest = d;
    let mut n = 0;
    while let Some(i) = rest.find('>') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        match rest
            .get(..10)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        {
            Some(x) if rest[10..].starts_with('<') => {
                out.push_str(&plus(x, days));
                rest = &rest[10..];
                n += 1;
            }
            _ => {}
        }
    }
    out.push_str(rest);
    (n > 0).then_some(out)
}

/// The first element `<Lavoratore>` whose text satisfies `pick`, changed by `f`.
pub fn lavoratore(d: &str, pick: impl Fn(&str) -> bool, f: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut from = 0;
    while let Some(k) = d[from..].find("<Lavoratore>") {
        let i = from + k;
        let j = i + d[i..].find("</Lavoratore>")? + "</Lavoratore>".len();
        if pick(&d[i..j]) {
            if let Some(l) = f(&d[i..j]) {
                return Some(format!("{}{}{}", &d[..i], l, &d[j..]));
            }
        }
        from = j;
    }
    None
}

/// COE-034: removes from quadro G every week of the group (tipoOrario, qualifica) of its last
/// week, when weeks of another group remain.
fn drop_gruppo_g(g: &str) -> Option<String> {
    let head = |i: usize| g[i..].find('>').map(|k| &g[i..i + k]);
    let last = head(g.rfind("<Settimana numero=")?)?;
    let gruppo = &last[last.find(" tipoOrario=")?..];
    let mut out = String::with_capacity(g.len());
    let (mut from, mut kept) = (0, 0);
    while let Some(k) = g[from..].find("<Settimana numero=") {
        let i = from + k;
        let j = i + g[i..].find("</Settimana>")? + "</Settimana>".len();
        let start = g[..i].rfind('\n').unwrap_or(i);
        out.push_str(&g[from..start]);
        if !head(i)?.ends_with(gruppo) {
            out.push_str(&g[start..j]);
            kept += 1;
        }
        from = j;
    }
    out.push_str(&g[from..]);
    (kept > 0).then_some(out)
}

pub fn mutations() -> Vec<Case> {
    vec![
        Case { code: "STR-001", also: &[], mutate: |d| drop_el(d, "Denominazione") },
        Case { code: "STR-002", also: &[], mutate: |d| rep(d, "</QuadroB>", "<Extra>x</Extra></QuadroB>") },
        Case { code: "STR-003", also: &[], mutate: |d| set(d, "PeriodoDal", "2026-02-30") },
        Case { code: "STR-004", also: &[], mutate: |d| set(d, "Causale", "FANTASIA") },
        Case { code: "STR-005", also: &[], mutate: |d| rep(d, " settimana=\"1\"", "") },
        Case { code: "STR-006", also: &[], mutate: |d| rep(d, "<QuadroA>", "<QuadroA colore=\"blu\">") },
        Case { code: "STR-007", also: &[], mutate: |d| rep(d, "<QuadroA>", "<QuadroA>testo") },
        Case { code: "CAM-001", also: &[], mutate: |d| set(d, "Matricola", "12345") },
        Case { code: "CAM-002", also: &[], mutate: |d| set(d, "CodiceFiscale", "12345678901") },
        Case {
            code: "CAM-003",
            also: &["COE-007", "COE-035", "COE-036"],
            mutate: |d| {
                let i = d.find("<Lavoratore>")?;
                let j = i + d[i..].find("<CodiceFiscale>")? + "<CodiceFiscale>".len();
                let c = d.as_bytes()[j + 15] as char;
                let other = if c == 'A' { 'B' } else { 'A' };
                Some(format!("{}{}{}", &d[..j + 15], other, &d[j + 16..]))
            },
        },
        Case { code: "CAM-004", also: &[], mutate: |d| set(d, "Provincia", "XX") },
        Case { code: "CAM-005", also: &[], mutate: |d| set(d, "Cap", "2012") },
        Case {
            code: "CAM-006",
            also: &[],
            mutate: |d| {
                let i = d.find("<Iban>IT")? + "<Iban>IT".len();
                let c = d.as_bytes()[i];
                let other = if c == b'9' { '0' } else { (c + 1) as char };
                Some(format!("{}{}{}", &d[..i], other, &d[i + 1..]))
            },
        },
        Case { code: "CAM-007", also: &["COE-005"], mutate: |d| set(d, "Minuti", "75") },
        Case { code: "CAM-008", also: &[], mutate: |d| set(d, "Giorni", "9") },
        Case { code: "CAM-009", also: &["COE-029"], mutate: |d| set(d, "OreOrdinarie", "25") },
        Case { code: "CAM-010", also: &["COE-004", "COE-005"], mutate: |d| set(d, "OreSettimanaliContrattuali", "60") },
        Case { code: "CAM-011", also: &[], mutate: |d| set(d, "DataInizioAttivita", "1850-01-01") },
        Case { code: "CAM-012", also: &[], mutate: |d| set(d, "Email", "non-una-mail") },
        Case { code: "CAM-013", also: &[], mutate: |d| set(d, "Telefono", "12") },
        Case {
            code: "COE-058",
            also: &["COE-052"],
            // Not from EVENTI_METEO (its codici evento would give COE-028) nor from ALTRO (no change).
            mutate: |d| {
                let c = get(d, "Causale")?;
                if c == "ALTRO" || c == "EVENTI_METEO" {
                    return None;
                }
                set(d, "Causale", "ALTRO")
            },
        },
        Case { code: "COE-016", also: &[], mutate: |d| rep(d, "progressivo=\"", "progressivo=\"9") },
        Case { code: "COE-019", also: &[], mutate: |d| drop_el(d, "QuadroN") },
        Case { code: "COE-020", also: &[], mutate: |d| drop_el(d, "QuadroO") },
        Case { code: "COE-027", also: &[], mutate: |d| drop_el(d, "DescrizioneEvento") },
        Case { code: "COE-029", also: &[], mutate: |d| set(d, "TotaleOre", "23") },
        Case { code: "COE-039", also: &["COE-040", "COE-041"], mutate: |d| set(d, "DataConsultazione", "2000-01-03") },
        Case { code: "COE-045", also: &["COE-046"], mutate: |d| set(d, "Al", "2000-01-03") },
        Case { code: "COE-051", also: &[], mutate: |d| set(d, "DichiarazioneResa", "false") },
        Case { code: "COE-022", also: &["COE-023"], mutate: |d| drop_el(d, "DataRipresa") },
        Case { code: "COE-023", also: &["COE-048"], mutate: |d| set(d, "DataRipresaPrevista", "2026-12-28") },
        Case { code: "COE-025", also: &[], mutate: |d| drop_el(d, "Cantiere") },
        Case { code: "COE-035", also: &[], mutate: |d| drop_el(d, "QuadroQ") },
        Case { code: "COE-043", also: &["COE-044"], mutate: |d| set(d, "InteressatiOperai", "999") },
        Case {
            code: "COE-044",
            also: &[],
            mutate: |d| rep(d, "<InteressatoCIG>true</InteressatoCIG>", "<InteressatoCIG>false</InteressatoCIG>"),
        },
        Case {
            code: "COE-047",
            also: &[],
            mutate: |d| {
                rep(
                    d,
                    "<ConTuttiILavoratori>true</ConTuttiILavoratori>",
                    "<ConTuttiILavoratori>false</ConTuttiILavoratori>",
                )
            },
        },
        Case {
            code: "COE-049",
            also: &[],
            mutate: |d| rep(d, "<CIGSPresentata>false</CIGSPresentata>", "<CIGSPresentata>true</CIGSPresentata>"),
        },
        Case { code: "COE-052", also: &[], mutate: |d| drop_el(d, "IndicatoriEconomici") },
        Case { code: "COE-054", also: &[], mutate: |d| set(d, "DataEvento", "2099-12-01") },
        Case {
            code: "CAM-014",
            also: &[],
            mutate: |d| {
                let i = d.find("<Indicatore anno=\"")? + "<Indicatore anno=\"".len();
                Some(format!("{}1989{}", &d[..i], &d[i + 4..]))
            },
        },
        Case {
            code: "COE-024",
            also: &[],
            mutate: |d| {
                let prima = plus(date(d, "PeriodoDal")?, -7);
                let d = inside(d, "QuadroN", |n| set(n, "DataRipresa", &prima))?;
                inside(&d, "QuadroD", |q| set(q, "DataRipresa", &prima))
            },
        },
        Case {
            code: "COE-026",
            also: &[],
            mutate: |d| drop_el(d, "QuadroH").filter(|_| get(d, "Causale") == Some("EVENTI_METEO")),
        },
        Case {
            code: "COE-028",
            also: &[],
            mutate: |d| {
                if get(d, "Causale") == Some("EVENTI_METEO") || d.contains("<CodiceEvento>") {
                    return None;
                }
                inside(d, "QuadroH", |h| rep(h, "</TotaleOre>", "</TotaleOre><CodiceEvento>1</CodiceEvento>"))
            },
        },
        Case {
            code: "COE-030",
            also: &[],
            mutate: |d| {
                let n: u32 = get(d, "NumeroSettimane")?.parse().ok()?;
                if n >= 13 {
                    return None;
                }
                inside(d, "QuadroH", |h| rep(h, "<Settimana numero=\"1\">", "<Settimana numero=\"13\">"))
            },
        },
        Case {
            code: "COE-031",
            also: &[],
            mutate: |d| inside(d, "QuadroH", |h| rep(h, "giorno=\"MAR\"", "giorno=\"LUN\"")),
        },
        Case {
            code: "COE-032",
            also: &[],
            mutate: |d| {
                inside(d, "QuadroG", |g| {
                    let ore: f64 = get(g, "OreCIGRichieste")?.parse().ok()?;
                    set(g, "OreCIGRichieste", &(ore + 1.0).to_string())
                })
            },
        },
        Case { code: "COE-033", also: &[], mutate: |d| inside(d, "QuadroG", |g| set(g, "Sospesi", "999")) },
        Case { code: "COE-034", also: &[], mutate: |d| inside(d, "QuadroG", drop_gruppo_g) },
        Case {
            code: "COE-036",
            also: &[],
            mutate: |d| {
                // A second contract, for a worker without tipo orario INSERIMENTO.
                let cf = d
                    .split("<Lavoratore>")
                    .skip(1)
                    .find(|l| !l.contains("<TipoOrario>INSERIMENTO<"))
                    .and_then(|l| get(l, "CodiceFiscale"))?;
                inside(d, "QuadroQ", |q| {
                    let i = q.find("<ContrattoInserimento>")?;
                    let close = "</ContrattoInserimento>";
                    let j = q.find(close)? + close.len();
                    let copia = set(&q[i..j], "CodiceFiscale", cf)?;
                    Some(format!("{}{copia}{}", &q[..j], &q[j..]))
                })
            },
        },
        Case {
            code: "COE-037",
            also: &[],
            mutate: |d| {
                let al = get(d, "PeriodoAl")?.to_string();
                lavoratore(d, |l| evitabile(d) && l.contains("<DataAssunzione>"), |l| set(l, "DataAssunzione", &al))
            },
        },
        Case {
            code: "COE-038",
            also: &[],
            mutate: |d| {
                let dopo = plus(date(d, "PeriodoAl")?, 1);
                lavoratore(d, |l| l.contains("<DataAssunzione>"), |l| set(l, "DataAssunzione", &dopo))
            },
        },
        Case {
            code: "COE-040",
            also: &[],
            mutate: |d| {
                let tardi = plus(date(d, "DataComunicazione")?, 30);
                set(d, "DataConsultazione", &tardi)
            },
        },
        Case {
            code: "COE-041",
            also: &[],
            mutate: |d| {
                if !evitabile(d) {
                    return None;
                }
                let dopo = plus(date(d, "PeriodoDal")?, 1);
                let d = set(d, "DataComunicazione", &dopo)?;
                set(&d, "DataConsultazione", &dopo)
            },
        },
        Case { code: "COE-042", also: &[], mutate: |d| drop_el(d, "DataConsultazione") },
        Case {
            code: "COE-046",
            also: &[],
            mutate: |d| {
                let (dal, al) = (get(d, "PeriodoDal")?.to_string(), get(d, "PeriodoAl")?.to_string());
                inside(d, "PeriodoFerie", |f| set(&set(f, "Dal", &dal)?, "Al", &al))
            },
        },
        Case {
            code: "COE-048",
            also: &[],
            mutate: |d| {
                let al = get(d, "PeriodoAl")?.to_string();
                let d = set(d, "DataRipresaPrevista", &al)?;
                inside(&d, "QuadroD", |q| set(q, "DataRipresa", &al))
            },
        },
        Case { code: "COE-050", also: &[], mutate: |d| set(d, "TipoProcedura", "FALLIMENTO") },
        Case {
            code: "COE-053",
            also: &[],
            mutate: |d| {
                let i = d.find("<Indicatore ")?;
                let close = "</Indicatore>";
                let j = i + d[i..].find(close)? + close.len();
                Some(format!("{}{}{}", &d[..j], &d[i..j], &d[j..]))
            },
        },
        // Filed (see `presentazione`) on the first day of the earliest period of the file: moved
        // two years earlier, the domanda is late, and nothing of its period can be paid.
        Case { code: "COE-057", also: &[], mutate: |d| shift_dates(d, -728) },
        // "Non prevedibile": no transitoriness (COE-059), then no quadro P and a date that has
        // no place.
        Case {
            code: "COE-059",
            also: &["COE-021", "COE-022"],
            mutate: |d| rep(d, "<Ripresa>PREVISTA</Ripresa>", "<Ripresa>NON_PREVEDIBILE</Ripresa>"),
        },
        Case {
            code: "COE-021",
            also: &["COE-059", "COE-022"],
            mutate: |d| rep(d, "<Ripresa>PREVISTA</Ripresa>", "<Ripresa>NON_PREVEDIBILE</Ripresa>"),
        },
        Case {
            code: "COE-056",
            also: &[],
            mutate: |d| {
                let i = d.find("<Iban>")? + "<Iban>".len();
                let first = &d[i..i + d[i..].find('<')?];
                let j = i + d[i..].find("<Iban>")? + "<Iban>".len();
                let k = j + d[j..].find('<')?;
                Some(format!("{}{}{}", &d[..j], first, &d[k..]))
            },
        },
    ]
}

/// A generated richiesta of valid domande.
pub fn base(domande: usize, seed: u64) -> String {
    let mut out = Vec::new();
    generate(&GenerateOptions { domande, invalid_ratio: 0.0, seed }, &mut out).expect("generate");
    String::from_utf8(out).expect("utf8")
}

/// The filing date the tests prevalidate with: the first day of the earliest period of the file
/// (so that no domanda of a generated file is late).
pub fn presentazione(xml: &str) -> Option<NaiveDate> {
    xml.match_indices("<PeriodoDal>")
        .filter_map(|(i, _)| date(&xml[i..], "PeriodoDal"))
        .min()
}

/// Byte ranges of the domande.
pub fn domande(xml: &str) -> Vec<(usize, usize)> {
    xml.match_indices("<Domanda ")
        .map(|(s, _)| (s, s + xml[s..].find("</Domanda>").expect("end")))
        .collect()
}

/// Applies the mutation to the first domanda it fits; returns the file and the domanda's position.
pub fn apply(xml: &str, m: Mutation) -> Option<(String, u32)> {
    for (k, (s, e)) in domande(xml).into_iter().enumerate() {
        if let Some(d) = m(&xml[s..e]) {
            return Some((format!("{}{}{}", &xml[..s], d, &xml[e..]), k as u32 + 1));
        }
    }
    None
}

/// Structural edits of the quadri (what the XSD checks): for the differential test with xmllint.
pub fn structural_mutations() -> Vec<(&'static str, Mutation)> {
    vec![
        ("G: Giorni missing", |d| drop_el(d, "Giorni")),
        ("G: Minuti not a number", |d| set(d, "Minuti", "dieci")),
        ("G: Ore with three decimals", |d| set(d, "Ore", "7.125")),
        ("G: Settimana without numero", |d| rep(d, "<Settimana numero=\"1\" ", "<Settimana ")),
        ("G: tipoOrario not in the list", |d| rep(d, "tipoOrario=\"TEMPO_PIENO\"", "tipoOrario=\"TURNI\"")),
        ("H: giorno not in the list", |d| rep(d, "giorno=\"LUN\"", "giorno=\"LUNEDI\"")),
        ("H: extra element in Giorno", |d| rep(d, "<OreAltro>", "<Extra>1</Extra><OreAltro>")),
        ("H: TotaleOre negative", |d| set(d, "TotaleOre", "-1")),
        ("H: CodiceEvento out of range", |d| set(d, "CodiceEvento", "99")),
        ("D: Ripresa not in the list", |d| set(d, "Ripresa", "FORSE")),
        ("D: DataRipresa not a date", |d| set(d, "DataRipresa", "07/09/2026")),
        ("B: LuogoLavori not in the list", |d| set(d, "LuogoLavori", "DENTRO")),
        ("B: Mansione without Numero", |d| drop_el(d, "Numero")),
        ("F: Qualita not in the list", |d| set(d, "Qualita", "AMICO")),
        ("I: Reparto without Nome", |d| drop_el(d, "Nome").filter(|x| x.contains("<Reparto>"))),
        ("I: AddettiOperai not an integer", |d| set(d, "AddettiOperai", "2.5")),
        ("L: PeriodoFerie without Al", |d| drop_el(d, "Al")),
        ("L: FissatoIn not in the list", |d| set(d, "FissatoIn", "BOH")),
        ("M: ModalitaComunicazione not in the list", |d| set(d, "ModalitaComunicazione", "PICCIONE")),
        ("N: ConTuttiILavoratori not a boolean", |d| set(d, "ConTuttiILavoratori", "si")),
        ("O: UnitaRipresa not in the list", |d| set(d, "UnitaRipresa", "ALTROVE")),
        ("O: NumeroLavoratori empty", |d| set(d, "NumeroLavoratori", "")),
        ("P: MotiviProroga empty", |d| set(d, "MotiviProroga", " ")),
        ("Q: DurataMesi not an integer", |d| set(d, "DurataMesi", "diciotto")),
        ("R: CIGSPresentata missing", |d| drop_el(d, "CIGSPresentata")),
        ("S: TipoProcedura not in the list", |d| set(d, "TipoProcedura", "ALTRO_ANCORA")),
        ("T: DichiarazioneResa not a boolean", |d| set(d, "DichiarazioneResa", "1x")),
        ("T: element out of order", |d| {
            rep(d, "<DichiarazioneResa>", "<DataDichiarazione>2026-01-01</DataDichiarazione><DichiarazioneResa>")
        }),
        ("Relazione: DataEvento not a date", |d| set(d, "DataEvento", "2026-13-01")),
        ("Relazione: Indicatore without anno", |d| rep(d, "<Indicatore anno=", "<Indicatore data=")),
        ("Lavoratore: Iban too long", |d| rep(d, "<Iban>IT", "<Iban>ITXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")),
        ("Lavoratore: OreCIG settimana 0", |d| rep(d, "settimana=\"1\"", "settimana=\"0\"")),
        ("Quadri out of order", |d| {
            let i = d.find("<QuadroT>")?;
            let j = d.find("</QuadroT>")? + "</QuadroT>".len();
            let t = &d[i..j];
            let without = format!("{}{}", &d[..i], &d[j..]);
            rep(&without, "<QuadroE>", &format!("{t}<QuadroE>"))
        }),
    ]
}
