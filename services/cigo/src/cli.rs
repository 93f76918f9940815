//! The command line of `cigo`: assembles the commands of [`crate::cmd`], each of which owns its
//! arguments and its `run`.

use crate::cmd;
use crate::config::{Settings, Sources};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "cigo", version, about = "Bulk upload, prevalidation and sending of CIGO domande")]
pub struct Cli {
    /// A TOML file with the settings (keys as the flags: `database_url = "…"`); flags and
    /// environment win over it.
    #[arg(long, global = true, env = "CIGO_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Embedded mode: API, prevalidation workers and sender in one process, SQLite database,
    /// blobs under --data-dir, in-process queue (or RabbitMQ / PostgreSQL when given).
    Serve(cmd::server::ServerCommandArgs),
    /// The HTTP API alone (production; several may run at once).
    Api(cmd::server::ServerCommandArgs),
    /// Prevalidation workers alone (production; several may run at once).
    Worker(cmd::server::ServerCommandArgs),
    /// The sender alone (production; several may run at once).
    Sender(cmd::server::ServerCommandArgs),
    /// Applies the database migrations and exits.
    Migrate(cmd::migrate::MigrateArgs),
    /// Administration.
    Admin(cmd::admin::AdminArgs),
    /// The archive the layer-5 rules check against: imports from earlier records.
    Archivio(cmd::archivio::ArchivioArgs),
    /// Writes a realistic synthetic richiesta (deterministic for a seed).
    Generate(cmd::generate::GenerateArgs),
    /// Runs the server's prevalidation rules on a file, offline. Exit code 0: every domanda valid
    /// (warnings allowed); 1: some domanda rejected; 2: the file is rejected as a whole.
    ///
    /// Without a database, the layers 1-4 (what needs no archive). With `--database-url` also the
    /// archive rules (layer 5) against that database, and with `--intermediario` the deleghe as
    /// the server checks them: the same verdict the server would give on upload.
    Validate(cmd::validate::ValidateArgs),
    /// Prints the rule catalogue (code, layer, severity, description, legal basis).
    Regole(cmd::regole::RegoleArgs),
}

pub fn main() -> ExitCode {
    let (cli, sources) = match parse(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(e) => return usage_error(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, &sources)) {
        Ok(code) => code,
        Err(e) if e.is::<crate::config::ConfigError>() => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the command line: the commands, and where the settings come from.
pub fn parse<I, T>(args: I) -> Result<(Cli, Sources), clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = with_defaults(Cli::command()).try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let mut given = std::collections::BTreeSet::new();
    given_settings(&matches, &mut given);
    let sources = Sources { file: cli.config.clone(), given };
    Ok((cli, sources))
}

/// Shows the default of every setting in `--help`, taken from [`Settings::default`] (the one
/// place defaults are written).
fn with_defaults(cmd: clap::Command) -> clap::Command {
    let defaults = Settings::default_values();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.mut_args(|arg| {
        match defaults
            .iter()
            .find(|(key, _)| key.as_str() == arg.get_id().as_str())
        {
            Some((_, value)) => arg.default_value(value.clone()),
            None => arg,
        }
    });
    for name in names {
        cmd = cmd.mut_subcommand(name, with_defaults);
    }
    cmd
}

/// The ids of the arguments given on the command line or in the environment. Read on the
/// innermost subcommand: the setting groups of an outer one (`admin`) are global, and clap
/// propagates them there.
fn given_settings(matches: &ArgMatches, out: &mut std::collections::BTreeSet<String>) {
    if let Some((_, sub)) = matches.subcommand() {
        return given_settings(sub, out);
    }
    for id in matches.ids() {
        if matches!(matches.value_source(id.as_str()), Some(ValueSource::CommandLine | ValueSource::EnvVariable)) {
            out.insert(id.to_string());
        }
    }
}

/// A value clap refused (a flag or its `CIGO_*` variable) is one line naming the setting; other
/// usage errors (and `--help`) as clap prints them.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let rendered = e.render().to_string();
            let line = rendered.lines().next().unwrap_or("error: invalid value");
            // The flag may have come from its variable: name both.
            let variable = match e.get(clap::error::ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::String(arg)) => arg
                    .strip_prefix("--")
                    .and_then(|a| a.split_whitespace().next())
                    .map(|flag| format!(" (or CIGO_{})", flag.to_ascii_uppercase().replace('-', "_"))),
                _ => None,
            };
            eprintln!("{line}{}", variable.unwrap_or_default());
            ExitCode::from(2)
        }
        _ => {
            let _ = e.print();
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
    }
}

