// Browser test: Settings → Channels in a new workspace — the empty state, the sandbox number
// connected and tested, a Twilio account refused field by field then connected, with its webhook
// address, and a Test that says in words why it could not reach Twilio (this server makes no
// connections to the internet).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, screenshot } from "./support.mjs";

let browser;
let page;

before(async () => {
  ({ browser, page } = await openBrowser({ width: 1366, height: 900 }));
});

after(async () => {
  await browser?.close();
});

test("the sandbox number and a Twilio account are connected and tested", async () => {
  await page.goto(`${BASE}/signup`);
  await page.getByLabel("Your name").fill("Tara Texter");
  await page.getByLabel("Organization").fill("Maple Home Services");
  await page.getByLabel("Work email").fill(`owner-${Date.now()}@channels.example`);
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Welcome, Tara" }).waitFor();

  await page.goto(`${BASE}/settings/channels`);
  await page.getByText("No text-message channel yet").waitFor();

  await page.getByRole("button", { name: "Connect the sandbox number" }).click();
  const sandbox = page.getByTestId("phone-account").filter({ hasText: "Sandbox" });
  await sandbox.getByTestId("phone-number").filter({ hasText: "+14155550199" }).waitFor();
  await sandbox.getByRole("button", { name: "Test" }).click();
  await sandbox.getByTestId("phone-test").filter({ hasText: "never sent" }).waitFor();
  // A lead texts the sandbox number: the text is in the Inbox.
  const sim = sandbox.getByTestId("simulate-text");
  await sim.getByLabel("Message").fill("Can you come fix the boiler on Friday?");
  await sim.getByRole("button", { name: "Send to the sandbox" }).click();
  await page.getByText("Simulated: it is in the Inbox.").first().waitFor();

  // Bad input: each field named, nothing typed is lost.
  await page.getByRole("button", { name: "Connect Twilio" }).click();
  await page.getByLabel("Account SID").fill("AC123");
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await page.getByText("must be an Account SID").waitFor();
  await page.getByText("is required (Twilio signs its webhooks with it)").waitFor();
  assert.equal(await page.getByLabel("Account SID").inputValue(), "AC123");

  await page.getByLabel("Account SID").fill("AC0123456789abcdef0123456789abcdef");
  await page.getByLabel("Auth Token").fill("f1e2d3c4b5a697887766554433221100");
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  const twilio = page.getByTestId("phone-account").filter({ hasText: "AC0123456789abcdef0123456789abcdef" });
  await twilio.waitFor();
  const hooks = await twilio.getByTestId("webhook").allInnerTexts();
  assert.equal(hooks.length, 2);
  assert.match(hooks[0], /\/api\/v1\/twilio\/[0-9a-f-]+\/inbound$/);
  assert.match(hooks[1], /\/api\/v1\/twilio\/[0-9a-f-]+\/status$/);
  assert.ok(!(await page.content()).includes("f1e2d3c4b5a697887766554433221100"), "the Auth Token is never shown");

  await twilio.getByRole("button", { name: "Add a number" }).click();
  await twilio.getByLabel("Number").fill("+1 415 555 0100");
  await twilio.getByLabel("Kind").selectOption("toll_free");
  await twilio.getByRole("button", { name: "Add", exact: true }).click();
  await twilio.getByTestId("phone-number").filter({ hasText: "+14155550100" }).filter({ hasText: "3 a second" }).waitFor();

  await twilio.getByRole("button", { name: "Test" }).click();
  // Refused by the network policy (no internet here), or no address for the name: said in words.
  await twilio.getByTestId("phone-test").filter({ hasText: "api.twilio.com" }).waitFor();
  await screenshot(page, "48-settings-channels");

  await page.goto(`${BASE}/inbox`);
  await page.getByTestId("conversation").filter({ hasText: "boiler" }).click();
  await page.getByTestId("thread").getByText("Can you come fix the boiler on Friday?").waitFor();
  // Answered by SMS from the thread: the counter says what the carrier will bill.
  const answer = page.getByLabel("Your answer by SMS");
  await answer.fill("x".repeat(200));
  await page.getByTestId("reply-sms-counter").filter({ hasText: "200 characters · 2 segments · GSM-7" }).waitFor();
  await answer.fill("Yes, Friday at 9 works. We'll text when we're on the way!");
  await page.getByTestId("reply-sms-counter").filter({ hasText: "1 segment · GSM-7" }).waitFor();
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await page.getByText("Answer queued: it goes out from the number that wrote to the lead.").first().waitFor();
  await page.getByTestId("thread").getByText("Yes, Friday at 9 works.").waitFor();
  // A stranger who texted in gave no consent, but their message invites the answer: it goes.
  await page.getByTestId("thread").getByText("Sent", { exact: true }).waitFor({ timeout: 15_000 });
  await screenshot(page, "49-inbox-text");

  // An SMS step added by hand: the segment counter under the message, before launch.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByRole("button", { name: "New campaign" }).click();
  await page.getByLabel("Campaign name").fill("Boiler service reminders");
  await page.getByRole("button", { name: "Create campaign" }).click();
  await page.getByRole("heading", { name: "Boiler service reminders" }).waitFor();
  await page.getByRole("button", { name: "+ SMS" }).click();
  await page.getByRole("heading", { name: "Step 1 · SMS" }).waitFor();
  await page.getByLabel("Message", { exact: true }).fill("Hi {{first_name | \"there\"}}, your boiler is due its yearly service. Reply YES and we'll book you in — €49 this month.");
  await page.getByTestId("sms-counter").filter({ hasText: /Unicode \(UCS-2\)/ }).waitFor();
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("Step saved.").first().waitFor();
  // A WhatsApp step: the sandbox's approved templates, for leads outside their 24-hour window.
  await page.getByRole("button", { name: "+ WhatsApp" }).click();
  await page.getByRole("heading", { name: "Step 2 · WhatsApp" }).waitFor();
  await page.getByLabel("Message", { exact: true }).fill("Hi {{first_name | \"there\"}}, shall we book your boiler service?");
  const template = page.getByTestId("whatsapp-template");
  await template.getByLabel("Template").selectOption("HX00000000000000000000000000000a02");
  await template.getByLabel("{{3}} is").fill("Friday at 9:00");
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("Step saved.").first().waitFor();
  await page.reload();
  await page.getByTestId("step-card").nth(1).click();
  assert.equal(await page.getByTestId("whatsapp-template").getByLabel("{{3}} is").inputValue(), "Friday at 9:00");
  await screenshot(page, "52-campaign-whatsapp-template");
});
