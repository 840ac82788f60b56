#!/usr/bin/env bash
# `make run`: provision, migrate, seed the demo organization, build the web app and serve
# everything on http://localhost:8080 (AURA_BIND / AURA_PUBLIC_URL to change).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_rust_tools
ensure_postgres aura
ensure_database
ensure_secret
bash scripts/build-web.sh
step "building the server"
cargo build --release -q -p aura-api
aura="$CARGO_TARGET_DIR/release/aura"
"$aura" migrate
"$aura" seed-demo
export AURA_PUBLIC_URL="${AURA_PUBLIC_URL:-http://localhost:8080}"
step "Aura is starting on $AURA_PUBLIC_URL (Ctrl-C to stop)"
exec "$aura" serve
