#!/usr/bin/env bash
# Fuzzes the C ABI of mmap_ffi (target c_abi; see src/lib.rs for what it checks).
#
#   fuzz/run.sh                 stable Rust: the seed corpus, then random inputs for 10 s (CI)
#   fuzz/run.sh 600             the same for 600 s
#   SEED=42 fuzz/run.sh 60      another seed (default 20261128; SEED=random picks one)
#   MMAP_FUZZ_TRACE=1 fuzz/run.sh --input FILE
#                               print every call of one input
#   fuzz/run.sh --libfuzzer 600 cargo-fuzz and libFuzzer (needs a nightly toolchain and
#                               `cargo install cargo-fuzz`); new inputs go to fuzz/corpus/new
#   fuzz/run.sh --input FILE    run one input again (a crash leaves it in
#                               fuzz/artifacts/c_abi/last-input, or libFuzzer's crash-* file)
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${1:-}" == "--libfuzzer" ]]; then
  seconds="${2:-60}"
  mkdir -p corpus/new
  exec cargo +nightly fuzz run c_abi corpus/new corpus/c_abi -- -max_total_time="$seconds"
fi

cargo build --quiet --release --no-default-features --bin replay
if [[ "${1:-}" == "--input" ]]; then
  exec target/release/replay --input "$2"
fi
seconds="${1:-10}"
seed="${SEED:-20261128}"
if [[ "$seed" == "random" ]]; then seed=$RANDOM$RANDOM; fi
exec target/release/replay --seed "$seed" --seconds "$seconds" corpus/c_abi
