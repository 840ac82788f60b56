// Browser test: the demo's campaign runs against its sandbox mailbox and number — messages
// prepared, approved, launched, watched moving to sent — then read in the Outbox (emails and
// texts), a lead answers a text (it lands in the Inbox), and the lead unsubscribes through the
// link in the caught message.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, campaignTab, openBrowser, screenshot } from "./support.mjs";

let browser;
let page;

before(async () => {
  ({ browser, page } = await openBrowser({ width: 1440, height: 960 }));
});

after(async () => {
  await browser?.close();
});

const shot = (name) => screenshot(page, name);

test("the demo campaign sends through the sandbox, lands in the Outbox, and its unsubscribe link works", async () => {
  await page.goto(`${BASE}/login`);
  await page.getByLabel("Email").fill("demo@example.com");
  await page.getByLabel("Password").fill("aura-demo-2026");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("#org-switcher").waitFor();
  if ((await page.locator("#org-switcher option:checked").textContent()) !== "Aura Demo Realty") {
    await page.locator("#org-switcher").selectOption({ label: "Aura Demo Realty" });
    await page.getByText("Now working in Aura Demo Realty.").first().waitFor();
  }

  // The sandbox mailbox is labelled as such, and its test says where messages go.
  await page.goto(`${BASE}/settings/mailboxes`);
  const mailbox = page.getByTestId("mailbox");
  await mailbox.filter({ hasText: "dana@aurarealty.example" }).waitFor();
  await mailbox.getByText("Sandbox", { exact: true }).waitFor();
  await mailbox.getByRole("button", { name: "Test" }).click();
  await mailbox.getByTestId("mailbox-test").filter({ hasText: "kept in the outbox" }).waitFor();
  await shot("37-settings-mailboxes");

  // Domain signing: the demo domain's key (Ed25519), the DNS record to publish, the mailbox
  // marked as signed. A wrong key is refused with the reason and nothing is saved.
  await page.getByRole("button", { name: "Add signing key" }).click();
  await page.getByLabel("Domain", { exact: true }).fill("aurarealty.example");
  await page.getByLabel("Private key").fill("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----");
  await page.getByRole("button", { name: "Save key" }).click();
  await page.getByText("This is a public key; paste the private key").waitFor();
  await page.getByLabel("Private key").fill("9Ht2gAzHjTvP+LNpOjMonsNT/4nc26uv+bzOlnNw2Ck=");
  await page.getByRole("button", { name: "Save key" }).click();
  await page.getByText(/^Key saved for aurarealty\.example\./).first().waitFor();
  const key = page.getByTestId("dkim-key");
  await key.getByTestId("dkim-dns-name").filter({ hasText: "aura._domainkey.aurarealty.example" }).waitFor();
  assert.match(await key.getByTestId("dkim-dns-value").innerText(), /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
  await key.getByText("Signs 1 mailbox").waitFor();
  await mailbox.getByTestId("mailbox-dkim").waitFor();
  await shot("42-settings-dkim");

  // The demo campaign: prepare and approve every message.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByRole("link", { name: "Open house follow-up" }).click();
  await page.getByRole("heading", { name: "Open house follow-up" }).waitFor();
  // A text right after the first email, with the segment counter.
  await page.getByTestId("step-card").nth(1).click();
  await page.getByRole("heading", { name: "Step 2 · SMS" }).waitFor();
  assert.match(await page.getByTestId("sms-counter").innerText(), /characters · 1 segment · GSM-7/);
  // Its follow-up goes out as a reply to the first email.
  await page.getByTestId("step-card").nth(2).click();
  await page.getByRole("heading", { name: "Step 3 · Email" }).waitFor();
  assert.ok(await page.getByRole("checkbox", { name: /Send as a reply/ }).isChecked());
  await campaignTab(page, "Review").click();
  await page.getByRole("button", { name: /^Prepare \d+ messages$/ }).click();
  await page.getByText(/^Prepared \d+ messages\.$/).first().waitFor();
  await page.getByRole("button", { name: /^Approve all \d+$/ }).click();
  await page.getByText(/^Approved \d+ messages\.$/).first().waitFor();

  // Launch: the Delivery tab shows the checklist and the counters move to sent.
  await page.getByRole("button", { name: "Launch" }).click();
  await page.getByText("Campaign active.").first().waitFor();
  await page.getByTestId("preflight").filter({ hasText: "Sends from dana@aurarealty.example" }).waitFor();
  const sent = page.getByTestId("step-sent").first();
  await page.waitForFunction(
    () => Number(document.querySelector("[data-testid=step-sent]")?.textContent ?? "0") >= 3,
    null,
    { timeout: 60_000 },
  );
  assert.ok(Number(await sent.textContent()) >= 3);
  await page.getByRole("tab", { name: "Sent" }).click();
  await page.getByTestId("delivery-messages").getByText("Sandbox: kept in the outbox, not sent.").first().waitFor();
  await shot("38-campaign-delivery");

  // The Outbox: the message exactly as it would have gone out.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Outbox" }).click();
  await page.getByRole("heading", { name: "Outbox" }).waitFor();
  await page.getByTestId("outbox-item").first().click();
  const message = page.getByTestId("outbox-message");
  await message.getByText("List-Unsubscribe=One-Click", { exact: true }).waitFor();
  await message.getByTestId("outbox-dkim").filter({ hasText: "Signed by aurarealty.example (selector aura)" }).waitFor();
  const text = message.getByTestId("outbox-text");
  await text.filter({ hasText: "Thank you for visiting our open house" }).waitFor();
  assert.match(await text.innerText(), /120 Harbor Street/);
  assert.match(await text.innerText(), /You can unsubscribe at any time: http/);
  await shot("39-outbox");

  // The text that followed each email: kept by the sandbox number as it would have gone out,
  // with the sender's name and how to opt out on this first text to the number.
  const texts = page.getByRole("region", { name: "Texts" });
  await texts.getByTestId("phone-bubble").first().waitFor({ timeout: 60_000 });
  const to = (await texts.getByTestId("phone-bubble").first().innerText()).match(/SMS to (\+\d+)/)[1];
  const bubble = texts.getByTestId("phone-bubble").filter({ hasText: `SMS to ${to}` });
  assert.match(await bubble.innerText(), /I just emailed you the listings/);
  assert.match(await bubble.innerText(), /Aura Realty: Reply STOP to opt out\./);
  // The lead answers by text: the answer is in the Inbox, in an SMS conversation.
  await bubble.getByRole("button", { name: "Answer as the lead" }).click();
  await bubble.getByLabel("The lead's answer").fill("Saturday at 11 works for me!");
  await bubble.getByRole("button", { name: "Send" }).click();
  await page.getByText("The lead's answer is in the Inbox.").first().waitFor();
  await bubble.scrollIntoViewIfNeeded();
  await shot("44-phone-outbox");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inbox" }).click();
  await page.getByTestId("conversation").filter({ hasText: "Saturday at 11 works for me!" }).first().waitFor({ timeout: 15_000 });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Outbox" }).click();
  await page.getByTestId("outbox-item").first().click();

  // The lead unsubscribes through the link in the message: a page, a confirmation, done.
  const href = await message.getByTestId("outbox-unsubscribe").getAttribute("href");
  assert.match(href, /\/u\/[A-Za-z0-9_-]+$/);
  const lead = await browser.newPage();
  await lead.goto(href);
  await lead.getByRole("heading", { name: "Unsubscribe from Aura Realty" }).waitFor();
  await lead.getByRole("button", { name: "Unsubscribe" }).click();
  await lead.getByRole("heading", { name: "You are unsubscribed" }).waitFor();
  await screenshot(lead, "40-unsubscribed", false);
  await lead.close();
});

test("WhatsApp leads are answered from the inbox: free text inside the 24-hour window, an approved template after it", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inbox" }).click();
  // The demo lead who wrote yesterday morning: the window has closed, only a template can go.
  await page.getByTestId("conversation").filter({ hasText: "financing options" }).click();
  await page.getByTestId("whatsapp-window").filter({ hasText: "window has closed" }).waitFor();
  const send = page.getByRole("button", { name: "Send", exact: true });
  assert.ok(await send.isDisabled(), "nothing to send before a template is chosen");
  await page.getByLabel("Template", { exact: true }).selectOption("HX00000000000000000000000000000a01");
  await page.getByLabel("{{1}}").fill("Jordan");
  assert.ok(await send.isDisabled(), "every variable needs a value");
  await page.getByLabel("{{2}}").fill("Aura Realty");
  await page.getByTestId("template-preview").filter({ hasText: "Hi Jordan, this is Aura Realty following up on your enquiry." }).waitFor();
  await shot("50-inbox-whatsapp-template");
  await send.click();
  await page.getByText("Answer queued: it goes out from the number that wrote to the lead.").first().waitFor();
  await page.getByTestId("thread").getByText("Hi Jordan, this is Aura Realty following up on your enquiry.").waitFor();

  // The lead who wrote two hours ago: free text, with the time left in the window.
  await page.getByTestId("conversation").filter({ hasText: "pet-friendly" }).click();
  await page.getByTestId("whatsapp-window").filter({ hasText: /window is open: \d+ h \d+ min left/ }).waitFor();
  await page.getByLabel("Your answer on WhatsApp").fill("Yes, small dogs are welcome in that building.");
  await send.click();
  await page.getByTestId("thread").getByText("Yes, small dogs are welcome in that building.").waitFor();
  await shot("51-inbox-whatsapp-window");

  // Both went from the sandbox number, which the lead wrote to: kept in its outbox.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Outbox" }).click();
  const texts = page.getByRole("region", { name: "Texts" });
  await texts.getByTestId("phone-bubble").filter({ hasText: "small dogs are welcome" }).waitFor({ timeout: 30_000 });
  await texts.getByTestId("phone-bubble").filter({ hasText: "Hi Jordan, this is Aura Realty" }).waitFor({ timeout: 30_000 });
});
