//! Deterministic synthetic richieste for demos, tests and benchmarks: realistic codici fiscali,
//! matricole, addresses, periods of whole weeks in 2026, hours and quadro E consistent with the
//! workers. A share of domande break exactly one rule, and the caller learns which.

use crate::codice_fiscale as cf;
use crate::model::*;
use crate::parse::Tag;
use crate::rules;
use crate::write::{self, Alter};
use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Number of domande in the richiesta.
    pub domande: usize,
    /// Probability (0..=1) that a domanda breaks exactly one rule.
    pub invalid_ratio: f64,
    /// Same seed, same bytes.
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions { domande: 10, invalid_ratio: 0.0, seed: 1 }
    }
}

/// One generated domanda: its position and, if it was made invalid, the rule code it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedDomanda {
    pub progressivo: u32,
    pub expected_code: Option<&'static str>,
}

/// Writes a richiesta of `opts.domande` domande to `out`, one domanda at a time (tracciato v1).
pub fn generate<W: Write>(opts: &GenerateOptions, out: W) -> io::Result<Vec<GeneratedDomanda>> {
    generate_versione(opts, Versione::V1, out)
}

/// [`generate`] in a given version of the tracciato. The domande are the same (same seed, same
/// data); v2 adds what v1 cannot say ([`in_v2`]).
pub fn generate_versione<W: Write>(
    opts: &GenerateOptions,
    versione: Versione,
    out: W,
) -> io::Result<Vec<GeneratedDomanda>> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let ratio = if opts.invalid_ratio.is_finite() { opts.invalid_ratio.clamp(0.0, 1.0) } else { 0.0 };
    let prefix: u32 = rng.gen_range(10..=99);
    let mut result = Vec::with_capacity(opts.domande);
    write::write_header_versione(&mut out, versione)?;
    for i in 0..opts.domande {
        let progressivo = (i + 1) as u32;
        let guasto =
            if rng.gen_bool(ratio) { Some(*GUASTI.choose(&mut rng).unwrap_or(&Guasto::Dirigente)) } else { None };
        let (mut d, alter) = domanda(&mut rng, progressivo, prefix, i as u64, guasto);
        if versione == Versione::V2 {
            in_v2(&mut d, i as u64);
        }
        write::write_domanda_with(&mut out, &d, &alter)?;
        result.push(GeneratedDomanda { progressivo, expected_code: guasto.map(|g| g.code()) });
    }
    write::write_footer(&mut out)?;
    out.flush()?;
    Ok(result)
}

/// Adds to a generated domanda the elements of tracciato v2, from what it already says (no
/// random draw, so that v1 and v2 files of one seed hold the same domande): the sector (what
/// the activity of quadro A lets v1 presume, so that both files mean the same), a unit code unique to the domanda, and the
/// workers occupati in the semester: the workers in force of quadro E, grouped by the listed
/// workers' contractual hours (those not listed go with the most common schedule).
pub fn in_v2(d: &mut Domanda, index: u64) {
    d.azienda.settore = Some(Settore::presunto(d.azienda.attivita.as_deref()));
    d.unita_produttiva.codice = Some(format!("{:06}", index % 1_000_000 + 1));
    let mut fasce: Vec<FasciaOccupati> = Vec::new();
    for l in &d.lavoratori.lavoratori {
        match fasce
            .iter_mut()
            .find(|f| f.ore_settimanali == l.ore_settimanali_contrattuali)
        {
            Some(f) => f.media_lavoratori.0 += 100,
            None => fasce
                .push(FasciaOccupati { ore_settimanali: l.ore_settimanali_contrattuali, media_lavoratori: Ore(100) }),
        }
    }
    let listati = d.lavoratori.lavoratori.len() as i64;
    let in_forza: i64 = d.quadro_e.righe.iter().map(|r| i64::from(r.in_forza)).sum();
    if let Some(f) = fasce.iter_mut().max_by_key(|f| f.media_lavoratori) {
        f.media_lavoratori.0 += (in_forza - listati).max(0) * 100;
    }
    if !fasce.is_empty() {
        d.quadro_e.occupati_semestre = Some(OccupatiSemestre { fasce });
    }
}

