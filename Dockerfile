# Aura: one image with the `aura` binary and the built web app.
# Build: docker build -t aura .   (docker-compose.yml does this for you)
#
# Layers are ordered so that a change to Aura's own code rebuilds only Aura: the tools (Trunk,
# wasm-bindgen), the npm packages and the compiled Rust dependencies each sit in a layer of their
# own, keyed on Cargo.lock and package-lock.json. Works with the classic builder (no BuildKit).

FROM rust:1.95-trixie AS build
# Only for building behind a TLS-inspecting proxy: extra CA certificates (PEM text) that this
# build stage trusts. Empty by default; it never reaches the published image below.
ARG BUILD_CA_CERTS=""
RUN if [ -n "$BUILD_CA_CERTS" ]; then printf '%s\n' "$BUILD_CA_CERTS" >> /etc/ssl/certs/ca-certificates.crt; fi
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# Debian trixie's Node.js is 20: the stylesheet compiler (@tailwindcss/oxide 4) needs >= 20.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
RUN rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
RUN cargo install trunk --version '~0.21' --locked && rm -rf "$CARGO_HOME/registry/src"
WORKDIR /src
COPY Cargo.lock ./
RUN cargo install wasm-bindgen-cli --version "$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)" \
 && rm -rf "$CARGO_HOME/registry/src"
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm install --no-save --no-audit --no-fund --loglevel=error
# The workspace's dependencies, compiled against placeholder sources of Aura's own crates.
COPY Cargo.toml Trunk.toml ./
COPY crates/types/Cargo.toml crates/types/
COPY crates/api/Cargo.toml crates/api/
COPY frontend/Cargo.toml frontend/
COPY bench/web-counter/Cargo.toml bench/web-counter/
COPY scripts/docker-deps.sh scripts/
ENV SQLX_OFFLINE=true CARGO_TARGET_DIR=/src/target
RUN bash scripts/docker-deps.sh
# Aura itself.
COPY . .
RUN bash scripts/docker-deps.sh --own-sources-changed \
 && bash scripts/build-web.sh && cargo build --release -p aura-api

FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app aura \
 && install -d -o aura -g aura /app /app/outbox
WORKDIR /app
COPY --from=build /src/target/release/aura /usr/local/bin/aura
COPY --from=build /src/frontend/dist /app/dist
# The sandbox mailbox's .eml copies (the Outbox itself is in PostgreSQL).
ENV AURA_STATIC_DIR=/app/dist AURA_BIND=0.0.0.0:8080 AURA_LOG_FORMAT=json AURA_OUTBOX_DIR=/app/outbox
USER aura
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fs http://127.0.0.1:8080/readyz || exit 1
CMD ["sh", "-c", "aura migrate && aura serve"]
