// What every browser test starts from: the app's address, a headless Chromium with one page
// whose script errors are printed, and screenshots under $AURA_SCREENSHOTS (default
// .aura/screenshots). Playwright gives every launch a fresh, empty profile directory of its own.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

export const BASE = process.env.AURA_URL ?? "http://127.0.0.1:8080";
const SHOTS = process.env.AURA_SCREENSHOTS ?? path.resolve(".aura/screenshots");
mkdirSync(SHOTS, { recursive: true });

/** Launches the browser and opens a page of the given size. */
export async function openBrowser(viewport) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  // Every page of the run is watched for Content-Security-Policy violations: the app is served
  // with a strict policy, and a violation Chromium reports fails the test when the browser closes.
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args) => watchCsp(await newPage(...args));
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const context = await newContext(...args);
    context.on("page", watchCsp);
    return context;
  };
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    const found = cspViolations.splice(0);
    if (found.length) throw new Error(`Content-Security-Policy violations:\n${found.join("\n")}`);
  };
  const page = await browser.newPage({ viewport });
  page.on("pageerror", (e) => console.error("page error:", e.message));
  return { browser, page };
}

/** CSP violations reported by Chromium and not yet expected by a test. */
const cspViolations = [];

function watchCsp(page) {
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return page;
}

/** Runs `action`, which must cause a CSP violation (proof that the policy is on), and takes
 *  that violation off the list so it does not fail the test. */
export async function expectCspViolation(page, action) {
  const before = cspViolations.length;
  await action();
  for (let i = 0; i < 50 && cspViolations.length === before; i++) await page.waitForTimeout(100);
  if (cspViolations.length === before) throw new Error("expected a Content-Security-Policy violation, none was reported");
  cspViolations.splice(before);
}

/** Saves a screenshot of `page` (the whole page, or only what is in view) as `<name>.png`. */
export function screenshot(page, name, fullPage = true) {
  return page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/** A tab of the open campaign (a link in the "Campaign" navigation). */
export function campaignTab(page, name) {
  return page.getByRole("navigation", { name: "Campaign" }).getByRole("link", { name, exact: true });
}
