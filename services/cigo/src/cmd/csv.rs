//! The one CSV reader of the import commands (`cigo archivio import`, `cigo admin delega
//! import`), for files as Italian offices write them: an optional UTF-8 BOM, `,` or `;` as
//! separator (the one the first line uses more: what spreadsheets write by locale), fields
//! trimmed, quotes as usual, blank lines and lines starting with `#` skipped. Errors say the line.

use serde::Deserialize;

/// A reader over `text`; `has_headers` makes the first line the header.
pub fn reader(text: &str, has_headers: bool) -> csv::Reader<&[u8]> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(!has_headers)
        .has_headers(has_headers)
        .from_reader(text.as_bytes())
}

/// The records of a CSV text with a header line (names matched case-insensitively). A record
/// that does not decode is reported with its line.
pub fn records<T: for<'de> Deserialize<'de>>(text: &str) -> Result<Vec<T>, String> {
    let mut reader = reader(text, true);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    reader.set_headers(headers.iter().map(str::to_ascii_lowercase).collect());
    reader
        .deserialize::<T>()
        .map(|row| row.map_err(|e| format!("line {}: {}", line(&e), message(&e))))
        .collect()
}

/// The line of a CSV error (0 when unknown).
pub fn line(e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| p.line())
}

fn message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
        _ => e.to_string(),
    }
}

/// A matricola INPS (10 digits), or why not.
pub fn matricola(s: &str) -> Result<String, String> {
    if cigo_domain::model::is_matricola(s) {
        Ok(s.to_string())
    } else {
        Err(format!("la matricola deve essere di 10 cifre: {s:?}"))
    }
}