/// A valid domanda (for examples and tests).
pub fn domanda_valida(seed: u64, progressivo: u32) -> Domanda {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    domanda(&mut rng, progressivo, 50, progressivo as u64, None).0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guasto {
    CodiceFiscale,
    Ore40,
    OreContrattuali,
    PeriodoInvertito,
    Oltre13Settimane,
    CausaleIgnota,
    Matricola,
    QuadroE,
    Dirigente,
    ElementoMancante,
    Iban,
    Anzianita,
    MeteoSenzaCantiere,
}

const GUASTI: &[Guasto] = &[
    Guasto::CodiceFiscale,
    Guasto::Ore40,
    Guasto::OreContrattuali,
    Guasto::PeriodoInvertito,
    Guasto::Oltre13Settimane,
    Guasto::CausaleIgnota,
    Guasto::Matricola,
    Guasto::QuadroE,
    Guasto::Dirigente,
    Guasto::ElementoMancante,
    Guasto::Iban,
    Guasto::Anzianita,
    Guasto::MeteoSenzaCantiere,
];

impl Guasto {
    fn code(self) -> &'static str {
        match self {
            Guasto::CodiceFiscale => rules::CAM_CF_PERSONA.code,
            // Beyond the 40-hour contract: above the contractual hours.
            Guasto::Ore40 => rules::COE_ORE_CONTRATTUALI.code,
            Guasto::OreContrattuali => rules::COE_ORE_CONTRATTUALI.code,
            Guasto::PeriodoInvertito => rules::COE_PERIODO_INVERTITO.code,
            Guasto::Oltre13Settimane => rules::COE_MAX_13_SETTIMANE.code,
            Guasto::CausaleIgnota => rules::STR_ENUM.code,
            Guasto::Matricola => rules::CAM_MATRICOLA.code,
            Guasto::QuadroE => rules::COE_QUADRO_E_LAVORATORI.code,
            Guasto::Dirigente => rules::COE_DIRIGENTE.code,
            Guasto::ElementoMancante => rules::STR_MANCANTE.code,
            Guasto::Iban => rules::CAM_IBAN.code,
            Guasto::Anzianita => rules::COE_ANZIANITA.code,
            Guasto::MeteoSenzaCantiere => rules::COE_METEO_CANTIERE.code,
        }
    }
}

const COGNOMI: &[&str] = &[
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "Barbieri",
    "Fontana",
    "Santoro",
    "Mariani",
    "Rinaldi",
    "Caruso",
    "Ferrara",
    "Galli",
    "Martini",
    "Leone",
    "D'Angelo",
    "Longo",
    "Gentile",
    "Martinelli",
    "Vitale",
    "Serra",
    "Coppola",
    "De Santis",
    "Fabbri",
    "Bellini",
];
const NOMI_M: &[&str] = &[
    "Marco",
    "Giuseppe",
    "Luca",
    "Andrea",
    "Francesco",
    "Alessandro",
    "Matteo",
    "Lorenzo",
    "Davide",
    "Stefano",
    "Paolo",
    "Antonio",
    "Roberto",
    "Simone",
    "Giovanni",
    "Salvatore",
    "Fabio",
    "Massimo",
];
const NOMI_F: &[&str] = &[
    "Giulia",
    "Francesca",
    "Chiara",
    "Sara",
    "Anna",
    "Elena",
    "Valentina",
    "Martina",
    "Laura",
    "Alessia",
    "Federica",
    "Silvia",
    "Maria",
    "Paola",
    "Roberta",
    "Ilaria",
];
/// (comune, provincia, CAP, codice catastale)
const COMUNI: &[(&str, &str, &str, &str)] = &[
    ("Roma", "RM", "00144", "H501"),
    ("Milano", "MI", "20121", "F205"),
    ("Torino", "TO", "10121", "L219"),
    ("Napoli", "NA", "80121", "F839"),
    ("Bologna", "BO", "40121", "A944"),
    ("Firenze", "FI", "50122", "D612"),
    ("Palermo", "PA", "90133", "G273"),
    ("Genova", "GE", "16121", "D969"),
    ("Venezia", "VE", "30121", "L736"),
    ("Bari", "BA", "70121", "A662"),
    ("Verona", "VR", "37121", "L781"),
    ("Brescia", "BS", "25121", "B157"),
    ("Padova", "PD", "35121", "G224"),
    ("Bergamo", "BG", "24121", "A794"),
    ("Modena", "MO", "41121", "F257"),
    ("Parma", "PR", "43121", "G337"),
    ("Vicenza", "VI", "36100", "L840"),
    ("Treviso", "TV", "31100", "L407"),
    ("Ancona", "AN", "60121", "A271"),
    ("Perugia", "PG", "06121", "G478"),
    ("Pescara", "PE", "65121", "G482"),
    ("Cagliari", "CA", "09121", "B354"),
    ("Trieste", "TS", "34121", "L424"),
    ("Reggio nell'Emilia", "RE", "42121", "H223"),
    ("Prato", "PO", "59100", "G999"),
    ("Monza", "MB", "20900", "F704"),
    ("Lecco", "LC", "23900", "E507"),
    ("Catania", "CT", "95121", "C351"),
];
const VIE: &[&str] = &[
    "Via Roma",
    "Via Garibaldi",
    "Via Mazzini",
    "Corso Italia",
    "Via Verdi",
    "Viale della Repubblica",
    "Via dell'Industria",
    "Via dell'Artigianato",
    "Via Luigi Einaudi",
    "Via Nazionale",
    "Via Cavour",
    "Via Enrico Fermi",
    "Via dei Mille",
    "Via Aldo Moro",
];
const RAGIONI: &[&str] = &[
    "Meccanica S.r.l.",
    "Costruzioni S.p.A.",
    "Metalli S.r.l.",
    "Tessile S.n.c.",
    "& Figli S.r.l.",
    "Arredamenti S.r.l.",
    "Carpenteria S.r.l.",
    "Plastiche S.p.A.",
    "Alimentari S.r.l.",
    "Stampaggi S.r.l.",
];
const ATTIVITA: &[&str] = &[
    "Fabbricazione di prodotti in metallo",
    "Costruzione di edifici residenziali e non residenziali",
    "Confezione di articoli di abbigliamento",
    "Fabbricazione di mobili",
    "Industria alimentare",
    "Fabbricazione di articoli in materie plastiche",
    "Lavori di meccanica generale",
];
const CAUSALI_ERRATE: &[&str] = &["CRISI_AZIENDALE", "MALTEMPO", "COVID19", "mancanza_lavoro"];

