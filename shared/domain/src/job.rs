//! The two kinds of background work. A queue message only says "look at richiesta N for this job";
//! the database says what there is to do.

use crate::str_enum::str_enum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Prevalidate a richiesta in `RICEVUTA` (done by `cigo worker`).
    Prevalidazione,
    /// Send an approved richiesta: re-validate, protocol, issue the attestato di consegna (`cigo sender`).
    Invio,
}

str_enum!(JobKind { Prevalidazione => "prevalidazione", Invio => "invio" });
