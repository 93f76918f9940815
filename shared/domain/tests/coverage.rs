//! Every rule of the catalogue is broken by at least one fixture, on exactly the domanda that was
//! changed, and passed by the others.
//!
//! Base: a generated richiesta of valid domande (every quadro occurs in some of them). Each entry of
//! [`mutations`] changes the first domanda it applies to; the esito must carry the rule's code on
//! that domanda (plus, at most, the listed consequential codes) and nothing on the others (which
//! pass every rule). Rules the table does not reach yet are listed in [`NOT_YET_COVERED`]; the
//! test fails if one of them becomes covered (so the list only shrinks) or if any other code of
//! the catalogue has no fixture here nor in the other test files.

mod mutations;

use cigo_domain::{catalogue, prevalidate, EsitoDomanda, Limits, Severity};
use mutations::{apply, base, mutations, presentazione, Case};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Rules that no fixture of this table reaches yet (each still has its own test elsewhere when
/// listed in `COVERED_ELSEWHERE`).
const NOT_YET_COVERED: &[&str] = &[];

/// Codes with a dedicated test in another file: FIL-* in hostile.rs, COE-001..018, COE-055 (a late
/// domanda still partly paid needs a filing date inside its period), COE-060, COE-061 (two domande)
/// and COE-099 in rules.rs,
/// ARC-* need the archive (services).
const COVERED_ELSEWHERE: &[&str] = &[
    "FIL-001", "FIL-002", "FIL-003", "FIL-004", "FIL-005", "FIL-006", "FIL-007", "FIL-008", "FIL-009", "FIL-010",
    "COE-001", "COE-002", "COE-003", "COE-004", "COE-005", "COE-006", "COE-007", "COE-008", "COE-009", "COE-010",
    "COE-011", "COE-012", "COE-014", "COE-015", "COE-017", "COE-018", "COE-055", "COE-060", "COE-061",
    // With every STR-* case here (see `check`), and on its own in rules.rs.
    "STR-099",
];

/// The limits of the tests: the default ones, with the filing date of [`presentazione`] (so that
/// the deadline rules, COE-055 and COE-057, are checked too).
fn limits(xml: &str) -> Limits {
    Limits { data_presentazione: presentazione(xml), ..Limits::default() }
}

/// Applies `case` to the first domanda of `xml` it fits and checks the esito: the code (and at
/// most the consequential ones) on exactly that domanda, nothing on the others. `Ok(false)` when
/// the mutation fits no domanda.
fn check(xml: &str, case: &Case) -> Result<bool, String> {
    let Some((mutated, pos)) = apply(xml, case.mutate) else { return Ok(false) };
    let e = prevalidate(mutated.as_bytes(), &limits(xml));
    if let Some(f) = &e.file_finding {
        return Err(format!("{}: file-level {f:?}", case.code));
    }
    for d in &e.domande {
        let codes: BTreeSet<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        if d.progressivo == pos {
            // A structure error leaves checks that cannot run, and the domanda says so (STR-099).
            let struttura = case.code.starts_with("STR-");
            let allowed: BTreeSet<&str> = case
                .also
                .iter()
                .copied()
                .chain([case.code])
                .chain(struttura.then_some("STR-099"))
                .collect();
            if !codes.contains(case.code) || !codes.is_subset(&allowed) || struttura != codes.contains("STR-099") {
                return Err(format!("{}: domanda {pos} has {codes:?}", case.code));
            }
            let rule = cigo_domain::rules::rule(case.code).expect("in catalogue");
            let want = if d.findings.iter().any(|f| f.severity == Severity::Errore) {
                EsitoDomanda::Scartata
            } else {
                EsitoDomanda::ValidaConAvvisi
            };
            if d.esito != want
                || !d
                    .findings
                    .iter()
                    .any(|f| f.code == case.code && f.severity == rule.severity)
            {
                return Err(format!("{}: domanda {pos} esito {:?} with {:#?}", case.code, d.esito, d.findings));
            }
        } else if !codes.is_empty() {
            return Err(format!("{}: domanda {} (not changed) has {codes:?}", case.code, d.progressivo));
        }
    }
    Ok(true)
}

#[test]
fn every_rule_is_broken_by_a_fixture_on_exactly_that_domanda() {
    let xml = base(30, 11);
    let clean = prevalidate(xml.as_bytes(), &limits(&xml));
    assert!(clean.file_finding.is_none());
    assert!(clean.domande.iter().all(|d| d.findings.is_empty()), "the base must pass every rule");
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for case in mutations() {
        match check(&xml, &case) {
            Ok(true) => {
                covered.insert(case.code);
            }
            Ok(false) => failures.push(format!("{}: the mutation applies to no domanda of the base", case.code)),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let mut missing = Vec::new();
    let mut newly = Vec::new();
    for r in catalogue() {
        let code = r.code;
        if code.starts_with("ARC-") || code == "COE-099" {
            continue;
        }
        let here = covered.contains(code);
        if NOT_YET_COVERED.contains(&code) {
            if here {
                newly.push(code);
            }
        } else if !here && !COVERED_ELSEWHERE.contains(&code) {
            missing.push(code);
        }
    }
    assert!(missing.is_empty(), "rules no fixture breaks: {missing:?}");
    assert!(newly.is_empty(), "now covered, remove from NOT_YET_COVERED: {newly:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Changing one field in one domanda of any generated richiesta yields exactly the expected
    /// code on exactly that domanda (mutations that fit no domanda of a small file are skipped).
    #[test]
    fn one_change_one_code_on_that_domanda(seed in any::<u64>(), k in any::<prop::sample::Index>()) {
        let cases = mutations();
        let case = &cases[k.index(cases.len())];
        let xml = base(6, seed);
        let r = check(&xml, case);
        prop_assert!(r.is_ok(), "seed {}: {}", seed, r.unwrap_err());
    }
}
