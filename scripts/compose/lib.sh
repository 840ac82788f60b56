# The Docker engine, and the images that Dockerfile and docker-compose.yml name, for
# scripts/test-compose.sh. Sourced after scripts/lib.sh (step, die, apt_install).
#
# Where an upstream image cannot be pulled (a machine with no image registry), a local stand-in is
# built and tagged with the upstream name, labelled org.aura.stand-in=true: a Debian base made with
# debootstrap; a Rust builder holding this machine's own toolchain; PostgreSQL from Debian's
# packages with the official image's contract; a mail catcher with Mailpit's SMTP port and the part
# of its API the test reads. On a machine that can pull, the real images are used.

export DOCKER_BUILDKIT=0   # the classic builder: BuildKit is not in every engine's packages

# Starts the engine when none answers, installing Debian's docker.io and docker-compose when they
# are missing. Sets DOCKERD_PID when it started one. Returns 1 with the reason in $engine_problem.
ensure_docker_engine() {
  engine_problem=""
  if [ ! -x /usr/sbin/dockerd ] && ! command -v dockerd >/dev/null; then
    step "installing the Docker engine (Debian's docker.io and docker-compose)"
    apt_install docker.io docker-compose || { engine_problem="could not install docker.io"; return 1; }
  fi
  if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
    apt_install docker-compose || { engine_problem="could not install docker-compose"; return 1; }
  fi
  docker info >/dev/null 2>&1 && return 0
  step "starting the Docker engine"
  mkdir -p "$AURA_HOME"
  "$(command -v dockerd || echo /usr/sbin/dockerd)" >"$AURA_HOME/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local i
  for i in $(seq 90); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  engine_problem="the Docker engine did not start: $(tail -n 3 "$AURA_HOME/dockerd.log" | tr '\n' ' ')"
  return 1
}

# docker compose (v2) where it exists, else docker-compose (v1), for the project $COMPOSE_PROJECT.
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose -p "$COMPOSE_PROJECT" "$@"
  else
    docker-compose -p "$COMPOSE_PROJECT" "$@"
  fi
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The upstream images the two files name (not Aura's own), Debian bases first.
upstream_images() {
  { awk 'toupper($1) == "FROM" { print $2 }' Dockerfile
    sed -n 's/^ *image: *\([^$ ]*\) *$/\1/p' docker-compose.yml; } \
    | sort -u | awk '/^debian:/ { print; next } { rest = rest $0 "\n" } END { printf "%s", rest }'
}

ensure_upstream_images() {
  local img
  for img in $(upstream_images); do
    have_image "$img" && continue
    if timeout 300 docker pull -q "$img" >/dev/null 2>&1; then continue; fi
    case "$img" in
      debian:*-slim) standin_debian "${img#debian:}" ;;
      rust:*-*) standin_rust "$img" ;;
      postgres:*) standin_postgres "${img#postgres:}" ;;
      axllent/mailpit:*) standin_build "$img" scripts/compose/mailpit ;;
      *) die "$img cannot be pulled and has no stand-in" ;;
    esac
  done
}

# The Debian suite the stand-ins are built on: the runtime image's.
standin_suite() { awk 'toupper($1) == "FROM" && $2 ~ /^debian:/ { s = $2 } END { sub(/^debian:/, "", s); sub(/-slim$/, "", s); print s }' Dockerfile; }

# This machine's Debian mirror (the one apt uses).
debian_mirror() {
  local m
  m=$(sed -n 's/^URIs: *\(.*\/debian\)\/* *$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [ -n "$m" ] || m=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { sub(/\/$/, "", $2); print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$m" ] || die "no Debian mirror found in apt's sources"
  echo "$m"
}

standin_debian() {
  local suite="${1%-slim}" dir mirror
  step "building a stand-in for debian:$1 (debootstrap)"
  command -v debootstrap >/dev/null || apt_install debootstrap
  mirror=$(debian_mirror)
  dir=$(mktemp -d)
  debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$AURA_HOME/debootstrap.log" 2>&1 \
    || { rm -rf "$dir"; die "debootstrap $suite failed (see $AURA_HOME/debootstrap.log)"; }
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import -c 'CMD ["bash"]' -c 'LABEL org.aura.stand-in=true' - "debian:$1" >/dev/null \
    || { rm -rf "$dir"; die "importing the debian:$1 stand-in failed"; }
  rm -rf "$dir"
}

# rust:VERSION-SUITE from the machine's toolchain of that version (rustup cannot download one).
standin_rust() {
  local tag="${1#rust:}" want suite tc="" d full ctx
  want="${tag%%-*}" suite="${tag#*-}"
  step "building a stand-in for $1 (this machine's Rust $want)"
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown >/dev/null
  for d in "${RUSTUP_HOME:-$HOME/.rustup}"/toolchains/*; do
    if "$d/bin/rustc" --version 2>/dev/null | grep -q "^rustc $want[. ]"; then tc=$(readlink -f "$d"); break; fi
  done
  [ -n "$tc" ] || die "$1 cannot be pulled and no Rust $want toolchain is installed here"
  full=$("$tc/bin/rustc" --version | awk '{ print $2 }')
  have_image "debian:$suite-slim" || standin_debian "$suite-slim"
  ctx=$(mktemp -d)
  cp scripts/compose/rust/Dockerfile "$ctx/"
  cp "$(readlink -f "$(command -v rustup)")" "$ctx/rustup"
  cp -al "$tc" "$ctx/toolchain" 2>/dev/null || cp -a "$tc" "$ctx/toolchain"
  docker build -q --label org.aura.stand-in=true --build-arg "BASE=debian:$suite-slim" \
    --build-arg "RUST_VERSION=$full" -t "$1" "$ctx" >/dev/null || { rm -rf "$ctx"; die "building the $1 stand-in failed"; }
  rm -rf "$ctx"
}

standin_postgres() {
  step "building a stand-in for postgres:$1 (Debian's postgresql-$1)"
  docker build -q --label org.aura.stand-in=true --build-arg "BASE=debian:$(standin_suite)-slim" \
    --build-arg "PG_MAJOR=$1" -t "postgres:$1" scripts/compose/postgres >/dev/null \
    || die "building the postgres:$1 stand-in failed (is postgresql-$1 in Debian $(standin_suite)?)"
}

standin_build() {
  step "building a stand-in for $1"
  docker build -q --label org.aura.stand-in=true --build-arg "BASE=debian:$(standin_suite)-slim" -t "$1" "$2" >/dev/null \
    || die "building the $1 stand-in failed"
}
