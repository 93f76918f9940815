//! `cigo admin delega add | remove | list | import`: the matricole an intermediario may file
//! domande for (ARC-050).

use crate::config::Settings;
use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum DelegaCommand {
    /// Gives the intermediario a delega for a matricola.
    Add {
        #[arg(long)]
        intermediario: String,
        #[arg(long)]
        matricola: String,
    },
    /// Takes a delega away (richieste already uploaded keep their esito).
    Remove {
        #[arg(long)]
        intermediario: String,
        #[arg(long)]
        matricola: String,
    },
    /// Lists deleghe (all, or of one intermediario and/or for one matricola) as CSV.
    List {
        #[arg(long)]
        intermediario: Option<String>,
        #[arg(long)]
        matricola: Option<String>,
    },
    /// Adds the deleghe of a CSV file: columns `intermediario,matricola` (codice fiscale of the
    /// intermediario, matricola INPS of 10 digits), separated by `,` or `;` (one of them for the
    /// whole file), an optional header line, blank lines and lines starting with `#` ignored. All
    /// or nothing: one bad line and no delega is added.
    Import { file: PathBuf },
}

pub async fn run(command: DelegaCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    match command {
        DelegaCommand::Add { intermediario, matricola } => {
            let pair = checked(&intermediario, &matricola).map_err(|e| anyhow::anyhow!(e))?;
            let store = crate::app::open_store(settings, 1).await?;
            let added = store.add_deleghe(std::slice::from_ref(&pair)).await?;
            eprintln!("delega {} -> {}: {}", pair.0, pair.1, if added == 1 { "added" } else { "already held" });
            Ok(ExitCode::SUCCESS)
        }
        DelegaCommand::Remove { intermediario, matricola } => {
            let store = crate::app::open_store(settings, 1).await?;
            if store
                .remove_delega(intermediario.trim(), matricola.trim())
                .await?
            {
                eprintln!("delega {} -> {} removed", intermediario.trim(), matricola.trim());
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("error: {} holds no delega for {}", intermediario.trim(), matricola.trim());
                Ok(ExitCode::from(1))
            }
        }
        DelegaCommand::List { intermediario, matricola } => {
            let store = crate::app::open_store(settings, 1).await?;
            println!("intermediario,matricola,created_at");
            for d in store
                .list_deleghe(intermediario.as_deref().map(str::trim), matricola.as_deref().map(str::trim))
                .await?
            {
                println!("{},{},{}", d.intermediario, d.matricola, d.created_at.to_rfc3339());
            }
            Ok(ExitCode::SUCCESS)
        }
        DelegaCommand::Import { file } => {
            let pairs = read_csv(&file)?;
            let store = crate::app::open_store(settings, 1).await?;
            let added = store.add_deleghe(&pairs).await?;
            eprintln!("{} deleghe read from {}, {} new", pairs.len(), file.display(), added);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Trims and checks the shape of one delega: a codice fiscale (16 letters and digits of a person
/// or 11 digits of a company; the check character is not verified, as for tokens) and a matricola
/// of 10 digits.
fn checked(intermediario: &str, matricola: &str) -> Result<(String, String), String> {
    let cf = intermediario.trim().to_ascii_uppercase();
    let m = matricola.trim();
    let persona = cf.len() == 16 && cf.bytes().all(|b| b.is_ascii_alphanumeric());
    let azienda = cf.len() == 11 && cf.bytes().all(|b| b.is_ascii_digit());
    if !(persona || azienda) {
        return Err(format!("codice fiscale dell'intermediario non valido: {cf:?}"));
    }
    Ok((cf, crate::cmd::csv::matricola(m)?))
}

fn read_csv(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn parse_csv(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, record) in crate::cmd::csv::reader(text, false).records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", crate::cmd::csv::line(&e)))?;
        let n = record.position().map_or(0, |p| p.line());
        if i == 0
            && record
                .get(0)
                .is_some_and(|c| c.eq_ignore_ascii_case("intermediario"))
        {
            continue;
        }
        if record.len() != 2 {
            return Err(format!("line {n}: expected 2 columns (intermediario,matricola), found {}", record.len()));
        }
        out.push(checked(&record[0], &record[1]).map_err(|e| format!("line {n}: {e}"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_header_comments_and_quotes() {
        let text = "\u{feff}intermediario,matricola\n# a comment\nRSSMRA85T10A562S,1234567890\n\n\"rssmra85t10a562s\",0987654321\n";
        let pairs = parse_csv(text).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("RSSMRA85T10A562S".to_string(), "1234567890".to_string()),
                ("RSSMRA85T10A562S".to_string(), "0987654321".to_string())
            ]
        );
    }

    #[test]
    fn csv_bad_lines_are_refused_with_their_number() {
        let e = parse_csv("RSSMRA85T10A562S,123\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("10 cifre"), "{e}");
        let e = parse_csv("intermediario,matricola\nXX,1234567890\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = parse_csv("RSSMRA85T10A562S,1234567890,x\n").unwrap_err();
        assert!(e.contains("2 columns"), "{e}");
    }

    #[test]
    fn csv_with_semicolons_and_no_header() {
        let pairs = parse_csv("RSSMRA85T10A562S;1234567890\n# x\n RSSMRA85T10A562S ; 0987654321\n").unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].1, "0987654321");
    }
}
