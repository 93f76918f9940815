//! The state machines of a richiesta and of a domanda.
//!
//! Every change of state of a richiesta goes through [`StatoRichiesta::apply`], which looks the
//! pair (state, event) up in one table, [`TRANSITIONS`]. Nothing else in the code base decides
//! which transitions are legal: the store only performs a compare-and-set from the state this
//! function was asked about to the state it returned.

use crate::str_enum::str_enum;
use serde::{Deserialize, Serialize};

/// Where a richiesta (one uploaded file) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatoRichiesta {
    /// Accepted and stored; waiting for a worker ("XML inserito per la validazione").
    Ricevuta,
    /// A worker is prevalidating it ("XML in fase di elaborazione").
    InElaborazione,
    /// Prevalidated; at least one domanda is valid. Waiting for approva all'invio or elimina.
    Prevalidata,
    /// Rejected at prevalidation: file-level failure, or every domanda rejected.
    Scartata,
    /// Approved for sending (the attestato di trasmissione is issued now).
    Approvata,
    /// The sender is re-validating and protocolling its domande.
    InInvio,
    /// Sent: at least one domanda got its protocol number (attestato di consegna issued).
    Consegnata,
    /// Every domanda was rejected at sending time.
    ScartataInInvio,
    /// Deleted by its owner; kept for audit.
    Eliminata,
}

/// What can happen to a richiesta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A worker picked the richiesta up.
    StartProcessing,
    /// Prevalidation ended with at least one valid domanda.
    Prevalidated,
    /// Prevalidation ended with a file-level failure or with every domanda rejected.
    Rejected,
    /// The owner (or direct mode, by itself) approved the richiesta for sending.
    Approve,
    /// The sender picked the richiesta up.
    StartSending,
    /// Sending ended with at least one domanda protocollata.
    Delivered,
    /// Sending ended with every domanda rejected.
    RejectedInSending,
    /// The owner deleted the richiesta.
    Delete,
}

use Event as E;
use StatoRichiesta as S;

/// The whole state machine of a richiesta: (from, event, to).
pub const TRANSITIONS: &[(StatoRichiesta, Event, StatoRichiesta)] = &[
    (S::Ricevuta, E::StartProcessing, S::InElaborazione),
    (S::InElaborazione, E::Prevalidated, S::Prevalidata),
    (S::InElaborazione, E::Rejected, S::Scartata),
    (S::Prevalidata, E::Approve, S::Approvata),
    (S::Approvata, E::StartSending, S::InInvio),
    (S::InInvio, E::Delivered, S::Consegnata),
    (S::InInvio, E::RejectedInSending, S::ScartataInInvio),
    (S::Ricevuta, E::Delete, S::Eliminata),
    (S::Prevalidata, E::Delete, S::Eliminata),
    (S::Scartata, E::Delete, S::Eliminata),
];

/// An event that the current state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("la richiesta è nello stato {from} e non consente l'operazione {event:?}")]
pub struct TransitionError {
    pub from: StatoRichiesta,
    pub event: Event,
}

impl StatoRichiesta {
    /// The state after `event`, or the error that says the current state forbids it.
    pub fn apply(self, event: Event) -> Result<StatoRichiesta, TransitionError> {
        TRANSITIONS
            .iter()
            .find(|(from, ev, _)| *from == self && *ev == event)
            .map(|(_, _, to)| *to)
            .ok_or(TransitionError { from: self, event })
    }

    /// The states from which `event` is allowed.
    pub fn sources_of(event: Event) -> Vec<StatoRichiesta> {
        TRANSITIONS
            .iter()
            .filter(|(_, ev, _)| *ev == event)
            .map(|(from, _, _)| *from)
            .collect()
    }

    /// No further transition can leave this state.
    pub fn is_final(self) -> bool {
        !TRANSITIONS.iter().any(|(from, _, _)| *from == self)
    }

