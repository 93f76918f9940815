//! Codici fiscali: the check character of a person's code (with omocodia), the check digit of a
//! company's code, and generators of valid ones (used by [`crate::generate`]).

use chrono::{Datelike, NaiveDate};

/// Month letters of a person's codice fiscale, January to December.
const MESI: &[u8; 12] = b"ABCDEHLMPRST";
/// Letters that replace the digits 0..9 in case of omocodia.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// Positions (0-based) that hold digits, which omocodia may replace by letters.
const POS_NUMERICHE: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// Values of the characters in odd positions (1st, 3rd, ...), for digits 0..9 and letters A..Z.
const DISPARI: [u32; 26] =
    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

fn valore(c: u8, dispari: bool) -> Option<u32> {
    let idx = match c {
        b'0'..=b'9' => (c - b'0') as usize,
        b'A'..=b'Z' => (c - b'A') as usize,
        _ => return None,
    };
    Some(if dispari { DISPARI[idx] } else { idx as u32 })
}

/// The check character of the first 15 characters of a person's codice fiscale (upper case).
pub fn carattere_di_controllo(primi15: &[u8]) -> Option<char> {
    if primi15.len() != 15 {
        return None;
    }
    let mut somma = 0u32;
    for (i, &c) in primi15.iter().enumerate() {
        somma += valore(c, i % 2 == 0)?;
    }
    Some((b'A' + (somma % 26) as u8) as char)
}

fn cifra_omocodia(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        _ => OMOCODIA.iter().position(|&o| o == c).map(|p| p as u8),
    }
}

/// A person's codice fiscale (16 characters): layout, month, day, comune code and check character,
/// accepting omocodia (digits replaced by the letters L M N P Q R S T U V). Case-insensitive.
pub fn is_valid_codice_fiscale_persona(cf: &str) -> bool {
    let b = cf.as_bytes();
    if b.len() != 16 {
        return false;
    }
    let mut up = [0u8; 16];
    for (i, &c) in b.iter().enumerate() {
        up[i] = c.to_ascii_uppercase();
    }
    // Letters for surname, name, month, comune's first char, check char.
    for &i in &[0usize, 1, 2, 3, 4, 5, 8, 11, 15] {
        if !up[i].is_ascii_uppercase() {
            return false;
        }
    }
    let mut cifre = [0u8; 7];
    for (k, &i) in POS_NUMERICHE.iter().enumerate() {
        match cifra_omocodia(up[i]) {
            Some(d) => cifre[k] = d,
            None => return false,
        }
    }
    if !MESI.contains(&up[8]) {
        return false;
    }
    let giorno = cifre[2] * 10 + cifre[3];
    if !((1..=31).contains(&giorno) || (41..=71).contains(&giorno)) {
        return false;
    }
    carattere_di_controllo(&up[..15]) == Some(up[15] as char)
}

/// The check digit of the first 10 digits of a company's codice fiscale (= partita IVA).
pub fn cifra_di_controllo_azienda(primi10: &[u8]) -> Option<u8> {
    if primi10.len() != 10 {
        return None;
    }
    let mut somma = 0u32;
    for (i, &c) in primi10.iter().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as u32;
        somma += if i % 2 == 0 {
            d
        } else {
            let x = d * 2;
            if x > 9 {
                x - 9
            } else {
                x
            }
        };
    }
    Some(((10 - somma % 10) % 10) as u8)
}

/// A company's codice fiscale: 11 digits, the last one the check digit (Luhn-like, as the partita IVA).
pub fn is_valid_codice_fiscale_azienda(cf: &str) -> bool {
    let b = cf.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    cifra_di_controllo_azienda(&b[..10]) == Some(b[10] - b'0')
}

fn is_vocale(c: char) -> bool {
    matches!(c, 'A' | 'E' | 'I' | 'O' | 'U')
}

fn lettere(s: &str) -> (Vec<char>, Vec<char>) {
    let up: Vec<char> = s
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_uppercase())
        .collect();
    let cons = up.iter().copied().filter(|&c| !is_vocale(c)).collect();
    let voc = up.iter().copied().filter(|&c| is_vocale(c)).collect();
    (cons, voc)
}

fn tre(mut v: Vec<char>) -> String {
    while v.len() < 3 {
        v.push('X');
    }
    v.truncate(3);
    v.into_iter().collect()
}

/// The three letters for a surname.
pub fn codice_cognome(cognome: &str) -> String {
    let (cons, voc) = lettere(cognome);
    tre(cons.into_iter().chain(voc).collect())
}

/// The three letters for a given name (first, third and fourth consonant when there are four or more).
pub fn codice_nome(nome: &str) -> String {
    let (cons, voc) = lettere(nome);
    if cons.len() >= 4 {
        return [cons[0], cons[2], cons[3]].iter().collect();
    }
    tre(cons.into_iter().chain(voc).collect())
}

