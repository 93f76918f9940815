//! # cigo (the service)
//!
//! Thin wiring of the shared crates into one binary with subcommands:
//!
//! - [`service`]: every use case (upload, search, esito, approve, delete, attestati, audit) as
//!   one function that checks access, writes the audit row and applies the state handling.
//! - [`api`]: the HTTP API (axum), the first adapter over [`service`].
//! - [`relay`]: publishes outbox rows to the queue (publisher confirms), runs in every process.
//! - [`worker`]: consumes `prevalidazione` jobs, streams the file through the domain rules and
//!   commits the esito in one transaction.
//! - [`sender`]: consumes `invio` jobs: archive re-validation, protocol numbers, attestato di
//!   consegna.
//! - [`cli`], [`cmd`] and [`config`]: the command line (one module per command), environment
//!   and config file.
//! - [`dlq`]: the dead letters, recorded on the richieste.
//! - [`sweep`]: removes orphan blobs and spool files, at start and every hour.
//! - [`http`]: the HTTP server under the adapters, with the bounds of a port open to anyone.
//!
//! Data flows one way: HTTP -> store + outbox -> queue -> worker/sender -> store.

pub mod api;
pub mod app;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod console;
pub mod dlq;
pub mod http;
pub mod job;
pub mod jobs;
pub mod offline;
pub mod relay;
pub mod retention;
pub mod sender;
pub mod service;
pub mod sweep;
pub mod telemetry;
pub mod worker;