fn lunedi_2026(settimana: u64) -> NaiveDate {
    // 2026-01-05 is the first Monday of 2026.
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default() + Days::new(7 * settimana)
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, v: &[T]) -> T {
    v[rng.gen_range(0..v.len())]
}

fn lavoratore(rng: &mut ChaCha8Rng, settimane: u32) -> Lavoratore {
    let femmina = rng.gen_bool(0.4);
    let cognome = pick(rng, COGNOMI).to_string();
    let nome = if femmina { pick(rng, NOMI_F) } else { pick(rng, NOMI_M) }.to_string();
    let nascita = NaiveDate::from_ymd_opt(rng.gen_range(1961..=2006), rng.gen_range(1..=12), rng.gen_range(1..=28))
        .unwrap_or_default();
    let comune = pick(rng, COMUNI).3;
    let omocodia = if rng.gen_bool(0.02) { rng.gen_range(1..=3) } else { 0 };
    let codice_fiscale = cf::codice_fiscale_persona(&cognome, &nome, nascita, femmina, comune, omocodia);
    let tipo_orario = match rng.gen_range(0..100) {
        0..=69 => TipoOrario::TempoPieno,
        70..=89 => TipoOrario::PartTime,
        90..=94 => TipoOrario::Inserimento,
        _ => TipoOrario::Solidarieta,
    };
    let qualifica = match rng.gen_range(0..100) {
        0..=54 => Qualifica::Operaio,
        55..=79 => Qualifica::Impiegato,
        80..=84 => Qualifica::Quadro,
        _ => Qualifica::Apprendista,
    };
    let contr = match tipo_orario {
        TipoOrario::PartTime => pick(rng, &[18i64, 20, 24, 30]),
        TipoOrario::Solidarieta => pick(rng, &[32i64, 36]),
        _ => pick(rng, &[40i64, 40, 40, 38, 36]),
    };
    let contr = Ore::from_hours(contr);
    let sospeso = rng.gen_bool(0.4);
    let mut ore_cig = Vec::with_capacity(settimane as usize);
    for s in 1..=settimane.min(13) {
        if !sospeso && rng.gen_bool(0.15) {
            continue; // a week without CIG
        }
        let ore = if sospeso { contr } else { Ore(rng.gen_range(1..=contr.0 / 50) * 50) };
        ore_cig.push(OreSettimana { settimana: s, ore });
    }
    if ore_cig.is_empty() {
        ore_cig.push(OreSettimana { settimana: 1, ore: contr });
    }
    let data_assunzione = rng
        .gen_bool(0.5)
        .then(|| NaiveDate::from_ymd_opt(rng.gen_range(1985..=2024), rng.gen_range(1..=12), rng.gen_range(1..=28)))
        .flatten();
    let iban = rng.gen_bool(0.3).then(|| iban(rng));
    Lavoratore {
        codice_fiscale,
        cognome,
        nome,
        qualifica,
        tipo_orario,
        ore_settimanali_contrattuali: contr,
        data_assunzione,
        iban,
        ore_cig,
    }
}

