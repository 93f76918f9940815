//! Writes a generated richiesta to a file: `cargo run --release -p cigo-domain --example genfile -- OUT DOMANDE [INVALID_RATIO] [SEED]`
//! (for profiling the validator on a file of known size).

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let out = a.get(1).expect("OUT");
    let domande = a.get(2).and_then(|v| v.parse().ok()).unwrap_or(1000);
    let invalid_ratio = a.get(3).and_then(|v| v.parse().ok()).unwrap_or(0.1);
    let seed = a.get(4).and_then(|v| v.parse().ok()).unwrap_or(1);
    let f = std::fs::File::create(out).expect("create");
    cigo_domain::generate(&cigo_domain::GenerateOptions { domande, invalid_ratio, seed }, f).expect("generate");
}
