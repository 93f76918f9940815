//! "Cruscotto": per unità produttiva of an azienda, the limits of CIGO used and what can still be
//! filed, from [`Service::cruscotto`] (the domain's figures, those the archive rules judge with).

use super::sessione::Utente;
use super::{errore, formato, Intestazione};
use crate::service::{Cruscotto, Service};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use cigo_domain::archivio::SETTIMANE_BIENNIO;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct Domanda {
    #[serde(default)]
    matricola: String,
}

/// One limit of a unit: used, of how much, a bar.
struct Limite {
    nome: String,
    usato: String,
    di: String,
    restano: String,
    /// For the `<progress>` bar: value and max in the same unit (0 max: no bar).
    valore: i64,
    massimo: i64,
}

struct Unita {
    nome: String,
    settore: &'static str,
    limiti: Vec<Limite>,
    avvisi: Vec<String>,
    prossima: String,
    periodi: Vec<(String, String, String, &'static str)>,
}

#[derive(Template)]
#[template(path = "cruscotto.html")]
struct Pagina {
    testa: Intestazione,
    matricola: String,
    oggi: String,
    cercato: bool,
    unita: Vec<Unita>,
}

fn data(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// `GET /cruscotto?matricola=…`.
pub async fn pagina(State(service): State<Service>, utente: Utente, Query(q): Query<Domanda>) -> Response {
    let matricola = q.matricola.trim().to_string();
    let c = if matricola.is_empty() {
        None
    } else {
        match service.cruscotto(&utente.0.caller, &matricola).await {
            Ok(c) => Some(c),
            Err(e) => return errore(e),
        }
    };
    let pagina = Pagina {
        testa: Intestazione::of(&utente),
        oggi: c.as_ref().map(|c| data(c.oggi)).unwrap_or_default(),
        cercato: c.is_some(),
        unita: c.map(unita).unwrap_or_default(),
        matricola,
    };
    super::pagina(&pagina)
}

fn unita(c: Cruscotto) -> Vec<Unita> {
    c.unita
        .into_iter()
        .map(|u| {
            let x = &u.utilizzo;
            let settimane = SETTIMANE_BIENNIO as i64;
            let mut limiti = vec![Limite {
                nome: format!(
                    "Settimane di CIGO nel biennio mobile ({} – {}){}",
                    data(x.biennio_dal),
                    data(x.al),
                    if u.settore.edile_o_lapideo() {
                        ", compresi gli eventi oggettivamente non evitabili (art. 12 c. 4)"
                    } else {
                        ", esclusi gli eventi oggettivamente non evitabili (art. 12 c. 4)"
                    }
                ),
                usato: x.settimane.to_string(),
                di: settimane.to_string(),
                restano: settimane.saturating_sub(i64::from(x.settimane)).max(0).to_string(),
                valore: i64::from(x.settimane).min(settimane),
                massimo: settimane,
            }];
            match x.ore_limite {
                Some(limite) => limiti.push(Limite {
                    nome: "Ore di CIGO nel biennio mobile (un terzo delle ore lavorabili)".into(),
                    usato: x.ore.to_string(),
                    di: limite.to_string(),
                    restano: cigo_domain::model::Ore((limite.0 - x.ore.0).max(0)).to_string(),
                    valore: x.ore.0.min(limite.0),
                    massimo: limite.0,
                }),
                None => limiti.push(Limite {
                    nome: "Ore di CIGO nel biennio mobile".into(),
                    usato: x.ore.to_string(),
                    di: "limite non calcolabile: ore lavorabili dell'unità non note".into(),
                    restano: String::new(),
                    valore: 0,
                    massimo: 0,
                }),
            }
            limiti.push(Limite {
                nome: format!(
                    "Giorni di integrazione nel quinquennio mobile ({} – {}), limite {} mesi",
                    data(x.quinquennio_dal),
                    data(x.al),
                    if u.settore.edile_o_lapideo() { 30 } else { 24 }
                ),
                usato: formato::numero(x.giorni),
                di: formato::numero(x.giorni_limite),
                restano: formato::numero((x.giorni_limite - x.giorni).max(0)),
                valore: x.giorni.min(x.giorni_limite),
                massimo: x.giorni_limite,
            });
            let avvisi = x
                .consecutive
                .iter()
                .map(|(inizio, fine, dal)| {
                    format!(
                        "52 settimane consecutive di CIGO dal {} al {}: una nuova domanda solo dopo 52 settimane di normale attività, per periodi dal {} (D.Lgs. 148/2015 art. 12 c. 2).",
                        data(*inizio),
                        data(*fine),
                        data(*dal)
                    )
                })
                .collect();
            Unita {
                nome: formato::unita(&u.unita_produttiva),
                settore: u.settore.descrizione(),
                limiti,
                avvisi,
                prossima: match u.prossima {
                    Some(d) if d <= c.oggi + chrono::Days::new(6) => {
                        format!("Una domanda di una settimana è possibile già dal {}.", data(d))
                    }
                    Some(d) => format!("La prima settimana che rientra nei limiti inizia lunedì {}.", data(d)),
                    None => "Nessuna settimana dei prossimi due anni rientra nei limiti.".into(),
                },
                periodi: u
                    .periodi
                    .iter()
                    .rev()
                    .map(|p| {
                        (
                            p.riferimento.clone(),
                            format!("{} – {}", data(p.dal), data(p.al)),
                            p.ore.to_string(),
                            if p.evento_non_evitabile { "evento non evitabile" } else { "" },
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}