fn iban(rng: &mut ChaCha8Rng) -> String {
    let cin = (b'A' + rng.gen_range(0..26u8)) as char;
    let bban = format!(
        "{cin}{:05}{:05}{:012}",
        rng.gen_range(1000..99999),
        rng.gen_range(1000..99999),
        rng.gen_range(1..999_999_999_999u64)
    );
    iban_con_controllo("IT", &bban)
}

/// One domanda with its fault. Long on purpose (about 240 lines): the draws of the seeded rng
/// come in one fixed order, which fixes the bytes every seed generates (golden esiti, benchmarks);
/// split into functions it would still have to be read in that order.
fn domanda(
    rng: &mut ChaCha8Rng,
    progressivo: u32,
    prefix: u32,
    index: u64,
    guasto: Option<Guasto>,
) -> (Domanda, Alter) {
    let (comune, provincia, cap, _) = pick(rng, COMUNI);
    let titolare = pick(rng, COGNOMI);
    let ditta_individuale = rng.gen_bool(0.1);
    let codice_fiscale = if ditta_individuale {
        let nascita = NaiveDate::from_ymd_opt(rng.gen_range(1950..=1990), rng.gen_range(1..=12), rng.gen_range(1..=28))
            .unwrap_or_default();
        cf::codice_fiscale_persona(titolare, pick(rng, NOMI_M), nascita, false, pick(rng, COMUNI).3, 0)
    } else {
        cf::codice_fiscale_azienda(rng.gen_range(100_000_000..9_999_999_999))
    };
    let denominazione = if ditta_individuale {
        format!("{titolare} {}", pick(rng, NOMI_M))
    } else {
        format!("{titolare} {}", pick(rng, RAGIONI))
    };
    let indirizzo_sede = format!("{} {}", pick(rng, VIE), rng.gen_range(1..200));
    // The unit's address carries the domanda's index so that units never coincide by chance.
    let (ucomune, uprov, ucap, _) = pick(rng, COMUNI);
    let unita = UnitaProduttiva {
        indirizzo: format!("{} {}, lotto {}", pick(rng, VIE), rng.gen_range(1..300), index + 1),
        comune: ucomune.to_string(),
        provincia: uprov.to_string(),
        cap: ucap.to_string(),
        cantiere: None,
        codice: None,
    };
    let mut settimane: u32 = rng.gen_range(1..=13);
    let dal = lunedi_2026(rng.gen_range(0..39));
    let mut causale = pick(rng, Causale::ALL);
    if causale == Causale::Altro {
        // Not a causale of the DM (COE-058): a valid domanda names a real one.
        causale = Causale::MancanzaLavoro;
    }
    if matches!(guasto, Some(Guasto::Anzianita)) && causale.oggettivamente_non_evitabile() {
        causale = Causale::MancanzaLavoro;
    }
    if matches!(guasto, Some(Guasto::MeteoSenzaCantiere)) {
        causale = Causale::EventiMeteo;
    }
    let descrizione_causale = None;
    let n_lav = rng.gen_range(3..=25);
    let mut visti = HashSet::new();
    let mut lavoratori = Vec::with_capacity(n_lav);
    while lavoratori.len() < n_lav {
        let l = lavoratore(rng, settimane);
        if visti.insert(l.codice_fiscale.clone()) {
            lavoratori.push(l);
        }
    }
    let mut azienda = Azienda {
        matricola: format!("{prefix:02}{:08}", index % 100_000_000),
        codice_fiscale,
        denominazione,
        indirizzo: indirizzo_sede,
        comune: comune.to_string(),
        provincia: provincia.to_string(),
        cap: cap.to_string(),
        telefono: rng
            .gen_bool(0.5)
            .then(|| format!("0{} {}", rng.gen_range(2..99), rng.gen_range(100_000..9_999_999))),
        cellulare: rng
            .gen_bool(0.2)
            .then(|| format!("+39 3{:02} {:07}", rng.gen_range(20..99), rng.gen_range(0..9_999_999))),
        email: rng
            .gen_bool(0.4)
            .then(|| format!("amministrazione{}@azienda{}.it", index + 1, rng.gen_range(1..999))),
        fax: None,
        attivita: rng.gen_bool(0.7).then(|| pick(rng, ATTIVITA).to_string()),
        data_inizio_attivita: rng
            .gen_bool(0.6)
            .then(|| NaiveDate::from_ymd_opt(rng.gen_range(1965..=2020), rng.gen_range(1..=12), 1).unwrap_or_default()),
        lavoratori_in_forza: 0,
        settore: None,
    };
    let mut al = dal + Days::new(7 * settimane as u64 - 1);
    let mut alter = Alter::default();

    // Deliberate faults applied before the derived totals are computed.
    let vittima = rng.gen_range(0..lavoratori.len());
    match guasto {
        Some(Guasto::CodiceFiscale) => {
            let l = &mut lavoratori[vittima];
            let mut b = l.codice_fiscale.clone().into_bytes();
            b[15] = if b[15] == b'Z' { b'A' } else { b[15] + 1 };
            l.codice_fiscale = String::from_utf8(b).unwrap_or_default();
        }
        Some(Guasto::Ore40) => {
            let l = &mut lavoratori[vittima];
            l.tipo_orario = TipoOrario::TempoPieno;
            l.ore_settimanali_contrattuali = Ore::from_hours(40);
            l.ore_cig[0].ore = Ore::from_hours(rng.gen_range(41..=48));
        }
        Some(Guasto::OreContrattuali) => {
            let l = &mut lavoratori[vittima];
            if l.ore_settimanali_contrattuali > Ore::from_hours(36) {
                l.ore_settimanali_contrattuali = Ore::from_hours(36);
            }
            l.ore_cig[0].ore = Ore(l.ore_settimanali_contrattuali.0 + rng.gen_range(1..=4) * 50);
        }
        Some(Guasto::PeriodoInvertito) => {
            al = dal - Days::new(rng.gen_range(1..=20));
        }
        Some(Guasto::Oltre13Settimane) => {
            settimane = rng.gen_range(14..=20);
            al = dal + Days::new(7 * settimane as u64 - 1);
        }
        Some(Guasto::Matricola) => {
            azienda.matricola = if rng.gen_bool(0.5) {
                azienda.matricola[..9].to_string()
            } else {
                format!("{}A", &azienda.matricola[..9])
            };
        }
        Some(Guasto::Dirigente) => lavoratori[vittima].qualifica = Qualifica::Dirigente,
        Some(Guasto::CausaleIgnota) => alter.causale = Some(pick(rng, CAUSALI_ERRATE)),
        Some(Guasto::ElementoMancante) => {
            alter.omit = Some(pick(
                rng,
                &[
                    Tag::TipoDomanda,
                    Tag::Denominazione,
                    Tag::LavoratoriInForza,
                    Tag::PeriodoAl,
                    Tag::NumeroSettimane,
                    Tag::ConsultazioneSindacale,
                    Tag::OreSettimanaliContrattuali,
                ],
            ))
        }
        Some(Guasto::Iban) => {
            let l = &mut lavoratori[vittima];
            let mut b = iban(rng).into_bytes();
            b[26] = if b[26] == b'9' { b'0' } else { b[26] + 1 };
            l.iban = Some(String::from_utf8(b).unwrap_or_default());
        }
        Some(Guasto::Anzianita) => {
            lavoratori[vittima].data_assunzione = Some(dal - Days::new(rng.gen_range(0..30)));
        }
        Some(Guasto::QuadroE) | Some(Guasto::MeteoSenzaCantiere) | None => {}
    }

    // Quadro E from the workers (dirigenti are counted nowhere).
    let mut righe = Vec::new();
    for &t in TipoOrario::ALL {
        for &q in QualificaE::ALL {
            let gruppo: Vec<&Lavoratore> = lavoratori
                .iter()
                .filter(|l| l.tipo_orario == t && l.qualifica.riga_e() == Some(q))
                .collect();
            if gruppo.is_empty() {
                continue;
            }
            let totale = gruppo.len() as u32;
            let sospesi = gruppo
                .iter()
                .filter(|l| {
                    l.ore_cig.len() as u32 == settimane.min(13)
                        && l.ore_cig
                            .iter()
                            .all(|o| o.ore == l.ore_settimanali_contrattuali)
                })
                .count() as u32;
            righe.push(RigaE {
                tipo_orario: t,
                qualifica: q,
                in_forza: totale + rng.gen_range(0..=8),
                sospesi,
                orario_ridotto: totale - sospesi,
                totale_in_cig: totale,
            });
        }
    }
    if righe.is_empty() {
        // Only if every worker were a dirigente (never: at least 3 workers, at most one altered).
        righe.push(RigaE {
            tipo_orario: TipoOrario::TempoPieno,
            qualifica: QualificaE::Operai,
            in_forza: 1,
            sospesi: 0,
            orario_ridotto: 0,
            totale_in_cig: 0,
        });
    }
    if guasto == Some(Guasto::QuadroE) {
        let k = rng.gen_range(0..righe.len());
        let r = &mut righe[k];
        let delta = rng.gen_range(1..=3);
        r.totale_in_cig += delta;
        r.sospesi += delta;
        r.in_forza += delta;
    }
    let forza_e: u32 = righe.iter().map(|r| r.in_forza).sum();
    azienda.lavoratori_in_forza = forza_e + rng.gen_range(0..=60);
    let totale: i64 = lavoratori
        .iter()
        .flat_map(|l| l.ore_cig.iter())
        .map(|o| o.ore.0)
        .sum();

    let consultazione_sindacale = rng.gen_bool(0.7);
    let mut d = Domanda {
        progressivo,
        tipo: if rng.gen_bool(0.8) { TipoDomanda::Richiesta } else { TipoDomanda::Proroga },
        azienda,
        unita_produttiva: unita,
        periodo: Periodo {
            dal,
            al,
            numero_settimane: settimane,
            totale_ore_cig: Ore(totale),
            causale,
            descrizione_causale,
            consultazione_sindacale,
        },
        quadro_d: None,
        quadro_e: QuadroE { righe, occupati_semestre: None },
        quadro_f: None,
        quadro_g: None,
        quadro_h: None,
        quadro_i: None,
        quadro_l: None,
        quadro_m: None,
        quadro_n: None,
        quadro_o: None,
        quadro_p: None,
        quadro_q: None,
        quadro_r: None,
        quadro_s: None,
        quadro_t: None,
        relazione: None,
        lavoratori: Lavoratori { lavoratori },
    };
    quadri(rng, &mut d, settimane.min(13), guasto == Some(Guasto::MeteoSenzaCantiere));
    (d, alter)
}