/// A person's codice fiscale from the personal data. `comune` is the four-character cadastral code
/// (e.g. `H501` for Roma). `omocodia` replaces that many digits, from the right, by letters.
pub fn codice_fiscale_persona(
    cognome: &str,
    nome: &str,
    nascita: NaiveDate,
    femmina: bool,
    comune: &str,
    omocodia: usize,
) -> String {
    let mut s = String::with_capacity(16);
    s.push_str(&codice_cognome(cognome));
    s.push_str(&codice_nome(nome));
    s.push_str(&format!("{:02}", nascita.year().rem_euclid(100)));
    s.push(MESI[nascita.month0() as usize] as char);
    let giorno = nascita.day() + if femmina { 40 } else { 0 };
    s.push_str(&format!("{giorno:02}"));
    s.push_str(&comune.to_ascii_uppercase());
    let mut b = s.into_bytes();
    b.truncate(15);
    for &i in POS_NUMERICHE.iter().rev().take(omocodia) {
        if b[i].is_ascii_digit() {
            b[i] = OMOCODIA[(b[i] - b'0') as usize];
        }
    }
    let check = carattere_di_controllo(&b).unwrap_or('X');
    b.push(check as u8);
    String::from_utf8(b).unwrap_or_default()
}

/// A company's codice fiscale from its first ten digits (the check digit is appended).
pub fn codice_fiscale_azienda(primi10: u64) -> String {
    let base = format!("{:010}", primi10 % 10_000_000_000);
    let check = cifra_di_controllo_azienda(base.as_bytes()).unwrap_or(0);
    format!("{base}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_person_codes() {
        assert!(is_valid_codice_fiscale_persona("RSSMRA85T10A562S"));
        assert!(is_valid_codice_fiscale_persona("rssmra85t10a562s"));
        assert!(!is_valid_codice_fiscale_persona("RSSMRA85T10A562T"));
        assert!(!is_valid_codice_fiscale_persona("RSSMRA85T10A562"));
        assert!(!is_valid_codice_fiscale_persona("RSSMRA85Z10A562S")); // month Z
        assert!(!is_valid_codice_fiscale_persona("RSSMRA85T32A562S")); // day 32
        assert_eq!(carattere_di_controllo(b"RSSMRA85T10A562"), Some('S'));
    }

    #[test]
    fn omocodia_is_accepted() {
        // RSSMRA85T10A562S with the last digit (2) replaced by N, then by the new check char.
        let base = b"RSSMRA85T10A56N";
        let c = carattere_di_controllo(base).unwrap();
        let cf = format!("{}{c}", std::str::from_utf8(base).unwrap());
        assert!(is_valid_codice_fiscale_persona(&cf), "{cf}");
        // A letter that is not an omocodia letter in a digit position is refused.
        let bad = b"RSSMRA85T10A56A";
        let c = carattere_di_controllo(bad).unwrap();
        assert!(!is_valid_codice_fiscale_persona(&format!("{}{c}", std::str::from_utf8(bad).unwrap())));
        // Fully omocode: all seven digits replaced.
        let d = NaiveDate::from_ymd_opt(1985, 12, 10).unwrap();
        let full = codice_fiscale_persona("Rossi", "Mario", d, false, "A562", 7);
        assert_eq!(&full[..6], "RSSMRA");
        assert!(full[6..15].chars().filter(|c| c.is_ascii_digit()).count() == 0, "{full}");
        assert!(is_valid_codice_fiscale_persona(&full));
    }

    #[test]
    fn generator_matches_known_code() {
        let d = NaiveDate::from_ymd_opt(1985, 12, 10).unwrap();
        assert_eq!(codice_fiscale_persona("Rossi", "Mario", d, false, "A562", 0), "RSSMRA85T10A562S");
        assert_eq!(codice_nome("Gianfranco"), "GFR");
        assert_eq!(codice_cognome("Fo"), "FOX");
        let f =
            codice_fiscale_persona("Bianchi", "Anna", NaiveDate::from_ymd_opt(1990, 3, 5).unwrap(), true, "H501", 0);
        assert_eq!(&f[..11], "BNCNNA90C45");
        assert!(is_valid_codice_fiscale_persona(&f));
    }

    #[test]
    fn company_codes() {
        assert!(is_valid_codice_fiscale_azienda("12345678903"));
        assert!(!is_valid_codice_fiscale_azienda("12345678901"));
        assert!(!is_valid_codice_fiscale_azienda("1234567890"));
        assert!(!is_valid_codice_fiscale_azienda("1234567890A"));
        assert_eq!(codice_fiscale_azienda(1234567890), "12345678903");
        for n in [0u64, 7, 123, 9_999_999_999, 424_242_424] {
            assert!(is_valid_codice_fiscale_azienda(&codice_fiscale_azienda(n)));
        }
    }
}
