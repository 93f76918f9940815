//! `cigo admin dlq list|replay` (issue 4): the jobs that failed for good.
//!
//! A job whose transient failures outlast `--job-max-attempts`, or that failed permanently (the
//! parser crashed on the file), is recorded on its richiesta (`errore_elaborazione`, shown to its
//! owner) and its message rejected to the RabbitMQ dead-letter queue `{prefix}cigo.dead`; the
//! broker also dead-letters a message returned more than `x-delivery-limit` times. `list` shows
//! them (and leaves them there); `replay [N]` replays the first N (all by default): for each, one
//! transaction deletes the recorded failure and writes an outbox row, then the dead letter is
//! removed. The relays of the running processes publish the job again. In the embedded mode
//! (no `--amqp-url`) the in-process queue keeps no dead letters: the same commands work on the
//! failures recorded in the database.

use crate::config::Settings;
use anyhow::Context;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Lists the dead letters (numero, job, why, attempts, the error recorded on the richiesta).
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

pub async fn run(settings: &Settings, command: DlqCommand) -> anyhow::Result<ExitCode> {
    let Some(url) = settings.amqp_url.as_deref() else {
        return embedded(settings, command).await;
    };
    let queue = cigo_queue::rabbitmq::RabbitQueue::connect(url, &settings.queue_prefix)
        .await
        .context("cannot connect to RabbitMQ")?;
    let store = cigo_store::connect(&settings.database_url(), 2).await?;
    let dead = queue.dead_letters().await?;
    match command {
        DlqCommand::List { limit } => {
            println!("numero\tjob\treason\tcount\terrore_elaborazione");
            let mut held = Vec::new();
            while held.len() < limit {
                let Some(letter) = dead.next().await? else { break };
                let (numero, kind) = match &letter.message {
                    Some(m) => (m.numero_richiesta.to_string(), m.kind.to_string()),
                    None => ("?".into(), format!("(undecodable: {:.60})", letter.body)),
                };
                let errore = match &letter.message {
                    Some(m) => store
                        .errore_elaborazione(m.numero_richiesta)
                        .await?
                        .map(|e| e.errore)
                        .unwrap_or_default(),
                    None => String::new(),
                };
                println!(
                    "{numero}\t{kind}\t{}\t{}\t{}",
                    letter.reason.as_deref().unwrap_or("-"),
                    letter
                        .count
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "-".into()),
                    errore.replace(['\n', '\t'], " ")
                );
                held.push(letter);
            }
            let listed = held.len();
            // Left where they were.
            for letter in held {
                letter.keep().await?;
            }
            eprintln!("{listed} dead letter(s) listed");
        }
        DlqCommand::Replay { n } => {
            let n = n.unwrap_or(usize::MAX);
            let mut replayed = 0usize;
            let mut skipped = Vec::new();
            while replayed < n {
                let Some(letter) = dead.next().await? else { break };
                let Some(message) = letter.message.clone() else {
                    // Held until the end (given back when we are done), so it is not read again.
                    eprintln!("skipping an undecodable dead letter: {:.80}", letter.body);
                    skipped.push(letter);
                    continue;
                };
                match store
                    .replay_job(message.numero_richiesta, message.kind)
                    .await
                {
                    Ok(()) | Err(cigo_store::StoreError::NotFound(_)) => {
                        letter.remove().await?;
                        println!("{}\t{}\treplayed", message.numero_richiesta, message.kind);
                        replayed += 1;
                    }
                    Err(e) => {
                        letter.keep().await?;
                        return Err(e).context(format!("cannot replay richiesta {}", message.numero_richiesta));
                    }
                }
            }
            for letter in skipped {
                letter.keep().await?;
            }
            eprintln!("{replayed} dead letter(s) replayed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The embedded mode: the in-process queue has no dead-letter queue, so the dead letters are the
/// failures recorded on the richieste (`Store::list_errori_elaborazione`).
async fn embedded(settings: &Settings, command: DlqCommand) -> anyhow::Result<ExitCode> {
    crate::cli::ensure_data_dir(settings)?;
    let store = cigo_store::connect(&settings.database_url(), 1).await?;
    store.migrate().await?;
    match command {
        DlqCommand::List { limit } => {
            println!("numero\tjob\treason\tcount\terrore_elaborazione");
            let errori = store
                .list_errori_elaborazione(limit.min(i64::MAX as usize) as i64)
                .await?;
            for e in &errori {
                println!(
                    "{}\t{}\tfailed\t{}\t{}",
                    e.numero_richiesta,
                    e.kind,
                    e.tentativi,
                    e.errore.replace(['\n', '\t'], " ")
                );
            }
            eprintln!("{} dead letter(s) listed", errori.len());
        }
        DlqCommand::Replay { n } => {
            let limit = n
                .map(|n| n.min(i64::MAX as usize) as i64)
                .unwrap_or(i64::MAX);
            let errori = store.list_errori_elaborazione(limit).await?;
            for e in &errori {
                store.replay_job(e.numero_richiesta, e.kind).await?;
                println!("{}\t{}\treplayed", e.numero_richiesta, e.kind);
            }
            eprintln!("{} dead letter(s) replayed (the running `cigo serve` picks them up)", errori.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
