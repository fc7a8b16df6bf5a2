// Browser test of the dashboard: drives every tab in Debian's headless chromium against a
// running server (it starts none).
//
//   CHOKEPOINT_URL=http://127.0.0.1:8080/ node web/tests/dashboard.mjs
//   SCREENSHOTS=/tmp/shots node web/tests/dashboard.mjs     # also saves a PNG per page
//
// Prints one line per step; exits 1 on the first failure, with the reason.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = (process.env.CHOKEPOINT_URL || 'http://127.0.0.1:8080/').replace(/\/?$/, '/');
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const shotsDir = process.env.SCREENSHOTS || '';
if (shotsDir) mkdirSync(shotsDir, { recursive: true });

const RUN_TIMEOUT = 240_000;
// The horizon of the runs and jobs and the risk draws: short by default (the test); longer for
// the committed screenshots (scripts/screenshots: TO=2027 RISK_DRAWS=8 against a release build).
const TO = process.env.TO || '2025';
const RISK_DRAWS = process.env.RISK_DRAWS || '2';
const JOB_TIMEOUT = 120_000;
const t0 = Date.now();
const consoleErrors = [];
let browser;
let page;

class Failure extends Error {}
function check(cond, message) {
  if (!cond) throw new Failure(message);
}
const secs = (ms) => (ms / 1000).toFixed(1);

async function step(name, fn) {
  const start = Date.now();
  try {
    const info = await fn();
    console.log(`ok    ${name} (${secs(Date.now() - start)} s)${info ? ` — ${info}` : ''}`);
  } catch (err) {
    console.log(`FAIL  ${name} (${secs(Date.now() - start)} s): ${err?.message ?? err}`);
    if (shotsDir && page) {
      await page.screenshot({ path: join(shotsDir, 'failure.png') }).catch(() => {});
      console.log(`      screenshot of the failure: ${join(shotsDir, 'failure.png')}`);
    }
    if (browser) await browser.close().catch(() => {});
    process.exit(1);
  }
}

async function shot(name) {
  if (!shotsDir) return;
  await page.waitForTimeout(900); // let chart animations settle
  await page.screenshot({ path: join(shotsDir, name) });
}

/** Opens a tab by clicking its link and waits for its panel. */
async function openTab(tab) {
  await page.click(`[data-testid="tab-${tab}"]`);
  await page.waitForSelector(`#panel-${tab}:not([hidden])`, { timeout: 5_000 });
  await page.evaluate(() => window.scrollTo(0, 0));
}

/**
 * Types `replacement` over the editor's text from `start` to `end`, with the keyboard (the
 * page sees real input events). Much faster than `fill` on a 15 kB textarea.
 */
async function typeOver(start, end, replacement) {
  await page.$eval('#editor', (e, [s, t]) => {
    e.focus();
    e.setSelectionRange(s, t);
  }, [start, end]);
  await page.keyboard.type(replacement);
}

/** What an ECharts chart in element `id` holds: series types and data lengths. */
function chartSeries(id) {
  return page.evaluate((id) => {
    const el = document.getElementById(id);
    const c = el && window.echarts && window.echarts.getInstanceByDom(el);
    if (!c) return null;
    const o = c.getOption();
    return (o.series || []).map((s) => ({
      type: s.type,
      name: s.name,
      data: (s.data || []).length,
      links: (s.links || s.edges || []).length,
    }));
  }, id);
}

/** Waits until the status element `sel` has a final data-status; returns it. */
async function waitFinal(sel, timeout) {
  await page.waitForFunction(
    (sel) => {
      const s = document.querySelector(sel)?.dataset.status;
      return s === 'done' || s === 'failed' || s === 'interrupted';
    },
    sel,
    { timeout, polling: 250 },
  );
  return page.$eval(sel, (e) => ({ status: e.dataset.status, text: e.textContent }));
}

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
} catch (err) {
  console.log(`FAIL  launch chromium: ${err?.message ?? err}`);
  process.exit(1);
}
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
page = await context.newPage();
page.setDefaultTimeout(20_000);
page.on('console', (m) => {
  if (m.type() === 'error') consoleErrors.push(m.text());
});
page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
page.on('requestfailed', (r) => {
  // EventSource streams are closed by the page when a job ends; that is not a failure.
  if (!/\/events$/.test(new URL(r.url()).pathname)) consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
});

let runId = null;

