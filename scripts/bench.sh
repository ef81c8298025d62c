#!/usr/bin/env bash
# Regenerates docs/BENCHMARKS.md's report, every figure measured in this one run on this
# machine, each beside the comparison it is judged against:
#
#   bash scripts/bench.sh          # about 25 minutes on 2 cores
#
# - dataset generation: frames/s on one core, with and without questions (world CLI);
# - a training step: burn against PyTorch on the CPU, same architecture and batch;
# - the runtime natively: the WGSL kernels, the CPU path, burn flex and burn wgpu on the
#   Vulkan adapter here (lavapipe on a machine without a GPU); also rewrites the runtime table;
# - the runtime in headless Chromium: WGSL on WebGPU against the CPU path in wasm32;
# - the page: built with trunk (BENCH_SKIP_BUILD=1 keeps an existing dist/), wasm and weights
#   sizes, and the time to the first imagined frame, cold and with the weights cached.
#
# Raw outputs are kept in target/bench/. `--from STAGE` (dataset, training, native, browser,
# page, report) keeps the raw outputs of the stages before it and runs from there, e.g. after
# a failure. PyTorch comes from the virtual environment scripts/bench_torch.py creates on first
# use (a large download).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
out="${CARGO_TARGET_DIR:-$ROOT/target}/bench"
stages=(dataset training native browser page report)
from=dataset
if [[ "${1:-}" == --from ]]; then
  from="${2:?--from needs a stage: ${stages[*]}}"
  [[ " ${stages[*]} " == *" $from "* ]] || { echo "unknown stage \"$from\": one of ${stages[*]}" >&2; exit 2; }
elif [[ $# -gt 0 ]]; then
  echo "usage: bash scripts/bench.sh [--from STAGE]   (stages: ${stages[*]})" >&2
  exit 2
fi
[[ $from == dataset ]] && rm -rf "$out"
mkdir -p "$out"
say() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }
# Whether stage $1 runs: it is $from or comes after it.
runs() {
  local s on=0
  for s in "${stages[@]}"; do
    [[ $s == "$from" ]] && on=1
    [[ $s == "$1" ]] && return $((1 - on))
  done
  return 1
}

if runs dataset; then
say "dataset generation"
cargo build -q --release -p world
world="${CARGO_TARGET_DIR:-$ROOT/target}/release/world"
for kind in plain questions; do
  flag=(); [[ $kind == plain ]] && flag=(--no-questions)
  "$world" gen --seed 1 --episodes 300 --jobs 1 "${flag[@]}" --force --out "$out/ds-$kind" | tee "$out/dataset-$kind.txt"
done
rm -rf "$out"/ds-*
fi

if runs training; then
say "training step: burn and PyTorch"
cargo run -q --release -p model --bin bench_step -- --preset teacher --batch 32 --steps 8 | tee "$out/burn.txt"
python3 scripts/bench_torch.py --preset teacher --batch 32 --threads 2 --steps 8 --json "$out/torch.json" | tail -3
fi

if runs native; then
say "runtime, native"
cargo run -q --release -p parity --features gpu --bin bench_runtime -- --reps 3 --write | tee "$out/runtime.md"
fi

if runs browser; then
say "runtime, in headless Chromium"
WASM_BINDGEN_TEST_TIMEOUT=1800 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --release --target wasm32-unknown-unknown -p runtime --test browser_bench -- --nocapture \
  2>&1 | tee "$out/browser.txt"
fi

if runs page; then
say "the page"
if [[ -z "${BENCH_SKIP_BUILD:-}" || ! -f dist/index.html ]]; then trunk build --release; fi
node tests/e2e/first_frame.mjs --runs 3 --json "$out/first_frame.json"
fi

say "report"
node scripts/bench_report.mjs "$out" docs/BENCHMARKS.md
