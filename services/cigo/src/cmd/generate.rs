//! `cigo generate`: a realistic synthetic richiesta (deterministic for a seed), and the deleghe
//! its intermediario needs.

use anyhow::Context;
use cigo_domain::generate::GenerateOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Number of domande.
    #[arg(long)]
    pub domande: usize,
    /// Share of domande that break at least one rule (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    pub invalid_ratio: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Version of the tracciato: 1 (urn:cigo:richiesta:1) or 2 (urn:cigo:richiesta:2, with the
    /// sector, the unit's INPS code and the semester's workers; see docs/tracciato.md).
    #[arg(long, default_value = "1", value_parser = ["1", "2"])]
    pub versione: String,
    /// Output file (`-` for stdout).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write a deleghe CSV (for `cigo admin delega import`) giving this intermediario
    /// (codice fiscale) a delega for every well-formed matricola of the file.
    #[arg(long, requires = "deleghe_out")]
    pub deleghe_per: Option<String>,
    /// Where to write that CSV.
    #[arg(long, requires = "deleghe_per")]
    pub deleghe_out: Option<PathBuf>,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!((0.0..=1.0).contains(&args.invalid_ratio), "--invalid-ratio must be between 0 and 1");
    let opts = GenerateOptions { domande: args.domande, invalid_ratio: args.invalid_ratio, seed: args.seed };
    let versione = cigo_domain::Versione::from_attr(&args.versione).unwrap_or_default();
    generate(&opts, versione, &args.out)?;
    if let (Some(cf), Some(csv)) = (args.deleghe_per, args.deleghe_out) {
        write_deleghe_csv(&opts, cf.trim(), &csv)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(opts: &GenerateOptions, versione: cigo_domain::Versione, out: &Path) -> anyhow::Result<()> {
    let writer: Box<dyn Write> = if out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?)
    };
    let mut w = std::io::BufWriter::new(writer);
    let summary = cigo_domain::generate::generate_versione(opts, versione, &mut w)?;
    w.flush()?;
    let invalid = summary.iter().filter(|d| d.expected_code.is_some()).count();
    eprintln!(
        "{} domande written to {} (tracciato versione {versione}; {} valid, {} breaking a rule)",
        summary.len(),
        out.display(),
        summary.len() - invalid,
        invalid
    );
    Ok(())
}

/// The deleghe an intermediario needs to file a generated richiesta: one line per distinct
/// well-formed matricola (the generator is deterministic, so it is generated again in memory).
fn write_deleghe_csv(opts: &GenerateOptions, cf: &str, path: &Path) -> anyhow::Result<()> {
    let mut xml = Vec::new();
    cigo_domain::generate::generate(opts, &mut xml)?;
    let esito = cigo_domain::validate::prevalidate(&xml[..], &cigo_domain::validate::Limits::default());
    let mut matricole: Vec<String> = esito
        .domande
        .into_iter()
        .filter_map(|d| d.matricola)
        .filter(|m| cigo_domain::model::is_matricola(m))
        .collect();
    matricole.sort();
    matricole.dedup();
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["intermediario", "matricola"])?;
    for m in &matricole {
        w.write_record([cf, m.as_str()])?;
    }
    w.flush()?;
    eprintln!("{} deleghe for {cf} written to {}", matricole.len(), path.display());
    Ok(())
}