    /// The "esito elaborazione" a person reads, in the words of the INPS screens.
    pub fn descrizione(self) -> &'static str {
        match self {
            S::Ricevuta => "XML inserito per la validazione",
            S::InElaborazione => "XML in fase di elaborazione",
            S::Prevalidata => "Validazione preventiva completata: la richiesta può essere approvata all'invio",
            S::Scartata => "Tutte le domande sono state scartate in fase di validazione preventiva",
            S::Approvata => "Richiesta approvata all'invio, in attesa di trasmissione",
            S::InInvio => "Richiesta in fase d'invio",
            S::Consegnata => "Richiesta consegnata: le domande valide sono state protocollate",
            S::ScartataInInvio => "Tutte le domande sono state scartate in fase d'invio",
            S::Eliminata => "Richiesta eliminata",
        }
    }
}

str_enum!(StatoRichiesta {
    Ricevuta => "RICEVUTA",
    InElaborazione => "IN_ELABORAZIONE",
    Prevalidata => "PREVALIDATA",
    Scartata => "SCARTATA",
    Approvata => "APPROVATA",
    InInvio => "IN_INVIO",
    Consegnata => "CONSEGNATA",
    ScartataInInvio => "SCARTATA_IN_INVIO",
    Eliminata => "ELIMINATA",
});

pub use crate::str_enum::UnknownState;

/// Where a single domanda stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EsitoDomanda {
    /// Passed every rule.
    Valida,
    /// Passed, with warnings (severity AVVISO).
    ValidaConAvvisi,
    /// At least one finding with severity ERRORE.
    Scartata,
    /// Sent and protocollata: it has a protocol number.
    Protocollata,
    /// Rejected by the re-validation at sending time.
    ScartataInInvio,
}

impl EsitoDomanda {
    /// Valid at prevalidation: the sender will try to protocol it.
    pub fn is_sendable(self) -> bool {
        matches!(self, EsitoDomanda::Valida | EsitoDomanda::ValidaConAvvisi)
    }
}

str_enum!(EsitoDomanda {
    Valida => "VALIDA",
    ValidaConAvvisi => "VALIDA_CON_AVVISI",
    Scartata => "SCARTATA",
    Protocollata => "PROTOCOLLATA",
    ScartataInInvio => "SCARTATA_IN_INVIO",
});

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [Event; 8] = [
        E::StartProcessing,
        E::Prevalidated,
        E::Rejected,
        E::Approve,
        E::StartSending,
        E::Delivered,
        E::RejectedInSending,
        E::Delete,
    ];

    #[test]
    fn the_happy_path_reaches_consegnata() {
        let mut s = S::Ricevuta;
        for ev in [E::StartProcessing, E::Prevalidated, E::Approve, E::StartSending, E::Delivered] {
            s = s.apply(ev).unwrap();
        }
        assert_eq!(s, S::Consegnata);
        assert!(s.is_final());
    }

    #[test]
    fn every_pair_outside_the_table_is_refused() {
        for from in StatoRichiesta::ALL {
            for ev in EVENTS {
                let in_table = TRANSITIONS.iter().any(|(f, e, _)| *f == from && *e == ev);
                assert_eq!(from.apply(ev).is_ok(), in_table, "{from} {ev:?}");
            }
        }
    }

    #[test]
    fn delete_is_allowed_only_before_approval() {
        let mut sources = StatoRichiesta::sources_of(E::Delete);
        sources.sort_by_key(|s| s.as_str());
        assert_eq!(sources, vec![S::Prevalidata, S::Ricevuta, S::Scartata]);
        assert!(S::Approvata.apply(E::Delete).is_err());
        assert!(S::InElaborazione.apply(E::Delete).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in StatoRichiesta::ALL {
            assert_eq!(s.as_str().parse::<StatoRichiesta>().unwrap(), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        for e in EsitoDomanda::ALL {
            assert_eq!(e.as_str().parse::<EsitoDomanda>().unwrap(), e);
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{}\"", e.as_str()));
        }
    }
}
