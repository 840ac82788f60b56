// Browser test: a new workspace imports a CSV through the wizard, watches the progress bar to the
// end, filters the contacts by a tag, and builds a dynamic segment whose live count it checks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, openBrowser, screenshot } from "./support.mjs";

let browser;
let page;

before(async () => {
  ({ browser, page } = await openBrowser({ width: 1366, height: 860 }));
});

after(async () => {
  await browser?.close();
});

const shot = (name) => screenshot(page, name);

test("a CSV is imported through the wizard, filtered by a tag and sliced into a segment", async () => {
  await page.goto(`${BASE}/signup`);
  await page.getByLabel("Your name").fill("Ivy Importer");
  await page.getByLabel("Organization").fill("Lakeside Realty");
  await page.getByLabel("Work email").fill(`importer-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Welcome, Ivy" }).waitFor();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  await page.getByRole("heading", { name: "No contacts yet" }).waitFor();
  await page.getByRole("link", { name: "Import CSV" }).first().click();

  const rows = ["First Name;Last Name;E-mail;Mobile;Tags"];
  for (let i = 0; i < 300; i++) rows.push(`Lead${i};Tester;lead${i}@example.com;;${i % 3 === 0 ? "Open House" : "buyer"}`);
  rows.push("Broken;Row;not-an-email;;buyer");
  await page.locator("#import-file").setInputFiles({ name: "leads.csv", mimeType: "text/csv", buffer: Buffer.from("\ufeff" + rows.join("\r\n")) });
  await page.getByText("1. Map the columns of leads.csv (301 rows, ; separated, utf-8)").waitFor();
  assert.equal(await page.getByLabel("E-mail").inputValue(), "email", "the email column is mapped automatically");
  await page.getByRole("button", { name: "Preview" }).click();
  await page.getByText("2. Preview (first 20 rows)").waitFor();
  await page.getByLabel("Tags for every imported contact").fill("spring expo");
  await shot("08-import-mapping");

  await page.getByRole("button", { name: "Import contacts" }).click();
  await page.getByRole("progressbar").waitFor();
  await page.getByRole("progressbar").and(page.locator('[aria-valuenow="100"]')).waitFor();
  await page.getByRole("heading", { name: "Report" }).waitFor();
  const counts = await page.getByTestId("import-counts").innerText();
  assert.match(counts, /Created\s+300/);
  assert.match(counts, /Invalid\s+1/);
  await shot("09-import-report");
  await page.getByRole("cell", { name: /must be an email address/ }).waitFor();
  assert.ok(await page.getByRole("link", { name: "Download CSV" }).isVisible());
  await shot("09-import-report");

  await page.getByRole("link", { name: "View contacts" }).click();
  await page.getByTestId("contacts-total").filter({ hasText: "of 300" }).waitFor();
  await page.getByRole("button", { name: "open house · 100" }).click();
  await page.getByTestId("contacts-total").filter({ hasText: "1–50 of 100" }).waitFor();
  await page.getByLabel("Search").fill("lead3@");
  await page.getByTestId("contacts-total").filter({ hasText: "1–1 of 1" }).waitFor();
  await page.getByText("Lead3 Tester", { exact: true }).click();
  await page.getByRole("dialog", { name: "Contact" }).getByText("spring expo").waitFor();
  await page.getByRole("dialog", { name: "Contact" }).getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Company").fill("Lakeside Buyers Club");
  await page.getByRole("button", { name: "Save contact" }).click();
  await page.getByText("Lead3 Tester saved.").waitFor();
  await page.getByRole("dialog", { name: "Contact" }).getByText("Lakeside Buyers Club").waitFor();
  await shot("10-contact-panel");
  await page.getByRole("button", { name: "Close" }).click();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Segments" }).click();
  await page.getByRole("heading", { name: "No segments yet" }).waitFor();
  await page.getByLabel("Value").fill("open house");
  await page.getByLabel("Value").press("Tab");
  await page.getByTestId("segment-count").filter({ hasText: /^100$/ }).waitFor();
  await page.getByRole("button", { name: "Add rule" }).click();
  await page.getByLabel("Rule kind").nth(1).selectOption("text");
  await page.getByLabel("Field").selectOption("email");
  await page.getByLabel("Comparison").nth(1).selectOption("starts_with");
  await page.getByLabel("Value").nth(1).fill("lead1");
  await page.getByLabel("Value").nth(1).press("Tab");
  // Open-house leads are 0, 3, 6…; of those starting "lead1": 12, 15, 18 and 102, 105 … 198 → 36.
  await page.getByTestId("segment-count").filter({ hasText: /^36$/ }).waitFor();
  await page.getByLabel("Segment name").fill("Open house lead1x");
  await page.getByRole("button", { name: "Save segment" }).click();
  await page.getByText("36 contacts", { exact: true }).waitFor();
  await shot("11-segment-builder");

  // A static list: created here, filled from the contacts table.
  await page.getByLabel("New static list").fill("VIP sellers");
  await page.getByRole("button", { name: "Create list" }).click();
  await page.getByText("VIP sellers").first().waitFor();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  await page.getByLabel("Select Lead299 Tester").check();
  await page.getByLabel("Select Lead298 Tester").check();
  await page.getByLabel("Static segment").selectOption({ label: "VIP sellers" });
  await page.getByRole("button", { name: "Add to list" }).click();
  await page.getByText("2 changed; the list now has 2 contacts.").waitFor();
  await page.getByLabel("Segment", { exact: true }).selectOption({ label: "VIP sellers (2)" });
  await page.getByTestId("contacts-total").filter({ hasText: "1–2 of 2" }).waitFor();
  await shot("12-static-list");

  // Suppressions: adding an address stops the contact who has it.
  await page.getByRole("link", { name: "Suppressions" }).click();
  await page.getByRole("heading", { name: "Nobody is suppressed" }).waitFor();
  await page.getByLabel("Address").fill("Lead7@Example.com");
  await page.getByLabel("Reason").selectOption("unsubscribed");
  await page.getByRole("button", { name: "Suppress" }).click();
  await page.locator("tbody").getByText("lead7@example.com", { exact: true }).waitFor();
  await shot("13-suppressions");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  await page.getByLabel("Search").fill("lead7@");
  await page.getByTestId("contacts-total").filter({ hasText: "1–1 of 1" }).waitFor();
  await page.locator("tbody").getByText("Unsubscribed", { exact: true }).waitFor();
});
