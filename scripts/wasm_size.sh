#!/usr/bin/env bash
# The bytes the runtime adds to a page: builds shaders/examples/page_api.rs (the whole
# page-facing API behind one wasm export) and page_baseline.rs (the same export without the
# runtime) for wasm32 in release, runs wasm-bindgen and wasm-opt -Oz as trunk does for the
# page, and prints raw and gzip -9 sizes, the difference, and the weights' sizes.
#
#   bash scripts/wasm_size.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
target="${CARGO_TARGET_DIR:-$PWD/target}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
declare -A raw zip
for ex in page_baseline page_api; do
  cargo build -q --release --target wasm32-unknown-unknown -p runtime --example "$ex"
  wasm-bindgen --target web --no-typescript --out-dir "$out/$ex" \
    "$target/wasm32-unknown-unknown/release/examples/$ex.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-simd \
    "$out/$ex/${ex}_bg.wasm" -o "$out/$ex/opt.wasm"
  raw[$ex]=$(size "$out/$ex/opt.wasm")
  zip[$ex]=$(gz "$out/$ex/opt.wasm")
  printf '%-14s wasm %9d bytes, gzip %9d bytes\n' "$ex" "${raw[$ex]}" "${zip[$ex]}"
done
printf 'runtime adds   wasm %9d bytes, gzip %9d bytes\n' \
  $((raw[page_api] - raw[page_baseline])) $((zip[page_api] - zip[page_baseline]))
w=public/weights/student.safetensors
printf 'weights        file %9d bytes, gzip %9d bytes (%s)\n' "$(size $w)" "$(gz $w)" "$w"
