// Browser test: a campaign built from scratch — an email step, a wait, a WhatsApp step — with a
// step written by the built-in writer through "Generate with AI", the live preview following the
// sample lead, a merge-tag problem shown, settings saved, and the launch.
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

test("a campaign is built step by step with AI and a live preview, then launched", async () => {
  await page.goto(`${BASE}/signup`);
  await page.getByLabel("Your name").fill("Cam Builder");
  await page.getByLabel("Organization").fill("Bayview Realty");
  await page.getByLabel("Work email").fill(`builder-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Welcome, Cam" }).waitFor();

  // A sample lead.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  await page.getByRole("button", { name: "New contact" }).first().click();
  await page.getByLabel("First name").fill("Priya");
  await page.getByLabel("Email").fill("priya@example.com");
  await page.getByRole("button", { name: "Save contact" }).click();
  await page.getByText("Priya", { exact: true }).first().waitFor();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByRole("heading", { name: "No campaigns yet" }).waitFor();
  await page.getByRole("button", { name: "New campaign" }).click();
  await page.getByLabel("Campaign name").fill("Spring sellers");
  await page.getByRole("button", { name: "Create campaign" }).click();
  await page.getByRole("heading", { name: "Spring sellers" }).waitFor();

  // The brief, in Settings.
  await campaignTab(page, "Settings").click();
  // Each tab is an address of its own: a reload comes back to it.
  await page.waitForURL(/\/campaigns\/[^/]+\/settings$/);
  await page.reload();
  await page.getByLabel("Offer").waitFor();
  assert.equal(await campaignTab(page, "Settings").getAttribute("aria-current"), "page");
  assert.equal(await campaignTab(page, "Steps").getAttribute("aria-current"), null);
  await page.getByLabel("Offer").fill("A free valuation and a sale in under 30 days");
  await page.getByLabel("Ideal customer").fill("homeowners in Bayview");
  await page.getByLabel("Goal").fill("a 15-minute call");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("Settings saved.").first().waitFor();
  await campaignTab(page, "Steps").click();

  // Email, then WhatsApp two days later.
  await page.getByRole("button", { name: "+ Email" }).click();
  await page.getByRole("heading", { name: "Step 1 · Email" }).waitFor();
  await page.getByRole("button", { name: "+ WhatsApp" }).click();
  await page.getByRole("heading", { name: "Step 2 · WhatsApp" }).waitFor();
  assert.deepEqual(await page.getByTestId("step-wait").allInnerTexts(), ["Start: at enrollment", "Wait 2 days"]);

  // Generate the email with the built-in writer and accept it.
  await page.getByTestId("step-card").first().click();
  await page.getByRole("heading", { name: "Step 1 · Email" }).waitFor();
  await page.getByLabel("Persona", { exact: true }).selectOption({ label: "Hormozi" });
  await page.getByRole("button", { name: "Generate with AI" }).click();
  const proposal = page.getByTestId("ai-proposal");
  await proposal.waitFor();
  assert.match(await proposal.innerText(), /Suggestion by Built-in writer/);
  assert.match(await proposal.innerText(), /What you get:/);
  await proposal.getByRole("button", { name: "Use this" }).click();
  assert.match(await page.getByLabel("Message", { exact: true }).inputValue(), /\{\{first_name \| "there"\}\}/);

  // The preview uses fallbacks without a lead, and the lead's name with one.
  const preview = page.getByTestId("preview");
  await preview.filter({ hasText: "Hi there" }).or(preview.filter({ hasText: "Hey there" })).or(preview.filter({ hasText: "Hello there" })).first().waitFor();
  await page.getByLabel("Preview for").selectOption({ label: "Priya" });
  await preview.filter({ hasText: "Priya" }).waitFor();
  assert.ok(!(await preview.innerText()).includes("{{"), "no tag left in the preview");
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("Step saved.").first().waitFor();

  // An A/B variant with its own subject and weight; the preview follows the chosen variant.
  await page.getByRole("button", { name: "+ Variant" }).click();
  await page.getByRole("tab", { name: "Variant B" }).waitFor();
  await page.getByLabel("Subject").fill("Quick question, {{first_name | \"there\"}}");
  await page.getByLabel("Weight").fill("2");
  await preview.filter({ hasText: "Quick question, Priya" }).waitFor();
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("Step saved.").first().waitFor();
  await page.getByRole("tab", { name: "Variant B" }).click();
  assert.equal(await page.getByLabel("Subject").inputValue(), "Quick question, {{first_name | \"there\"}}");
  assert.equal(await page.getByLabel("Weight").inputValue(), "2");
  await page.getByRole("tab", { name: "Variant A" }).click();
  assert.notEqual(await page.getByLabel("Subject").inputValue(), "Quick question, {{first_name | \"there\"}}");
  await shot("30-campaign-builder");

  // A tag without a fallback is flagged for a lead who lacks the value; a broken tag is refused.
  await page.getByTestId("step-card").nth(1).click();
  await page.getByRole("heading", { name: "Step 2 · WhatsApp" }).waitFor();
  await page.getByLabel("Preview for").selectOption({ label: "Priya" });
  await page.getByLabel("Message", { exact: true }).fill("Hi {{first_name}}, does {{company}} still need a valuation?");
  await page.getByTestId("unresolved").filter({ hasText: "{{company}}" }).waitFor();
  await page.getByLabel("Message", { exact: true }).fill("Hi {{first_name}, quick one");
  await page.getByRole("alert").filter({ hasText: "line 1, column 4" }).first().waitFor();
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("this merge tag is not closed").last().waitFor();
  await page.getByLabel("Message", { exact: true }).fill("Hi {{first_name | \"there\"}}, quick one: free valuation this week?");
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("Step saved.").first().waitFor();
  const bubble = await preview.innerText();
  assert.match(bubble, /Hi Priya, quick one/);
  await shot("31-campaign-whatsapp-preview");

  // Audience: check who can be reached, enroll, see the lead.
  await campaignTab(page, "Audience").click();
  await page.getByRole("heading", { name: "Nobody enrolled yet" }).waitFor();
  await page.getByRole("button", { name: "Check audience" }).click();
  const check = page.getByTestId("audience-check");
  await check.filter({ hasText: "1 of 1 can be enrolled" }).waitFor();
  await check.getByRole("button", { name: "Enroll 1 lead" }).click();
  await page.getByText("1 lead enrolled.").first().waitFor();
  await page.getByTestId("targets").getByText("priya@example.com").waitFor();
  await page.getByTestId("targets-total").filter({ hasText: "1 enrolled" }).waitFor();
  await page.getByTestId("targets").getByRole("button", { name: "Pause" }).click();
  await page.getByTestId("targets").getByText("Paused", { exact: true }).waitFor();
  await page.getByTestId("targets").getByRole("button", { name: "Resume" }).click();
  await page.getByTestId("targets").getByText("Active", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Check audience" }).click();
  await check.filter({ hasText: "0 of 1 can be enrolled" }).filter({ hasText: "Already in this campaign" }).waitFor();
  await shot("33-campaign-audience");
  await campaignTab(page, "Steps").click();

  // Launching is refused until the checklist passes: the Delivery tab says what is missing.
  const campaignUrl = page.url();
  await page.getByRole("button", { name: "Launch" }).click();
  const preflight = page.getByTestId("preflight");
  await preflight.filter({ hasText: "Choose the mailboxes this campaign sends from" }).waitFor();
  await preflight.filter({ hasText: "Add your organization's postal address" }).waitFor();
  await preflight.filter({ hasText: "No approved messages yet" }).waitFor();
  await preflight.filter({ hasText: "Connect a number that sends WhatsApp" }).waitFor();
  await shot("41-campaign-preflight");
  // The sandbox number carries the WhatsApp step (kept in the Outbox, not sent).
  await page.goto(`${BASE}/settings/channels`);
  await page.getByRole("button", { name: "Connect the sandbox number" }).click();
  await page.getByTestId("phone-account").filter({ hasText: "Sandbox" }).waitFor();
  // The quiet hours texts follow are there to review.
  await page.getByTestId("quiet-hours").getByText("Quiet hours").click();
  await page.getByTestId("quiet-hours").getByText("Florida (FL)").waitFor();
  // The postal address, a sandbox mailbox, the mailbox chosen, the messages approved.
  await page.goto(`${BASE}/settings/organization`);
  await page.getByLabel("Postal address").fill("9 Bay Road, Bayview, CA 94000, USA");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Organization settings saved.").first().waitFor();
  await page.goto(`${BASE}/settings/mailboxes`);
  await page.getByRole("button", { name: "Add mailbox" }).click();
  await page.locator("#field-mailbox-kind").selectOption("sandbox");
  await page.getByLabel("From name").fill("Cam at Bayview");
  await page.getByLabel("From address").fill("cam@bayview.example");
  await page.getByRole("button", { name: "Save mailbox" }).click();
  await page.getByText("cam@bayview.example saved.").first().waitFor();
  await page.goto(campaignUrl);
  await campaignTab(page, "Delivery").click();
  await page.getByRole("checkbox", { name: /cam@bayview\.example/ }).check();
  await page.getByRole("button", { name: "Save mailboxes" }).click();
  await page.getByText("Sends from 1 mailbox.").first().waitFor();
  await campaignTab(page, "Review").click();
  await page.getByRole("button", { name: /^Prepare \d+ messages?$/ }).click();
  await page.getByText(/^Prepared \d+ messages?/).first().waitFor();
  await page.getByRole("button", { name: /^Approve all \d+$/ }).click();
  await page.getByText(/^Approved \d+ messages?/).first().waitFor();
  // Priya has no WhatsApp number: that message cannot go out, so it is rejected.
  await page.getByLabel("Only with problems").check();
  await page.getByRole("button", { name: "Reject all" }).click();
  await page.getByText(/^Rejected 1 message/).first().waitFor();
  await campaignTab(page, "Delivery").click();
  await page.getByText("Ready to launch.").waitFor();

  // Launch; editing is then locked until paused.
  await page.getByRole("button", { name: "Launch" }).click();
  await page.getByTestId("campaign-status").filter({ hasText: "Active" }).waitFor();
  await page.getByText("This campaign is running. Pause it to edit its steps or settings.").waitFor();
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByTestId("campaign-status").filter({ hasText: "Paused" }).waitFor();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByRole("link", { name: "Spring sellers" }).waitFor();
  assert.match(await page.getByTestId("campaign-counts").first().innerText(), /1 lead enrolled, 1 active, 0 completed/);
  await shot("32-campaign-list");
});

test("a campaign starts from a system template and is saved as an own template", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Templates" }).click();
  await page.getByTestId("template").first().waitFor();
  assert.equal(await page.getByTestId("template").count(), 8);
  await page.getByLabel("Industry").selectOption("Real estate");
  assert.equal(await page.getByTestId("template").count(), 3);
  await page.getByLabel("Channel").selectOption("sms");
  const openHouse = page.getByTestId("template").filter({ hasText: "Open house follow-up" });
  await openHouse.waitFor();
  await shot("34-templates");
  await openHouse.getByRole("button", { name: "Use template" }).click();
  await page.getByText("Created Open house follow-up from the template.").first().waitFor();
  await page.getByTestId("step-card").nth(1).waitFor();
  assert.deepEqual(await page.getByTestId("step-wait").allInnerTexts(), ["Start: 1 hour after enrollment", "Wait 2 days"]);
  await page.getByRole("button", { name: "Save as template" }).click();
  await page.getByText("Saved as the template Open house follow-up.").first().waitFor();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Templates" }).click();
  const mine = page.getByTestId("template").filter({ hasText: "Yours" });
  await mine.waitFor();
  assert.match(await mine.innerText(), /Open house follow-up/);
  assert.match(await page.getByTestId("template").filter({ hasText: "Aura" }).filter({ hasText: "Open house follow-up" }).innerText(), /Used 1 time/);
  await mine.getByRole("button", { name: "Delete" }).click();
  await page.getByTestId("template").filter({ hasText: "Yours" }).waitFor({ state: "detached" });
});

