//! `cigo regole`: the rule catalogue.

use crate::cmd::output::OutputFormat;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RegoleArgs {
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: OutputFormat,
}

pub fn run(args: RegoleArgs) -> anyhow::Result<ExitCode> {
    print!("{}", crate::offline::regole(args.format)?);
    Ok(ExitCode::SUCCESS)
}
