//! Decoding what the parser reads (UTF-8, allowed XML characters, entity and character
//! references) and the file-level findings it gives.

use crate::finding::{truncate_value, Finding};
use crate::rules::{self, RuleInfo};

pub(super) fn file_finding(
    rule: &RuleInfo,
    message: impl Into<String>,
    pos: (u32, u32),
    value: Option<&str>,
) -> Finding {
    let mut f = rule.finding(message);
    f.xpath = None;
    f.line = Some(pos.0);
    f.column = Some(pos.1);
    f.value = value.map(truncate_value);
    f
}

pub(super) fn valid_xml_chars(s: &str) -> bool {
    let b = s.as_bytes();
    // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8: only look for them if an EF byte is there.
    b.iter()
        .all(|&c| c >= 0x20 || c == b'\t' || c == b'\n' || c == b'\r')
        && (!b.contains(&0xEF) || !s.contains(['\u{FFFE}', '\u{FFFF}']))
}

pub(super) fn is_ws(b: &[u8]) -> bool {
    b.iter().all(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Printable ASCII (or tab, line feed, carriage return) without `&`: valid UTF-8, only allowed XML
/// characters and nothing to unescape. One branch-free pass; most values of a richiesta are like this.
#[inline]
pub(super) fn plain_ascii(raw: &[u8]) -> bool {
    !raw.iter().fold(false, |bad, &c| {
        bad | !(((0x20..0x7F).contains(&c) && c != b'&') || c == b'\t' || c == b'\n' || c == b'\r')
    })
}

pub(super) fn text_of<'a>(raw: &'a [u8], pos: (u32, u32)) -> Result<std::borrow::Cow<'a, str>, Finding> {
    if plain_ascii(raw) {
        // SAFETY: `plain_ascii` admits only ASCII bytes, which are valid UTF-8.
        return Ok(std::borrow::Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) }));
    }
    let s = std::str::from_utf8(raw).map_err(|_| {
        file_finding(
            &rules::FIL_UTF8,
            "Il file contiene byte che non sono UTF-8 valido: salvare il file con codifica UTF-8.",
            pos,
            None,
        )
    })?;
    xml_chars_or_fail(s, pos)?;
    quick_xml::escape::unescape(s).map_err(|e| match e {
        quick_xml::escape::EscapeError::UnrecognizedEntity(_, name) => file_finding(
            &rules::FIL_ENTITA,
            format!("Riferimento all'entità '&{name};' non ammesso: usare solo &amp; &lt; &gt; &quot; &apos; o riferimenti numerici."),
            pos,
            Some(&name),
        ),
        other => file_finding(
            &rules::FIL_NON_BEN_FORMATO,
            format!("Riferimento a entità o carattere non valido ({other}): correggere il testo."),
            pos,
            None,
        ),
    })
}

pub(super) fn utf8_or_fail(raw: &[u8], pos: (u32, u32)) -> Result<&str, Finding> {
    if raw.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(raw) });
    }
    std::str::from_utf8(raw).map_err(|_| {
        file_finding(
            &rules::FIL_UTF8,
            "Il file contiene byte che non sono UTF-8 valido: salvare il file con codifica UTF-8.",
            pos,
            None,
        )
    })
}

/// Only characters XML allows (FIL-007 otherwise).
pub(super) fn xml_chars_or_fail(s: &str, pos: (u32, u32)) -> Result<(), Finding> {
    if valid_xml_chars(s) {
        return Ok(());
    }
    Err(file_finding(
        &rules::FIL_UTF8,
        "Il file contiene caratteri di controllo non ammessi in XML: rimuoverli.",
        pos,
        None,
    ))
}
