//! The original name of an uploaded file, as the intermediario sent it: kept with the richiesta
//! and shown in the API, in the attestati and in the `Content-Disposition` of the download.

use super::ServiceError;

/// The longest name accepted, in characters (what common file systems allow).
pub const MAX_NOME_FILE: usize = 255;

/// A file name as sent (multipart `filename`, `?nome=`, `X-Nome-File`), checked: 1 to
/// [`MAX_NOME_FILE`] characters, no path (`/`, `\`, `.` or `..`), no control characters, no
/// blanks at either end. Anything else is `invalid_nome_file`: a name is shown to people and
/// written into headers, so it is refused rather than silently rewritten.
pub fn nome_file(raw: &str) -> Result<String, ServiceError> {
    let chars = raw.chars().count();
    let problem = if chars == 0 {
        Some("è vuoto")
    } else if chars > MAX_NOME_FILE {
        Some("supera 255 caratteri")
    } else if raw.contains(['/', '\\']) || raw == "." || raw == ".." {
        Some("contiene un percorso")
    } else if raw.chars().any(char::is_control) {
        Some("contiene caratteri di controllo")
    } else if raw.trim() != raw {
        Some("inizia o finisce con spazi")
    } else {
        None
    };
    match problem {
        None => Ok(raw.to_string()),
        Some(p) => Err(ServiceError::invalid("invalid_nome_file", format!("nome del file non valido: {p}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_with_accents_are_kept() {
        assert_eq!(nome_file("domande marzo.xml").unwrap(), "domande marzo.xml");
        assert_eq!(nome_file("Città di Castello – Niccolò.xml").unwrap(), "Città di Castello – Niccolò.xml");
        assert_eq!(nome_file(&"é".repeat(255)).unwrap().chars().count(), 255);
    }

    #[test]
    fn paths_controls_and_bad_lengths_are_refused() {
        for bad in ["", "../x.xml", "a/b.xml", "a\\b.xml", ".", "..", "a\nb.xml", "a\u{7f}.xml", " a.xml", "a.xml\t"] {
            let e = nome_file(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_nome_file", "{bad:?}");
        }
        assert!(nome_file(&"a".repeat(256)).is_err());
    }
}
