#!/usr/bin/env bash
# Every check the project runs, in order; stops at the first failure. The last line printed is
# a summary.
#
#   bash scripts/test.sh
#
# Respects CARGO_TARGET_DIR (trunk builds there too), so a cache outside the clone is reused.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"

started=$SECONDS
passed=()
current=""

summary() {
  local status=$?
  local total=$((SECONDS - started))
  if [[ $status -eq 0 ]]; then
    printf '\nSUMMARY: all %d steps passed in %ds (%s)\n' "${#passed[@]}" "$total" "$(IFS=,; echo "${passed[*]}" | sed 's/,/, /g')"
  else
    printf '\nSUMMARY: FAILED at "%s" after %ds; passed before it: %s\n' "$current" "$total" "${passed[*]:-none}"
  fi
}
trap summary EXIT

step() {
  current=$1
  shift
  printf '\n==================== %s ====================\n' "$current"
  local t=$SECONDS
  "$@"
  passed+=("$current $((SECONDS - t))s")
}

step "setup" env SETUP_ONLY=1 bash scripts/setup.sh
step "native tests" cargo test --workspace
step "browser tests" env WASM_BINDGEN_TEST_TIMEOUT=900 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --target wasm32-unknown-unknown -p world -p app -p runtime
step "release build" trunk build --release
step "end-to-end" node tests/e2e/smoke.mjs
