// Browser smoke test: opens the dashboard in Debian's headless chromium and
// prints the page title. Starts no server: point it at a running one.
//
//   CHOKEPOINT_URL=http://127.0.0.1:8080/ node web/tests/smoke.mjs
//
// Exits 0 when the page loads, 1 on any failure.

import { chromium } from 'playwright-core';

const url = process.env.CHOKEPOINT_URL || 'http://127.0.0.1:8080/';
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

let browser;
try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
  const page = await browser.newPage();
  const response = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  if (!response) throw new Error(`no response for ${url}`);
  if (!response.ok()) throw new Error(`HTTP ${response.status()} for ${url}`);
  const title = await page.title();
  console.log(`smoke: ${url} -> HTTP ${response.status()}, title: ${JSON.stringify(title)}`);
  await browser.close();
  process.exit(0);
} catch (err) {
  console.error(`smoke: FAILED for ${url}: ${err?.message ?? err}`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
