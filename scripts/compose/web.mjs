// The web app served by the compose stack, in headless Chromium through the published port
// (scripts/test-compose.sh): the sign-in page is drawn, the demo owner signs in, and the demo
// campaign is listed. Any script error or Content-Security-Policy violation fails it.
//   AURA_URL=http://127.0.0.1:PORT node scripts/compose/web.mjs
import { BASE, openBrowser, screenshot } from "../../frontend/tests/support.mjs";

const { browser, page } = await openBrowser({ width: 1280, height: 800 });
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
try {
  await page.goto(`${BASE}/login`);
  await page.getByRole("heading", { name: "Welcome back" }).waitFor({ timeout: 30_000 });
  await page.getByLabel("Email").fill("demo@example.com");
  await page.getByLabel("Password").fill("aura-demo-2026");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: /^Welcome, / }).waitFor({ timeout: 30_000 });
  await page.goto(`${BASE}/campaigns`);
  await page.getByText("Open house follow-up").first().waitFor({ timeout: 30_000 });
  await screenshot(page, "compose-campaigns");
  if (errors.length) throw new Error(`script errors: ${errors.join("; ")}`);
  console.log("    web app: signed in as the demo owner in headless Chromium; the demo campaign is listed");
} finally {
  await browser.close();
}
