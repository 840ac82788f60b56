"""What scripts/test-compose.sh checks through the running stack's published ports: Aura's JSON API
and the mail catcher's (Mailpit's) HTTP API. Standard library only.

  check.py demo AURA CATCHER                 launch the demo campaign's first email into the catcher
  check.py counts AURA                       rows the demo organization can see, as JSON
  check.py scale AURA AURA2 CATCHER N KILL RESTART
      a campaign of N emails through workers; the container KILL is killed (docker kill) and RESTART
      restarted (docker restart) mid-send; every message must reach the catcher once or be unknown
"""

import datetime
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DEMO = {"email": "demo@example.com", "password": "aura-demo-2026"}


def fail(msg):
    print(f"FAILED: {msg}", flush=True)
    sys.exit(1)


def say(msg):
    print(f"    {msg}", flush=True)


def http(method, url, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read()
            return json.loads(raw) if raw and r.headers.get_content_type() == "application/json" else raw
    except urllib.error.HTTPError as e:
        fail(f"{method} {url} answered {e.code}: {e.read()[:500]!r}")


class Aura:
    def __init__(self, base):
        self.base = base.rstrip("/") + "/api/v1"
        login = http("POST", self.base + "/auth/login", DEMO)
        # An API key: the run outlasts an access token.
        key = http("POST", self.base + "/api-keys", {"name": f"compose test {time.time_ns()}", "role": "owner"},
                   login["access_token"])
        self.token = key["token"]

    def on(self, base):
        other = object.__new__(Aura)
        other.base, other.token = base.rstrip("/") + "/api/v1", self.token
        return other

    def __call__(self, method, path, body=None):
        return http(method, self.base + path, body, self.token)

    def mailbox(self, email, interval):
        return self("POST", "/mailboxes", {
            "kind": "smtp", "from_name": "Compose test", "from_email": email,
            "smtp": {"host": "mailpit", "port": 1025, "security": "none"},
            "limits": {"daily_limit": 100000, "ramp_start": 0, "ramp_step": 0,
                       "min_interval_secs": interval, "jitter_secs": 0}})["id"]

    def prepare_and_wait(self, campaign):
        self("POST", f"/campaigns/{campaign}/prepare", {})
        deadline = time.time() + 600
        while time.time() < deadline:
            p = self("GET", f"/campaigns/{campaign}/review")["preparation"]
            if p["status"] == "done":
                return
            if p["status"] == "failed":
                fail(f"preparation failed: {p}")
            time.sleep(1)
        fail("preparation did not finish in 10 minutes")

    def launch(self, campaign):
        pre = self("GET", f"/campaigns/{campaign}/preflight")
        if not pre["ready"]:
            fail(f"pre-flight refused the launch: {[c for c in pre['checks'] if not c.get('ok', True)]}")
        self("POST", f"/campaigns/{campaign}/status", {"status": "active"})

    def messages(self, campaign, status):
        out, cursor = [], None
        while True:
            page = self("GET", f"/campaigns/{campaign}/messages?status={status}&limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
            out += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def caught(catcher):
    """Every message the catcher holds (Mailpit's API, newest first, paged)."""
    out, start = [], 0
    while True:
        page = http("GET", f"{catcher}/api/v1/messages?start={start}&limit=500")
        out += page["messages"]
        start += len(page["messages"])
        if not page["messages"] or start >= page["total"]:
            return out


def wait_for(what, test, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if test():
            return
        time.sleep(1)
    fail(f"{what}: not within {seconds} s")


def demo(aura_url, catcher):
    aura = Aura(aura_url)
    campaign = next(c for c in aura("GET", "/campaigns") if c["name"] == "Open house follow-up")
    detail = aura("GET", f"/campaigns/{campaign['id']}")
    first = next(s for s in detail["steps"] if s["position"] == 1)
    leads = aura("GET", f"/campaigns/{campaign['id']}/targets?limit=1")["total"]
    if leads < 1:
        fail("the demo campaign has nobody enrolled")
    # The demo's mailbox is a sandbox (nothing leaves Aura); this one speaks SMTP to the catcher.
    mailbox = aura.mailbox("dana@mail.aurarealty.example", 0)
    aura("PUT", f"/campaigns/{campaign['id']}/mailboxes", {"mailbox_ids": [mailbox]})
    aura.prepare_and_wait(campaign["id"])
    aura("POST", f"/campaigns/{campaign['id']}/messages/review",
         {"action": "approve", "filter": {"step_id": first["id"]}})
    enrolled = len([m for m in aura.messages(campaign["id"], "approved") if m["step_id"] == first["id"]])
    if enrolled < 1:
        fail("no first email of the demo campaign could be approved")
    held = [(m["status"], m.get("problems") or m.get("problem")) for m in aura.messages(campaign["id"], "prepared")
            if m["step_id"] == first["id"]]
    say(f"demo campaign: {leads} leads enrolled, {enrolled} first emails approved"
        + (f"; not approvable: {held}" if held else ""))
    aura.launch(campaign["id"])
    wait_for(f"{enrolled} demo emails at the catcher", lambda: len(caught(catcher)) >= enrolled, 180)
    time.sleep(2)
    got = caught(catcher)
    sent = aura.messages(campaign["id"], "sent")
    ids = sorted(m["MessageID"] for m in got)
    ours = sorted(m["delivery"]["message_id"].strip("<>") for m in sent if m["step_id"] == first["id"])
    if len(got) != enrolled or ids != ours:
        fail(f"the catcher holds {len(got)} emails for {enrolled} leads; {len(ours)} marked sent; same ids: {ids == ours}")
    subjects = {m["Subject"] for m in got}
    if not all(s.startswith("Thanks for coming by") for s in subjects):
        fail(f"unexpected subjects {subjects}")
    say(f"demo campaign: {enrolled} emails launched through the API arrived at the catcher, each once, each marked sent")


def counts(aura_url):
    aura = Aura(aura_url)
    out = {
        "contacts": aura("GET", "/contacts?limit=1")["total"],
        "campaigns": len(aura("GET", "/campaigns")),
        "mailboxes": len(aura("GET", "/mailboxes")),
        "conversations": aura("GET", "/conversations?limit=1").get("total"),
    }
    print(json.dumps(out, sort_keys=True))


def docker(*args):
    subprocess.run(["docker", *args], check=True, stdout=subprocess.DEVNULL)


def scale(aura_url, aura2_url, catcher, n, kill, restart):
    n = int(n)
    aura = Aura(aura_url)
    other = aura.on(aura2_url)  # a second API replica: any of them serves any request
    tag = f"load{time.time_ns()}"
    contacts = [{"email": f"lead{i}@d{i % 97}.example", "first_name": f"Lead{i}"} for i in range(n)]
    created = other("POST", "/contacts/import", {"contacts": contacts, "options": {"tags": [tag]}})
    if created["progress"]["created"] != n:
        fail(f"import created {created['progress']}")
    # Twenty mailboxes, each paced at one email a second, so the send lasts long enough to
    # kill a worker in the middle of it.
    boxes = [aura.mailbox(f"sender{i}@mail.scale.example", 1) for i in range(20)]
    # A campaign time zone where it is midday now, far from the daily counters' midnight.
    offset = (12 - datetime.datetime.now(datetime.timezone.utc).hour + 12) % 24 - 12
    tz = "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
    campaign = aura("POST", "/campaigns", {"name": f"Scale-out {n}", "timezone": tz, "daily_new_leads": 100000,
                                           "window": {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}})["campaign"]["id"]
    aura("POST", f"/campaigns/{campaign}/steps", {"channel": "email", "subject": "Hello {{first_name}}",
                                                 "body": "Hi {{first_name}}, a short note from the scale-out test."})
    enrolled = other("POST", f"/campaigns/{campaign}/targets", {"selection": {"filter": {"tags_any": tag}}})
    if enrolled.get("enrolled") != n:
        fail(f"enrolled {enrolled}")
    aura("PUT", f"/campaigns/{campaign}/mailboxes", {"mailbox_ids": boxes})
    aura.prepare_and_wait(campaign)
    aura("POST", f"/campaigns/{campaign}/messages/review", {"action": "approve", "filter": {}})
    before = len(caught(catcher))
    started = time.time()
    other.launch(campaign)

    def at_catcher():
        return len(caught(catcher)) - before

    wait_for("a quarter of the campaign at the catcher", lambda: at_catcher() >= n // 4, 600)
    docker("kill", kill)
    say(f"killed {kill[:12]} with {at_catcher()} of {n} emails at the catcher")
    wait_for("half of the campaign at the catcher", lambda: at_catcher() >= n // 2, 600)
    docker("restart", restart)
    say(f"restarted {restart[:12]} with {at_catcher()} of {n} emails at the catcher")

    def settled():
        d = aura("GET", f"/campaigns/{campaign}/delivery")["steps"][0]
        return d["queued"] + d["sending"] == 0 and d["sent"] + d["unknown"] + d["failed"] + d["bounced"] + d["cancelled"] == n

    # A killed worker's messages are marked unknown once their lease runs out (two minutes).
    wait_for("every message settled", settled, 900)
    took = time.time() - started
    d = aura("GET", f"/campaigns/{campaign}/delivery")["steps"][0]
    got = [m for m in caught(catcher) if m["Subject"].startswith("Hello Lead")]
    ids = [m["MessageID"] for m in got]
    twice = len(ids) - len(set(ids))
    sent = {m["delivery"]["message_id"].strip("<>") for m in aura.messages(campaign, "sent")}
    unknown = {m["delivery"]["message_id"].strip("<>") for m in aura.messages(campaign, "unknown")}
    at = set(ids)
    lost = sent - at
    strays = at - sent - unknown
    say(f"{n} messages in {took:.0f} s: {d['sent']} sent, {d['unknown']} unknown "
        f"({len(unknown & at)} of them at the catcher), {d['failed']} failed; "
        f"at the catcher {len(ids)} ({len(at)} distinct); twice {twice}; marked sent but missing {len(lost)}; "
        f"at the catcher but neither sent nor unknown {len(strays)}")
    if twice or lost or strays or d["failed"] or d["bounced"] or d["cancelled"] or len(sent) + len(unknown) != n:
        fail("a message went twice, was lost, or ended neither sent nor unknown")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"demo": demo, "counts": counts, "scale": scale}[cmd](*args)
