#!/usr/bin/env bash
# The API against its own spec: Schemathesis drives every operation of openapi.yaml, signed in as
# an organization's owner, against a running `aura serve` on a fresh database, and fails on any
# server error, any status code or content type the spec does not document, and any answer that
# does not match its schema. Deterministic (a fixed seed), a few minutes.
# Usage: scripts/contract.sh [path to the aura binary]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_schemathesis
ensure_postgres aura_test
aura="${1:-$CARGO_TARGET_DIR/debug/aura}"
[ -x "$aura" ] || die "build the server first (cargo build -p aura-api)"

db="${DATABASE_URL%/*}/aura_contract"
psql "$ADMIN_DATABASE_URL" -qc 'drop database if exists aura_contract with (force)' >/dev/null
psql "$ADMIN_DATABASE_URL" -qc 'create database aura_contract' >/dev/null
DATABASE_URL="$db" "$aura" migrate >/dev/null
export DATABASE_URL="$db" AURA_SECRET_KEY="contract-secret-contract-secret-0123456789"
# No connection leaves this machine, whatever servers the generated requests name.
export AURA_OUTBOUND_PUBLIC=false
# Generous log-in limits: the run signs in and out many times on purpose.
export AURA_LOGIN_MAX_FAILURES_PER_IP=100000 AURA_LOGIN_MAX_FAILURES_PER_EMAIL=100000
AURA_LOG=error bench_start serve
bench_signup "Contract Realty"

out="$CARGO_TARGET_DIR/schemathesis"
mkdir -p "$out"
export HYPOTHESIS_STORAGE_DIRECTORY="$out/hypothesis"
set +e
"$SCHEMATHESIS" run openapi.yaml \
  --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${CONTRACT_EXAMPLES:-10}" --seed 42 --generation-database none --workers 1 \
  --no-color >"$out/run.log" 2>&1
rc=$?
set -e
tail -n 60 "$out/run.log"
[ "$rc" = 0 ] || { tail -n 20 "$work/server.log"; die "the API does not keep its spec (full log: $out/run.log)"; }
