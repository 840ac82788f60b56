#!/usr/bin/env bash
# Benchmark: preparing 10,000 enrolled leads × 3 steps (30,000 messages, templates with merge tags,
# fallbacks, spintax and an A/B variant; no AI) through Aura's real path (POST /prepare, the
# background worker, progress polled over the API) against `psql \copy` of the same 30,000 rows
# into an equivalent table (same columns and indexes), measured in the same run on the same
# database. Prints both rates and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

LEADS="${LEADS:-10000}"
bench_fresh aura_bench

bench_start serve
bench_signup

step "$LEADS leads, a campaign of 3 steps, everyone enrolled"
psql -q "$DATABASE_URL" -c "insert into contacts (org_id, id, first_name, last_name, email, phone, company, city, custom)
  select '$org', gen_random_uuid(), case when i % 5 = 0 then null else 'First' || i end, 'Last' || i,
         'lead' || i || '@example.com', '+1415' || lpad(i::text, 7, '0'), 'Company ' || (i % 500),
         (array['Portland','London','Mumbai','Dubai'])[1 + i % 4], jsonb_build_object('budget', (300 + i % 400) || 'k')
  from generate_series(1, $LEADS) i" >/dev/null
campaign=$(api POST /campaigns '{"name":"Benchmark"}' | json 'd["campaign"]["id"]')
api POST "/campaigns/$campaign/steps" '{"channel":"email","subject":"{Hi|Hello} {{first_name | \"there\"}}, a question about {{company}}","body":"{Hi|Hello|Hey} {{first_name | \"there\"}},\n\nI saw that {{company}} is growing in {{city | \"your city\"}}. Homes around {{custom.budget | \"your budget\"}} are moving fast this {spring|season}.\n\nWould a 15-minute call this week help? https://example.com/book?lead={{email}}\n\n{{sender.name}}\n{{org.name}}","weight":1,"variants":[{"label":"B","subject":"{{first_name | \"Quick\"}}: 21 days to sold","body":"{{first_name | \"Hi\"}}, we sold 14 homes near {{city | \"you\"}} last month. Worth a chat? {{sender.name}}","weight":1}]}' >/dev/null
api POST "/campaigns/$campaign/steps" '{"channel":"email","delay_minutes":2880,"subject":"Re: {{company}}","body":"Hi {{first_name | \"there\"}}, just bumping this up. {Any thoughts|Does this make sense}? {{sender.name}}"}' >/dev/null
api POST "/campaigns/$campaign/steps" '{"channel":"sms","delay_minutes":4320,"body":"Hi {{first_name | \"there\"}}, {{sender.name}} from {{org.name}} here. Free for a quick call about {{company}}?"}' >/dev/null
enrolled=$(api POST "/campaigns/$campaign/targets" '{"selection":{"filter":{}}}' | json 'd["enrolled"]')
[ "$enrolled" = "$LEADS" ] || die "enrolled $enrolled of $LEADS"

step "Aura: prepare $((LEADS * 3)) messages (POST /prepare, background worker, progress over the API)"
start=$(date +%s.%N)
api POST "/campaigns/$campaign/prepare" '{}' >/dev/null
while :; do
  state=$(api GET "/campaigns/$campaign/review")
  status=$(echo "$state" | json 'd["preparation"]["status"]')
  [ "$status" = done ] || [ "$status" = failed ] && break
  sleep 0.02
done
end=$(date +%s.%N)
done_n=$(echo "$state" | json 'd["preparation"]["done"]')
[ "$status" = done ] && [ "$done_n" = "$((LEADS * 3))" ] || die "the preparation ended $status with $done_n messages"
echo "$state"

step "psql \\copy of the same rows into an equivalent table"
psql -q "$DATABASE_URL" -c "\\copy (select * from campaign_messages where campaign_id = '$campaign') to '$work/messages.tsv'" >/dev/null
psql -q "$DATABASE_URL" -c "drop table if exists bench_copy" -c "create table bench_copy (like campaign_messages including all)" >/dev/null
copy_start=$(date +%s.%N)
psql -q "$DATABASE_URL" -c "\\copy bench_copy from '$work/messages.tsv'" >/dev/null
copy_end=$(date +%s.%N)
psql -q "$DATABASE_URL" -c "drop table bench_copy" >/dev/null

python3 - "$((LEADS * 3))" "$start" "$end" "$copy_start" "$copy_end" <<'PY'
import sys
rows, s, e, cs, ce = int(sys.argv[1]), *map(float, sys.argv[2:])
ours, copy = e - s, ce - cs
print(f"aura prepare: {rows} messages in {ours:6.2f} s = {rows / ours:9.0f} messages/s (read targets and contacts, variant, render subject + text + HTML, problems, write, progress)")
print(f"psql \\copy  : {rows} rows     in {copy:6.2f} s = {rows / copy:9.0f} rows/s (the same rows, same table shape and indexes)")
print(f"ratio       : {copy / ours:.2f}x the \\copy rate")
PY
