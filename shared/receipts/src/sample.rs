//! Deterministic sample attestati and esiti, for the tests, the bench and demos: accented names
//! (Niccolò, Città di Castello), a domanda in ten scartata in prevalidazione, one in fifty
//! scartata in fase d'invio, the rest protocollata.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cigo_domain::attestato::{
    Attestato, AttestatoConsegna, AttestatoTrasmissione, DatiRichiesta, DomandaProtocollata, DomandaScartataInInvio,
    DomandaTrasmessa, Motivo, Totali,
};
use cigo_domain::model::Ore;
use cigo_domain::{DomandaEsito, EsitoDomanda, Finding, Layer, Severity};

const DENOMINAZIONI: [&str; 4] =
    ["Officine Niccolò S.r.l.", "Città di Castello Tessile S.p.A.", "Caffè Perù & C. s.n.c.", "Àncora Müller S.r.l."];
const COMUNI: [&str; 3] = ["Città di Castello", "Forlì", "Cefalù"];

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a valid instant")
}

/// The esito of domanda `i` (1-based) of a sample richiesta.
pub fn esito(i: u32) -> EsitoDomanda {
    if i.is_multiple_of(10) {
        EsitoDomanda::Scartata
    } else if i % 50 == 7 {
        EsitoDomanda::ScartataInInvio
    } else {
        EsitoDomanda::Protocollata
    }
}

/// The protocol number the sample gives domanda `i`, in the store's form.
pub fn protocollo(i: u32) -> String {
    format!("CIGO-2026-{:07}", 1000 + i)
}

pub fn matricola(i: u32) -> String {
    format!("{:010}", 1_000_000_000 + i as u64 * 7)
}

pub fn denominazione(i: u32) -> String {
    format!("{} {i}", DENOMINAZIONI[i as usize % DENOMINAZIONI.len()])
}

fn unita(i: u32) -> String {
    format!("Via dell'Industria {}, {}", i % 200 + 1, COMUNI[i as usize % COMUNI.len()])
}

pub fn dati_richiesta(numero: i64) -> DatiRichiesta {
    DatiRichiesta {
        numero_richiesta: numero,
        intermediario: "RSSMRA80A01H501U".into(),
        nome_file: Some("domande marzo – Città di Castello.xml".into()),
        sha256: "3f5a0c1e9b7d2a4c6e8f0a1b3c5d7e9f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c0d".into(),
        dimensione_byte: 18_734_112,
        // 00:30 in Rome on 2 March (CET): 23:30 UTC of 1 March.
        data_ricezione: utc(2026, 3, 1, 23, 30),
        data_trasmissione: utc(2026, 3, 2, 8, 15),
    }
}

/// The attestato di trasmissione of a sample richiesta of `n` domande.
pub fn trasmissione(numero: i64, n: u32) -> Attestato {
    let domande = (1..=n)
        .filter(|&i| esito(i) != EsitoDomanda::Scartata)
        .map(|i| DomandaTrasmessa {
            progressivo: i,
            matricola: Some(matricola(i)),
            denominazione: Some(denominazione(i)),
            unita_produttiva: Some(unita(i)),
            periodo_dal: NaiveDate::from_ymd_opt(2026, 3, 2),
            periodo_al: NaiveDate::from_ymd_opt(2026, 3, 29),
            causale: Some(if i.is_multiple_of(3) { "EVENTI_METEO" } else { "MANCANZA_LAVORO" }.into()),
            lavoratori: Some(i % 40 + 1),
            ore_cig: Some(Ore(i as i64 * 1_234 % 500_000 + 50)),
        })
        .collect();
    Attestato::Trasmissione(AttestatoTrasmissione { richiesta: dati_richiesta(numero), domande })
}

/// The attestato di consegna of a sample richiesta of `n` domande.
pub fn consegna(numero: i64, n: u32) -> Attestato {
    let consegnata = utc(2026, 3, 2, 9, 0);
    let protocollate = (1..=n)
        .filter(|&i| esito(i) == EsitoDomanda::Protocollata)
        .map(|i| DomandaProtocollata {
            progressivo: i,
            matricola: Some(matricola(i)),
            denominazione: Some(denominazione(i)),
            protocollo: protocollo(i),
            data_protocollo: consegnata + Duration::milliseconds(i as i64 * 3),
        })
        .collect();
    let scartate_in_invio = (1..=n)
        .filter(|&i| esito(i) == EsitoDomanda::ScartataInInvio)
        .map(|i| DomandaScartataInInvio {
            progressivo: i,
            matricola: Some(matricola(i)),
            denominazione: Some(denominazione(i)),
            motivi: vec![Motivo {
                codice: "ARC-001".into(),
                messaggio: "Il periodo richiesto si sovrappone a un periodo già autorizzato per la stessa unità \
                            produttiva (art. 12 D.Lgs. 148/2015)."
                    .into(),
            }],
        })
        .collect();
    Attestato::Consegna(AttestatoConsegna {
        richiesta: dati_richiesta(numero),
        data_consegna: consegnata,
        codice_trasmissione: trasmissione(numero, n).codice_verifica(),
        protocollate,
        scartate_in_invio,
        totali: Totali::da_esiti((1..=n).map(esito)),
    })
}

/// Domanda `i` of a sample esito, with its protocol number: every tenth with two findings, every
/// fifth with a warning.
pub fn domanda_esito(i: u32) -> (DomandaEsito, Option<String>) {
    let finding = |code: &str, severity, message: &str, value: &str| Finding {
        code: code.into(),
        layer: Layer::Campi,
        severity,
        message: message.into(),
        xpath: Some(format!("/RichiestaCIGO/Domanda[{i}]/QuadroA/Matricola")),
        line: Some(i * 40 + 3),
        column: Some(17),
        value: Some(value.into()),
    };
    let mut findings = Vec::new();
    if esito(i) == EsitoDomanda::Scartata {
        findings.push(finding("CAM-010", Severity::Errore, "Matricola non valida: servono 10 cifre", "=1+2"));
        findings.push(finding("CAM-011", Severity::Errore, "Denominazione; \"vuota\"\nriga due", "Città"));
    } else if i.is_multiple_of(5) {
        findings.push(finding("COE-020", Severity::Avviso, "Orario ridotto superiore all'orario contrattuale", "41,5"));
    }
    let d = DomandaEsito {
        progressivo: i,
        matricola: Some(matricola(i)),
        codice_fiscale_azienda: None,
        denominazione: Some(denominazione(i)),
        unita_produttiva: Some(unita(i)),
        periodo_dal: NaiveDate::from_ymd_opt(2026, 3, 2),
        periodo_al: NaiveDate::from_ymd_opt(2026, 3, 29),
        esito: esito(i),
        findings,
        archivio: None,
    };
    (d, (esito(i) == EsitoDomanda::Protocollata).then(|| protocollo(i)))
}