// a. ------------------------------------------------------------------------------------
await step('a. load the dashboard', async () => {
  const resp = await page.goto(base, { waitUntil: 'load', timeout: 30_000 });
  check(resp && resp.ok(), `HTTP ${resp?.status()} for ${base}`);
  const title = await page.title();
  check(/Chokepoint/.test(title), `unexpected title ${JSON.stringify(title)}`);
  check(await page.evaluate(() => typeof window.echarts === 'object'), 'ECharts did not load');
  await page.waitForFunction(() => /ok/.test(document.getElementById('health')?.textContent || ''), null, { timeout: 10_000 });
  await page.waitForTimeout(300);
  check(consoleErrors.length === 0, `console errors on load: ${consoleErrors.join(' | ')}`);
  return `title ${JSON.stringify(title)}`;
});

// b. ------------------------------------------------------------------------------------
await step('b. map: world map and top-country table for rare earths mining', async () => {
  await openTab('map');
  check((await page.inputValue('#map-commodity')) === 'rare_earths', 'default commodity is not rare_earths');
  check((await page.inputValue('#map-stage')) === 'mining', 'default stage is not mining');
  await page.waitForFunction(
    () => {
      const c = window.echarts.getInstanceByDom(document.getElementById('map-chart'));
      const s = c && c.getOption().series?.find((x) => x.type === 'map');
      return s && s.data.some((d) => d.name === 'CHN' && Number.isFinite(d.value) && d.value > 0);
    },
    null,
    { timeout: 15_000 },
  );
  const first = await page.$eval('#map-table tbody tr', (tr) => ({ iso3: tr.dataset.iso3, text: tr.textContent }));
  check(first.iso3 === 'CHN' && /China/.test(first.text), `first row is ${first.iso3} (${first.text.trim()}), not China`);
  const rows = await page.$$eval('#map-table tbody tr', (t) => t.length);
  const kpis = await page.textContent('#map-kpis');
  check(/HHI/.test(kpis) && /top-3/.test(kpis), `HHI / top-3 share missing: ${kpis}`);
  const source = (await page.textContent('#map-source')).trim();
  check(/Source:/.test(source) && source.length > 30, `no source line under the map: ${source}`);
  await shot('map.png');
  return `${rows} countries, first China; ${source.slice(0, 60)}…`;
});

// c. ------------------------------------------------------------------------------------
await step('c. flows: Sankey of the NdFeB magnet chain', async () => {
  await openTab('flows');
  // The goods list arrives with the world model (prepared on first use).
  await page
    .waitForFunction(() => document.getElementById('flows-good').options.length > 0, null, { timeout: 60_000 })
    .catch(() => {});
  check((await page.inputValue('#flows-good')) === 'ndfeb_magnet', 'default good is not ndfeb_magnet');
  await page.waitForFunction(
    () => {
      const c = window.echarts.getInstanceByDom(document.getElementById('flows-chart'));
      const s = c && c.getOption().series?.find((x) => x.type === 'sankey');
      return s && s.data.length > 0 && s.links.length > 0;
    },
    null,
    { timeout: 15_000 },
  );
  const s = (await chartSeries('flows-chart')).find((x) => x.type === 'sankey');
  const note = await page.textContent('#flows-note');
  check(/USD/.test(note), `omitted-value note missing: ${note}`);
  await shot('flows.png');
  return `${s.data} nodes, ${s.links} links`;
});