/// The optional quadri (D, F..T, the site of quadro B), coherent with the rest of the domanda
/// (computed after the faults). Long on purpose (about 270 lines), for the reason given at
/// [`domanda`]: one fixed order of the rng's draws.
fn quadri(rng: &mut ChaCha8Rng, d: &mut Domanda, settimane: u32, senza_cantiere: bool) {
    let p = d.periodo.clone();
    let fine = p.al.max(p.dal);
    if p.causale == Causale::EventiMeteo && !senza_cantiere {
        d.unita_produttiva.cantiere = Some(Cantiere {
            genere_attivita: pick(rng, &["Costruzione di edifici", "Lavori stradali", "Scavi e movimento terra"])
                .into(),
            fase_lavorativa: pick(
                rng,
                &["Getto delle fondazioni", "Posa della pavimentazione", "Montaggio dei ponteggi"],
            )
            .into(),
            mansioni: vec![Mansione { numero: rng.gen_range(1..=12), descrizione: "Muratori e carpentieri".into() }],
            luogo_lavori: LuogoLavori::AlloScoperto,
        });
    }
    if p.causale == Causale::EventiMeteo || rng.gen_bool(0.15) {
        let meteo = p.causale == Causale::EventiMeteo;
        let mut altro = false;
        let settimane_h = (1..=settimane.max(1))
            .map(|numero| SettimanaH {
                numero,
                giorni: GiornoSettimana::ALL[..5]
                    .iter()
                    .map(|&giorno| {
                        let ord = Ore::from_hours(rng.gen_range(0..=8));
                        let codice = meteo.then(|| pick(rng, CodiceEvento::ALL));
                        altro |= codice == Some(CodiceEvento::Altro);
                        GiornoH {
                            giorno,
                            ordinarie: ord,
                            straordinarie: Ore(0),
                            altro: Ore(0),
                            totale: ord,
                            codice_evento: codice,
                        }
                    })
                    .collect(),
            })
            .collect();
        d.quadro_h = Some(QuadroH {
            settimane: settimane_h,
            descrizione_evento: altro.then(|| "Grandinata con allagamento dell'area di cantiere".to_string()),
        });
    }
    if rng.gen_bool(0.5) {
        d.quadro_d = Some(match rng.gen_range(0..3) {
            0 => {
                let data = fine + Days::new(1);
                d.quadro_n = Some(QuadroN {
                    data_ripresa: data,
                    con_tutti: true,
                    operai_sospesi: None,
                    operai_orario_ridotto: None,
                    impiegati_sospesi: None,
                    impiegati_orario_ridotto: None,
                    cantiere: None,
                });
                QuadroD { ripresa: Ripresa::Avvenuta, data_ripresa: Some(data) }
            }
            1 => {
                let data = fine + Days::new(rng.gen_range(1..30));
                d.quadro_o = Some(QuadroO {
                    data_prevista: data,
                    numero_lavoratori: d.lavoratori.lavoratori.len() as u32,
                    unita: UnitaRipresa::StessaUnita,
                    elementi: "Nuove commesse confermate dal cliente principale a partire dal mese prossimo".into(),
                });
                QuadroD { ripresa: Ripresa::Prevista, data_ripresa: Some(data) }
            }
            _ => {
                // Never "non prevedibile" (COE-059: no transitoriness, no CIGO): expected later.
                let data = fine + Days::new(14);
                d.quadro_o = Some(QuadroO {
                    data_prevista: data,
                    numero_lavoratori: d.lavoratori.lavoratori.len() as u32,
                    unita: UnitaRipresa::StessaUnita,
                    elementi: "Ripresa concordata con il cliente dopo la consegna dei nuovi impianti".into(),
                });
                QuadroD { ripresa: Ripresa::Prevista, data_ripresa: Some(data) }
            }
        });
    }
    if rng.gen_bool(0.5) {
        let nascita = NaiveDate::from_ymd_opt(rng.gen_range(1950..=1985), rng.gen_range(1..=12), rng.gen_range(1..=28))
            .unwrap_or_default();
        let (cognome, nome) = (pick(rng, COGNOMI), pick(rng, NOMI_M));
        d.quadro_f = Some(QuadroF {
            codice_fiscale: cf::codice_fiscale_persona(cognome, nome, nascita, false, pick(rng, COMUNI).3, 0),
            cognome: cognome.into(),
            nome: nome.into(),
            qualita: QualitaFirmatario::LegaleRappresentante,
            data: p.dal,
        });
    }
    if rng.gen_bool(0.4) {
        let mut ore: std::collections::BTreeMap<(u32, TipoOrario, QualificaE), (u32, u32, i64)> = Default::default();
        for l in &d.lavoratori.lavoratori {
            let Some(q) = l.qualifica.riga_e() else { continue };
            for o in &l.ore_cig {
                let e = ore.entry((o.settimana, l.tipo_orario, q)).or_default();
                if o.ore == l.ore_settimanali_contrattuali {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
                e.2 += o.ore.0;
            }
        }
        let in_cig = |t: TipoOrario, q: QualificaE| {
            d.quadro_e
                .righe
                .iter()
                .find(|r| r.tipo_orario == t && r.qualifica == q)
                .map(|r| r.totale_in_cig)
                .unwrap_or(0)
        };
        let settimane_g: Vec<SettimanaG> = ore
            .iter()
            .filter(|(k, v)| v.0 + v.1 <= in_cig(k.1, k.2))
            .map(|(k, v)| SettimanaG {
                numero: k.0,
                tipo_orario: k.1,
                qualifica: k.2,
                sospesi: v.0,
                orario_ridotto: v.1,
                ore_cig: Ore(v.2),
            })
            .collect();
        if settimane_g.len() == ore.len() && !settimane_g.is_empty() {
            let mut gruppi: Vec<(TipoOrario, QualificaE)> = ore.keys().map(|k| (k.1, k.2)).collect();
            gruppi.dedup();
            gruppi.sort();
            gruppi.dedup();
            let orari = gruppi
                .into_iter()
                .map(|(t, q)| OrarioContrattuale { tipo_orario: t, qualifica: q, ore: 40, minuti: 0, giorni: 5 })
                .collect();
            d.quadro_g = Some(QuadroG { orari, settimane: settimane_g });
        }
    }
    if rng.gen_bool(0.3) {
        let addetti = d.quadro_e.righe.iter().map(|r| r.in_forza).sum::<u32>();
        d.quadro_i = Some(QuadroI {
            reparti: vec![Reparto {
                nome: pick(rng, &["Produzione", "Montaggio", "Magazzino", "Verniciatura"]).into(),
                interessato: true,
                addetti_operai: addetti,
                addetti_impiegati: addetti,
                interessati_operai: 1,
                interessati_impiegati: 0,
                assunti: rng.gen_range(0..3),
                licenziati: 0,
                licenziamenti_previsti: 0,
            }],
            motivo_licenziamenti: None,
        });
    }
    if rng.gen_bool(0.3) {
        d.quadro_l = Some(QuadroL {
            ferie_anno_precedente: rng.gen_range(0..10),
            ferie_anno_in_corso: rng.gen_range(0..20),
            ferie_aggiuntive: 0,
            riposi_compensativi: rng.gen_range(0..5),
            permessi_retribuiti: rng.gen_range(0..8),
            periodi: vec![PeriodoFerie {
                dal: NaiveDate::from_ymd_opt(2025, 8, 4).unwrap_or_default(),
                al: NaiveDate::from_ymd_opt(2025, 8, 22).unwrap_or_default(),
                fissato_in: FissatoIn::Ccnl,
            }],
        });
    }
    if p.consultazione_sindacale && rng.gen_bool(0.6) {
        let com = p.dal - Days::new(rng.gen_range(10..25));
        d.quadro_m = Some(QuadroM {
            modalita: ModalitaComunicazione::Diretta,
            data_comunicazione: com,
            data_consultazione: Some(com + Days::new(rng.gen_range(1..=10))),
            motivi_mancata_consultazione: None,
        });
    }
    let inserimento: Vec<String> = d
        .lavoratori
        .lavoratori
        .iter()
        .filter(|l| l.tipo_orario == TipoOrario::Inserimento)
        .map(|l| l.codice_fiscale.clone())
        .collect();
    if !inserimento.is_empty() {
        d.quadro_q = Some(QuadroQ {
            contratti: inserimento
                .into_iter()
                .map(|codice_fiscale| ContrattoInserimento {
                    codice_fiscale,
                    data_approvazione: NaiveDate::from_ymd_opt(2024, 9, 2).unwrap_or_default(),
                    data_assunzione: NaiveDate::from_ymd_opt(2024, 9, 16).unwrap_or_default(),
                    durata_mesi: 18,
                    ore_addestramento: Ore::from_hours(120),
                    addestramento_esaurito: false,
                })
                .collect(),
        });
    }
    if rng.gen_bool(0.2) {
        d.quadro_r = Some(QuadroR { presentata: false, causale: None, numero_lavoratori: None, reparti: None });
    }
    if rng.gen_bool(0.05) {
        d.quadro_s = Some(QuadroS {
            procedure: vec![Procedura {
                tipo: TipoProcedura::ConcordatoPreventivo,
                data: NaiveDate::from_ymd_opt(2025, 6, 12).unwrap_or_default(),
            }],
        });
    }
    if rng.gen_bool(0.5) {
        d.quadro_t = Some(QuadroT { resa: true, data: p.dal });
    }
    if rng.gen_bool(0.5) {
        let mut r = RelazioneTecnica {
            descrizione: "Contrazione dell'attività dovuta alla causale indicata, temporanea e non imputabile all'impresa né ai lavoratori".into(),
            data_evento: Some(p.dal.min(p.al)),
            commesse_in_corso: None,
            ordini_in_portafoglio: None,
            macchinario: None,
            fornitore: None,
            bollettino_meteo: None,
            provvedimento_autorita: None,
            indicatori: None,
        };
        match p.causale {
            Causale::MancanzaLavoro | Causale::CrisiMercato => {
                r.commesse_in_corso = Some(rng.gen_range(0..20));
                r.ordini_in_portafoglio = Some(Importo(rng.gen_range(0..50_000_000)));
                let trimestrali = rng.gen_bool(0.5);
                let indicatori = if trimestrali {
                    (1..=4)
                        .map(|t| Indicatore {
                            anno: 2025,
                            trimestre: Some(t),
                            fatturato: Importo(rng.gen_range(10_000_000..90_000_000)),
                            ordinativi: Some(Importo(rng.gen_range(0..50_000_000))),
                            ore_lavorate: Some(Ore::from_hours(rng.gen_range(1000..20000))),
                            dipendenti: None,
                        })
                        .collect()
                } else {
                    [2024, 2025]
                        .into_iter()
                        .map(|anno| Indicatore {
                            anno,
                            trimestre: None,
                            fatturato: Importo(rng.gen_range(100_000_000..900_000_000)),
                            ordinativi: None,
                            ore_lavorate: None,
                            dipendenti: Some(d.azienda.lavoratori_in_forza),
                        })
                        .collect()
                };
                r.indicatori = Some(IndicatoriEconomici { indicatori });
            }
            Causale::GuastoMacchinari | Causale::ManutenzioneStraordinaria => {
                r.macchinario = Some("Pressa idraulica linea 2".into())
            }
            Causale::MancanzaMateriePrime => r.fornitore = Some("Acciaierie del Nord S.p.A.".into()),
            Causale::EventiMeteo => r.bollettino_meteo = Some("Bollettino ARPA n. 123 del giorno dell'evento".into()),
            Causale::SospensioneAutorita | Causale::ImpraticabilitaLocali => {
                r.provvedimento_autorita = Some("Ordinanza sindacale n. 45".into())
            }
            _ => {}
        }
        d.relazione = Some(r);
    }
}
