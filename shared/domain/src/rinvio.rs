//! The rinvio of rejected domande: a richiesta file holding only the domande of an earlier one
//! that were rejected (in prevalidazione or in fase d'invio), so that the consultant corrects
//! those and uploads them again.
//!
//! The file is the original one with the other domande left out, not a re-serialisation: the
//! XML declaration, comments and everything before the root element, and everything after the
//! last domanda (the closing tag and what follows), are the original bytes; each kept domanda is
//! the original bytes from the end of the element before it to its end tag (so its indentation
//! and any comment just before it come along). The one change is on the root start tag, which
//! gets the attribute `rinvioDi` with the numero of the original richiesta (replacing one the
//! original had, when it was itself a rinvio). The tracciato allows `rinvioDi` on
//! `RichiestaCIGO` (optional, a positive integer); [`rinvio_di`] reads it back at upload.
//!
//! Both functions stream: the original is read once, event by event, and at most one domanda
//! (the one being copied) is held in memory.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::io::{self, BufRead, Read, Write};

/// The attribute of `RichiestaCIGO` naming the richiesta a file is the rinvio of.
pub const ATTRIBUTO_RINVIO: &str = "rinvioDi";

/// Why the rinvio file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RinvioError {
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The original does not read as a richiesta (a file rejected as a whole has no domande to
    /// send again).
    #[error("il file originale non è una richiesta leggibile: {0}")]
    Originale(String),
}

