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
  await screenshot(page, "49-inbox-text");
});
