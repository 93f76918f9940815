//! `cigo admin`: tokens, deleghe, dead letters, the retention purge. Every subcommand opens the database the same way
//! ([`crate::app::open_store`], migrations applied) from the flags of `admin`.
//!
//! Nothing printed here is a secret except the token `token create` prints once: tokens are
//! listed by id and metadata only (the database keeps only their SHA-256 anyway).

pub mod delega;
pub mod dlq;
pub mod purga;
pub mod token;

use crate::config::{Sources, StoreArgs};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: AdminCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Deleghe: the matricole an intermediario may file domande for.
    Delega {
        #[command(subcommand)]
        command: delega::DelegaCommand,
    },
    /// Dead letters: the jobs that failed for good, as recorded on their richieste.
    Dlq(dlq::DlqArgs),
    /// Retention: purges the richieste past their time (domande, findings, attestati, file),
    /// keeping the audit trail; `--dry-run` only lists them.
    Purga(purga::PurgaArgs),
}

pub async fn run(args: AdminArgs, sources: &Sources) -> anyhow::Result<ExitCode> {
    let store = sources.layer(&args.store);
    match args.command {
        AdminCommand::Token { command } => token::run(command, &sources.settings(&[store])?).await,
        AdminCommand::Delega { command } => delega::run(command, &sources.settings(&[store])?).await,
        AdminCommand::Dlq(dlq) => {
            let queue = sources.layer(&dlq.queue);
            dlq::run(dlq.command, &sources.settings(&[store, queue])?).await
        }
        AdminCommand::Purga(purga) => {
            let groups = [store, sources.layer(&purga.blob), sources.layer(&purga.retention)];
            purga::run(purga, &sources.settings(&groups)?).await
        }
    }
}
