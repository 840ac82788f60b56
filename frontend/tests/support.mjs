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
  const page = await browser.newPage({ viewport });
  page.on("pageerror", (e) => console.error("page error:", e.message));
  return { browser, page };
}

/** Saves a screenshot of `page` (the whole page, or only what is in view) as `<name>.png`. */
export function screenshot(page, name, fullPage = true) {
  return page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}
