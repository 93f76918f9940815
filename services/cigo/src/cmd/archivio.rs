//! `cigo archivio import`: seeds the archive the layer-5 rules check against from the records an
//! office already has (authorisations of earlier periods, employment relations). The columns are
//! documented in `docs/archivio.md`.
//!
//! Files are CSV with a header line; the separator is `,` or `;` (what Italian spreadsheets
//! write), found from the header. Dates are `YYYY-MM-DD` or `DD/MM/YYYY`; hours take `.` or `,`
//! as decimal separator. All or nothing: every line is checked first and one bad line (reported
//! with its number) imports nothing. Importing the same file twice changes nothing.

use crate::cmd::csv::{matricola, records};
use crate::config::{Sources, StoreArgs};
use anyhow::Context;
use chrono::NaiveDate;
use cigo_domain::archivio::{PeriodoArchivio, RapportoLavoro};
use cigo_domain::model::{unita_key, unita_key_codice, Ore};
use clap::Subcommand;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ArchivioArgs {
    #[command(subcommand)]
    pub command: ArchivioCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum ArchivioCommand {
    /// Imports authorisations and/or employment relations from CSV files (see docs/archivio.md).
    Import {
        /// Authorisations: matricola, riferimento, cap, comune, indirizzo, periodo_dal,
        /// periodo_al, ore_autorizzate, evento_non_evitabile, and optionally
        /// codice_unita_produttiva (the unit's INPS code: then the unit is matched by it, as the
        /// domande of tracciato v2 are).
        #[arg(long, required_unless_present = "rapporti")]
        autorizzazioni: Option<PathBuf>,
        /// Employment relations: matricola, codice_fiscale, data_assunzione, data_cessazione.
        #[arg(long)]
        rapporti: Option<PathBuf>,
    },
}

pub async fn run(args: ArchivioArgs, sources: &Sources) -> anyhow::Result<ExitCode> {
    let settings = sources.settings(&[sources.layer(&args.store)])?;
    let ArchivioCommand::Import { autorizzazioni, rapporti } = args.command;
    // Read and check both files before touching the database.
    let aut = autorizzazioni
        .as_deref()
        .map(|p| read(p, parse_autorizzazioni))
        .transpose()?;
    let rap = rapporti
        .as_deref()
        .map(|p| read(p, parse_rapporti))
        .transpose()?;
    let store = crate::app::open_store(&settings, 1).await?;
    if let (Some(rows), Some(path)) = (aut, &autorizzazioni) {
        let n = store.import_autorizzazioni(&rows).await?;
        eprintln!("{}: {} autorizzazioni read, {n} written", path.display(), rows.len());
    }
    if let (Some(rows), Some(path)) = (rap, &rapporti) {
        let n = store.import_rapporti(&rows).await?;
        eprintln!("{}: {} rapporti di lavoro read, {n} written", path.display(), rows.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn read<T>(path: &Path, parse: fn(&str) -> Result<Vec<T>, String>) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}; nothing imported", path.display()))
}

#[derive(Deserialize)]
struct AutorizzazioneCsv {
    matricola: String,
    riferimento: String,
    cap: String,
    comune: String,
    indirizzo: String,
    periodo_dal: String,
    periodo_al: String,
    ore_autorizzate: String,
    evento_non_evitabile: String,
    #[serde(default)]
    codice_unita_produttiva: String,
}

#[derive(Deserialize)]
struct RapportoCsv {
    matricola: String,
    codice_fiscale: String,
    data_assunzione: String,
    #[serde(default)]
    data_cessazione: String,
}

fn date(s: &str, campo: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| format!("{campo}: data non valida {s:?} (AAAA-MM-GG o GG/MM/AAAA)"))
}

fn si_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "si" | "sì" | "s" | "true" | "1" | "yes" | "y" => Ok(true),
        "no" | "n" | "false" | "0" | "" => Ok(false),
        _ => Err(format!("evento_non_evitabile: atteso si/no, trovato {s:?}")),
    }
}

