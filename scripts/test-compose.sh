#!/usr/bin/env bash
# Self-hosting, for real: builds the committed Dockerfile and runs the committed docker-compose.yml,
# unchanged, and drives the stack only through the ports it publishes on 127.0.0.1.
#   1. the image builds (tools, npm packages and compiled dependencies in cached layers; a CA
#      certificate for a TLS-inspecting proxy only as a build argument, never in the image);
#   2. `up`: PostgreSQL healthy, Aura migrates and answers /readyz, `aura seed-demo` in the
#      container, the demo campaign launched through the API lands in the mail catcher, the web
#      app loads in headless Chromium;
#   3. data survives `down` + `up`; an upgrade from an earlier commit's image (the one before the
#      newest migration) migrates in place without losing a row;
#   4. scale-out: two API replicas (`serve --no-workers`) and three `aura worker` containers; a
#      2,000-message campaign while one worker is killed and another restarted: every message
#      reaches the catcher once or is marked unknown.
# Installs and starts the Docker engine when missing; builds local stand-ins for upstream images
# that cannot be pulled (scripts/compose/lib.sh). Exit 3: the engine could not start (not run).
#   AURA_UPGRADE_FROM=<commit>   the image upgraded from (default: the commit before the newest
#                                migration was added, so that the upgrade has a migration to apply)
#   AURA_SCALE_MESSAGES=<n>      the scale-out campaign's size (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/compose/lib.sh

started=$SECONDS
COMPOSE_PROJECT="aura-compose-test"
export AURA_IMAGE="aura:local" AURA_SECRET_KEY AURA_PORT MAILPIT_PORT AURA_PUBLIC_URL COMPOSE_PROFILES=""
AURA_SECRET_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
AURA_PORT=$(free_port)
MAILPIT_PORT=$(free_port)
aura_url="http://127.0.0.1:$AURA_PORT"
AURA_PUBLIC_URL="$aura_url"
catcher="http://127.0.0.1:$MAILPIT_PORT"
work=$(mktemp -d)
timings=()
phase() { step "$*"; phase_started=$SECONDS; }
took() { timings+=("$1: $((SECONDS - phase_started)) s"); }

if ! ensure_docker_engine; then
  echo "compose test NOT RUN: $engine_problem"
  exit 3
fi

