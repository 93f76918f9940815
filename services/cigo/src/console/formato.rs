//! How the console writes dates, times and numbers: as an Italian reader expects them.

use chrono::{DateTime, NaiveDate, Utc};

/// GG/MM/AAAA HH:MM in Europe/Rome.
pub fn data_ora(t: DateTime<Utc>) -> String {
    cigo_domain::attestato::ora_di_roma(t)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// The key of an unità produttiva (`UnitaProduttiva::key`) as a reader writes it: the INPS code
/// of tracciato v2 ("codice MI0001"), or the address "VIA ROMA 1, 20100 MILANO".
pub fn unita(key: &str) -> String {
    if let Some(codice) = key.strip_prefix("UP:") {
        return format!("codice {codice}");
    }
    match key.splitn(3, '|').collect::<Vec<_>>().as_slice() {
        [cap, comune, indirizzo] => format!("{indirizzo}, {cap} {comune}"),
        _ => key.to_string(),
    }
}

/// An integer with the Italian thousands separator: 1.234.567.
pub fn numero(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A count with its noun in the right number: "1 domanda", "1.200 domande".
pub fn conteggio(n: i64, singolare: &str, plurale: &str) -> String {
    if n == 1 {
        format!("1 {singolare}")
    } else {
        format!("{} {plurale}", numero(n))
    }
}

/// A date typed in a form, as GG/MM/AAAA or as the AAAA-MM-GG of `<input type="date">`.
pub fn leggi_data(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn italian_dates_times_and_numbers() {
        assert_eq!(numero(0), "0");
        assert_eq!(numero(999), "999");
        assert_eq!(numero(1000), "1.000");
        assert_eq!(numero(1_234_567), "1.234.567");
        assert_eq!(numero(-12_345), "-12.345");
        assert_eq!(conteggio(1, "domanda", "domande"), "1 domanda");
        assert_eq!(conteggio(0, "scartata", "scartate"), "0 scartate");
        // 23:30 UTC on 31 December is already 1 January in Rome (UTC+1 in winter).
        let t = Utc.with_ymd_and_hms(2025, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(data_ora(t), "01/01/2026 00:30");
        // Summer time: UTC+2.
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap();
        assert_eq!(data_ora(t), "01/07/2026 12:00");
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(leggi_data("09/03/2026"), Some(d));
        assert_eq!(leggi_data("2026-03-09"), Some(d));
        assert_eq!(leggi_data("9 marzo"), None);
    }

    #[test]
    fn units_read_as_addresses_or_codes() {
        assert_eq!(unita("41121|MODENA|VIA ROMA 192, LOTTO 1"), "VIA ROMA 192, LOTTO 1, 41121 MODENA");
        assert_eq!(unita("UP:MI0001"), "codice MI0001");
        assert_eq!(unita("strano"), "strano");
    }
}
