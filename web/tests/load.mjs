// Load test on loopback: N concurrent clients (default 200) for a bounded time read a finished
// run's results and the run list, and submit scenario validations, against a running
// `chokepoint serve`. Zero errors are required (exit 1 otherwise); latency percentiles are
// printed, and written as Markdown with --out FILE.
//
//   node web/tests/load.mjs [--url http://127.0.0.1:8080/] [--clients 200] [--seconds 10]
//                           [--out bench/results/load.md]

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const base = (opt('url', process.env.CHOKEPOINT_URL || 'http://127.0.0.1:8080/')).replace(/\/$/, '');
const clients = Number(opt('clients', '200'));
const seconds = Number(opt('seconds', '10'));
const out = opt('out', null);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const seed = readFileSync(join(root, 'scenarios', '2026-01-critical-minerals.toml'), 'utf8');

// A short run whose results the clients read.
const short = `[scenario]
name = "load test: Grasberg outage"
to = 2025

[[event]]
id = "grasberg"
kind = "disruption"
start = "2025-04-01"
source = "load test"
place = "IDN"
goods = ["cu_mined"]
loss_per_year = 270000
`;

async function prepare() {
  const r = await fetch(`${base}/api/runs`, { method: 'POST', body: short, headers: { 'content-type': 'text/plain' } });
  if (r.status !== 202) throw new Error(`submitting the run: HTTP ${r.status} ${await r.text()}`);
  const { id } = await r.json();
  for (let i = 0; i < 1200; i++) {
    const v = await (await fetch(`${base}/api/runs/${id}`)).json();
    if (v.run.status === 'done') return id;
    if (v.run.status !== 'queued' && v.run.status !== 'running') throw new Error(`run ${id}: ${v.run.status} ${v.run.error}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`run ${id} did not finish`);
}

const kinds = ['GET /api/runs/{id}', 'GET /api/runs', 'POST /api/scenarios/validate', 'GET /api/health'];

async function main() {
  const id = await prepare();
  const lat = Object.fromEntries(kinds.map((k) => [k, []]));
  const errors = [];
  const end = performance.now() + seconds * 1000;
  async function one(kind) {
    const t = performance.now();
    let r;
    try {
      if (kind === 'GET /api/runs/{id}') r = await fetch(`${base}/api/runs/${id}`);
      else if (kind === 'GET /api/runs') r = await fetch(`${base}/api/runs`);
      else if (kind === 'GET /api/health') r = await fetch(`${base}/api/health`);
      else r = await fetch(`${base}/api/scenarios/validate`, { method: 'POST', body: seed, headers: { 'content-type': 'text/plain' } });
      const body = await r.text();
      if (!r.ok) throw new Error(`HTTP ${r.status}: ${body.slice(0, 200)}`);
      if (kind === 'POST /api/scenarios/validate' && !JSON.parse(body).ok) throw new Error(`the seed did not validate: ${body.slice(0, 200)}`);
      if (kind === 'GET /api/runs/{id}' && JSON.parse(body).run.status !== 'done') throw new Error('the run is not done');
    } catch (e) {
      errors.push(`${kind}: ${e.message}`);
      return;
    }
    lat[kind].push(performance.now() - t);
  }
  async function client(c) {
    // Each client reads three times for every validation it submits.
    for (let i = c; performance.now() < end; i++) await one(kinds[i % kinds.length]);
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const wall = (performance.now() - t0) / 1000;
  const q = (s, p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const rows = [];
  const all = [];
  for (const k of kinds) {
    const s = lat[k].sort((a, b) => a - b);
    all.push(...s);
    rows.push([k, s.length, q(s, 0.5), q(s, 0.9), q(s, 0.99), s[s.length - 1]]);
  }
  all.sort((a, b) => a - b);
  rows.push(['all', all.length, q(all, 0.5), q(all, 0.9), q(all, 0.99), all[all.length - 1]]);
  const fmt = (x) => (x === undefined ? '–' : x.toFixed(1));
  const table = ['| request | count | p50 ms | p90 ms | p99 ms | max ms |', '|---|---|---|---|---|---|']
    .concat(rows.map((r) => `| ${r[0]} | ${r[1]} | ${fmt(r[2])} | ${fmt(r[3])} | ${fmt(r[4])} | ${fmt(r[5])} |`))
    .join('\n');
  const line = `${clients} clients, ${wall.toFixed(1)} s: ${all.length} requests (${(all.length / wall).toFixed(0)}/s), ${errors.length} errors`;
  console.log(line);
  console.log(table);
  if (out) {
    writeFileSync(out, `# Load test — results of record

Command: \`scripts/load-test --record\` (\`node web/tests/load.mjs --clients ${clients} --seconds ${seconds}\` against
\`chokepoint serve\`, release build, on loopback). Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${os.cpus().length} cores
(${os.cpus()[0]?.model ?? 'unknown'}), Node.js ${process.version}.

Each of ${clients} concurrent clients loops for ${seconds} s over: read a finished run with its summary
(\`GET /api/runs/{id}\`), list the runs, validate the seed scenario against the full world model
(\`POST /api/scenarios/validate\`), and the health check. A request counts as an error unless it
answers 2xx with the expected content (the run done, the seed valid).

${line}.

${table}
`);
  }
  if (errors.length) {
    console.error(`errors (first 5):\n  ${errors.slice(0, 5).join('\n  ')}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(`load test failed: ${e.message}`);
  process.exit(1);
});