async fn run(command: Command, sources: &Sources) -> anyhow::Result<ExitCode> {
    use cmd::server::Process;
    match command {
        Command::Serve(args) => cmd::server::run(Process::SERVE, args, sources).await,
        Command::Api(args) => cmd::server::run(Process::API, args, sources).await,
        Command::Worker(args) => cmd::server::run(Process::WORKER, args, sources).await,
        Command::Sender(args) => cmd::server::run(Process::SENDER, args, sources).await,
        Command::Migrate(args) => cmd::migrate::run(args, sources).await,
        Command::Admin(args) => cmd::admin::run(args, sources).await,
        Command::Archivio(args) => cmd::archivio::run(args, sources).await,
        Command::Generate(args) => cmd::generate::run(args),
        Command::Validate(args) => cmd::validate::run(args, sources).await,
        Command::Regole(args) => cmd::regole::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help(args: &[&str]) -> String {
        let mut all = vec!["cigo"];
        all.extend(args);
        all.push("--help");
        parse(all).unwrap_err().render().to_string()
    }

    #[test]
    fn each_command_shows_only_the_options_it_uses() {
        let validate = help(&["validate"]);
        assert!(validate.contains("--database-url"), "{validate}");
        assert!(!validate.contains("--worker-concurrency") && !validate.contains("--listen"), "{validate}");
        assert!(validate.lines().count() < 45, "{validate}");
        let token = help(&["admin", "token", "create"]);
        assert!(token.contains("--data-dir") && !token.contains("--amqp-url"), "{token}");
        let dlq = help(&["admin", "dlq", "list"]);
        assert!(dlq.contains("--amqp-url") && !dlq.contains("--listen"), "{dlq}");
        let serve = help(&["serve"]);
        assert!(serve.contains("--worker-concurrency") && serve.contains("[default: 2]"), "{serve}");
        assert!(serve.contains("CIGO_WORKER_CONCURRENCY"), "{serve}");
        assert!(serve.contains("--blob-url") && serve.contains("CIGO_RETENTION_DAYS"), "{serve}");
        let purga = help(&["admin", "purga"]);
        for flag in
            ["--dry-run", "--as-of", "--blob-url", "--retention-days", "--retention-eliminate-days", "--data-dir"]
        {
            assert!(purga.contains(flag), "{flag}: {purga}");
        }
        assert!(purga.contains("[default: 30]") && !purga.contains("--listen"), "{purga}");
    }

    #[test]
    fn the_retention_settings_come_from_the_flags_of_admin_purga() {
        let (cli, sources) =
            parse(["cigo", "admin", "purga", "--dry-run", "--retention-days", "3653", "--as-of", "2030-01-31"])
                .unwrap();
        let Command::Admin(cmd::admin::AdminArgs { command: cmd::admin::AdminCommand::Purga(purga), .. }) = cli.command
        else {
            panic!("not admin purga");
        };
        assert!(purga.dry_run);
        assert_eq!(purga.as_of, chrono::NaiveDate::from_ymd_opt(2030, 1, 31));
        let s = sources
            .settings(&[sources.layer(&purga.retention)])
            .unwrap();
        assert_eq!((s.retention_days, s.retention_eliminate_days), (3653, 30));
    }

    #[test]
    fn only_what_was_given_is_a_layer() {
        let (_, sources) = parse(["cigo", "serve", "--worker-concurrency", "3", "--no-migrate"]).unwrap();
        assert!(sources.given.contains("worker_concurrency") && sources.given.contains("no_migrate"));
        assert!(!sources.given.contains("listen"), "{:?}", sources.given);
    }

    #[test]
    fn the_settings_of_an_outer_command_are_seen_by_the_inner_one() {
        let (_, sources) = parse(["cigo", "admin", "token", "list", "--data-dir", "/x"]).unwrap();
        assert!(sources.given.contains("data_dir"), "{:?}", sources.given);
        let (_, sources) =
            parse(["cigo", "admin", "--data-dir", "/x", "dlq", "list", "--amqp-url", "amqp://h"]).unwrap();
        assert!(sources.given.contains("data_dir") && sources.given.contains("amqp_url"), "{:?}", sources.given);
    }

    #[test]
    fn a_bad_value_is_refused_by_name() {
        let e = parse(["cigo", "serve", "--log-format", "yaml"]).unwrap_err();
        let first = e.render().to_string();
        let first = first.lines().next().unwrap();
        assert!(first.contains("--log-format") && first.contains("yaml"), "{first}");
    }
}