/// The numero of the richiesta `reader`'s file is the rinvio of: the `rinvioDi` attribute of its
/// root element, when the file starts like a richiesta and the attribute is a positive integer.
/// Reads only up to the root start tag.
pub fn rinvio_di<R: BufRead>(reader: R) -> Option<i64> {
    let mut xr = Reader::from_reader(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xr.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) => {
                if e.local_name().as_ref() != b"RichiestaCIGO" {
                    return None;
                }
                let value = attributo(&e, ATTRIBUTO_RINVIO)?;
                let n: i64 = value.trim().parse().ok()?;
                return (n > 0).then_some(n);
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// The raw value of attribute `name` of `e`, if it has it.
fn attributo(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// A reader that records the bytes consumed while `keep` is set, so that the copy is the
/// original bytes, whatever quick-xml makes of them.
struct Tap<R> {
    inner: R,
    rec: Vec<u8>,
    keep: bool,
}

impl<R: BufRead> Read for Tap<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tap<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if self.keep && n > 0 {
            // The bytes being consumed are still at the head of the inner buffer.
            if let Ok(buf) = self.inner.fill_buf() {
                self.rec.extend_from_slice(&buf[..n.min(buf.len())]);
            }
        }
        self.inner.consume(n);
    }
}

/// Writes to `out` the rinvio of the richiesta `numero_originale` whose file `original` is,
/// keeping the domande whose position in the file (1-based, the progressivo of the esito)
/// `keep` accepts. Returns how many it wrote.
pub fn scrivi_rinvio<R: BufRead, W: Write>(
    original: R,
    numero_originale: i64,
    keep: impl Fn(u32) -> bool,
    mut out: W,
) -> Result<u32, RinvioError> {
    let mut xr = Reader::from_reader(Tap { inner: original, rec: Vec::new(), keep: true });
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let (mut position, mut written) = (0u32, 0u32);
    loop {
        buf.clear();
        let ev = xr
            .read_event_into(&mut buf)
            .map_err(|e| RinvioError::Originale(e.to_string()))?;
        let empty = matches!(ev, Event::Empty(_));
        let tap = xr.get_mut();
        match ev {
            Event::Start(e) if depth == 0 => {
                depth = 1;
                let tag = radice(&tap.rec, &e, numero_originale)?;
                out.write_all(&tag)?;
                tap.rec.clear();
            }
            Event::Start(_) | Event::Empty(_) if depth == 1 => {
                position += 1;
                if !empty {
                    depth = 2;
                }
                if keep(position) {
                    written += 1;
                } else {
                    tap.rec.clear();
                    tap.keep = false;
                }
                if depth == 1 {
                    // `<Domanda/>`: already whole.
                    copia(tap, &mut out)?;
                }
            }
            Event::Start(_) => depth += 1,
            Event::End(_) if depth == 2 => {
                depth = 1;
                copia(tap, &mut out)?;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof if position == 0 => {
                return Err(RinvioError::Originale("nessuna domanda nel file".into()));
            }
            Event::Eof => {
                out.write_all(&tap.rec)?;
                out.flush()?;
                return Ok(written);
            }
            _ => {}
        }
    }
}

/// Hands what was recorded (a kept domanda and the bytes before it) to `out`, and records again.
fn copia<R, W: Write>(tap: &mut Tap<R>, out: &mut W) -> io::Result<()> {
    if tap.keep {
        out.write_all(&tap.rec)?;
    }
    tap.rec.clear();
    tap.keep = true;
    Ok(())
}

/// The bytes up to and including the root start tag (`rec`), with `rinvioDi="numero"` on the tag.
fn radice(rec: &[u8], e: &BytesStart<'_>, numero: i64) -> Result<Vec<u8>, RinvioError> {
    if e.local_name().as_ref() != b"RichiestaCIGO" {
        return Err(RinvioError::Originale("l'elemento radice non è RichiestaCIGO".into()));
    }
    // An attribute value cannot hold '<': the last one is where the root tag starts.
    let start = rec.iter().rposition(|&b| b == b'<').unwrap_or(0);
    let mut tag = rec[..start].to_vec();
    if attributo(e, ATTRIBUTO_RINVIO).is_none() {
        // As written, with the attribute added before the closing '>'.
        tag.extend_from_slice(&rec[start..rec.len() - 1]);
    } else {
        // A rinvio of a rinvio: the tag written again, its other attributes as they were.
        tag.push(b'<');
        tag.extend_from_slice(e.name().as_ref());
        for a in e.attributes().with_checks(false).flatten() {
            if a.key.as_ref() == ATTRIBUTO_RINVIO.as_bytes() {
                continue;
            }
            let q = if a.value.contains(&b'"') { b'\'' } else { b'"' };
            tag.push(b' ');
            tag.extend_from_slice(a.key.as_ref());
            tag.extend_from_slice(&[b'=', q]);
            tag.extend_from_slice(&a.value);
            tag.push(q);
        }
    }
    tag.extend_from_slice(format!(" {ATTRIBUTO_RINVIO}=\"{numero}\">").as_bytes());
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- intestazione -->\n\
        <RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione='1'>\n  \
        <Domanda progressivo=\"1\"><A>uno</A></Domanda>\n  <!-- la seconda -->\n  \
        <Domanda progressivo=\"2\"><A>due &amp; <![CDATA[<x>]]></A></Domanda>\n  \
        <Domanda progressivo=\"3\"><A>tre</A></Domanda>\n</RichiestaCIGO>\n<!-- fine -->\n";

    fn rinvio(file: &str, numero: i64, keep: &[u32]) -> (String, u32) {
        let mut out = Vec::new();
        let n = scrivi_rinvio(file.as_bytes(), numero, |p| keep.contains(&p), &mut out).unwrap();
        (String::from_utf8(out).unwrap(), n)
    }

    #[test]
    fn keeps_the_chosen_domande_byte_for_byte_in_the_original_envelope() {
        let (out, n) = rinvio(FILE, 42, &[2]);
        assert_eq!(n, 1);
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- intestazione -->\n\
             <RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione='1' rinvioDi=\"42\">\n  <!-- la seconda -->\n  \
             <Domanda progressivo=\"2\"><A>due &amp; <![CDATA[<x>]]></A></Domanda>\n</RichiestaCIGO>\n<!-- fine -->\n"
        );
        assert_eq!(rinvio_di(out.as_bytes()), Some(42));
    }

    #[test]
    fn a_rinvio_of_a_rinvio_names_the_latest_richiesta() {
        let (first, _) = rinvio(FILE, 42, &[1, 3]);
        let (second, n) = rinvio(&first, 43, &[2]);
        assert_eq!(n, 1);
        assert_eq!(rinvio_di(second.as_bytes()), Some(43));
        assert!(
            second.contains("<RichiestaCIGO xmlns=\"urn:cigo:richiesta:1\" versione=\"1\" rinvioDi=\"43\">"),
            "{second}"
        );
        assert!(second.contains("<Domanda progressivo=\"3\"><A>tre</A></Domanda>\n</RichiestaCIGO>"), "{second}");
        assert!(!second.contains("uno"));
    }

    #[test]
    fn small_reads_give_the_same_bytes() {
        let mut out = Vec::new();
        let reader = io::BufReader::with_capacity(3, FILE.as_bytes());
        scrivi_rinvio(reader, 7, |p| p != 1, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), rinvio(FILE, 7, &[2, 3]).0);
    }

    #[test]
    fn rinvio_di_reads_only_a_positive_number_on_the_root() {
        assert_eq!(rinvio_di(FILE.as_bytes()), None);
        assert_eq!(rinvio_di(&b"<RichiestaCIGO rinvioDi=\"-3\"/>"[..]), None);
        assert_eq!(rinvio_di(&b"<RichiestaCIGO rinvioDi=\"x\"/>"[..]), None);
        assert_eq!(rinvio_di(&b"<Altro rinvioDi=\"3\"/>"[..]), None);
        assert_eq!(rinvio_di(&b"not xml"[..]), None);
    }

    #[test]
    fn a_file_without_domande_is_refused() {
        let mut out = Vec::new();
        let err = scrivi_rinvio(&b"<RichiestaCIGO versione=\"1\"></RichiestaCIGO>"[..], 1, |_| true, &mut out);
        assert!(matches!(err, Err(RinvioError::Originale(_))));
    }
}
