# Aura: one image with the `aura` binary and the built web app.
# Build: docker build -t aura .   (docker-compose.yml does this for you)

FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install trunk --version '~0.21' --locked
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN cargo install wasm-bindgen-cli --version "$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
COPY . .
ENV SQLX_OFFLINE=true CARGO_TARGET_DIR=/src/target
RUN bash scripts/build-web.sh && cargo build --release -p aura-api

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app aura
WORKDIR /app
COPY --from=build /src/target/release/aura /usr/local/bin/aura
COPY --from=build /src/frontend/dist /app/dist
ENV AURA_STATIC_DIR=/app/dist AURA_BIND=0.0.0.0:8080 AURA_LOG_FORMAT=json
USER aura
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fs http://127.0.0.1:8080/readyz || exit 1
CMD ["sh", "-c", "aura migrate && aura serve"]
