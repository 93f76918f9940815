//! `cigo validate`: the server's prevalidation rules on a file, offline (see [`crate::offline`]).

use crate::cmd::output::OutputFormat;
use crate::config::Sources;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    pub file: PathBuf,
    /// `text` (for people), `json` (the API's shape) or `csv` (the server's esito.csv).
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Codice fiscale of the intermediario that would upload the file: checks its deleghe
    /// (needs --database-url).
    #[arg(long, requires = "database_url")]
    pub intermediario: Option<String>,
    /// Filing date of the deadline and seniority rules; default: today in Rome.
    #[arg(long, env = "CIGO_DATA_PRESENTAZIONE", value_name = "YYYY-MM-DD")]
    pub data_presentazione: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub database: DatabaseArg,
}

/// The one setting `validate` reads: the database of the archive rules (never migrated).
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct DatabaseArg {
    /// The database whose archive (and deleghe) the layer-5 rules check against; without it,
    /// the layers 1-4 only.
    #[arg(long, env = "CIGO_DATABASE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

pub async fn run(args: ValidateArgs, sources: &Sources) -> anyhow::Result<ExitCode> {
    let settings = sources.settings(&[sources.layer(&args.database)])?;
    let data_presentazione = args
        .data_presentazione
        .unwrap_or_else(|| cigo_domain::attestato::ora_di_roma(chrono::Utc::now()).date_naive());
    crate::offline::validate(&settings, &args.file, args.format, args.intermediario.as_deref(), data_presentazione)
        .await
}
