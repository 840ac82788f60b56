// Browser test: headless Chromium drives the built web app against a running `aura serve`.
// Sign up → the shell is visible → create an API key → log out → log in. Screenshots go to
// $AURA_SCREENSHOTS (default .aura/screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, expectCspViolation, openBrowser, screenshot } from "./support.mjs";

let browser;
let page;
const email = `owner-${Date.now()}@example.com`;
const password = "a long enough password";

before(async () => {
  ({ browser, page } = await openBrowser({ width: 1366, height: 860 }));
});

after(async () => {
  await browser?.close();
});

const shot = (name) => screenshot(page, name);

test("sign-up shows field errors from the shared rules, then creates the workspace", async () => {
  await page.goto(`${BASE}/signup`);
  await page.getByRole("heading", { name: "Create your workspace" }).waitFor();
  await page.getByLabel("Your name").fill("Olivia Owner");
  await page.getByLabel("Organization").fill("Harbor Homes");
  await page.getByLabel("Work email").fill("not-an-email");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByText("must be an email address like name@example.com").waitFor();
  await page.getByText("must be at least 10 characters").waitFor();
  assert.equal(new URL(page.url()).pathname, "/signup", "bad input must not leave the form");

  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Welcome, Olivia" }).waitFor();
  await page.getByText("Get your workspace ready").waitFor();
  await shot("01-dashboard");
});

test("the app is served with a strict Content-Security-Policy that blocks injected script", async () => {
  const res = await page.request.get(`${BASE}/contacts`);
  const policy = res.headers()["content-security-policy"] ?? "";
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.doesNotMatch(policy.split(";").find((d) => d.trim().startsWith("script-src")), /unsafe-inline/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.equal(res.headers()["x-frame-options"], "DENY");
  assert.equal(res.headers()["x-content-type-options"], "nosniff");
  assert.equal(res.headers()["referrer-policy"], "strict-origin-when-cross-origin");
  // Markup with an inline handler, as an attacker's HTML would carry: the policy stops it.
  await expectCspViolation(page, () =>
    page.evaluate(() => document.body.insertAdjacentHTML("beforeend", `<img src="/favicon.svg?x" onload="window.__injected = 1">`)),
  );
  assert.equal(await page.evaluate(() => window.__injected), undefined);
});

test("the shell shows navigation, the organization and the user", async () => {
  for (const name of ["Dashboard", "Contacts", "Campaigns", "Inbox", "Templates", "Settings"]) {
    assert.ok(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).isVisible(), `${name} link`);
  }
  const current = await page.locator("#org-switcher option:checked").textContent();
  assert.equal(current, "Harbor Homes");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  await page.getByRole("heading", { name: "No contacts yet" }).waitFor();
  // Every section not built yet says what is coming and links to what works.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Campaigns" }).click();
  await page.getByRole("heading", { name: "No campaigns yet" }).waitFor();
  assert.ok(await page.getByRole("button", { name: "New campaign" }).isVisible(), "campaigns can be created");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Templates" }).click();
  await page.getByTestId("template").first().waitFor();
  // A new organization's inbox is empty and says how replies arrive.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inbox" }).click();
  await page.getByRole("heading", { name: "No conversations" }).waitFor();
  assert.ok(await page.getByText("simulate the lead's answer").isVisible(), "the empty inbox says how to try it");
  assert.ok(await page.getByText("Choose a conversation to read it.").isVisible());
});

test("organization settings save and show server-side errors inline", async () => {
  await page.goto(`${BASE}/settings/organization`);
  await page.getByLabel("Time zone").waitFor();
  await page.getByLabel("Time zone").fill("Mars/Olympus");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("must be an IANA time zone").waitFor();
  await page.getByLabel("Time zone").fill("Europe/Istanbul");
  await page.getByLabel("Brand voice").fill("Calm, honest and local.");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("Organization settings saved.").waitFor();
  await page.reload();
  await page.getByLabel("Brand voice").waitFor();
  assert.equal(await page.getByLabel("Time zone").inputValue(), "Europe/Istanbul");
  await shot("02-organization-settings");
});

test("an API key is created and its secret shown once", async () => {
  await page.getByRole("link", { name: "API keys" }).first().click();
  await page.getByRole("heading", { name: "No API keys yet" }).waitFor();
  await page.getByRole("button", { name: "Create API key" }).click();
  await page.getByLabel("Name").fill("n8n production");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = await page.getByTestId("secret").textContent();
  assert.match(secret, /^aura_sk_[0-9a-f]{64}$/);
  await shot("03-api-key-created");
  await page.getByRole("button", { name: "Done" }).click();
  await page.getByRole("cell", { name: /n8n production/ }).waitFor();
  assert.equal(await page.getByText(secret).count(), 0, "the secret must not be listed");

  // The key works against the API.
  const res = await fetch(`${BASE}/api/v1/organizations/current`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).name, "Harbor Homes");
  await shot("04-api-keys");
});

