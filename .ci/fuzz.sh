#!/usr/bin/env bash
# `cargo fuzz` over the domain's parse + validate for a bounded time (issue 5); fails on a crash.
# libFuzzer and the sanitizers need nightly features: with a nightly toolchain installed it is
# used; otherwise (the machine's one toolchain is stable and no other can be fetched) the stable
# compiler is allowed its unstable flags with RUSTC_BOOTSTRAP=1, which is what nightly would do.
# Installs cargo-fuzz (crates.io) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${CIGO_FUZZ_SECONDS:-60}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
mkdir -p fuzz/corpus/parse_validate
cd fuzz
args=(run parse_validate corpus/parse_validate seeds -- -max_total_time="$BUDGET" -rss_limit_mb=2048
  -max_len=300000 -timeout=10 -print_final_stats=1)
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  cargo +nightly fuzz "${args[@]}"
else
  echo "no nightly toolchain: running cargo fuzz on stable with RUSTC_BOOTSTRAP=1"
  RUSTC_BOOTSTRAP=1 cargo fuzz "${args[@]}"
fi
