//! `cigo admin dlq list | replay`: the jobs that failed for good, as recorded on their richieste
//! (see [`crate::dlq`]). Both first drain the queue's dead letters into the database, so a
//! message the broker gave up on is listed too, and a replayed job is not recorded as failed
//! again by a dead letter drained later.

use crate::config::{QueueArgs, Settings};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub command: DlqCommand,
    #[command(flatten)]
    pub queue: QueueArgs,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Lists the dead letters: numero, job, reason (`rejected` to the broker's dead-letter
    /// queue, or `failed` in the embedded mode), attempts, the error recorded on the richiesta.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Replays the first N dead letters (all when N is not given).
    Replay {
        /// How many.
        n: Option<usize>,
    },
}

pub async fn run(command: DlqCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = crate::app::open_store(settings, 2).await?;
    // A broker that is down does not hide what the database holds.
    let drained = async {
        // One attempt (the queue client itself retries for a few seconds): an operator waits.
        let queue = cigo_queue::connect(&settings.queue_url(), &settings.queue_prefix).await?;
        crate::dlq::drain(store.as_ref(), queue.as_ref()).await
    };
    if let Err(e) = drained.await {
        eprintln!("warning: the queue's dead letters were not drained ({e:#}); showing the failures recorded so far");
    }
    match command {
        DlqCommand::List { limit } => {
            let reason = if settings.amqp_url.is_some() { "rejected" } else { "failed" };
            println!("numero\tjob\treason\tcount\terrore_elaborazione");
            let errori = crate::dlq::list(store.as_ref(), limit).await?;
            for e in &errori {
                println!(
                    "{}\t{}\t{reason}\t{}\t{}",
                    e.numero_richiesta,
                    e.kind,
                    e.tentativi,
                    e.errore.replace(['\n', '\t'], " ")
                );
            }
            eprintln!("{} dead letter(s) listed", errori.len());
        }
        DlqCommand::Replay { n } => {
            let replayed = crate::dlq::replay(store.as_ref(), n).await?;
            for e in &replayed {
                println!("{}\t{}\treplayed", e.numero_richiesta, e.kind);
            }
            eprintln!(
                "{} dead letter(s) replayed (the outbox relays of the running processes publish them)",
                replayed.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