fn parse_autorizzazioni(text: &str) -> Result<Vec<PeriodoArchivio>, String> {
    records::<AutorizzazioneCsv>(text)?
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |e: String| format!("record {}: {e}", i + 1);
            let dal = date(&r.periodo_dal, "periodo_dal").map_err(at)?;
            let al = date(&r.periodo_al, "periodo_al").map_err(at)?;
            if al < dal {
                return Err(at(format!("periodo_al ({al}) precede periodo_dal ({dal})")));
            }
            if r.riferimento.is_empty() || r.cap.is_empty() || r.comune.is_empty() || r.indirizzo.is_empty() {
                return Err(at("riferimento, cap, comune e indirizzo sono obbligatori".into()));
            }
            let ore: Ore = r
                .ore_autorizzate
                .replace(',', ".")
                .parse()
                .map_err(|_| at(format!("ore_autorizzate non valide: {:?}", r.ore_autorizzate)))?;
            Ok(PeriodoArchivio {
                matricola: matricola(&r.matricola).map_err(at)?,
                unita_produttiva: if r.codice_unita_produttiva.trim().is_empty() {
                    unita_key(&r.cap, &r.comune, &r.indirizzo)
                } else {
                    unita_key_codice(r.codice_unita_produttiva.trim())
                },
                riferimento: r.riferimento,
                dal,
                al,
                ore,
                evento_non_evitabile: si_no(&r.evento_non_evitabile).map_err(at)?,
            })
        })
        .collect()
}

fn parse_rapporti(text: &str) -> Result<Vec<RapportoLavoro>, String> {
    records::<RapportoCsv>(text)?
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |e: String| format!("record {}: {e}", i + 1);
            let cf = r.codice_fiscale.to_ascii_uppercase();
            if !cigo_domain::is_valid_codice_fiscale_persona(&cf) {
                return Err(at(format!("codice_fiscale non valido: {cf:?}")));
            }
            let assunto_dal = date(&r.data_assunzione, "data_assunzione").map_err(at)?;
            let cessato_al = if r.data_cessazione.is_empty() {
                None
            } else {
                Some(date(&r.data_cessazione, "data_cessazione").map_err(at)?)
            };
            if cessato_al.is_some_and(|c| c < assunto_dal) {
                return Err(at("data_cessazione precede data_assunzione".into()));
            }
            Ok(RapportoLavoro {
                matricola: matricola(&r.matricola).map_err(at)?,
                codice_fiscale: cf,
                assunto_dal,
                cessato_al,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autorizzazioni_with_semicolons_italian_dates_and_decimal_commas() {
        let text = "\u{feff}MATRICOLA;riferimento;cap;comune;indirizzo;periodo_dal;periodo_al;ore_autorizzate;evento_non_evitabile\n\
                    1234567890;INPS-2025-1;20100;Milano;\"Via Roma, 1\";06/01/2025;02/02/2025;1234,5;no\n\
                    # a comment\n\
                    1234567890;INPS-2025-2;20100;milano;via  roma, 1;2025-03-03;2025-03-30;80;SI\n";
        let rows = parse_autorizzazioni(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].unita_produttiva, "20100|MILANO|VIA ROMA, 1");
        assert_eq!(rows[1].unita_produttiva, rows[0].unita_produttiva);
        assert_eq!(rows[0].ore, Ore(123_450));
        assert_eq!(rows[0].dal, "2025-01-06".parse::<NaiveDate>().unwrap());
        assert!(!rows[0].evento_non_evitabile && rows[1].evento_non_evitabile);
    }

    #[test]
    fn bad_records_are_refused_with_their_place() {
        let head =
            "matricola,riferimento,cap,comune,indirizzo,periodo_dal,periodo_al,ore_autorizzate,evento_non_evitabile\n";
        let e = parse_autorizzazioni(&format!("{head}123,R,20100,Milano,Via Roma 1,2025-01-06,2025-02-02,10,no\n"))
            .unwrap_err();
        assert!(e.contains("record 1") && e.contains("10 cifre"), "{e}");
        let e =
            parse_autorizzazioni(&format!("{head}1234567890,R,20100,Milano,Via Roma 1,2025-02-06,2025-02-02,10,no\n"))
                .unwrap_err();
        assert!(e.contains("precede"), "{e}");
        let e = parse_autorizzazioni(&format!("{head}1234567890,R,20100,Milano\n")).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = parse_autorizzazioni("matricola,riferimento\n1234567890,R\n").unwrap_err();
        assert!(e.contains("missing field"), "{e}");
    }

    #[test]
    fn rapporti_with_open_ended_relations() {
        let text = "matricola,codice_fiscale,data_assunzione,data_cessazione\n\
                    1234567890,rssmra85t10a562s,2020-01-01,\n\
                    1234567890,RSSMRA85T10A562S,01/01/2018,31/12/2019\n";
        let rows = parse_rapporti(text).unwrap();
        assert_eq!(rows[0].codice_fiscale, "RSSMRA85T10A562S");
        assert_eq!(rows[0].cessato_al, None);
        assert_eq!(rows[1].cessato_al, Some("2019-12-31".parse().unwrap()));
        let e = parse_rapporti("matricola,codice_fiscale,data_assunzione,data_cessazione\n1234567890,XX,2020-01-01,\n")
            .unwrap_err();
        assert!(e.contains("codice_fiscale non valido"), "{e}");
    }
}
