#!/usr/bin/env bash
# Builds the web app into frontend/dist: the stylesheet (Tailwind), the vendored API-docs assets,
# then the Leptos app with Trunk (offline, optimised for size), then brotli and gzip copies of each
# asset for the server to send as they are. Fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_node_modules
mkdir -p frontend/vendor/api-docs
(cd frontend && ./node_modules/.bin/tailwindcss -i styles/app.css -o vendor/app.css --minify >/dev/null 2>&1) \
  || die "building the stylesheet failed (cd frontend && ./node_modules/.bin/tailwindcss -i styles/app.css -o vendor/app.css)"
for f in swagger-ui.css swagger-ui-bundle.js; do
  cp -u "frontend/node_modules/swagger-ui-dist/$f" "frontend/vendor/api-docs/$f"
done
cp -u frontend/assets/api-docs-init.js frontend/vendor/api-docs/init.js
# wasm-opt comes from the npm `binaryen` package (Trunk.toml pins its version).
PATH="$PWD/frontend/node_modules/.bin:$PATH" trunk build --offline --release >/tmp/aura-trunk.log 2>&1 \
  || { cat /tmp/aura-trunk.log; die "building the web app failed"; }
# Compressed once here, at the highest levels, rather than on every request.
node scripts/precompress.mjs frontend/dist
step "web app built into frontend/dist"
