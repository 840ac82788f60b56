// Browser test: leads tagged "buyer" are enrolled in an email → SMS campaign, their messages are
// prepared in the background, approved in bulk (the one with a problem is held back), and the
// held-back one is read as the lead will see it, fixed by hand and approved.
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

async function api(token, method, route, body) {
  const res = await fetch(`${BASE}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

test("a tag is enrolled, messages are prepared, approved in bulk and one is fixed by hand", async () => {
  const email = `review-${Date.now()}@example.com`;
  const password = "a long enough password";
  await page.goto(`${BASE}/signup`);
  await page.getByLabel("Your name").fill("Rae Viewer");
  await page.getByLabel("Organization").fill("Harbor Homes");
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Welcome, Rae" }).waitFor();

  // Three leads through the API (as an integration would): two buyers, one seller.
  const session = await (await fetch(`${BASE}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  })).json();
  const token = session.access_token;
  await api(token, "POST", "/contacts", { first_name: "Ana", email: "ana@example.com", phone: "+14155550101", company: "Lima Homes", tags: ["buyer"] });
  await api(token, "POST", "/contacts", { first_name: "Ben", email: "ben@example.com", phone: "+14155550102", tags: ["buyer"] });
  await api(token, "POST", "/contacts", { first_name: "Cy", email: "cy@example.com", phone: "+14155550103", company: "Cy Co", tags: ["seller"] });

  // An email, then an SMS two days later.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByRole("button", { name: "New campaign" }).click();
  await page.getByLabel("Campaign name").fill("Buyer follow-up");
  await page.getByRole("button", { name: "Create campaign" }).click();
  await page.getByRole("heading", { name: "Buyer follow-up" }).waitFor();
  await page.getByRole("button", { name: "+ Email" }).click();
  await page.getByRole("heading", { name: "Step 1 · Email" }).waitFor();
  await page.getByLabel("Subject").fill("{Hi|Hello} {{first_name | \"there\"}}, homes for {{company}}");
  await page.getByLabel("Message", { exact: true }).fill("Hi {{first_name | \"there\"}},\n\nThree new listings fit {{company}}. Want the details?\n\n{{sender.name}}");
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("Step saved.").first().waitFor();
  await page.getByRole("button", { name: "+ SMS" }).click();
  await page.getByRole("heading", { name: "Step 2 · SMS" }).waitFor();
  await page.getByLabel("Message", { exact: true }).fill("Hi {{first_name | \"there\"}}, {{sender.name}} from {{org.name}}: still looking? Reply YES for a viewing.");
  await page.getByRole("button", { name: "Save step" }).click();
  await page.getByText("Step saved.").first().waitFor();

  // Enroll the buyers.
  await campaignTab(page, "Audience").click();
  await page.locator("#field-audience").selectOption({ label: "Contacts with tags" });
  await page.getByLabel("Tags (any of, comma-separated)").fill("buyer");
  await page.getByRole("button", { name: "Check audience" }).click();
  const check = page.getByTestId("audience-check");
  await check.filter({ hasText: "2 of 2 can be enrolled" }).waitFor();
  await check.getByRole("button", { name: "Enroll 2 leads" }).click();
  await page.getByText("2 leads enrolled.").first().waitFor();

  // Prepare: every lead's message for every step, in the background.
  await campaignTab(page, "Review").click();
  await page.getByRole("heading", { name: "No messages prepared yet" }).waitFor();
  await page.getByRole("button", { name: "Prepare 4 messages" }).click();
  await page.getByText("Prepared 4 messages.").first().waitFor();
  const counts = page.getByTestId("review-counts");
  await counts.filter({ hasText: /Needs review\s*4/ }).filter({ hasText: /With problems\s*1/ }).waitFor();
  await page.getByTestId("messages-total").filter({ hasText: "1–4 of 4" }).waitFor();
  assert.equal(await page.getByTestId("message-row").count(), 4);
  await page.getByRole("button", { name: "All messages prepared" }).waitFor();

  // Read Ana's email as she will get it.
  await page.getByTestId("message-row").filter({ hasText: "Ana" }).filter({ hasText: "1 · Email" }).click();
  const detail = page.getByTestId("message-detail");
  const preview = detail.getByTestId("preview");
  // The email's HTML is in a sandboxed frame of its own (no scripts, no access to the app; links
  // open in a new tab).
  const frame = preview.getByTestId("html-frame");
  assert.equal(await frame.getAttribute("sandbox"), "allow-popups allow-popups-to-escape-sandbox");
  const body = detail.frameLocator("[data-testid=html-frame]").locator("body");
  await body.filter({ hasText: "Three new listings fit Lima Homes." }).waitFor();
  assert.match(await body.innerText(), /Rae Viewer/);
  // The subject is the app's own header above the frame.
  assert.match(await preview.innerText(), /(Hi|Hello) Ana, homes for Lima Homes/);
  await shot("35-campaign-review");

  // Approve everything: Ben's email (no company, no fallback) is held back.
  await page.getByRole("button", { name: "Approve all 4" }).click();
  await page.getByText(/Approved 3 messages\. 1 left as it was/).first().waitFor();
  await counts.filter({ hasText: /Approved\s*3/ }).waitFor();

  // Fix Ben's email by hand, then approve it.
  await page.getByLabel("Only with problems").check();
  await page.getByTestId("messages-total").filter({ hasText: "1–1 of 1" }).waitFor();
  assert.match(await page.getByTestId("message-row").innerText(), /Ben/);
  await page.getByTestId("message-row").click();
  await detail.getByTestId("message-problems").filter({ hasText: "{{company}} in the subject has no value for this lead and no fallback" }).waitFor();
  assert.ok(await detail.getByRole("button", { name: "Approve" }).isDisabled(), "a message with problems cannot be approved");
  await detail.getByRole("button", { name: "Edit" }).click();
  await detail.getByLabel("Subject").fill("Hi Ben, homes for you");
  await detail.getByLabel("Text").fill("Hi Ben,\n\nThree new listings fit what you asked for. Want the details?\n\nRae Viewer");
  await detail.getByRole("button", { name: "Save" }).click();
  await page.getByText("Message saved; it is marked as edited.").first().waitFor();
  await detail.getByText("edited by a person").waitFor();
  await detail.getByRole("button", { name: "Approve" }).click();
  await page.getByText("Approved 1 message.").first().waitFor();
  await page.getByLabel("Only with problems").uncheck();
  await counts.filter({ hasText: /Approved\s*4/ }).filter({ hasText: /Needs review\s*0/ }).waitFor();
  await page.getByTestId("messages-total").filter({ hasText: "1–4 of 4" }).waitFor();
  assert.equal(await page.getByTestId("message-row").filter({ hasText: "Approved" }).count(), 4);
  await shot("36-campaign-review-approved");
});
