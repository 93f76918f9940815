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
    crate::offline::validate(&settings, &args.file, args.format, args.intermediario.as_deref()).await
}
