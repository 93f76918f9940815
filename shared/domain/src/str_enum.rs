//! One macro for the enums the store and the API write as text (state, esito, role, job kind,
//! layer, severity): the list of values, the text of each, `Display` and `FromStr`, from one
//! table. The text is the one serde writes (each enum keeps its `#[serde(rename_all)]`; the test
//! below checks that the two agree).

/// `str_enum!(Type { Variant => "TEXT", ... })`, after the enum's definition: `Type::ALL` (every
/// value in declaration order), `as_str`, `Display` and `FromStr` (an unknown text is
/// [`UnknownState`]).
macro_rules! str_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [$ty; [$($text),+].len()] = [$($ty::$variant),+];

            /// The text stored and shown (the same serde writes).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::str_enum::UnknownState;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err($crate::str_enum::UnknownState(other.to_string())),
                }
            }
        }
    };
}

pub(crate) use str_enum;

/// A text that is none of the values of a `str_enum!` enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stato sconosciuto: {0}")]
pub struct UnknownState(pub String);

#[cfg(test)]
mod tests {
    use crate::{EsitoDomanda, JobKind, Layer, Ruolo, Severity, StatoRichiesta};
    use serde::{de::DeserializeOwned, Serialize};
    use std::fmt::Display;
    use std::str::FromStr;

    fn agrees<T>(all: &[T])
    where
        T: Serialize + DeserializeOwned + Display + FromStr + PartialEq + std::fmt::Debug + Copy,
    {
        for &v in all {
            let text = v.to_string();
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<T>(&format!("\"{text}\"")).unwrap(), v);
            assert!(text.parse::<T>().ok() == Some(v), "{text}");
        }
        assert!("nessuno".parse::<T>().is_err());
    }

    #[test]
    fn text_is_serde_text() {
        agrees(&JobKind::ALL);
        agrees(&Ruolo::ALL);
        agrees(&Layer::ALL);
        agrees(&Severity::ALL);
        agrees(&StatoRichiesta::ALL);
        agrees(&EsitoDomanda::ALL);
        assert_eq!(JobKind::ALL, [JobKind::Prevalidazione, JobKind::Invio]);
        assert_eq!("stato sconosciuto: x", "x".parse::<Ruolo>().unwrap_err().to_string());
    }
}
