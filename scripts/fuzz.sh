#!/usr/bin/env bash
# Runs the template renderer's fuzz target (fuzz/fuzz_targets/render.rs) for N seconds (default
# 60), coverage-guided by libFuzzer. Stable Rust: the coverage instrumentation is requested with
# the same stable codegen flags cargo-fuzz uses; no sanitizer (Rust code here is free of unsafe).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/aura/target}/fuzz"
# An explicit --target keeps the instrumentation out of build scripts and proc macros.
target=$(rustc -vV | sed -n "s/^host: //p")
cargo build -q --release --target "$target" --bin render
mkdir -p corpus/render
"$CARGO_TARGET_DIR/$target/release/render" corpus/render -max_total_time="$secs" -max_len=4096 -print_final_stats=1
