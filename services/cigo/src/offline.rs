//! The commands that need no server: `cigo validate` and `cigo regole`.

use crate::cmd::output::OutputFormat;
use crate::config::Settings;
use anyhow::Context;
use chrono::NaiveDate;
use cigo_domain::validate::{prevalidate, Limits};
use cigo_domain::{EsitoDomanda, Severity};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// Runs exactly the rules of the worker on `file` and reports like the API does, with the filing
/// deadline and the seniority judged at `data_presentazione`. With a database in `settings` also
/// the archive rules, and with `intermediario` its deleghe: the server's verdict.
pub async fn validate(
    settings: &Settings,
    file: &Path,
    format: OutputFormat,
    intermediario: Option<&str>,
    data_presentazione: NaiveDate,
) -> anyhow::Result<ExitCode> {
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let limits = Limits { data_presentazione: Some(data_presentazione), ..Limits::default() };
    let mut esito =
        tokio::task::spawn_blocking(move || prevalidate(std::io::BufReader::with_capacity(64 * 1024, reader), &limits))
            .await?;
    let presentazione = data_presentazione.format("%d/%m/%Y");
    let mut archivio = "senza archivio (regole ARC-* non verificate: --database-url)";
    if let Some(url) = &settings.database_url {
        // No migration here: a validation must not change the database it reads.
        let store = cigo_store::connect(url, 1)
            .await
            .with_context(|| "cannot open the database of --database-url")?;
        let deleghe_di = intermediario.map(|cf| cf.trim().to_ascii_uppercase());
        cigo_store::verifica_archivio(store.as_ref(), &mut esito, deleghe_di.as_deref())
            .await
            .context("the archive rules need a migrated database (`cigo migrate`)")?;
        archivio = if deleghe_di.is_some() { "con archivio e deleghe" } else { "con archivio" };
    }
    let code = if esito.file_finding.is_some() {
        2
    } else if esito
        .domande
        .iter()
        .any(|d| d.esito == EsitoDomanda::Scartata)
    {
        1
    } else {
        0
    };
    match format {
        OutputFormat::Json => {
            let body = serde_json::json!({
                "file": file.display().to_string(),
                "stato": esito.stato_finale(),
                "rule_set": esito.rule_set,
                "data_presentazione": data_presentazione,
                "archivio": settings.database_url.is_some(),
                "deleghe": intermediario.is_some(),
                "file_finding": esito.file_finding,
                "domande_totali": esito.domande.len(),
                "domande_valide": esito.valide(),
                "domande_scartate": esito.scartate(),
                "domande": esito.domande,
            });
            println!("{}", serde_json::to_string_pretty(&body)?);
        }
        OutputFormat::Csv => {
            // The writer of the server's esito.csv; no numero richiesta yet. The date goes to
            // stderr, so that stdout is the CSV alone.
            eprintln!("data di presentazione: {presentazione}");
            let mut w = cigo_receipts::EsitoCsv::senza_numero(std::io::BufWriter::new(std::io::stdout().lock()))?;
            if let Some(f) = &esito.file_finding {
                w.file_finding(f)?;
            }
            for d in &esito.domande {
                w.domanda(d, None)?;
            }
            std::io::Write::flush(&mut w.finish()?)?;
        }
        OutputFormat::Text | OutputFormat::Markdown => {
            let mut out = String::new();
            if let Some(f) = &esito.file_finding {
                let _ = writeln!(out, "{}: file scartato", file.display());
                let _ = writeln!(out, "  {} {} {}", f.code, place(f.line, f.column), f.message);
                let _ = writeln!(out, "(data di presentazione {presentazione})");
            } else {
                for d in &esito.domande {
                    if d.findings.is_empty() {
                        continue;
                    }
                    let _ = writeln!(
                        out,
                        "domanda {} ({}): {}",
                        d.progressivo,
                        d.matricola.as_deref().unwrap_or("?"),
                        d.esito
                    );
                    for f in &d.findings {
                        let sev = if f.severity == Severity::Errore { "ERRORE" } else { "AVVISO" };
                        let _ = writeln!(out, "  {} {sev} {} {}", f.code, place(f.line, f.column), f.message);
                        if let Some(x) = &f.xpath {
                            let _ = writeln!(out, "      {x}");
                        }
                    }
                }
                let _ = writeln!(
                    out,
                    "{}: {} domande, {} valide, {} scartate (regole {}, {archivio}, data di presentazione {presentazione})",
                    file.display(),
                    esito.domande.len(),
                    esito.valide(),
                    esito.scartate(),
                    esito.rule_set
                );
            }
            print!("{out}");
        }
    }
    Ok(ExitCode::from(code))
}

fn place(line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("[riga {l}, colonna {c}]"),
        (Some(l), None) => format!("[riga {l}]"),
        _ => String::new(),
    }
}

/// The rule catalogue as Markdown (the source of `docs/regole.md`) or JSON, rendered by the domain.
pub fn regole(format: OutputFormat) -> anyhow::Result<String> {
    match format {
        OutputFormat::Json => Ok(cigo_domain::rules::catalogue_json()),
        OutputFormat::Text | OutputFormat::Markdown => Ok(cigo_domain::rules::catalogue_markdown()),
        OutputFormat::Csv => {
            anyhow::bail!("--format csv is for `cigo validate` (the esito); the catalogue is markdown or json")
        }
    }
}
