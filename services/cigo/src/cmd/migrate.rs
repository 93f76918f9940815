//! `cigo migrate`: applies the database migrations and exits.

use crate::config::{LogArgs, Sources, StoreArgs};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

pub async fn run(args: MigrateArgs, sources: &Sources) -> anyhow::Result<ExitCode> {
    let settings = sources.settings(&[sources.layer(&args.store), sources.layer(&args.log)])?;
    let _telemetry = crate::app::init_telemetry(&settings, "cigo-migrate");
    let store = crate::app::open_store(&settings, 1).await?;
    tracing::info!(backend = store.backend(), "migrations applied");
    Ok(ExitCode::SUCCESS)
}