// d. ------------------------------------------------------------------------------------
await step(`d. scenario: load the seed, check, run it to ${TO}`, async () => {
  await openTab('scenario');
  await page.click('[data-testid="load-seed"]');
  await page.waitForFunction(() => document.getElementById('editor').value.includes('[scenario]'));
  await page.click('[data-testid="check"]');
  await page.waitForSelector('#check-status[data-ok="true"]', { timeout: 15_000 });
  const seed = await page.inputValue('#editor');
  check(/^to = \d+/m.test(seed), 'the seed has no `to = YEAR` line');
  const to = /^to = (\d+)/m.exec(seed);
  const yearAt = to.index + to[0].length - to[1].length;
  await typeOver(yearAt, yearAt + to[1].length, TO);
  check(new RegExp(`^to = ${TO}$`, 'm').test(await page.inputValue('#editor')), `could not set \`to = ${TO}\` in the editor`);
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => document.getElementById('run-status').dataset.run, null, { timeout: 15_000 });
  runId = await page.$eval('#run-status', (e) => e.dataset.run);
  const fin = await waitFinal('#run-status', RUN_TIMEOUT);
  check(fin.status === 'done', `run ${runId} ended ${fin.status}: ${fin.text}`);
  await page.waitForSelector('#scenario-results [data-testid="answers-table"] tbody tr');
  const answers = await page.$$eval('#scenario-results [data-testid="answers-table"] tbody tr[data-key]', (t) => t.length);
  check(answers > 0, 'the answers table is empty');
  const price = await chartSeries('scn-chart-price');
  check(price && price.length >= 2 && price.every((x) => x.data > 0), `price chart has no data: ${JSON.stringify(price)}`);
  const good = await page.inputValue('#scn-series-good');
  // Companies, criticality and exposure before and after (the seed traces three consumers).
  const companies = await page.$$eval('#scenario-results [data-testid="companies-table"] tbody tr', (t) => t.map((r) => r.textContent));
  check(companies.some((t) => /Freeport/.test(t)), `companies table: ${companies.slice(0, 3).join(' | ')}`);
  const traced = await page.$$eval('#scenario-results [data-testid="exposure-table"] tbody tr', (t) => t.map((r) => r.textContent));
  check(traced.some((t) => /FRA/.test(t) && /CHN/.test(t)), `exposure table: ${traced.slice(0, 3).join(' | ')}`);
  check(await page.$('#scenario-results [data-testid="criticality-table"] tbody tr'), 'no criticality table');
  // USGS method for the USA: the rare-earth oxides are scored, with the published 2022-list score.
  const usgs = await page.$$eval('#scenario-results [data-testid="usgs-table"] tbody tr', (t) => t.map((r) => r.textContent));
  check(usgs.some((t) => /Dysprosium/.test(t) && /0\.61/.test(t) && /→/.test(t)), `USGS table: ${usgs.slice(0, 3).join(' | ')}`);
  const report = await page.getAttribute('#scenario-results [data-testid="report-link"]', 'href');
  check(report === `/api/runs/${runId}/report`, `report link is ${report}`);
  await page.$eval('#scenario-results [data-testid="companies-table"]', (e) => e.scrollIntoView({ block: 'start' }));
  await shot('run-details.png');
  await page.$eval('#scenario-results', (e) => e.scrollIntoView({ block: 'start' }));
  await shot('run.png');
  return `run ${runId} done; ${answers} answer(s); charts for ${good} (${price[0].data} quarters)`;
});

// e. ------------------------------------------------------------------------------------
await step('e. scenario: a typo is reported on its line and marked in the gutter', async () => {
  const text = await page.inputValue('#editor');
  const needle = 'kind = "export_ban"';
  const at = text.indexOf(needle);
  check(at >= 0, `no ${needle} in the editor`);
  const line = text.slice(0, at).split('\n').length;
  await page.evaluate(() => window.scrollTo(0, 0));
  // Type into the editor (no Check click): validation must run on its own after typing stops.
  const word = at + needle.indexOf('export_ban');
  await typeOver(word, word + 'export_ban'.length, 'export_bam');
  check((await page.inputValue('#editor')).includes('kind = "export_bam"'), 'the typo did not reach the editor');
  const item = `#diagnostics li[data-testid="diagnostic"][data-line="${line}"]`;
  await page.waitForSelector(item, { timeout: 10_000 });
  const msg = await page.textContent(item);
  check(/export_bam/.test(msg), `diagnostic does not name the typo: ${msg}`);
  check((await page.$eval('#check-status', (e) => e.dataset.ok)) === 'false', 'check status does not say the file has problems');
  await page.waitForSelector(`#gutter .ln.err[data-line="${line}"]`, { timeout: 5_000 });
  const marked = await page.$$eval('#gutter .ln.err', (l) => l.map((x) => +x.dataset.line));
  check(marked.length === 1 && marked[0] === line, `gutter marks lines ${marked}, expected ${line}`);
  await page.click(item);
  const sel = await page.$eval('#editor', (e) => ({
    line: e.value.slice(0, e.selectionStart).split('\n').length,
    text: e.value.slice(e.selectionStart, e.selectionEnd),
  }));
  check(sel.line === line && sel.text.includes('export_bam'), `clicking the diagnostic selected line ${sel.line} (${JSON.stringify(sel.text)})`);
  await shot('scenario.png');
  return `line ${line}: ${msg.trim().slice(0, 70)}…`;
});

