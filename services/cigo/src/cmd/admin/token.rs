//! `cigo admin token create | list | revoke`.

use crate::config::Settings;
use cigo_domain::Ruolo;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints it, alone, on stdout (it is shown only once: only its hash is kept).
    Create {
        /// Codice fiscale of the intermediario the token acts for.
        #[arg(long)]
        intermediario: String,
        /// A note to recognise the token by.
        #[arg(long)]
        nome: Option<String>,
        /// intermediario (default), operatore or admin.
        #[arg(long, default_value = "intermediario")]
        ruolo: String,
        /// Days of validity (default: no expiry).
        #[arg(long)]
        giorni: Option<i64>,
    },
    /// Lists the tokens (id, intermediario, ruolo, dates, state); never a secret.
    List {
        /// Only the tokens of this intermediario.
        #[arg(long)]
        intermediario: Option<String>,
    },
    /// Revokes a token at once (by the id shown by `list`).
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

pub async fn run(command: TokenCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create { intermediario, nome, ruolo, giorni } => {
            let ruolo: Ruolo = ruolo.parse().map_err(|e| anyhow::anyhow!("--ruolo: {e}"))?;
            let store = crate::app::open_store(settings, 1).await?;
            let token = crate::api::auth::new_token();
            let expires = giorni.map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            store
                .create_token(
                    &crate::api::auth::hash_token(&token),
                    intermediario.trim(),
                    nome.as_deref(),
                    ruolo,
                    expires,
                )
                .await?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { intermediario } => {
            let store = crate::app::open_store(settings, 1).await?;
            let now = chrono::Utc::now();
            println!("id\tintermediario\truolo\tstato\tcreato\tscadenza\trevocato\tnome");
            for t in store
                .list_tokens(intermediario.as_deref().map(str::trim))
                .await?
            {
                let stato = if t.revoked_at.is_some() {
                    "revocato"
                } else if t.expires_at.is_some_and(|e| e <= now) {
                    "scaduto"
                } else {
                    "attivo"
                };
                let ts = |t: Option<cigo_store::Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.intermediario,
                    t.ruolo,
                    stato,
                    t.created_at.to_rfc3339(),
                    ts(t.expires_at),
                    ts(t.revoked_at),
                    t.nome.as_deref().unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id } => {
            let store = crate::app::open_store(settings, 1).await?;
            match store.revoke_token(id).await? {
                Some(t) => {
                    eprintln!("token {} of {} ({}) revoked", t.id, t.intermediario, t.ruolo);
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("error: no token with id {id}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
