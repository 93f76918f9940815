//! Time and memory of the documents of a 10,000-domanda richiesta: the PDF of its attestato di
//! consegna and its esito as CSV and XML. Prints figures; peak resident memory is VmHWM from
//! /proc/self/status (of this whole process, sample data included).
//!
//! `cargo bench -p cigo-receipts --bench documents` (CIGO_BENCH_DOMANDE changes the 10,000).

use cigo_receipts::{attestato_pdf, sample, EsitoCsv, EsitoXml};
use std::io::Write;
use std::time::Instant;

fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// Counts the bytes written, keeps none of them.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(v);
    }
    (best, last.expect("n > 0"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("documents: bench");
        return;
    }
    let n: u32 = std::env::var("CIGO_BENCH_DOMANDE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);

    // Streams first, so that their peak is measured before the PDF's.
    let (csv_s, csv_bytes) = best_of(3, || {
        let mut w = EsitoCsv::new(Counter(0), 1).expect("csv");
        for i in 1..=n {
            let (d, protocollo) = sample::domanda_esito(i);
            w.domanda(&d, protocollo.as_deref()).expect("csv line");
        }
        w.finish().expect("csv").0
    });
    let (xml_s, xml_bytes) = best_of(3, || {
        let mut w = EsitoXml::new(Counter(0), 1).expect("xml");
        for i in 1..=n {
            let (d, protocollo) = sample::domanda_esito(i);
            w.domanda(&d, protocollo.as_deref()).expect("xml domanda");
        }
        w.finish().expect("xml").0
    });
    let hwm_streams = vm_hwm_kib();
    println!("esito CSV, {n} domande: {csv_s:.3} s, {} KiB, peak RSS {} MiB", csv_bytes / 1024, hwm_streams / 1024);
    println!("esito XML, {n} domande: {xml_s:.3} s, {} KiB", xml_bytes / 1024);

    let a = sample::consegna(1, n);
    let (pdf_s, pdf) = best_of(3, || attestato_pdf(&a).expect("pdf"));
    let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
    let pages = count(b"/Type/Page") - count(b"/Type/Pages");
    println!(
        "attestato di consegna PDF, {n} domande: {pdf_s:.3} s, {} KiB, {pages} pages, peak RSS {} MiB",
        pdf.len() / 1024,
        vm_hwm_kib() / 1024
    );
}
