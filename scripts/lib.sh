# Shared helpers for the scripts: messages, tool installation, PostgreSQL discovery.
# Every function is idempotent and quick when there is nothing to do.

AURA_HOME="${AURA_HOME:-$HOME/.cache/aura}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$AURA_HOME/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Queries are checked against the committed offline data (.sqlx/), so builds need no database.
export SQLX_OFFLINE="${SQLX_OFFLINE:-true}"

step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

apt_install() {
  command -v apt-get >/dev/null || die "please install: $*"
  if [ ! -f "$AURA_HOME/.apt-updated" ]; then
    apt-get update -qq >/dev/null && mkdir -p "$AURA_HOME" && touch "$AURA_HOME/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_rust_tools() {
  rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown || {
    step "adding the wasm32 target"; rustup target add wasm32-unknown-unknown >/dev/null; }
  command -v trunk >/dev/null && trunk --version | grep -q ' 0\.21\.' || {
    step "installing Trunk 0.21 (about 10 minutes, once)"; cargo install trunk --version '~0.21' --locked -q; }
  local want; want=$(wasm_bindgen_version)
  command -v wasm-bindgen >/dev/null && [ "$(wasm-bindgen --version | awk '{print $2}')" = "$want" ] || {
    step "installing wasm-bindgen-cli $want (a few minutes, once)"; cargo install wasm-bindgen-cli --version "$want" -q --force; }
}

ensure_sqlx_cli() {
  command -v cargo-sqlx >/dev/null || {
    step "installing sqlx-cli (a few minutes, once)"
    cargo install sqlx-cli --version 0.8.6 --no-default-features --features postgres,rustls -q; }
}

