//! `cigo serve | api | worker | sender`: the long-running processes. They differ only in the
//! [`Roles`] they run; [`start`] is the one place where the loops of a role are started.

use crate::app::{cancel_on_signal, init_telemetry, App, BrokerAtStart};
use crate::config::{BlobArgs, LogArgs, QueueArgs, RetentionArgs, ServerArgs, Sources, StoreArgs};
use crate::service::Service;
use anyhow::Context;
use cigo_domain::JobKind;
use std::process::ExitCode;
use std::time::Duration;
use tokio::task::JoinSet;

/// The flags of a server process: every flag group.
#[derive(Debug, clap::Args)]
pub struct ServerCommandArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub queue: QueueArgs,
    #[command(flatten)]
    pub blob: BlobArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// The loops a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles {
    /// The HTTP API on `--listen` (with the SLA gauges on its `/metrics`).
    pub api: bool,
    /// Prevalidation consumers, `--worker-concurrency` of them.
    pub worker: bool,
    /// Sending consumers, `--sender-concurrency` of them.
    pub sender: bool,
    /// The SLA reaper (re-queues unfinished richieste, keeps the SLA gauges), the drain of
    /// the queue's dead letters into the failures recorded on the richieste, and the daily
    /// retention purge.
    pub reaper: bool,
    /// The outbox relay (publishes what this and other processes committed).
    pub relay: bool,
}

impl Roles {
    pub const ALL: Roles = Roles { api: true, worker: true, sender: true, reaper: true, relay: true };
}

/// One kind of server process: its command, the name it reports to telemetry, its roles and
/// whether it applies the migrations at start (unless `--no-migrate`).
#[derive(Debug, Clone, Copy)]
pub struct Process {
    pub command: &'static str,
    pub service: &'static str,
    pub roles: Roles,
    pub migrates: bool,
}

impl Process {
    pub const SERVE: Process = Process { command: "serve", service: "cigo", roles: Roles::ALL, migrates: true };
    pub const API: Process = Process {
        command: "api",
        service: "cigo-api",
        roles: Roles { api: true, relay: true, worker: false, sender: false, reaper: false },
        migrates: true,
    };
    pub const WORKER: Process = Process {
        command: "worker",
        service: "cigo-worker",
        roles: Roles { worker: true, reaper: true, relay: true, api: false, sender: false },
        migrates: false,
    };
    pub const SENDER: Process = Process {
        command: "sender",
        service: "cigo-sender",
        roles: Roles { sender: true, relay: true, api: false, worker: false, reaper: false },
        migrates: false,
    };

    /// A process that runs only some roles shares the work with other processes: through a
    /// broker, never the in-process queue.
    pub fn needs_broker(&self) -> bool {
        self.roles != Roles::ALL
    }
}

pub async fn run(process: Process, args: ServerCommandArgs, sources: &Sources) -> anyhow::Result<ExitCode> {
    let settings = sources.settings(&[
        sources.layer(&args.store),
        sources.layer(&args.queue),
        sources.layer(&args.blob),
        sources.layer(&args.retention),
        sources.layer(&args.server),
        sources.layer(&args.log),
    ])?;
    let service = process.service;
    let _telemetry = init_telemetry(&settings, service);
    if process.needs_broker() && settings.amqp_url.is_none() {
        anyhow::bail!(
            "`cigo {}` runs as a separate process and needs --amqp-url (the in-process queue works only with `cigo serve`)",
            process.command
        );
    }
    if process.needs_broker() && settings.database_url.is_none() {
        anyhow::bail!(
            "`cigo {}` shares its work with other processes and needs PostgreSQL (--database-url, CIGO_DATABASE_URL); the embedded SQLite database serves `cigo serve` alone",
            process.command
        );
    }
    let migrate = process.migrates && !settings.no_migrate;
    // The API takes uploads while the broker is down (the outbox is in the database).
    let broker = if process.roles.api { BrokerAtStart::GoOn } else { BrokerAtStart::Wait };
    let app = App::open_with(settings, migrate, broker).await?;
    crate::telemetry::prometheus();
    cancel_on_signal(app.shutdown.clone());
    tracing::info!(database = app.store.backend(), queue = app.queue.backend(), "{service} starting");

    if app.queue.backend() == "memory" {
        // The in-process queue lost whatever it held when the process stopped: queue again
        // everything unfinished.
        let n = app.store.requeue_stale(Duration::ZERO).await?;
        if n > 0 {
            tracing::info!(requeued = n, "unfinished richieste queued again after restart");
        }
        // This process is the only relay of its queue: a lease is its previous life's.
        let n = app.store.release_all_outbox_leases().await?;
        if n > 0 {
            tracing::info!(released = n, "outbox leases of the previous run ended");
        }
    }
    let mut tasks = JoinSet::new();
    start(&app, process.roles, &mut tasks).await?;

    app.shutdown.cancelled().await;
    let grace = Duration::from_secs(app.settings.shutdown_grace_secs);
    if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!(?grace, "grace period over, stopping with work in flight (it will be redelivered)");
    }
    tracing::info!("{service} stopped");
    Ok(ExitCode::SUCCESS)
}

