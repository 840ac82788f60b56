// Real mail servers for the browser tests, on loopback: a private Dovecot (the IMAP server the
// inbox reads; the tests APPEND a lead's answer to it, as mail arriving would) and a small SMTP
// receiver that keeps what Aura sends. Each is stopped by its process id or handle.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, existsSync, rmSync } from "node:fs";
import net from "node:net";

export const IMAP_PASSWORD = "imap-e2e-password";
const DOVECOT = "/usr/sbin/dovecot";

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => { c.end(); resolve(true); });
      c.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a private Dovecot: any user logs in with IMAP_PASSWORD; INBOX, Junk and Sent. */
export async function startDovecot() {
  if (!existsSync(DOVECOT)) throw new Error("Dovecot is not installed: `make test` installs it");
  // Short: Dovecot's unix sockets live under it.
  const dir = `/tmp/aura-e2e-imap-${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/home`, { recursive: true });
  const root = process.getuid() === 0;
  const me = execFileSync("id", ["-un"]).toString().trim();
  // Dovecot refuses mail owned by a system uid.
  const uid = root ? 5000 : process.getuid();
  if (root) execFileSync("chown", [`${uid}:${uid}`, `${dir}/home`]);
  const port = await freePort();
  writeFileSync(`${dir}/dovecot.conf`, `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
first_valid_uid = ${Math.min(uid, 500)}
default_internal_user = ${root ? "dovecot" : me}
default_login_user = ${root ? "dovenull" : me}
passdb {
  driver = static
  args = password=${IMAP_PASSWORD}
}
userdb {
  driver = static
  args = uid=${uid} gid=${uid} home=${dir}/home/%u
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`);
  const child = spawn(DOVECOT, ["-F", "-c", `${dir}/dovecot.conf`], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await waitForPort(port);
  return {
    port,
    async stop() {
      process.kill(child.pid, "SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Appends `raw` (CRLF lines) to `user`'s `folder`, as a mail client or delivery would. */
export async function imapAppend(port, user, folder, raw) {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  let buffer = "";
  const waiters = [];
  socket.on("data", (d) => {
    buffer += d;
    for (const w of [...waiters]) w();
  });
  // Resolves with what the server said up to a line matching `re`.
  const until = (re) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`IMAP: no ${re} in ${buffer}`)), 10_000);
    const check = () => {
      const lines = buffer.split("\r\n");
      const i = lines.findIndex((l) => re.test(l));
      if (i < 0) return;
      clearTimeout(timer);
      waiters.splice(waiters.indexOf(check), 1);
      const said = lines.slice(0, i + 1).join("\r\n");
      buffer = lines.slice(i + 1).join("\r\n");
      resolve(said);
    };
    waiters.push(check);
    check();
  });
  await until(/^\* OK/);
  socket.write(`a1 LOGIN ${user} ${IMAP_PASSWORD}\r\n`);
  await until(/^a1 OK/);
  socket.write(`a2 APPEND ${folder} {${Buffer.byteLength(raw)}}\r\n`);
  await until(/^\+/);
  socket.write(`${raw}\r\n`);
  const said = await until(/^a2 (OK|NO|BAD)/);
  if (!/^a2 OK/m.test(said)) throw new Error(`APPEND refused: ${said}`);
  socket.write("a3 LOGOUT\r\n");
  socket.end();
}

/** A small SMTP receiver: accepts every message (no TLS, no AUTH) and keeps its text. */
export async function startSmtpSink() {
  const messages = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.setEncoding("latin1");
    socket.write("220 sink.test ESMTP\r\n");
    let buffer = "";
    let inData = false;
    socket.on("data", (chunk) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          messages.push(buffer.slice(0, end).replace(/^\.\./gm, "."));
          buffer = buffer.slice(end + 5);
          inData = false;
          socket.write("250 2.0.0 Ok: queued\r\n");
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") socket.write("250-sink.test\r\n250 8BITMIME\r\n");
        else if (verb === "DATA") { inData = true; socket.write("354 End data with <CR><LF>.<CR><LF>\r\n"); }
        else if (verb === "QUIT") { socket.end("221 2.0.0 Bye\r\n"); return; }
        else socket.write("250 2.0.0 Ok\r\n");
      }
    });
    socket.on("error", () => {});
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    messages,
    // Aura keeps its connections open between messages: they are closed here.
    stop: () => new Promise((resolve) => {
      server.close(resolve);
      for (const s of sockets) s.destroy();
    }),
  };
}
