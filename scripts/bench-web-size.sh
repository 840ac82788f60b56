#!/usr/bin/env bash
# The web app's initial download (wasm + JS + CSS, gzip and brotli as served) beside Leptos's
# counter (bench/web-counter) built with the same settings in the same run: the `wasm-release`
# profile, Trunk, wasm-opt -Oz from the npm `binaryen` package. Target: the app at most 3x the
# counter (gzip). With `--before`, also the app built as it was before size work: no wasm-opt.
#   bash scripts/bench-web-size.sh [--before]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_rust_tools
ensure_node_modules
export PATH="$PWD/frontend/node_modules/.bin:$PATH"
out=$(mktemp -d)
trap 'rm -rf "$out" frontend/.index-before.html' EXIT

# Sizes of the files a page loads first: the wasm, the JS loader and the stylesheet.
sizes() { # label dir
  python3 - "$1" "$2" <<'PY'
import gzip, pathlib, sys, zlib
label, d = sys.argv[1], pathlib.Path(sys.argv[2])
files = [p for p in d.iterdir() if p.suffix in (".wasm", ".js", ".css") and p.is_file()]
raw = sum(p.stat().st_size for p in files)
gz = sum(len(gzip.compress(p.read_bytes(), 9)) for p in files)
wasm = sum(p.stat().st_size for p in files if p.suffix == ".wasm")
br_files = [p.with_name(p.name + ".br") for p in files]
br = sum(b.stat().st_size for b in br_files if b.exists())
print(f"{label:<34} wasm {wasm/1e6:6.2f} MB   wasm+js+css {raw/1e6:6.2f} MB   gzip {gz/1e3:7.0f} KB" + (f"   brotli {br/1e3:6.0f} KB" if br else ""))
open(d / ".gzip", "w").write(str(gz))
PY
}

step "building the counter (bench/web-counter), as the app is built"
trunk build bench/web-counter/index.html --offline --release --dist "$out/counter" >"$out/counter.log" 2>&1 \
  || { cat "$out/counter.log"; die "building the counter failed"; }
node scripts/precompress.mjs "$out/counter"

step "building the app"
bash scripts/build-web.sh >/dev/null
cp -r frontend/dist "$out/app"

if [ "${1:-}" = "--before" ]; then
  step "building the app as before (no wasm-opt)"
  sed 's/data-wasm-opt="z"/data-wasm-opt="0"/' frontend/index.html >frontend/.index-before.html
  trunk build frontend/.index-before.html --offline --release --dist "$out/before" >"$out/before.log" 2>&1 \
    || { cat "$out/before.log"; die "building the app without wasm-opt failed"; }
fi

echo
sizes "Leptos 0.8 counter (reference)" "$out/counter"
[ -d "$out/before" ] && sizes "the app before (no wasm-opt)" "$out/before"
sizes "the app" "$out/app"
python3 - "$out" <<'PY'
import sys, pathlib
d = pathlib.Path(sys.argv[1])
app, counter = int((d / "app/.gzip").read_text()), int((d / "counter/.gzip").read_text())
ratio = app / counter
print(f"\nthe app's initial download is {ratio:.1f}x the counter's (gzip); target: at most 3x")
PY