// f. ------------------------------------------------------------------------------------
await step('f. runs: the run is listed as done; compare it with itself', async () => {
  await openTab('runs');
  await page.click('[data-testid="runs-refresh"]');
  await page.waitForSelector(`#runs-table tr[data-run-id="${runId}"][data-status="done"]`, { timeout: 10_000 });
  await page.click(`#runs-table tr[data-run-id="${runId}"]`);
  await page.waitForFunction(() => {
    const el = document.getElementById('runs-chart-price');
    const c = el && window.echarts.getInstanceByDom(el);
    return c && c.getOption().series.some((s) => s.data.length > 0);
  });
  await page.selectOption('#cmp-a', String(runId));
  await page.selectOption('#cmp-b', String(runId));
  await page.click('[data-testid="compare-btn"]');
  await page.waitForSelector('#compare-table tbody tr[data-key]', { timeout: 10_000 });
  const rows = await page.$$eval('#compare-table tbody tr[data-key]', (t) =>
    t.map((tr) => [...tr.children].map((td) => td.textContent.trim())),
  );
  check(rows.every((r) => r[1] === r[2]), `run ${runId} against itself differs: ${JSON.stringify(rows)}`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('runs.png');
  return `${rows.length} compared answer(s)`;
});

// g. ------------------------------------------------------------------------------------
await step(`g. risk: ${RISK_DRAWS} draws to ${TO} on the seed; fan chart`, async () => {
  await openTab('scenario');
  await page.click('[data-testid="load-seed"]');
  await page.waitForSelector('#check-status[data-ok="true"]', { timeout: 15_000 });
  await openTab('risk');
  await page.fill('#risk-draws', RISK_DRAWS);
  await page.fill('#risk-to', TO);
  await page.click('[data-testid="risk-start"]');
  await page.waitForFunction(() => document.getElementById('risk-status').dataset.job, null, { timeout: 15_000 });
  const fin = await waitFinal('#risk-status', JOB_TIMEOUT);
  check(fin.status === 'done', `risk job ended ${fin.status}: ${fin.text}`);
  await page.waitForSelector('#risk-results:not([hidden])');
  const fan = await chartSeries('risk-shortfall-chart');
  check(fan && fan.some((s) => s.name === 'P50' && s.data > 0) && fan.some((s) => /P5/.test(s.name) && s.data > 0), `shortfall fan chart has no data: ${JSON.stringify(fan)}`);
  const price = await chartSeries('risk-price-chart');
  check(price && price.some((s) => s.name === 'P50' && s.data > 0), `price fan chart has no data: ${JSON.stringify(price)}`);
  const drivers = await page.$$eval('#risk-drivers tbody tr', (t) => t.length);
  check(drivers > 0, 'the tail-drivers table is empty');
  const row = await page.inputValue('#risk-shortfall-row');
  await shot('risk.png');
  return `${fin.text.slice(0, 60)}…; fan for ${row}; ${drivers} drivers`;
});

// h. ------------------------------------------------------------------------------------
await step(`h. finance: 50 draws to ${TO}; instruments table`, async () => {
  await openTab('finance');
  await page.fill('#finance-draws', '50');
  await page.fill('#finance-to', TO);
  await page.click('[data-testid="finance-start"]');
  await page.waitForFunction(() => document.getElementById('finance-status').dataset.job, null, { timeout: 15_000 });
  const fin = await waitFinal('#finance-status', JOB_TIMEOUT);
  check(fin.status === 'done', `finance job ended ${fin.status}: ${fin.text}`);
  await page.waitForSelector('#finance-results:not([hidden])');
  const rows = await page.$$eval('#finance-instruments tbody tr[data-event]', (t) => t.map((tr) => tr.dataset.event));
  check(rows.length > 0, 'the instruments table has no rows');
  const years = await page.$$eval('#finance-years tbody tr', (t) => t.length);
  check(years > 0, 'the payments-by-year table is empty');
  const bars = await chartSeries('finance-chart');
  check(bars && bars.length === rows.length, `bar chart has ${bars?.length} series for ${rows.length} instruments`);
  await shot('finance.png');
  return `${rows.length} instruments (${rows.join(', ')}); ${years} year(s)`;
});

await step('no console errors', async () => {
  check(consoleErrors.length === 0, consoleErrors.join(' | '));
});

await browser.close();
console.log(`dashboard: all steps passed in ${secs(Date.now() - t0)} s${shotsDir ? `; screenshots in ${shotsDir}` : ''}`);
process.exit(0);
