//! `cigo admin purga [--dry-run] [--as-of YYYY-MM-DD]`: the retention of personal data, run by
//! hand (the reaper runs the same use case once a day, [`crate::service::purga`]). Prints one line
//! per richiesta due or purged, then the totals on stderr.

use crate::config::{BlobArgs, RetentionArgs, Settings};
use crate::service::purga::{self, VocePurga};
use anyhow::Context;
use chrono::{NaiveDate, NaiveTime, SecondsFormat, Utc};
use std::process::ExitCode;

/// Who the audit rows of a purge run by hand name.
const ACTOR: &str = "admin:cli (cigo admin purga)";

#[derive(Debug, clap::Args)]
pub struct PurgaArgs {
    /// Only list what would be purged: nothing is written or deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Judge the retention as at 00:00 UTC of this day (YYYY-MM-DD) instead of now: for replays
    /// and tests. A day in the future purges what will be due by then.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub blob: BlobArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
}

pub async fn run(args: PurgaArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let as_of = args
        .as_of
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .unwrap_or_else(Utc::now);
    if purga::criterio(settings, as_of).is_off() {
        eprintln!("retention is off (--retention-eliminate-days and --retention-days are 0): nothing to purge");
        return Ok(ExitCode::SUCCESS);
    }
    let store = crate::app::open_store(settings, 2).await?;
    let blob = cigo_blob::open(&settings.blob_url()).context("cannot open the blob store")?;
    println!("numero\tstato\tdal\tregola\tesito");
    let line = |v: &VocePurga| {
        let c = &v.candidato;
        let esito = match &v.eseguita {
            None => "da purgare".to_string(),
            Some(e) => format!("purgata (domande {}, findings {}, attestati {})", e.domande, e.findings, e.attestati),
        };
        println!(
            "{}\t{}\t{}\t{}\t{esito}",
            c.numero,
            c.stato,
            c.dal.to_rfc3339_opts(SecondsFormat::Secs, true),
            c.regola
        );
    };
    let totali = purga::purga(store.as_ref(), blob.as_ref(), settings, as_of, args.dry_run, ACTOR, line).await?;
    if args.dry_run {
        eprintln!("dry run: {} richiesta(e) would be purged; nothing changed", totali.richieste);
    } else {
        eprintln!(
            "{} richiesta(e) purged: {} domande, {} attestati, {} blob(s) deleted, {} blob(s) left for the next run",
            totali.richieste, totali.domande, totali.attestati, totali.blob_rimossi, totali.blob_non_rimossi
        );
    }
    Ok(ExitCode::SUCCESS)
}
