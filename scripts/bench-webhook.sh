#!/usr/bin/env bash
# Benchmark: Twilio's inbound webhook under load. `wrk` posts texts to the signed inbound route
# (each a new message: its own MessageSid, from one of 1,000 numbers, signed with the account's
# Auth Token over the public URL) and, in the same run, requests the server's no-op liveness
# route (`/healthz`) with the same connections and threads. Prints both rates, the ratio (target
# >= 0.5x the no-op rate), each one's p99 latency (target < 50 ms for the webhook), and checks
# that every message answered was recorded exactly once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS=2
MESSAGES="${MESSAGES:-120000}"
command -v wrk >/dev/null || apt_install wrk
bench_fresh aura_bench_hook

# The server alone (no workers), as an API replica: the webhook's own cost is what is measured.
port=$(free_port)
export AURA_PUBLIC_URL="http://127.0.0.1:$port"
work=$(mktemp -d)
AURA_BIND="127.0.0.1:$port" AURA_LOG=warn "$aura" serve --no-workers >"$work/server.log" 2>&1 &
server=$!
trap 'bench_stop' EXIT
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
bench_signup "Webhook Bench"
token_twilio=f1e2d3c4b5a697887766554433221100
account=$(api POST /phone-accounts "{\"name\":\"Bench\",\"account_sid\":\"AC0123456789abcdef0123456789abcdef\",\"auth_token\":\"$token_twilio\"}" | json 'd["id"]')
path="/api/v1/twilio/$account/inbound"

step "signing $MESSAGES distinct texts (HMAC-SHA1 over the URL and the sorted parameters, as Twilio does)"
python3 - "$AURA_PUBLIC_URL$path" "$token_twilio" "$MESSAGES" "$work/requests.txt" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
url, token, n, out = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), open(sys.argv[4], "w")
for i in range(n):
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "MessageSid": f"SM{i:032x}",
        "From": f"+1555{i % 1000:07d}",
        "To": "+14155550100",
        "Body": f"Is the house on Harbor St still available? ({i})",
        "NumMedia": "0",
    }
    signed = url + "".join(k + params[k] for k in sorted(params))
    sig = base64.b64encode(hmac.new(token, signed.encode(), hashlib.sha1).digest()).decode()
    out.write(sig + "\t" + urllib.parse.urlencode(params) + "\n")
PY
cat >"$work/inbound.lua" <<LUA
-- Each thread takes every ${THREADS}th signed request, in order: no message is sent twice.
local n = 0
function setup(thread) thread:set("id", n); n = n + 1 end
function init(args)
  lines = {}
  local i = 0
  for line in io.lines("$work/requests.txt") do
    if i % $THREADS == id then lines[#lines + 1] = line end
    i = i + 1
  end
  at = 0
end
function request()
  at = at + 1
  local line = lines[at]
  if line == nil then error("out of signed requests: raise MESSAGES") end
  local tab = line:find("\t")
  return wrk.format("POST", "$path", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = line:sub(1, tab - 1),
  }, line:sub(tab + 1))
end
LUA
# What both runs print at the end: requests, non-2xx answers, socket errors, p99 in ms.
cat >"$work/noop.lua" <<'LUA'
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(99) / 1000))
end
LUA
cat "$work/noop.lua" >>"$work/inbound.lua"
run() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$2" "http://127.0.0.1:$port$1" | grep '^RESULT'; }
step "reference: the no-op route, $DURATION, $CONNECTIONS connections"
noop_before=$(run /healthz "$work/noop.lua")
step "the signed inbound webhook, $DURATION, $CONNECTIONS connections"
hook=$(run "$path" "$work/inbound.lua")
step "reference again"
noop_after=$(run /healthz "$work/noop.lua")
# Requests in flight when wrk stopped are finished by the server: a moment for them.
sleep 1
stored=$(psql -tA "$DATABASE_URL" -c "select count(*) from inbound_messages where org_id = '$org'")
distinct=$(psql -tA "$DATABASE_URL" -c "select count(distinct message_id) from inbound_messages where org_id = '$org'")
python3 - "$noop_before" "$hook" "$noop_after" "$stored" "$DURATION" "$CONNECTIONS" "$distinct" <<'PY'
import sys
def parse(s):
    _, req, status, sock, p99 = s.split()
    return int(req), int(status), int(sock), float(p99)
b, h, a = parse(sys.argv[1]), parse(sys.argv[2]), parse(sys.argv[3])
stored, secs, conns = int(sys.argv[4]), float(sys.argv[5].rstrip("s")), sys.argv[6]
noop = (b[0] + a[0]) / 2 / secs
hook = h[0] / secs
print(f"inbound webhook : {hook:8.0f} req/s, p99 {h[3]:6.2f} ms (target < 50 ms), {h[1]} non-2xx, {h[2]} socket errors")
print(f"no-op /healthz  : {noop:8.0f} req/s, p99 {max(b[3], a[3]):6.2f} ms (mean of {b[0] / secs:.0f} before and {a[0] / secs:.0f} after)")
print(f"ratio           : {hook / noop:.2f}x the no-op route (target >= 0.5), {conns} connections, 2 wrk threads")
answered, distinct = h[0] - h[1], int(sys.argv[7])
# Every answered message is stored; at most one more per connection was in flight when wrk
# stopped (sent, its answer not counted); none is stored twice.
ok = answered <= stored <= answered + int(conns) and distinct == stored and h[1] == 0
print(f"recorded        : {stored} messages stored, {distinct} distinct, for {answered} answered "
      f"(+ at most {conns} in flight at the end): {'each once' if ok else 'MISMATCH'}")
if not ok:
    sys.exit(1)
PY
