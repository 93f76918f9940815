//! Throughput of parse + validate, side by side with `xmllint --stream --noout --schema` and a bare
//! quick-xml event scan of the same file, plus peak memory on a ~200 MB file (measured in a child
//! process of this binary, from VmHWM in /proc/self/status).
//!
//! `cargo bench -p cigo-domain --bench throughput` (set CIGO_BENCH_DOMANDE to change the 10,000
//! domande; CIGO_BENCH_SKIP_MEMORY=1 skips the 200 MB run).

use cigo_domain::{generate, prevalidate, GenerateOptions, Limits, XSD_V1};
use std::io::BufReader;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn bare_scan(path: &Path) -> usize {
    let f = std::fs::File::open(path).expect("open");
    let mut r = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, f));
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

fn validate(path: &Path) -> cigo_domain::EsitoPrevalidazione {
    let f = std::fs::File::open(path).expect("open");
    prevalidate(BufReader::with_capacity(64 * 1024, f), &Limits::default())
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
    // Child mode: validate one file and print the peak resident memory.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-validate") {
        let e = validate(Path::new(&args[i + 1]));
        println!("{} {} {}", vm_hwm_kib().unwrap_or(0), e.domande.len(), e.scartate());
        return;
    }
    // Profiling aid: `--generate N PATH` writes the bench's file of N domande and exits, so that
    // `perf record ... --child-validate PATH` profiles our parse + validate alone.
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let n: usize = args[i + 1].parse().expect("N");
        let opts = GenerateOptions { domande: n, invalid_ratio: 0.1, seed: 1 };
        generate(&opts, std::fs::File::create(&args[i + 2]).expect("create")).expect("generate");
        return;
    }
    if args.iter().any(|a| a == "--list") {
        println!("throughput: bench");
        return;
    }
    let dir = std::env::temp_dir().join(format!("cigo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let n: usize = std::env::var("CIGO_BENCH_DOMANDE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let path = dir.join("richiesta.xml");
    let g = generate(
        &GenerateOptions { domande: n, invalid_ratio: 0.1, seed: 1 },
        std::fs::File::create(&path).expect("create"),
    )
    .expect("generate");
    let bytes = std::fs::metadata(&path).expect("meta").len() as f64;
    let mb = bytes / 1e6;
    println!("file: {n} domande, {mb:.1} MB ({})", path.display());

    let (t_bare, events) = best_of(3, || bare_scan(&path));
    let (t_ours, esito) = best_of(3, || validate(&path));
    let invalid = g.iter().filter(|d| d.expected_code.is_some()).count();
    let verdict_ok = esito.file_finding.is_none() && esito.domande.len() == n && esito.scartate() == invalid;
    println!("{:<34} {:>9} {:>12} {:>10}", "", "MB/s", "domande/s", "seconds");
    println!(
        "{:<34} {:>9.0} {:>12.0} {:>10.3}",
        "bare quick-xml scan (ceiling)",
        mb / t_bare,
        n as f64 / t_bare,
        t_bare
    );
    println!("{:<34} {:>9.0} {:>12.0} {:>10.3}", "cigo parse + validate", mb / t_ours, n as f64 / t_ours, t_ours);

    let xmllint = Command::new("xmllint")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let mut t_lint = None;
    if xmllint {
        let xsd = dir.join("richiesta-v1.xsd");
        std::fs::write(&xsd, XSD_V1).expect("xsd");
        let (t, ok) = best_of(1, || {
            Command::new("xmllint")
                .args(["--stream", "--noout", "--schema"])
                .arg(&xsd)
                .arg(&path)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        });
        println!("{:<34} {:>9.0} {:>12.0} {:>10.3}", "xmllint --stream --noout --schema", mb / t, n as f64 / t, t);
        println!(
            "xmllint verdict: {}",
            if ok { "valid" } else { "invalid (layer 2 agrees: generated faults are not all structural)" }
        );
        t_lint = Some(t);
    } else {
        println!("xmllint not found: install libxml2-utils for the comparison");
    }
    println!();
    println!("events in bare scan: {events}");
    println!("ours vs bare scan: {:.0}% (target >= 40%)", 100.0 * t_bare / t_ours);
    if let Some(t) = t_lint {
        println!("ours vs xmllint: {:.1}x (target >= 3x)", t / t_ours);
    }
    println!(
        "verdict: {} domande, {} scartate, expected {} invalid: {} (the server runs this same function)",
        esito.domande.len(),
        esito.scartate(),
        invalid,
        if verdict_ok { "same" } else { "DIFFERENT" }
    );

    if std::env::var_os("CIGO_BENCH_SKIP_MEMORY").is_none() {
        // ~200 MB: scale the domande count from the file just measured.
        let big_n = ((200e6 / bytes) * n as f64).ceil() as usize;
        let big = dir.join("richiesta-200mb.xml");
        generate(
            &GenerateOptions { domande: big_n, invalid_ratio: 0.1, seed: 2 },
            std::fs::File::create(&big).expect("create"),
        )
        .expect("generate");
        let size = std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        let exe = std::env::current_exe().expect("exe");
        let out = Command::new(exe)
            .arg("--child-validate")
            .arg(&big)
            .output()
            .expect("child");
        let s = String::from_utf8_lossy(&out.stdout);
        let kib: u64 = s
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        println!(
            "peak memory validating {size:.0} MB ({big_n} domande): {:.1} MiB VmHWM (target < 64 MiB) [{}]",
            kib as f64 / 1024.0,
            s.trim()
        );
        let _ = std::fs::remove_file(&big);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
