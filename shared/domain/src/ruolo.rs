//! Who may do what through the API.

use crate::str_enum::str_enum;
use serde::{Deserialize, Serialize};

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
    /// May read richieste of every intermediario.
    pub fn reads_all(self) -> bool {
        matches!(self, Ruolo::Operatore | Ruolo::Admin)
    }

    /// May upload, approve and delete (its own richieste).
    pub fn may_change(self) -> bool {
        matches!(self, Ruolo::Intermediario)
    }
}

str_enum!(Ruolo { Intermediario => "intermediario", Operatore => "operatore", Admin => "admin" });
