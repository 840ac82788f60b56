#!/usr/bin/env bash
# Part of the image build (Dockerfile). Compiles the workspace's dependencies against placeholder
# sources of Aura's own crates, before their real code is copied in, so that this layer is reused
# until Cargo.lock or a manifest changes and a change to Aura's code rebuilds only Aura.
#   bash scripts/docker-deps.sh                        write placeholders, compile the dependencies
#   bash scripts/docker-deps.sh --own-sources-changed  after the real sources replaced them
set -euo pipefail
cd "$(dirname "$0")/.."

# Every target file the workspace's manifests name or imply (a new one is added here).
targets=(crates/types/src/lib.rs crates/types/benches/render.rs
  crates/api/src/lib.rs crates/api/src/main.rs crates/api/tests/api/main.rs
  frontend/src/main.rs bench/web-counter/src/main.rs)

if [ "${1:-}" = --own-sources-changed ]; then
  # COPY keeps each file's own date, which can be older than the placeholders' build: without a
  # newer date Cargo would keep the placeholders' output.
  find crates frontend/src bench -name '*.rs' -exec touch {} +
  exit 0
fi

for f in "${targets[@]}"; do
  mkdir -p "$(dirname "$f")"
  case "$f" in */lib.rs) : > "$f" ;; *) echo 'fn main() {}' > "$f" ;; esac
done
# The server (as `cargo build --release -p aura-api` below) and the web app (as Trunk builds it:
# frontend/index.html names the bin and the profile).
cargo build --release --locked -p aura-api
cargo build --locked --profile wasm-release --target wasm32-unknown-unknown -p aura-web --bin aura-web
