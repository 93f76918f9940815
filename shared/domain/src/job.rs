//! The two kinds of background work. A queue message only says "look at richiesta N for this job";
//! the database says what there is to do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Prevalidate a richiesta in `RICEVUTA` (done by `cigo worker`).
    Prevalidazione,
    /// Send an approved richiesta: re-validate, protocol, issue the attestato di consegna (`cigo sender`).
    Invio,
}

impl JobKind {
    pub const ALL: [JobKind; 2] = [JobKind::Prevalidazione, JobKind::Invio];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Prevalidazione => "prevalidazione",
            JobKind::Invio => "invio",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = crate::stato::UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| crate::stato::UnknownState(s.to_string()))
    }
}
