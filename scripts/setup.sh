#!/usr/bin/env bash
# Installs what building, testing and serving the playground need, only what is missing, then
# serves the playground at http://127.0.0.1:8080.
#
#   bash scripts/setup.sh                 # install what is missing, then serve
#   SETUP_ONLY=1 bash scripts/setup.sh    # install only (scripts/test.sh does this)
#
# Everything comes from crates.io, Debian's packages and npm; no tool downloads anything else
# (trunk runs offline, see Trunk.toml).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

TRUNK_VERSION=0.21.14
# The wasm-bindgen CLI must match the library exactly; Cargo.lock has the version in use.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
APT_PACKAGES=(chromium chromium-driver mesa-vulkan-drivers libvulkan1)

say() { printf '==> %s\n' "$*"; }
has() { command -v "$1" >/dev/null 2>&1; }
# Second word of `tool --version` ("trunk 0.21.14" -> 0.21.14), or nothing.
version_of() { "$1" --version 2>/dev/null | awk '{ print $2; exit }' || true; }

if [[ -z "$WASM_BINDGEN_VERSION" ]]; then
  echo "Cargo.lock names no wasm-bindgen version: run 'cargo generate-lockfile' first" >&2
  exit 1
fi

# --- Debian packages: a browser and its driver for the tests, CPU Vulkan for WebGPU --------
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
has node && has npm || missing+=(nodejs npm)
if ((${#missing[@]})); then
  if ! has apt-get; then
    echo "Please install: ${missing[*]} (this script knows only apt-get)" >&2
    exit 1
  fi
  sudo=()
  [[ $EUID -ne 0 ]] && sudo=(sudo)
  say "Installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- Rust: the wasm target and the cargo-installed tools ------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(version_of trunk)" != "$TRUNK_VERSION" ]]; then
  say "Installing trunk $TRUNK_VERSION (about 8 minutes on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [[ "$(version_of wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]] || ! has wasm-bindgen-test-runner; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  # No --locked: the lock file published with 0.2.130 names a webpki-roots release that the
  # registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! has wasm-pack; then
  say "Installing wasm-pack (about 3 minutes)"
  cargo install wasm-pack --locked
fi

# --- npm: wasm-opt for trunk (binaryen 132) and playwright-core for the end-to-end test -----
if [[ ! -x node_modules/.bin/wasm-opt || ! -d node_modules/playwright-core ]]; then
  say "Installing npm packages"
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund
  else
    npm install --no-audit --no-fund
  fi
fi
if [[ "$(wasm-opt --version)" != *"version 132"* ]]; then
  echo "wasm-opt on PATH is '$(wasm-opt --version)', expected version 132 from npm's binaryen" >&2
  exit 1
fi

# trunk builds with cargo --offline: fetch every crate first.
cargo fetch --quiet

say "Tools ready: trunk $(version_of trunk), wasm-bindgen $(version_of wasm-bindgen), wasm-pack $(version_of wasm-pack), $(wasm-opt --version), $(chromium --version 2>/dev/null | head -n1)"

if [[ "${SETUP_ONLY:-0}" == 1 ]]; then
  exit 0
fi

# Release code without trunk's wasm-opt pass: the same simulator as the published build,
# ready in a minute rather than the several that npm's wasm-opt takes.
say "Serving the playground at http://127.0.0.1:8080 (Ctrl-C stops it)"
exec trunk serve --address 127.0.0.1 --port 8080 --cargo-profile release
