#!/usr/bin/env bash
# Benchmark: a number's pace, shared by two `aura worker` processes through PostgreSQL. For each
# rate (RATES, default 1 3 80 texts a second) a campaign of RATE x SECONDS (default 60) SMS leads
# is queued on one Twilio number set to that rate, then sent through a local stand-in of Twilio's
# Messages API that notes the moment each create arrives. Prints, beside the configured rate, the
# achieved rate (from the first arrival to the last) and the most arrivals in any one-second
# window. Targets: achieved within 1% of the configured rate, never above it in any second.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

RATES="${RATES:-1 3 80}"
SECONDS_EACH="${SECONDS_EACH:-60}"
bench_fresh aura_bench_pace

step "a stand-in of Twilio's Messages API on loopback (answers 201 as Twilio does, notes each arrival)"
stand_port=$(free_port)
arrivals=$(mktemp)
python3 - "$stand_port" "$arrivals" <<'PY' &
import json, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, path = int(sys.argv[1]), sys.argv[2]
out = open(path, "a", buffering=1)
class Twilio(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        at = time.time()
        self.rfile.read(int(self.headers.get("content-length", 0)))
        out.write(f"{at:.6f}\n")
        sid = "SM" + uuid.uuid4().hex
        body = json.dumps({"sid": sid, "status": "queued", "to": "", "body": "", "num_segments": "1",
                           "date_created": "Mon, 30 Nov 2026 15:00:00 +0000", "error_code": None}).encode()
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Twilio).serve_forever()
PY
extra_pids=$!
export AURA_TWILIO_API_URL="http://127.0.0.1:$stand_port" AURA_OUTBOUND_ALLOW=127.0.0.1
bench_start serve --no-workers
bench_signup "Pace Bench"
account=$(api POST /phone-accounts '{"name":"Bench","account_sid":"AC0123456789abcdef0123456789abcdef","auth_token":"f1e2d3c4b5a697887766554433221100"}' | json 'd["id"]')
# Leads live (in Maine, a state with the default window) where it is mid-afternoon now, so quiet
# hours never hold a text back.
offset=$(( ( $(date -u +%-H) - 14 + 24 ) % 24 )); [ "$offset" -gt 12 ] && offset=$((offset - 24))
if [ "$offset" -ge 0 ]; then tz="Etc/GMT+$offset"; else tz="Etc/GMT$offset"; fi
# Etc/GMT+k is k hours behind UTC (POSIX sign).

run_rate() {
  local rate=$1 n=$(( $1 * SECONDS_EACH + 1 ))
  step "$rate texts a second: $n leads on one number, two worker processes"
  psql -q "$DATABASE_URL" -c "delete from phone_numbers where org_id = '$org'" >/dev/null
  api POST "/phone-accounts/$account/numbers" "{\"number\":\"+1415555$(printf %04d "$rate")\",\"kind\":\"long_code\",\"per_second\":$rate}" >/dev/null
  psql -q "$DATABASE_URL" -c "delete from contacts where org_id = '$org'" >/dev/null
  psql -q "$DATABASE_URL" -c "insert into contacts (org_id, id, first_name, phone, timezone, state, country, consent, tags)
    select '$org', gen_random_uuid(), 'Lead' || i, '+1555' || lpad(i::text, 7, '0'), '$tz', 'ME', 'US',
           '{\"sms\": {\"status\": \"granted\", \"source\": \"benchmark\"}}'::jsonb, array['pace$rate']
    from generate_series(1, $n) i" >/dev/null
  local campaign
  campaign=$(api POST /campaigns "{\"name\":\"Pace $rate\",\"timezone\":\"UTC\",\"daily_new_leads\":100000,\"window\":{\"days\":[1,2,3,4,5,6,7],\"start\":\"00:00\",\"end\":\"23:59\"}}" | json 'd["campaign"]["id"]')
  api POST "/campaigns/$campaign/steps" '{"channel":"sms","body":"Hi {{first_name}}, a new listing just came up near you."}' >/dev/null
  api POST "/campaigns/$campaign/targets" "{\"selection\":{\"filter\":{\"tags_any\":\"pace$rate\"}}}" >/dev/null
  api POST "/campaigns/$campaign/prepare" '{}' >/dev/null
  AURA_LOG=warn "$aura" worker >"$work/prepare.log" 2>&1 &
  local prep=$!
  until [ "$(api GET "/campaigns/$campaign/review" | json 'd["preparation"]["status"]')" = done ]; do sleep 0.2; done
  kill "$prep"; wait "$prep" 2>/dev/null || true
  api POST "/campaigns/$campaign/messages/review" '{"action":"approve","filter":{}}' >/dev/null
  # Hold the number until every text is queued, so the run measures the pace alone.
  psql -q "$DATABASE_URL" -c "update phone_numbers set next_send_at = 'infinity' where org_id = '$org'" >/dev/null
  api POST "/campaigns/$campaign/status" '{"status":"active"}' >/dev/null
  AURA_LOG=warn "$aura" worker >"$work/worker1.log" 2>&1 &
  local w1=$!
  AURA_LOG=warn "$aura" worker >"$work/worker2.log" 2>&1 &
  local w2=$!
  extra_pids="$extra_pids $w1 $w2"
  count() { psql -tA "$DATABASE_URL" -c "select count(*) from campaign_messages where org_id = '$org' and campaign_id = '$campaign' and status = '$1'"; }
  until [ "$(count queued)" = "$n" ]; do sleep 0.2; done
  : >"$arrivals"
  psql -q "$DATABASE_URL" -c "update phone_numbers set next_send_at = '-infinity' where org_id = '$org'" >/dev/null
  until [ "$(count queued)" = 0 ]; do
    kill -0 "$w1" 2>/dev/null && kill -0 "$w2" 2>/dev/null || die "a worker stopped: $(tail -n 5 "$work"/worker*.log)"
    sleep 0.5
  done
  kill "$w1" "$w2"; wait "$w1" "$w2" 2>/dev/null || true
  [ "$(count sent)" = "$n" ] || die "not every text was sent: $(count sent) of $n"
  python3 - "$rate" "$n" "$arrivals" <<'PY'
import sys
rate, n, path = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t = sorted(float(l) for l in open(path) if l.strip())
assert len(t) == n, f"{len(t)} arrivals for {n} texts"
achieved = (n - 1) / (t[-1] - t[0])
most, j = 0, 0
for i in range(n):
    while t[i] - t[j] >= 1.0:
        j += 1
    most = max(most, i - j + 1)
within = abs(achieved - rate) / rate * 100
gaps = sorted(b - a for a, b in zip(t, t[1:]))
print(f"  gaps between texts: smallest {gaps[0] * 1000:.1f} ms, median {gaps[len(gaps) // 2] * 1000:.1f} ms, largest {gaps[-1] * 1000:.1f} ms (slot {1000 / rate / 0.995:.1f} ms)")
print(f"configured {rate:5.0f}/s: achieved {achieved:8.3f}/s ({within:.2f}% off; target <= 1%), "
      f"most in any one-second window {most} (target <= {rate:.0f}), {n} texts in {t[-1] - t[0]:.1f} s")
PY
}

for rate in $RATES; do run_rate "$rate"; done
