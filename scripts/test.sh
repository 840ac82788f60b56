#!/usr/bin/env bash
# `make test`: provisions what is missing, then runs every check, stopping at the first failure:
# formatting, lints, the offline query data, the OpenAPI spec, the Rust tests (unit, property and
# integration against PostgreSQL), the API against its spec (Schemathesis), a short fuzzing run of the template renderer, the wasm32 builds, and the browser tests against `aura serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
started=$SECONDS

ensure_rust_tools
ensure_sqlx_cli
ensure_node_modules
ensure_chromium
ensure_dovecot
ensure_schemathesis
ensure_postgres aura_test
ensure_database

step "formatting"
cargo fmt --all --check

step "lints (server crates, then the web app and shared types for wasm32)"
cargo clippy -q -p aura-types -p aura-api --all-targets -- -D warnings
cargo clippy -q -p aura-types -p aura-web --target wasm32-unknown-unknown -- -D warnings

step "building the server"
cargo build -q -p aura-api
aura="$CARGO_TARGET_DIR/debug/aura"
"$aura" migrate >/dev/null

step "offline query data (.sqlx) matches the schema"
SQLX_OFFLINE=false cargo sqlx prepare --workspace --check -- --all-targets -q

step "openapi.yaml matches the code"
"$aura" openapi | diff -u openapi.yaml - >/dev/null || die "openapi.yaml is stale: run \`make openapi\` and commit it"

step "Rust tests (unit, property, integration against PostgreSQL)"
# Without backtraces a failure ends with its message (file, line and values), which is what a
# reader of the log's last lines needs.
RUST_BACKTRACE=0 cargo nextest run -p aura-types -p aura-api --no-fail-fast 2>&1 | tee /tmp/aura-nextest.log
rust_passed=$(grep -Eo 'tests run: [0-9]+ passed' /tmp/aura-nextest.log | tail -n1 | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')

step "no test depends on the real date: the delivery tests a year earlier and a year later"
for weeks in -52 52; do
  AURA_TEST_SHIFT_WEEKS=$weeks RUST_BACKTRACE=0 cargo nextest run -p aura-api --no-fail-fast \
    -E 'test(delivery::) | test(dkim::) | test(isolation::) | test(bad_input::) | test(hardening::)' 2>&1 \
    | tee /tmp/aura-nextest-shift.log | grep -E '^\s+Summary' || true
  grep -Eq 'tests run: [0-9]+ passed, [0-9]+ skipped' /tmp/aura-nextest-shift.log \
    || { grep -E 'FAIL|panicked' /tmp/aura-nextest-shift.log | head -n 20; die "a test depends on the date (AURA_TEST_SHIFT_WEEKS=$weeks)"; }
done

step "the API against its spec (Schemathesis over every operation, as an owner)"
bash scripts/contract.sh "$aura" | tail -n 12

step "fuzzing the template renderer (20 s, coverage-guided)"
bash scripts/fuzz.sh 20 >/tmp/aura-fuzz.log 2>&1 || { tail -n 40 /tmp/aura-fuzz.log; die "the renderer's fuzz target failed (input in fuzz/artifacts/)"; }
grep -E '^Done [0-9]+ runs' /tmp/aura-fuzz.log

step "wasm32 builds: shared types and the web app"
cargo build -q -p aura-types --target wasm32-unknown-unknown
bash scripts/build-web.sh

step "the template renderer in WebAssembly (Node) renders the shared corpus byte for byte"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p aura-types --target wasm32-unknown-unknown --test corpus 2>&1 | tee /tmp/aura-wasm-test.log | grep -E '^test |^test result'
wasm_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' /tmp/aura-wasm-test.log | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')
[ "${wasm_passed:-0}" -ge 1 ] || die "the wasm corpus test did not run"

# Access tokens live one second (plus the 5 s verification leeway), so the browser tests also
# exercise the client's refresh-on-401 path. Mail servers on this machine are allowed: the inbox
# test reads a private Dovecot and sends to a local SMTP receiver.
step "browser tests (headless Chromium against aura serve)"
e2e_db="${DATABASE_URL%/*}/aura_e2e"
psql "$ADMIN_DATABASE_URL" -qc 'drop database if exists aura_e2e with (force)' >/dev/null
psql "$ADMIN_DATABASE_URL" -qc 'create database aura_e2e' >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATABASE_URL="$e2e_db" "$aura" migrate >/dev/null
# The demo organization: the delivery test runs its campaign on the sandbox mailbox.
DATABASE_URL="$e2e_db" AURA_SECRET_KEY="e2e-secret-e2e-secret-e2e-secret-e2e" "$aura" seed-demo >/dev/null
DATABASE_URL="$e2e_db" AURA_SECRET_KEY="e2e-secret-e2e-secret-e2e-secret-e2e" AURA_BIND="127.0.0.1:$port" \
  AURA_PUBLIC_URL="http://127.0.0.1:$port" AURA_ACCESS_TOKEN_TTL_SECS=1 AURA_ALLOW_PRIVATE_AI_URLS=true AURA_OUTBOUND_PUBLIC=false AURA_OUTBOUND_ALLOW=127.0.0.1 AURA_LOG=warn "$aura" serve >.aura-e2e-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
mkdir -p .aura/screenshots
(cd frontend && AURA_URL="http://127.0.0.1:$port" AURA_SCREENSHOTS="$PWD/../.aura/screenshots" node --test tests/) | tee /tmp/aura-browser.log \
  || { tail -n 50 .aura-e2e-server.log; die "browser tests failed"; }
kill "$server" 2>/dev/null || true
rm -f .aura-e2e-server.log
browser_passed=$(grep -Eo '^# pass [0-9]+' /tmp/aura-browser.log | grep -Eo '[0-9]+')

step "all checks passed in $((SECONDS - started))s (screenshots in .aura/screenshots)"
echo "$((rust_passed + wasm_passed + browser_passed)) passed, 0 failed"