/// Starts the loops of `roles` on `tasks`, and the operations endpoints on `--admin-listen`
/// when it is set. Binding a port is the only step that can fail here.
pub async fn start(app: &App, roles: Roles, tasks: &mut JoinSet<()>) -> anyhow::Result<()> {
    if let Some(addr) = &app.settings.admin_listen {
        let listener = bind(addr).await?;
        let router = crate::api::operations::router().with_state(Service::new(app.clone()));
        tasks.spawn(serve(app.clone(), listener, router, "operations endpoints"));
    }
    // The dependency gauges stay current even when nobody probes /readyz.
    tasks.spawn(watch_dependencies(Service::new(app.clone()), app.clone()));
    if roles.relay {
        tasks.spawn(crate::relay::run(app.clone()));
    }
    if roles.api {
        let listener = bind(&app.settings.listen).await?;
        // One service, two adapters: the console at `/`, the JSON API under `/api/v1`.
        let service = Service::new(app.clone());
        let router = crate::console::router(service.clone()).merge(crate::api::router_over(service));
        tasks.spawn(serve(app.clone(), listener, router, "API and console"));
    }
    // The SLA and queue-lag gauges, on every process's /metrics.
    tasks.spawn(crate::relay::run_sla_gauges(app.clone()));
    if roles.reaper || roles.api {
        tasks.spawn(crate::sweep::run(app.clone(), roles.reaper, roles.api));
    }
    if roles.worker {
        tasks.spawn(crate::jobs::run(app.clone(), JobKind::Prevalidazione, app.settings.worker_concurrency));
    }
    if roles.sender {
        tasks.spawn(crate::jobs::run(app.clone(), JobKind::Invio, app.settings.sender_concurrency));
    }
    if roles.reaper {
        tasks.spawn(crate::relay::run_reaper(app.clone()));
        tasks.spawn(crate::dlq::run_drain(app.clone()));
        tasks.spawn(crate::retention::run(app.clone()));
    }
    Ok(())
}

async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// Serves `router` on `listener` until shutdown; `what` names it in the logs.
async fn serve(app: App, listener: tokio::net::TcpListener, router: axum::Router, what: &'static str) {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let limits = crate::http::ConnectionLimits::of(&app.settings);
    tracing::info!(%addr, max_connections = limits.max_connections, "{what} listening on http://{addr}");
    crate::http::serve(listener, router, limits, app.shutdown.clone(), what).await;
}

/// Checks the dependencies every 15 s (the readiness check sets `cigo_dependency_up`).
async fn watch_dependencies(service: Service, app: App) {
    loop {
        if let Err(e) = service.readiness().await {
            tracing::warn!(error = %e, "a dependency is down");
        }
        if !app.pause(Duration::from_secs(15)).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_runs_every_role_the_others_need_a_broker() {
        assert_eq!(Process::SERVE.roles, Roles::ALL);
        assert!(!Process::SERVE.needs_broker());
        for p in [Process::API, Process::WORKER, Process::SENDER] {
            assert!(p.needs_broker(), "{p:?}");
            assert!(p.roles.relay, "every process relays the outbox: {p:?}");
        }
        let all = [Process::SERVE, Process::API, Process::WORKER, Process::SENDER];
        let reapers: Vec<&str> = all
            .iter()
            .filter(|p| p.roles.reaper)
            .map(|p| p.command)
            .collect();
        assert_eq!(reapers, ["serve", "worker"], "the reaper and the dead-letter drain run beside the workers");
    }
}
