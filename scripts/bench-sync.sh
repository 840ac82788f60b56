#!/usr/bin/env bash
# Benchmark: the first sync of a mailbox holding 10,000 messages in one folder (INBOX) from a
# private Dovecot on loopback — an `aura worker` connecting over IMAP, fetching every message
# with BODY.PEEK[], reading, matching and storing each in PostgreSQL — beside mbsync (Debian's
# isync) syncing the same folder from the same Dovecot into a Maildir, measured in the same run
# (mbsync before and after Aura; the ratio is against their mean). Prints both rates, the ratio
# (target ≥ 0.5) and both peak memories.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MESSAGES="${MESSAGES:-10000}"
ensure_dovecot
bench_fresh aura_bench

step "a private Dovecot with $MESSAGES messages in one user's INBOX"
dc=$(mktemp -d /tmp/aura-dc-XXXX)
chmod 755 "$dc"
imap_port=$(free_port)
uid=5000
mkdir -p "$dc/home/bench/Maildir/"{cur,new,tmp}
cat >"$dc/dovecot.conf" <<EOF
base_dir = $dc/run
state_dir = $dc/state
log_path = $dc/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
first_valid_uid = 500
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = static
  args = password=bench
}
userdb {
  driver = static
  args = uid=$uid gid=$uid home=$dc/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
EOF
# Replies from leads, about 2 KB each, as a mail client writes them.
python3 - "$dc/home/bench/Maildir/cur" "$MESSAGES" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
body = ("Thanks for the note about the house on Harbor Street. We would like to see it again "
        "with our inspector before making an offer; any evening after six works for us.\r\n") * 10
for i in range(n):
    msg = (f"From: Lead {i} <lead{i}@example.org>\r\nTo: Bench <bench@mail.example.com>\r\n"
           f"Subject: Re: The open house {i}\r\nDate: Thu, 03 Dec 2026 10:{i % 60:02d}:00 +0000\r\n"
           f"Message-ID: <reply-{i}@example.org>\r\nIn-Reply-To: <sent-{i}@mail.example.com>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body)
    with open(os.path.join(d, f"{1700000000 + i}.{i}.bench:2,"), "w") as f:
        f.write(msg)
PY
chown -R "$uid:$uid" "$dc/home"
/usr/sbin/dovecot -F -c "$dc/dovecot.conf" &
dovecot=$!
extra_pids="$dovecot"
trap 'bench_stop; rm -rf "$dc"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$imap_port") 2>/dev/null && break; sleep 0.1; done
# Dovecot indexes the folder on first access: do it before either client is timed.
python3 - "$imap_port" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("bench", "bench"); print("INBOX holds", m.select("INBOX", readonly=True)[1][0].decode(), "messages"); m.logout()
PY

# mbsync into a fresh Maildir; prints "seconds peak_kb".
reference() {
  local local_dir; local_dir=$(mktemp -d)
  mkdir -p "$local_dir/mail"
  cat >"$local_dir/mbsyncrc" <<EOF
IMAPAccount bench
Host 127.0.0.1
Port $imap_port
User bench
Pass bench
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path $local_dir/mail/
Inbox $local_dir/mail/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
EOF
  python3 - "$local_dir/mbsyncrc" <<'PY'
import resource, subprocess, sys, time
t = time.time()
subprocess.run(["mbsync", "-q", "-c", sys.argv[1], "-a"], check=True)
print(f"{time.time() - t:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
  rm -rf "$local_dir"
}
step "reference: mbsync, $MESSAGES messages of INBOX into a Maildir"
read -r ref_before ref_mem_before < <(reference)

step "Aura: a mailbox reading the same INBOX (first sync)"
export AURA_OUTBOUND_ALLOW=127.0.0.1 AURA_IMAP_LOOKBACK_DAYS=36500
bench_start serve --no-workers
bench_signup
api POST /mailboxes "{\"from_name\":\"Bench\",\"from_email\":\"bench@mail.example.com\",\"smtp\":{\"host\":\"127.0.0.1\",\"port\":2525,\"security\":\"none\"},\"imap\":{\"host\":\"127.0.0.1\",\"port\":$imap_port,\"security\":\"none\",\"username\":\"bench\",\"password\":\"bench\"}}" >/dev/null
AURA_BIND="127.0.0.1:0" AURA_LOG=warn "$aura" worker >"$work/worker.log" 2>&1 &
worker=$!
extra_pids="$extra_pids $worker"
t0=$(date +%s.%N)
taken() { psql "$DATABASE_URL" -Atc "select coalesce(sum(messages), 0) from mailbox_folders where role = 'inbox'"; }
while [ "$(taken)" -lt "$MESSAGES" ]; do
  kill -0 "$worker" 2>/dev/null || die "the worker stopped: $(tail -n 5 "$work/worker.log")"
  sleep 0.05
done
t1=$(date +%s.%N)
aura_mem=$(awk '/VmHWM/ {print $2}' "/proc/$worker/status")
stored=$(psql "$DATABASE_URL" -Atc "select count(*) from inbound_messages")
[ "$stored" = "$MESSAGES" ] || die "stored $stored messages, not $MESSAGES"

step "reference again: mbsync"
read -r ref_after ref_mem_after < <(reference)

python3 - "$MESSAGES" "$t0" "$t1" "$ref_before" "$ref_after" "$aura_mem" "$ref_mem_before" "$ref_mem_after" <<'PY'
import sys
n, t0, t1, rb, ra, am, mb, ma = sys.argv[1:]
n = int(n); aura = n / (float(t1) - float(t0))
refs = [n / float(rb), n / float(ra)]; ref = sum(refs) / 2
print(f"Aura first sync: {aura:,.0f} msg/s ({n:,} messages in {float(t1) - float(t0):.2f} s), peak memory {int(am) / 1024:.0f} MB")
print(f"mbsync:          {ref:,.0f} msg/s (before {refs[0]:,.0f}, after {refs[1]:,.0f}), peak memory {max(int(mb), int(ma)) / 1024:.0f} MB")
print(f"ratio:           {aura / ref:.2f}× (target ≥ 0.5×)")
PY