cleanup() {
  local code=$?
  if [ "$code" != 0 ]; then
    echo "---- last log lines of each container ----"
    COMPOSE_PROFILES=scale-out compose logs --no-color --tail=40 2>/dev/null | tail -n 200 || true
  fi
  COMPOSE_PROFILES=scale-out compose down -v --remove-orphans >/dev/null 2>&1 || true
  [ -n "${DOCKERD_PID:-}" ] && { kill "$DOCKERD_PID" 2>/dev/null; wait "$DOCKERD_PID" 2>/dev/null || true; }
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
COMPOSE_PROFILES=scale-out compose down -v --remove-orphans >/dev/null 2>&1 || true

# The build stage trusts this machine's own added CA certificates (a TLS-inspecting proxy's),
# passed as a build argument; the published image never holds them (checked below).
ca_certs=""
for f in ${AURA_BUILD_CA_FILES:-/usr/local/share/ca-certificates/*.crt}; do
  [ -f "$f" ] && ca_certs+="$(cat "$f")"$'\n'
done

phase "upstream images (pulled, or local stand-ins where no registry answers)"
ensure_upstream_images
took "upstream images"

# Builds the tree in $1 as the image $2 with the committed Dockerfile; says how many of the
# Dockerfile's steps came from the cache (all but Aura's own when only Aura's code changed).
build_image() {
  docker build --build-arg BUILD_CA_CERTS="$ca_certs" -t "$2" "$1" >"$work/build.log" 2>&1 \
    || { tail -n 60 "$work/build.log"; die "building $2 failed"; }
  echo "    $2: $(grep -c '^ ---> Using cache' "$work/build.log") of $(grep -c '^Step ' "$work/build.log") steps from the cache, $((SECONDS - build_started)) s"
}

phase "building Aura's image from the Dockerfile"
build_started=$SECONDS
build_image . "$AURA_IMAGE"
took "image build"
if [ -n "$ca_certs" ]; then
  marker=$(grep -v -- '-----' <<<"$ca_certs" | head -n 1)
  if docker run --rm --entrypoint cat "$AURA_IMAGE" /etc/ssl/certs/ca-certificates.crt | grep -qF -- "$marker" \
     || docker history --no-trunc "$AURA_IMAGE" | grep -qF -- "$marker"; then
    die "the build's CA certificate reached the published image"
  fi
fi

# Waits until $1 answers 200 (at most $2 seconds).
wait_http() {
  local i
  for i in $(seq "$2"); do curl -fs -o /dev/null "$1" && return 0; sleep 1; done
  die "$1 did not answer within $2 s"
}
container() { compose ps -q "$1" | head -n 1; }
wait_healthy() {
  local i id
  for i in $(seq 120); do
    id=$(container "$1")
    [ -n "$id" ] && [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ] && return 0
    sleep 1
  done
  die "$1 did not become healthy"
}
check() { python3 scripts/compose/check.py "$@"; }
up() { compose up -d --no-build "$@" >"$work/up.log" 2>&1 || { cat "$work/up.log"; die "compose up failed"; }; }

phase "compose up: PostgreSQL healthy, Aura migrated and ready, the demo, email into the catcher"
up
wait_healthy postgres
wait_http "$aura_url/readyz" 120
wait_http "$catcher/livez" 30
compose exec -T aura aura seed-demo >"$work/seed.log" || { cat "$work/seed.log"; die "seed-demo failed"; }
check demo "$aura_url" "$catcher"
# The web app, through the published port, in headless Chromium.
ensure_chromium
ensure_node_modules
AURA_URL="$aura_url" AURA_SCREENSHOTS="$PWD/.aura/screenshots" node scripts/compose/web.mjs
took "up, demo and web app"

phase "down + up: the data survives"
before=$(check counts "$aura_url")
compose down >/dev/null 2>&1
up
wait_http "$aura_url/readyz" 120
after=$(check counts "$aura_url")
[ "$before" = "$after" ] || die "rows changed across down + up: $before -> $after"
echo "    the same rows after down + up: $after"
took "down + up"

phase "upgrade: an earlier commit's image, then this one, on the same volume"
from=${AURA_UPGRADE_FROM:-$(git log -1 --format=%H -- migrations/)~1}
git rev-parse -q --verify "$from^{commit}" >/dev/null || die "no commit $from to upgrade from"
mkdir -p "$work/previous"
# The modes a checkout has (git archive writes 664 by default), so the cached layers match.
git -c tar.umask=0022 archive "$from" | tar -x -C "$work/previous"
# Built with this commit's recipe (Dockerfile and dependency script), so that what is compared is
# the application and its schema, not a build that may not have worked on this machine then.
cp Dockerfile .dockerignore "$work/previous/"
cp scripts/docker-deps.sh "$work/previous/scripts/"
build_started=$SECONDS
build_image "$work/previous" aura:previous
compose down -v >/dev/null 2>&1
AURA_IMAGE=aura:previous up
wait_http "$aura_url/readyz" 120
compose exec -T aura aura seed-demo >/dev/null
before=$(check counts "$aura_url")
applied_before=$(compose exec -T postgres psql -U aura -d aura -Atc 'select count(*) from _sqlx_migrations where success')
compose stop aura >/dev/null 2>&1
up
wait_http "$aura_url/readyz" 120
after=$(check counts "$aura_url")
applied_after=$(compose exec -T postgres psql -U aura -d aura -Atc 'select count(*) from _sqlx_migrations where success')
[ "$applied_after" = "$(ls migrations/*.sql | wc -l)" ] || die "$applied_after migrations applied of $(ls migrations/*.sql | wc -l)"
[ "$before" = "$after" ] || die "rows changed in the upgrade: $before -> $after"
echo "    from $(git rev-parse --short "$from"): $applied_before -> $applied_after migrations applied in place; the same rows: $after"
took "upgrade"

phase "scale-out: 2 API replicas without workers, 3 workers, a worker killed and another restarted mid-send"
compose down -v >/dev/null 2>&1
COMPOSE_PROFILES=scale-out AURA_SERVE_FLAGS=--no-workers up --scale api=2 --scale worker=3
wait_http "$aura_url/readyz" 120
compose exec -T aura aura seed-demo >/dev/null
api2=$(compose port --index=2 api 8080)
wait_http "http://$api2/readyz" 120
workers=($(COMPOSE_PROFILES=scale-out compose ps -q worker))
[ "${#workers[@]}" = 3 ] || die "${#workers[@]} worker containers running, not 3"
check scale "$aura_url" "http://$api2" "$catcher" "${AURA_SCALE_MESSAGES:-2000}" "${workers[0]}" "${workers[1]}"
took "scale-out"

printf '%s\n' "${timings[@]}"
echo "compose test passed in $((SECONDS - started)) s"
