"""A mail catcher standing in for Mailpit where its image cannot be pulled.

SMTP on port 1025 (no TLS, no authentication: Mailpit's defaults) keeps every message it accepts,
in memory, and answers the part of Mailpit's HTTP API (port 8025) that scripts/test-compose.sh
reads: GET /api/v1/messages (newest first, `start` and `limit`), GET /api/v1/message/{ID},
GET /api/v1/message/{ID}/headers, GET /api/v1/message/{ID}/raw, DELETE /api/v1/messages, and
GET /livez. Every accepted DATA is one message: a message delivered twice is kept twice.
"""

import asyncio
import datetime
import email
import email.policy
import email.utils
import html
import http.server
import json
import threading
import urllib.parse
import uuid

MESSAGES = []  # oldest first
LOCK = threading.Lock()


def address(value):
    name, addr = email.utils.parseaddr(value or "")
    return {"Name": name, "Address": addr}


def summary(m):
    return {k: m[k] for k in ("ID", "MessageID", "From", "To", "Subject", "Created", "Size", "Snippet")}


def store(mail_from, rcpts, raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = ""
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() or msg.get_content_type() == "text/plain" else None
    if part is not None:
        try:
            text = part.get_content()
        except (LookupError, ValueError):
            text = ""
    record = {
        "ID": uuid.uuid4().hex[:22],
        "MessageID": (msg.get("Message-ID") or "").strip().strip("<>"),
        "From": address(msg.get("From")),
        "To": [address(a) for a in msg.get_all("To", [])] or [{"Name": "", "Address": r} for r in rcpts],
        "Subject": str(msg.get("Subject") or ""),
        "Created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "Size": len(raw),
        "Snippet": " ".join(text.split())[:250],
        "Text": text,
        "Envelope": {"From": mail_from, "To": list(rcpts)},
        "Raw": raw,
        "Headers": {},
    }
    for k, v in msg.items():
        record["Headers"].setdefault(k, []).append(str(v))
    with LOCK:
        MESSAGES.append(record)
    return record["ID"]


async def smtp_session(reader, writer):
    async def say(*lines):
        for i, line in enumerate(lines):
            sep = "-" if i < len(lines) - 1 else " "
            code, rest = line.split(" ", 1)
            writer.write(f"{code}{sep}{rest}\r\n".encode())
        await writer.drain()

    mail_from, rcpts = None, []
    try:
        await say("220 mailpit ESMTP")
        while True:
            line = await reader.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                await say("250 mailpit", "250 8BITMIME", "250 SMTPUTF8", "250 SIZE 0")
            elif verb == "HELO":
                await say("250 mailpit")
            elif verb == "MAIL":
                mail_from = cmd.split(":", 1)[1].strip().split(" ")[0].strip("<>") if ":" in cmd else ""
                rcpts = []
                await say("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mail_from is None:
                    await say("503 5.5.1 Error: need MAIL command")
                    continue
                rcpts.append(cmd.split(":", 1)[1].strip().strip("<>") if ":" in cmd else "")
                await say("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    await say("503 5.5.1 Error: need RCPT command")
                    continue
                await say("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    data = await reader.readline()
                    if not data:
                        return  # the sender went away mid-message: nothing was accepted
                    if data in (b".\r\n", b".\n"):
                        break
                    chunks.append(data[1:] if data.startswith(b".") else data)
                ident = store(mail_from, rcpts, b"".join(chunks))
                mail_from, rcpts = None, []
                await say(f"250 2.0.0 Ok: queued as {ident}")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                await say("250 2.0.0 Ok")
            elif verb == "NOOP":
                await say("250 2.0.0 Ok")
            elif verb == "QUIT":
                await say("221 2.0.0 Bye")
                return
            else:
                await say("502 5.5.2 Error: command not recognized")
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


class Api(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body, kind="application/json"):
        data = body if isinstance(body, bytes) else (json.dumps(body) if kind == "application/json" else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def find(self, ident):
        with LOCK:
            return next((m for m in MESSAGES if m["ID"] == ident), None)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        if url.path in ("/livez", "/readyz"):
            return self.send(200, "ok", "text/plain")
        if parts == ["api", "v1", "messages"]:
            start = int(q.get("start", ["0"])[0])
            limit = int(q.get("limit", ["50"])[0])
            with LOCK:
                newest = list(reversed(MESSAGES))
            page = [summary(m) for m in newest[start:start + limit]]
            return self.send(200, {"total": len(newest), "unread": len(newest), "count": len(page),
                                   "messages_count": len(newest), "start": start, "tags": [], "messages": page})
        if len(parts) >= 4 and parts[:3] == ["api", "v1", "message"]:
            m = self.find(parts[3])
            if m is None:
                return self.send(404, "message not found", "text/plain")
            if parts[4:] == ["headers"]:
                return self.send(200, m["Headers"])
            if parts[4:] == ["raw"]:
                return self.send(200, m["Raw"], "text/plain; charset=utf-8")
            if not parts[4:]:
                return self.send(200, dict(summary(m), Text=m["Text"]))
        if url.path == "/":
            with LOCK:
                rows = "".join(f"<li>{html.escape(m['Subject'])} &rarr; {html.escape(', '.join(t['Address'] for t in m['To']))}</li>"
                               for m in reversed(MESSAGES[-200:]))
            return self.send(200, f"<!doctype html><title>Mail catcher</title><h1>{len(MESSAGES)} messages</h1><ul>{rows}</ul>",
                             "text/html; charset=utf-8")
        return self.send(404, "not found", "text/plain")

    def do_DELETE(self):
        if urllib.parse.urlsplit(self.path).path != "/api/v1/messages":
            return self.send(404, "not found", "text/plain")
        length = int(self.headers.get("Content-Length") or 0)
        ids = json.loads(self.rfile.read(length) or b"{}").get("IDs") if length else None
        with LOCK:
            MESSAGES[:] = [m for m in MESSAGES if ids and m["ID"] not in ids]
        return self.send(200, "ok", "text/plain")


async def main():
    api = http.server.ThreadingHTTPServer(("0.0.0.0", 8025), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    server = await asyncio.start_server(smtp_session, "0.0.0.0", 1025, limit=1 << 20)
    print("mail catcher: SMTP on 1025, HTTP API on 8025", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
