//! The commands that need no server: `cigo validate` and `cigo regole`.

use crate::cli::OutputFormat;
use anyhow::Context;
use cigo_domain::validate::{prevalidate, Limits};
use cigo_domain::{EsitoDomanda, Severity};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// Runs exactly the rules of the worker on `file` and reports like the API does.
pub fn validate(file: &Path, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let esito = prevalidate(std::io::BufReader::with_capacity(64 * 1024, reader), &Limits::default());
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
                "file_finding": esito.file_finding,
                "domande_totali": esito.domande.len(),
                "domande_valide": esito.valide(),
                "domande_scartate": esito.scartate(),
                "domande": esito.domande,
            });
            println!("{}", serde_json::to_string_pretty(&body)?);
        }
        OutputFormat::Text | OutputFormat::Markdown => {
            let mut out = String::new();
            if let Some(f) = &esito.file_finding {
                let _ = writeln!(out, "{}: file scartato", file.display());
                let _ = writeln!(out, "  {} {} {}", f.code, place(f.line, f.column), f.message);
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
                    "{}: {} domande, {} valide, {} scartate (regole {})",
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
pub fn regole(format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => cigo_domain::rules::catalogue_json(),
        OutputFormat::Text | OutputFormat::Markdown => cigo_domain::rules::catalogue_markdown(),
    }
}
