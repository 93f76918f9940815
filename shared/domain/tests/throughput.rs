//! Throughput of parse + validate against a bare quick-xml event scan of the same bytes.
//! Ignored by default: `cargo test -p cigo-domain --release --test throughput -- --ignored --nocapture`.

use cigo_domain::{generate, prevalidate, GenerateOptions, Limits};
use std::time::Instant;

fn bare_scan(xml: &[u8]) -> usize {
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        match r.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => n += 1,
        }
        buf.clear();
    }
    n
}

#[test]
#[ignore]
fn throughput() {
    let mut xml = Vec::new();
    generate(&GenerateOptions { domande: 20_000, invalid_ratio: 0.1, seed: 1 }, &mut xml).unwrap();
    let mb = xml.len() as f64 / 1e6;
    let t = Instant::now();
    let events = bare_scan(&xml);
    let bare = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut nodes = 0usize;
    cigo_domain::parse::stream(&xml[..], &Limits::default(), |t, _| nodes += t.len()).unwrap();
    let parse = t.elapsed().as_secs_f64();
    println!("stream only {:.0} MB/s ({:.0}% of bare), {nodes} nodes", mb / parse, 100.0 * bare / parse);
    let t = Instant::now();
    let e = prevalidate(&xml[..], &Limits::default());
    let full = t.elapsed().as_secs_f64();
    assert!(e.file_finding.is_none());
    println!(
        "{mb:.1} MB, {events} events: bare scan {:.0} MB/s, prevalidate {:.0} MB/s ({:.0}% of bare)",
        mb / bare,
        mb / full,
        100.0 * bare / full
    );
}
