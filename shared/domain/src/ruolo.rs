//! Who may do what through the API.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Ruolo {
    /// Uploads, reads, approves and deletes its own richieste only.
    Intermediario,
    /// Support staff: reads every richiesta, changes nothing ("emulazione").
    Operatore,
    /// Operates the service: everything an operatore can, plus administration.
    Admin,
}

impl Ruolo {
    pub fn as_str(self) -> &'static str {
        match self {
            Ruolo::Intermediario => "intermediario",
            Ruolo::Operatore => "operatore",
            Ruolo::Admin => "admin",
        }
    }

    /// May read richieste of every intermediario.
    pub fn reads_all(self) -> bool {
        matches!(self, Ruolo::Operatore | Ruolo::Admin)
    }

    /// May upload, approve and delete (its own richieste).
    pub fn may_change(self) -> bool {
        matches!(self, Ruolo::Intermediario)
    }
}

impl fmt::Display for Ruolo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ruolo {
    type Err = crate::stato::UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "intermediario" => Ok(Ruolo::Intermediario),
            "operatore" => Ok(Ruolo::Operatore),
            "admin" => Ok(Ruolo::Admin),
            other => Err(crate::stato::UnknownState(other.to_string())),
        }
    }
}
