//! One module per command of `cigo`: each owns its clap arguments (flattening the flag groups of
//! [`crate::config`] it uses, so its `--help` shows only those) and its `run`. `cli.rs` assembles
//! them.

pub mod admin;
pub mod archivio;
pub mod csv;
pub mod generate;
pub mod migrate;
pub mod output;
pub mod regole;
pub mod server;
pub mod validate;
