// Browser test: an Outbox with more caught messages than one page holds is read page by page.
// The messages are really sent: a campaign of 51 leads runs through an unpaced sandbox mailbox,
// set up through the API with an API key (the browser's access tokens live a second here).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, screenshot } from "./support.mjs";
import { startDovecot, imapAppend, startSmtpSink, IMAP_PASSWORD } from "./mailservers.mjs";

let browser;
let page;

before(async () => {
  ({ browser, page } = await openBrowser({ width: 1440, height: 960 }));
});

after(async () => {
  await browser?.close();
});

const LEADS = 51;
// The API key of the organization the first test sets up; the inbox test answers its messages.
let key;

async function call(token, method, path, body) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function until(what, check, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("an Outbox of more than one page is read page by page", async () => {
  const email = `outbox-${Date.now()}@example.com`;
  const password = "outbox pages 2026";
  const signup = await fetch(`${BASE}/api/v1/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, name: "Olive Outbox", organization_name: "Outbox Pages" }),
  });
  assert.equal(signup.status, 201, await signup.clone().text());
  const { access_token } = await signup.json();
  key = (await call(access_token, "POST", "/api-keys", { name: "outbox test", role: "admin" })).token;

  await call(key, "PATCH", "/organizations/current", { postal_address: "1 Harbor Street, Portland, ME 04101" });
  const mailbox = await call(key, "POST", "/mailboxes", {
    kind: "sandbox",
    from_name: "Olive",
    from_email: "olive@outbox.example",
    limits: { daily_limit: 1000, ramp_start: 0, ramp_step: 0, min_interval_secs: 0, jitter_secs: 0 },
  });
  for (let i = 1; i <= LEADS; i++) {
    await call(key, "POST", "/contacts", { email: `lead${i}@example.org`, first_name: `Lead${i}` });
  }
  // A window that is open now, away from midnight in its timezone.
  const hour = new Date().getUTCHours();
  const timezone = hour >= 2 && hour <= 21 ? "UTC" : "America/Los_Angeles";
  const campaign = (await call(key, "POST", "/campaigns", {
    name: "Outbox pages",
    timezone,
    daily_new_leads: 1000,
    window: { days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "23:59" },
  })).campaign.id;
  await call(key, "POST", `/campaigns/${campaign}/steps`, { channel: "email", subject: "Hello {{first_name}}", body: "Hi {{first_name}}, a note about the harbor listings." });
  await call(key, "POST", `/campaigns/${campaign}/targets`, { selection: { filter: {} } });
  await call(key, "POST", `/campaigns/${campaign}/prepare`, {});
  await until("preparation", async () => (await call(key, "GET", `/campaigns/${campaign}/review`)).preparation.status === "done");
  await call(key, "POST", `/campaigns/${campaign}/messages/review`, { action: "approve", filter: {} });
  await call(key, "PUT", `/campaigns/${campaign}/mailboxes`, { mailbox_ids: [mailbox.id] });
  await call(key, "POST", `/campaigns/${campaign}/status`, { status: "active" });
  await until("every lead's email in the outbox", async () => (await call(key, "GET", "/outbox?limit=1")).total === LEADS);

  await page.goto(`${BASE}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("#org-switcher").waitFor();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Outbox" }).click();
  await page.getByRole("heading", { name: "Outbox" }).waitFor();

  // The first page: 50, newest first, and the count of all of them.
  const total = page.getByTestId("outbox-total");
  await total.filter({ hasText: `1–50 of ${LEADS}` }).waitFor();
  assert.equal(await page.getByTestId("outbox-item").count(), 50);
  const previous = page.getByRole("button", { name: "Previous" });
  const next = page.getByRole("button", { name: "Next" });
  assert.ok(await previous.isDisabled());
  const firstPage = await page.getByTestId("outbox-item").allInnerTexts();

  // The second page holds the one left, which the first did not show; then back again.
  await next.click();
  await total.filter({ hasText: `51–51 of ${LEADS}` }).waitFor();
  await until("the second page", async () => (await page.getByTestId("outbox-item").count()) === 1);
  assert.ok(await next.isDisabled());
  const last = await page.getByTestId("outbox-item").innerText();
  assert.ok(!firstPage.includes(last), `${last} was on the first page too`);
  const everyone = new Set([...firstPage, last].map((t) => t.match(/lead\d+@example\.org/)?.[0]));
  assert.equal(everyone.size, LEADS, "every lead's email once, across the two pages");
  await screenshot(page, "43-outbox-second-page");
  await previous.click();
  await total.filter({ hasText: `1–50 of ${LEADS}` }).waitFor();
  await until("the first page again", async () => (await page.getByTestId("outbox-item").count()) === 50);
});

test("leads' answers land in the inbox while it is open, and are read there", async () => {
  assert.ok(key, "the outbox test ran first");
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Inbox" }).click();
  await page.getByRole("heading", { name: "No conversations" }).waitFor();

  // A lead replies (as mail arriving would): the open inbox shows it without a reload.
  const items = (await call(key, "GET", "/outbox?limit=2")).items;
  const answered = await call(key, "POST", `/outbox/${items[0].id}/simulate`, { kind: "reply" });
  assert.equal(answered.kind, "reply");
  const conversation = page.getByTestId("conversation");
  await conversation.first().waitFor({ timeout: 15_000 });
  assert.equal(await conversation.first().getAttribute("data-unread"), "true");
  // The sidebar counts it, from the same live stream.
  await until("the unread count", async () => (await page.getByTestId("unread-count").count()) === 1);
  assert.equal(await page.getByTestId("unread-count").innerText(), "1");
  assert.ok((await conversation.first().innerText()).includes(items[0].recipient.replace(/@.*/, "").replace("lead", "Lead")));

  // Reading it: what was sent, then the reply; it is read from then on.
  await conversation.first().click();
  const thread = page.getByTestId("thread");
  await thread.getByText("Thursday afternoon").waitFor();
  assert.deepEqual(
    await page.getByTestId("thread-item").evaluateAll((els) => els.map((e) => e.dataset.direction)),
    ["outbound", "inbound"],
  );
  await until("the conversation read", async () => (await conversation.first().getAttribute("data-unread")) === "false");
  await until("no unread count", async () => (await page.getByTestId("unread-count").count()) === 0);
  await page.getByRole("button", { name: "Unread", exact: true }).click();
  await page.getByRole("heading", { name: "No conversations" }).waitFor();
  await page.getByRole("button", { name: "All", exact: true }).click();
  await conversation.first().waitFor();

  // From the Outbox: the second lead is away; the inbox says until when.
  await nav.getByRole("link", { name: "Outbox" }).click();
  await page.getByTestId("outbox-item").filter({ hasText: items[1].recipient }).click();
  await page.getByTestId("outbox-message").waitFor();
  await page.getByRole("button", { name: "Out of office" }).click();
  await page.getByText("Simulated: Out of office. It is in the Inbox.").first().waitFor();
  await nav.getByRole("link", { name: "Inbox" }).click();
  await until("two conversations", async () => (await conversation.count()) === 2);
  const away = conversation.filter({ hasText: "Out of office" });
  await away.click();
  await page.getByTestId("away-until").waitFor();
  await page.getByRole("button", { name: "Mark done" }).click();
  await page.getByText("Marked done.").first().waitFor();
  await screenshot(page, "44-inbox-thread");
  // Done: out of the list of open conversations, and there under any status.
  await until("the done one out of the list", async () => (await conversation.count()) === 1);
  await page.getByLabel("Status", { exact: true }).selectOption("");
  await until("both again", async () => (await conversation.count()) === 2);

  // Filters: by classification, and by words.
  await page.getByLabel("Classification").selectOption("out_of_office");
  await until("only the away lead", async () =>
    (await conversation.count()) === 1 && (await conversation.first().innerText()).includes("Out of office"));
  await page.getByLabel("Classification").selectOption("");
  await until("both again", async () => (await conversation.count()) === 2);
  const search = page.getByLabel("Search conversations");
  await search.fill(items[0].recipient.replace(/@.*/, ""));
  await until("only the first lead", async () => (await conversation.count()) === 1);
  await search.fill("");
  await until("both again", async () => (await conversation.count()) === 2);

  // The keyboard: ? lists the shortcuts, j and k move through the list, / goes to the search.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press("?");
  await page.getByTestId("inbox-shortcuts").waitFor();
  await screenshot(page, "45-inbox-shortcuts");
  await page.keyboard.press("Escape");
  const current = async () => conversation.evaluateAll((els) => els.findIndex((e) => e.getAttribute("aria-current") === "true"));
  const at = await current();
  await page.keyboard.press(at === 0 ? "j" : "k");
  await until("the other conversation open", async () => (await current()) === (at === 0 ? 1 : 0));
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "inbox-search");
});

test("an answer arriving over IMAP appears live; it is answered from a suggestion, threaded, and done", async () => {
  assert.ok(key, "the outbox test ran first");
  const dovecot = await startDovecot();
  const sink = await startSmtpSink();
  try {
    // The organization's mailbox reads a real IMAP server and sends to a real SMTP server.
    const [mailbox] = await call(key, "GET", "/mailboxes");
    await call(key, "PATCH", `/mailboxes/${mailbox.id}`, {
      smtp: { host: "127.0.0.1", port: sink.port, security: "none" },
      imap: { host: "127.0.0.1", port: dovecot.port, security: "none", username: "olive", password: IMAP_PASSWORD },
    });
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Inbox" }).click();
    const conversation = page.getByTestId("conversation");
    await until("the two conversations", async () => (await conversation.count()) === 2);
    await until("the mailbox read", async () => (await call(key, "GET", `/mailboxes/${mailbox.id}/sync`)).idling === true);

    // A third lead answers their email: the mail lands in the mailbox's INBOX.
    const third = (await call(key, "GET", "/outbox?limit=3")).items[2];
    const original = await call(key, "GET", `/outbox/${third.id}`);
    const ours = original.raw.match(/^Message-ID:\s*(<[^>]+>)/im)[1];
    const theirs = `<answer-${Date.now()}@example.org>`;
    const answer = [
      `From: ${third.recipient}`,
      `To: ${mailbox.from_email}`,
      `Subject: Re: ${third.subject}`,
      `Message-ID: ${theirs}`,
      `In-Reply-To: ${ours}`,
      `References: ${ours}`,
      `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="mixed"',
      "",
      "--mixed",
      'Content-Type: multipart/alternative; boundary="alt"',
      "",
      "--alt",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Hello Olive,",
      "",
      "Yes, I'm interested. Could we see the house on Saturday morning?",
      "",
      "On Monday, Olive wrote:",
      "> Hi there, a quick note about the open house.",
      "",
      "--alt",
      "Content-Type: text/html; charset=utf-8",
      "",
      "<p>Hello Olive,</p><p>Yes, I'm interested. Could we see the house on <b>Saturday morning</b>? Our <a href=\"https://lead.example/plans\" rel=\"opener\">plans</a>.</p>",
      "<blockquote>Hi there, a quick note about the open house.</blockquote>",
      "--alt--",
      "--mixed",
      'Content-Type: application/pdf; name="pre-approval.pdf"',
      'Content-Disposition: attachment; filename="pre-approval.pdf"',
      "Content-Transfer-Encoding: base64",
      "",
      "JVBERi0xLjQKJcTl8uXr",
      "--mixed--",
      "",
    ].join("\r\n");
    await imapAppend(dovecot.port, "olive", "INBOX", answer);
    // It appears in the open inbox, without a reload.
    await until("the answer in the inbox", async () => (await conversation.count()) === 3, 30_000);

    // The classifier labels it; the "Interested" filter finds it.
    await page.getByLabel("Classification").selectOption("interested");
    const mine = conversation.filter({ hasText: "Saturday morning" });
    await until("the answer among the interested ones", async () =>
      (await mine.count()) === 1 && (await conversation.count()) < 3, 30_000);
    for (const row of await conversation.all()) assert.ok((await row.innerText()).includes("Interested"));
    await mine.click();
    const thread = page.getByTestId("thread");
    // The HTML part, in a sandboxed frame, what it quotes folded; the attachment listed.
    const frame = thread.getByTestId("html-frame");
    await frame.waitFor();
    // No scripts, no access to the app; its links open in a new tab that cannot reach back.
    assert.equal(await frame.getAttribute("sandbox"), "allow-popups allow-popups-to-escape-sandbox");
    const body = page.frameLocator('[data-testid="html-frame"]').locator("body");
    await body.getByText("Saturday morning").waitFor();
    assert.equal(await body.getByRole("link", { name: "plans" }).getAttribute("rel"), "noopener noreferrer");
    assert.ok(!(await body.getByText("a quick note about the open house").isVisible()));
    await thread.getByRole("button", { name: "Show quoted text" }).click();
    await page.frameLocator('[data-testid="html-frame"]').locator("body").getByText("a quick note about the open house").waitFor();
    assert.match(await thread.getByTestId("attachments").innerText(), /pre-approval\.pdf/);
    await page.getByTestId("contact-card").waitFor();

    // A suggested answer, inserted and edited, sent through the mailbox.
    await page.getByRole("button", { name: "Suggest replies" }).click();
    const suggestion = page.getByTestId("suggestion");
    await suggestion.first().waitFor();
    assert.ok((await suggestion.count()) >= 1 && (await suggestion.count()) <= 3);
    await screenshot(page, "46-inbox-suggestions");
    await suggestion.first().getByRole("button", { name: "Insert" }).click();
    const box = page.getByLabel("Your answer");
    const inserted = await box.inputValue();
    assert.ok(inserted.trim().length > 0, "the suggestion is in the composer");
    await box.fill(`${inserted}\n\nSaturday at 10 works, see you there.`);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.getByText("Answer queued").first().waitFor();
    assert.equal(await box.inputValue(), "");
    await until("the answer received by the SMTP server", async () => sink.messages.length === 1, 30_000);
    const sent = sink.messages[0].replace(/\r\n[ \t]+/g, " ");
    assert.match(sent, new RegExp(`^In-Reply-To: ${theirs}`, "m"));
    const references = sent.match(/^References: (.*)$/m)[1];
    assert.ok(references.includes(ours) && references.endsWith(theirs), references);
    assert.match(sent, new RegExp(`^Subject: Re: ${third.subject}`, "m"));
    assert.ok(sent.includes("Saturday at 10 works, see you there."), sent);
    assert.ok(!sent.includes("List-Unsubscribe"), "a person's answer has no unsubscribe header");
    // The thread shows it sent.
    const answered = page.getByTestId("thread-item").filter({ hasText: "Saturday at 10 works" });
    await answered.getByText("Sent", { exact: true }).waitFor({ timeout: 15_000 });
    await screenshot(page, "47-inbox-answered");

    // Marked unread, it stays unread while open (the refreshes that follow do not read it again).
    await page.getByRole("button", { name: "Mark unread" }).click();
    await page.getByText("Marked unread.").first().waitFor();
    const openRow = page.locator('[data-testid="conversation"][aria-current="true"]');
    await until("the row unread", async () => (await openRow.getAttribute("data-unread")) === "true");
    await page.waitForTimeout(2000);
    assert.equal(await openRow.getAttribute("data-unread"), "true");

    // Done: out of the open list's way.
    await page.getByRole("button", { name: "Mark done" }).click();
    await page.getByText("Marked done.").first().waitFor();
    await page.getByLabel("Classification").selectOption("");
  } finally {
    await sink.stop();
    await dovecot.stop();
  }
});
