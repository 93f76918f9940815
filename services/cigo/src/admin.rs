//! `cigo admin token list|revoke` and `cigo admin delega add|remove|list|import` (issue 5).
//!
//! Nothing printed here is a secret: tokens are listed by id and metadata only (the database
//! keeps only their SHA-256 anyway).

use crate::cli::TokenCommand;
use crate::config::Settings;
use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

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
    /// intermediario, matricola INPS of 10 digits), separated by `,` or `;`, an optional header
    /// line, blank lines and lines starting with `#` ignored. All or nothing: one bad line and no
    /// delega is added.
    Import { file: PathBuf },
}

pub(crate) async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn cigo_store::Store>> {
    crate::cli::ensure_data_dir(settings)?;
    let store = cigo_store::connect(&settings.database_url(), 1).await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    match command {
        TokenCommand::Create { .. } => unreachable!("handled by the cli"),
        TokenCommand::List { intermediario } => {
            let now = chrono::Utc::now();
            println!("id\tintermediario\truolo\tstato\tcreato\tscadenza\trevocato\tnome");
            for t in store
                .list_tokens(intermediario.as_deref().map(str::trim))
                .await?
            {
                let stato = if t.revoked_at.is_some() {
                    "revocato"
                } else if t.expires_at.is_some_and(|e| e <= now) {
                    "scaduto"
                } else {
                    "attivo"
                };
                let ts = |t: Option<cigo_store::Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.intermediario,
                    t.ruolo,
                    stato,
                    t.created_at.to_rfc3339(),
                    ts(t.expires_at),
                    ts(t.revoked_at),
                    t.nome.as_deref().unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id } => match store.revoke_token(id).await? {
            Some(t) => {
                eprintln!("token {} of {} ({}) revoked", t.id, t.intermediario, t.ruolo);
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!("error: no token with id {id}");
                Ok(ExitCode::from(1))
            }
        },
    }
}

pub async fn delega(settings: &Settings, command: DelegaCommand) -> anyhow::Result<ExitCode> {
    match command {
        DelegaCommand::Add { intermediario, matricola } => {
            let pair = checked(&intermediario, &matricola).map_err(|e| anyhow::anyhow!(e))?;
            let store = open_store(settings).await?;
            let added = store.add_deleghe(std::slice::from_ref(&pair)).await?;
            eprintln!("delega {} -> {}: {}", pair.0, pair.1, if added == 1 { "added" } else { "already held" });
            Ok(ExitCode::SUCCESS)
        }
        DelegaCommand::Remove { intermediario, matricola } => {
            let store = open_store(settings).await?;
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
            let store = open_store(settings).await?;
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
            let store = open_store(settings).await?;
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
    if m.len() != 10 || !m.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("la matricola deve essere di 10 cifre: {m:?}"));
    }
    Ok((cf, m.to_string()))
}

fn read_csv(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn parse_csv(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line
            .split([',', ';'])
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if n == 0
            && cols
                .first()
                .is_some_and(|c| c.eq_ignore_ascii_case("intermediario"))
        {
            continue;
        }
        if cols.len() != 2 {
            return Err(format!("line {}: expected 2 columns (intermediario,matricola), found {}", n + 1, cols.len()));
        }
        out.push(checked(cols[0], cols[1]).map_err(|e| format!("line {}: {e}", n + 1))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_header_comments_and_semicolons() {
        let text = "\u{feff}intermediario,matricola\n# a comment\nRSSMRA85T10A562S,1234567890\n\n\"rssmra85t10a562s\";0987654321\n";
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
}