test("log out, then log in again", async () => {
  await page.getByRole("button", { name: /Olivia Owner/ }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Welcome back" }).waitFor();
  // A protected page now sends to the log-in page.
  await page.goto(`${BASE}/settings/members`);
  await page.getByRole("heading", { name: "Welcome back" }).waitFor();

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("the wrong password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByText("The email or password is incorrect.").waitFor();

  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Welcome, Olivia" }).waitFor();
  // The session survives a reload (refresh cookie).
  await page.reload();
  await page.getByRole("heading", { name: "Welcome, Olivia" }).waitFor();
  await shot("05-logged-in-again");
});

test("a teammate is invited, accepts the link and appears in Members", async () => {
  await page.goto(`${BASE}/settings/members`);
  await page.getByRole("cell", { name: /Olivia Owner/ }).waitFor();
  await page.getByRole("button", { name: "Invite member" }).click();
  await page.getByLabel("Email", { exact: true }).fill(`agent-${Date.now()}@example.com`);
  await page.getByLabel("Role", { exact: true }).selectOption("admin");
  await page.getByRole("button", { name: "Create invitation" }).click();
  const link = await page.getByTestId("secret").textContent();
  assert.match(link, /\/accept-invite#token=[0-9a-f]{64}$/);
  await page.getByRole("button", { name: "Done" }).click();
  await page.getByText("Pending invitations").waitFor();

  // The invitee opens the link in a browser of their own.
  const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const invitee = await other.newPage();
  await invitee.goto(link);
  await invitee.getByText("joining as Admin").waitFor();
  await invitee.getByLabel("Your name").fill("Andy Agent");
  await invitee.getByLabel("Choose a password").fill("another long password");
  await invitee.getByRole("button", { name: "Accept invitation" }).click();
  await invitee.getByRole("heading", { name: "Welcome, Andy" }).waitFor();
  assert.equal(await invitee.locator("#org-switcher option:checked").textContent(), "Harbor Homes");
  await other.close();

  await page.reload();
  await page.getByRole("cell", { name: /Andy Agent/ }).waitFor();
  assert.equal(await page.getByText("Pending invitations").count(), 0);
  await shot("06-members");
});

test("a second organization is created and the switcher moves between them", async () => {
  await page.getByRole("button", { name: /Olivia Owner/ }).click();
  await page.getByRole("menuitem", { name: "New organization…" }).click();
  await page.getByLabel("Organization name").fill("Harbor Homes Rentals");
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.getByText("Now working in Harbor Homes Rentals.").waitFor();
  assert.equal(await page.locator("#org-switcher option:checked").textContent(), "Harbor Homes Rentals");
  await page.goto(`${BASE}/settings/members`);
  await page.getByRole("cell", { name: /Olivia Owner/ }).waitFor();
  assert.equal(await page.getByRole("cell", { name: /Andy Agent/ }).count(), 0, "members of the other organization leaked");

  await page.locator("#org-switcher").selectOption({ label: "Harbor Homes" });
  await page.getByText("Now working in Harbor Homes.").waitFor();
  await page.goto(`${BASE}/settings/members`);
  await page.getByRole("cell", { name: /Andy Agent/ }).waitFor();
});

test("the API documentation is served from this installation", async () => {
  await page.goto(`${BASE}/api/docs`);
  await page.getByText("Aura API").first().waitFor();
  await page.getByText("/api/v1/auth/signup").first().waitFor();
  await shot("07-api-docs");
});

test("an expired access token is refreshed once, even by requests that fail together", async () => {
  await page.goto(`${BASE}/settings/organization`);
  await page.getByLabel("Time zone").waitFor();
  // The e2e server issues 1-second access tokens (5 s leeway): wait until this one has expired.
  await page.waitForTimeout(7000);
  const refreshes = [];
  page.on("request", (r) => r.url().endsWith("/api/v1/auth/refresh") && refreshes.push(r));
  // The members page loads members and invitations at the same time: both get 401.
  await page.getByRole("link", { name: "Members" }).click();
  await page.getByRole("cell", { name: /Andy Agent/ }).waitFor();
  assert.equal(refreshes.length, 1, "requests that failed together must share one refresh");
  // Still signed in after a reload: the refresh token family was not revoked.
  await page.reload();
  await page.getByRole("cell", { name: /Andy Agent/ }).waitFor();
});
