#!/usr/bin/env bash
# Benchmark: reply latency with IDLE — from a reply APPENDed to a mailbox's INBOX on a private
# Dovecot to its event on the inbox's live stream (`GET /api/v1/inbox/stream`), over 100 replies
# one after another, through `aura serve` with its workers (the mailbox held, waiting on IDLE).
# Beside it, in the same run, the floor: when a plain IMAP client idling on the same INBOX hears
# of the same message (Dovecot's own notification). Prints p50 and p95 of both (target: Aura's
# p95 ≤ 2 s).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

REPLIES="${REPLIES:-100}"
ensure_dovecot
bench_fresh aura_bench

step "a private Dovecot"
dc=$(mktemp -d /tmp/aura-dc-XXXX)
chmod 755 "$dc"
imap_port=$(free_port)
uid=5000
mkdir -p "$dc/home"
chown "$uid:$uid" "$dc/home"
cat >"$dc/dovecot.conf" <<EOF
base_dir = $dc/run
state_dir = $dc/state
log_path = $dc/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
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
/usr/sbin/dovecot -F -c "$dc/dovecot.conf" &
extra_pids=$!
trap 'bench_stop; rm -rf "$dc"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$imap_port") 2>/dev/null && break; sleep 0.1; done

step "Aura with its workers, a mailbox reading the Dovecot"
export AURA_OUTBOUND_ALLOW=127.0.0.1
bench_start serve
bench_signup
mailbox=$(api POST /mailboxes "{\"from_name\":\"Bench\",\"from_email\":\"bench@mail.example.com\",\"smtp\":{\"host\":\"127.0.0.1\",\"port\":2525,\"security\":\"none\"},\"imap\":{\"host\":\"127.0.0.1\",\"port\":$imap_port,\"security\":\"none\",\"username\":\"bench\",\"password\":\"bench\"}}" | json 'd["id"]')
for _ in $(seq 100); do
  [ "$(api GET "/mailboxes/$mailbox/sync" | json 'd["idling"]')" = "True" ] && break
  sleep 0.2
done
stream_token=$(api POST /inbox/stream-token '{}' | json 'd["token"]')

step "$REPLIES replies, one after another"
python3 - "$port" "$stream_token" "$imap_port" "$REPLIES" <<'PY'
import imaplib, json, socket, statistics, sys, threading, time, urllib.request
port, token, imap_port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
events, idled = [], []
lock = threading.Condition()

def stream():
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/inbox/stream?token={token}") as r:
        for line in r:
            if line.startswith(b"event: message"):
                with lock:
                    events.append(time.monotonic()); lock.notify_all()

def idle():
    s = socket.create_connection(("127.0.0.1", imap_port)); f = s.makefile("rb")
    f.readline()
    s.sendall(b"a LOGIN bench bench\r\n")
    while not f.readline().startswith(b"a "): pass
    s.sendall(b"b EXAMINE INBOX\r\n")
    while not f.readline().startswith(b"b "): pass
    s.sendall(b"c IDLE\r\n"); f.readline()
    for line in f:
        if line.endswith(b"EXISTS\r\n"):
            with lock:
                idled.append(time.monotonic()); lock.notify_all()

threading.Thread(target=stream, daemon=True).start()
threading.Thread(target=idle, daemon=True).start()
time.sleep(1)
m = imaplib.IMAP4("127.0.0.1", imap_port); m.login("bench", "bench")
aura, floor = [], []
for i in range(n):
    msg = (f"From: Lead {i} <lead{i}@example.org>\r\nTo: bench@mail.example.com\r\nSubject: Re: The house\r\n"
           f"Message-ID: <latency-{i}@example.org>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\r\n"
           "Can we see it on Saturday?\r\n").encode()
    t0 = time.monotonic()
    m.append("INBOX", None, None, msg)
    with lock:
        ok = lock.wait_for(lambda: len(events) > i and len(idled) > i, timeout=30)
    if not ok:
        sys.exit(f"reply {i}: no event within 30 s")
    aura.append(events[i] - t0); floor.append(idled[i] - t0)
    time.sleep(0.05)
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
print(f"Aura, APPEND → stream event: p50 {pct(aura, 50) * 1000:.0f} ms, p95 {pct(aura, 95) * 1000:.0f} ms, max {max(aura) * 1000:.0f} ms over {n} replies (target p95 ≤ 2000 ms)")
print(f"IMAP IDLE client, APPEND → EXISTS: p50 {pct(floor, 50) * 1000:.0f} ms, p95 {pct(floor, 95) * 1000:.0f} ms (the floor: Dovecot's own notice)")
PY