ensure_node_modules() {
  command -v npm >/dev/null || { step "installing Node.js and npm"; apt_install nodejs npm; }
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
    step "installing the web app's npm packages"
    # `npm install --no-save` installs the locked versions without rewriting the lock file.
    # (`npm ci` refuses this lock file: npm omits some platform-specific optional packages of the
    # stylesheet compiler from it, then reports them missing.)
    (cd frontend && npm install --no-save --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# Schemathesis (PyPI), in a virtual environment of its own under $AURA_HOME.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv="$AURA_HOME/schemathesis-$SCHEMATHESIS_VERSION"
  if [ ! -x "$venv/bin/st" ]; then
    step "installing Schemathesis $SCHEMATHESIS_VERSION (once)"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" >/dev/null \
      || { rm -rf "$venv"; die "could not install Schemathesis"; }
  fi
  export SCHEMATHESIS="$venv/bin/st"
}

ensure_chromium() {
  command -v chromium >/dev/null || { step "installing Chromium for the browser tests"; apt_install chromium; }
}

# Dovecot (the IMAP server the inbox tests read replies from; each test starts a private one on
# loopback and stops it by its process id) and mbsync (the reference IMAP client of the sync
# benchmark). Debian's packages start no server on their own here.
ensure_dovecot() {
  [ -x /usr/sbin/dovecot ] || { step "installing Dovecot for the inbox tests"; apt_install dovecot-imapd; }
  command -v mbsync >/dev/null || { step "installing mbsync (isync) for the sync benchmark"; apt_install isync; }
}

# Finds a PostgreSQL server and exports DATABASE_URL (and ADMIN_DATABASE_URL for creating
# databases): $DATABASE_URL if set; else the local server on 127.0.0.1:5432; else installs
# PostgreSQL and runs a private cluster under .aura/ on port 54329.
ensure_postgres() {
  local db="${1:-aura}"
  if [ -n "${DATABASE_URL:-}" ]; then
    export ADMIN_DATABASE_URL="${DATABASE_URL%/*}/postgres"
    return
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" ADMIN_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
    return
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  if [ -z "$bin" ]; then step "installing PostgreSQL"; apt_install postgresql; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1); fi
  local dir="$PWD/.aura/pg" port=54329 owner=""
  # PostgreSQL refuses to run as root: the private cluster belongs to the `postgres` user then.
  [ "$(id -u)" = 0 ] && owner="postgres"
  run_pg() { if [ -n "$owner" ]; then su "$owner" -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  if [ ! -f "$dir/PG_VERSION" ]; then
    step "creating a private PostgreSQL cluster in .aura/pg"
    mkdir -p "$dir"; [ -n "$owner" ] && chown -R "$owner" "$PWD/.aura"
    run_pg "$bin/initdb -D '$dir' -U postgres --auth=trust >/dev/null"
  fi
  if ! pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
    step "starting the private PostgreSQL on port $port"
    run_pg "$bin/pg_ctl -D '$dir' -l '$dir/server.log' -o '-p $port -k /tmp -c listen_addresses=127.0.0.1' -w start >/dev/null"
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db" ADMIN_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# Creates the database of DATABASE_URL if it does not exist.
ensure_database() {
  local name="${DATABASE_URL##*/}"; name="${name%%\?*}"
  psql "$ADMIN_DATABASE_URL" -Atqc "select 1 from pg_database where datname = '$name'" | grep -q 1 \
    || psql "$ADMIN_DATABASE_URL" -qc "create database \"$name\"" >/dev/null
}

# A local secret for development, created once and kept in .aura/ (not in git).
ensure_secret() {
  if [ -z "${AURA_SECRET_KEY:-}" ]; then
    mkdir -p .aura
    [ -s .aura/secret_key ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > .aura/secret_key
    AURA_SECRET_KEY=$(cat .aura/secret_key)
    export AURA_SECRET_KEY
  fi
}

# ---- benchmarks ----

# A fresh database `$1` with the schema and the secret, and the server built for release: sets
# $aura. What every benchmark starts from.
bench_fresh() {
  ensure_postgres "$1"
  psql "$ADMIN_DATABASE_URL" -qc "drop database if exists $1 with (force)" >/dev/null
  ensure_database
  ensure_secret
  step "building the server (release)"
  cargo build --release -q -p aura-api
  aura="$CARGO_TARGET_DIR/release/aura"
  "$aura" migrate >/dev/null
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts `$aura $*` (serve or worker) in the background with the environment already exported,
# on a free port ($port), logging to $work/server.log; stops it when the script exits.
# Sets $work, $port and $server.
bench_start() {
  work=$(mktemp -d)
  port=$(free_port)
  AURA_BIND="127.0.0.1:$port" AURA_LOG="${AURA_LOG:-warn}" "$aura" "$@" >"$work/server.log" 2>&1 &
  server=$!
  trap 'bench_stop' EXIT
  for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "the server did not start: $(tail -n 5 "$work/server.log")"
}

# Stops what the benchmark started (by process id) and removes its scratch folder.
bench_stop() {
  for pid in ${server:-} ${extra_pids:-}; do kill "$pid" 2>/dev/null || true; done
  [ -n "${KEEP_LOG:-}" ] && [ -f "${work:-}/server.log" ] && cp "$work/server.log" /tmp/bench-server.log
  rm -rf "${work:-}"
}

# `api METHOD PATH [JSON]` against the started server with $token.
api() {
  curl -fsS -X "$1" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    "http://127.0.0.1:$port/api/v1$2" ${3:+-d "$3"}
}

# `json EXPR`: evaluates a Python expression over the JSON on stdin (as `d`).
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Signs up a fresh organization; sets $token and $org.
bench_signup() {
  token=$(curl -fsS -H 'content-type: application/json' "http://127.0.0.1:$port/api/v1/auth/signup" \
    -d "{\"email\":\"bench-$(date +%s%N)@example.com\",\"password\":\"benchmark password\",\"name\":\"Bench\",\"organization_name\":\"${1:-Bench Realty}\"}" \
    | json 'd["access_token"]')
  org=$(api GET /organizations/current | json 'd["id"]')
}
