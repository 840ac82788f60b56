#!/usr/bin/env bash
# Benchmark: importing 100,000 contact rows through Aura's real import path (multipart upload,
# analysis, background job with bulk writes) against `psql \copy` of the same rows into an
# equivalent table (same columns and indexes), measured in the same run on the same database.
# Prints both rates and the ratio; the target is a ratio of at least 0.3.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ROWS="${ROWS:-100000}"
bench_fresh aura_bench

bench_start serve
bench_signup Bench

step "generating $ROWS rows"
python3 - "$ROWS" "$work" <<'PY'
import sys, uuid
rows, work = int(sys.argv[1]), sys.argv[2]
with open(f"{work}/contacts.csv", "w") as csv, open(f"{work}/copy.tsv", "w") as tsv:
    csv.write("First Name,Last Name,Email,Company,City,Country,Tags\n")
    for i in range(rows):
        first, last, email = f"First{i}", f"Last{i}", f"lead{i}@example.com"
        company, city, country, tags = f"Company {i % 500}", ["Portland", "London", "Mumbai", "Dubai"][i % 4], ["US", "GB", "IN", "AE"][i % 4], f"bench,batch{i % 10}"
        csv.write(f'{first},{last},{email},{company},{city},{country},"{tags}"\n')
        tsv.write(f"{uuid.uuid4()}\t{first}\t{last}\t{email}\t{company}\t{city}\t{country}\t{{bench,batch{i % 10}}}\n")
PY

step "Aura import: upload, analyse, run"
start=$(date +%s.%N)
import=$(curl -fsS -H "authorization: Bearer $token" -F "file=@$work/contacts.csv;type=text/csv" "http://127.0.0.1:$port/api/v1/contacts/imports")
id=$(echo "$import" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
mapping=$(echo "$import" | python3 -c 'import json,sys; print(json.dumps({"mapping": json.load(sys.stdin)["mapping"]}))')
curl -fsS -o /dev/null -H "authorization: Bearer $token" -H 'content-type: application/json' -d "$mapping" "http://127.0.0.1:$port/api/v1/contacts/imports/$id/start"
while :; do
  state=$(curl -fsS -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/contacts/imports/$id")
  status=$(echo "$state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$status" = completed ] || [ "$status" = failed ] && break
  sleep 0.05
done
end=$(date +%s.%N)
created=$(echo "$state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["progress"]["created"])')
[ "$status" = completed ] && [ "$created" = "$ROWS" ] || die "the import ended $status with $created of $ROWS rows created"

step "psql \\copy of the same rows into an equivalent table"
psql -q "$DATABASE_URL" -c "drop table if exists bench_copy" -c "create table bench_copy (like contacts including all)" \
  -c "alter table bench_copy alter column org_id set default '$org'" >/dev/null
copy_start=$(date +%s.%N)
psql -q "$DATABASE_URL" -c "\\copy bench_copy (id, first_name, last_name, email, company, city, country, tags) from '$work/copy.tsv'" >/dev/null
copy_end=$(date +%s.%N)

python3 - "$ROWS" "$start" "$end" "$copy_start" "$copy_end" <<'PY'
import sys
rows, s, e, cs, ce = int(sys.argv[1]), *map(float, sys.argv[2:])
ours, copy = e - s, ce - cs
print(f"aura import : {rows} rows in {ours:6.2f} s = {rows / ours:9.0f} rows/s (upload, analysis, mapping, validation, duplicates, report)")
print(f"psql \\copy  : {rows} rows in {copy:6.2f} s = {rows / copy:9.0f} rows/s (same table shape and indexes)")
ratio = copy / ours
print(f"ratio       : {ratio:.2f}x the \\copy rate (target >= 0.30) -> {'PASS' if ratio >= 0.3 else 'BELOW TARGET'}")
PY
