// Writes the dashboard's vendored front-end assets into
// crates/chokepoint-server/assets/vendor/ so the server can embed them and the
// dashboard works offline (no CDN).
//
//   cd web && npm ci && node vendor.mjs      (or: node web/vendor.mjs from the repo root)
//
// Output is deterministic: the same node_modules give byte-identical files.
//   echarts.min.js   copied verbatim from the echarts package
//   world.geo.json   GeoJSON FeatureCollection built from world-atlas countries-110m
//                    with properties exactly {"iso3", "name"}, coordinates rounded to 2 dp,
//                    polygons split at the antimeridian
//   LICENSES.md      what was vendored, from where, under which licence

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(WEB_DIR);
const OUT_DIR = join(REPO_ROOT, 'crates', 'chokepoint-server', 'assets', 'vendor');
const REGEN_CMD = 'cd web && npm ci && node vendor.mjs';

const require = createRequire(join(WEB_DIR, 'package.json'));

function pkgDir(name) {
  return dirname(require.resolve(`${name}/package.json`));
}
function pkgJson(name) {
  return JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8'));
}
function readIfExists(path) {
  return existsSync(path) ? readFileSync(path, 'utf8').replace(/\r\n/g, '\n').trimEnd() : null;
}
function write(name, content) {
  const path = join(OUT_DIR, name);
  writeFileSync(path, content);
  console.log(`wrote ${relative(REPO_ROOT, path)} (${Buffer.byteLength(content)} bytes)`);
}

for (const name of ['echarts', 'world-atlas', 'topojson-client', 'i18n-iso-countries']) {
  try {
    pkgDir(name);
  } catch {
    console.error(`vendor.mjs: package "${name}" is not installed; run: ${REGEN_CMD}`);
    process.exit(1);
  }
}

mkdirSync(OUT_DIR, { recursive: true });

// ---------------------------------------------------------------- echarts
const echartsPkg = pkgJson('echarts');
const echartsDir = pkgDir('echarts');
write('echarts.min.js', readFileSync(join(echartsDir, 'dist', 'echarts.min.js')));

// ---------------------------------------------------------------- world map
const { feature } = require('topojson-client');
const countries = require('i18n-iso-countries');
const atlasPkg = pkgJson('world-atlas');
const atlasDir = pkgDir('world-atlas');
const topology = JSON.parse(readFileSync(join(atlasDir, 'countries-110m.json'), 'utf8'));

// Natural Earth shapes with no ISO 3166-1 numeric code in world-atlas.
// Kosovo uses the widely used user-assigned code XKX (World Bank, EU, IMF);
// Northern Cyprus and Somaliland have no code at all and keep iso3 "".
const NO_NUMERIC_ID = { Kosovo: 'XKX', 'N. Cyprus': '', Somaliland: '' };

const round = (v) => {
  const r = Math.round(v * 100) / 100;
  return r === 0 ? 0 : r; // normalise -0
};
const samePos = (a, b) => a[0] === b[0] && a[1] === b[1];

// topojson-client stitches Natural Earth's antimeridian-cut polygons back
// together (Fiji, Chukotka), so some rings jump from +180 to -180 and a
// renderer draws a line across the whole map. Split such polygons at the
// antimeridian again. A ring that crosses it an odd number of times encloses a
// pole (Antarctica) and is left alone.
const crossings = (ring) => {
  let n = 0;
  for (let i = 1; i < ring.length; i++) if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) n++;
  return n;
};
// Makes longitudes continuous (no jump > 180), placed so the ring straddles +180.
function unwrap(ring) {
  let shift = 0;
  const out = ring.map(([x, y], i) => {
    if (i > 0) {
      const dx = x - ring[i - 1][0];
      if (dx > 180) shift -= 360;
      else if (dx < -180) shift += 360;
    }
    return [x + shift, y];
  });
  return Math.min(...out.map(([x]) => x)) < -180 ? out.map(([x, y]) => [x + 360, y]) : out;
}
// Sutherland-Hodgman against the line x = 180; keeps x <= 180 (west) or x >= 180.
function clipAt180(ring, keepWest) {
  const inside = ([x]) => (keepWest ? x <= 180 : x >= 180);
  const cut = ([x1, y1], [x2, y2]) => [180, y1 + ((y2 - y1) * (180 - x1)) / (x2 - x1)];
  const out = [];
  for (let i = 1; i < ring.length; i++) {
    const prev = ring[i - 1];
    const cur = ring[i];
    if (inside(cur)) {
      if (!inside(prev)) out.push(cut(prev, cur));
      out.push(cur);
    } else if (inside(prev)) {
      out.push(cut(prev, cur));
    }
  }
  if (out.length === 0) return null;
  out.push([out[0][0], out[0][1]]);
  return out.length >= 4 ? out : null;
}
// Returns the polygon as one or more polygons, none crossing the antimeridian.
function splitAntimeridian(rings) {
  const c = crossings(rings[0]);
  if (c === 0 || c % 2 === 1) return [rings];
  const outer = unwrap(rings[0]);
  // Holes go on the same side of the antimeridian as the outer ring.
  const near = (ring) => {
    const d = ring[0][0] - outer[0][0];
    const shift = d > 180 ? -360 : d < -180 ? 360 : 0;
    return shift ? ring.map(([x, y]) => [x + shift, y]) : ring;
  };
  const unwrapped = [outer, ...rings.slice(1).map((r) => near(unwrap(r)))];
  const parts = [];
  for (const keepWest of [true, false]) {
    const clipped = unwrapped.map((r) => clipAt180(r, keepWest));
    if (!clipped[0]) continue;
    const part = [clipped[0], ...clipped.slice(1).filter(Boolean)];
    parts.push(keepWest ? part : part.map((r) => r.map(([x, y]) => [x - 360, y])));
  }
  return parts;
}

// Rounds a linear ring and drops the consecutive duplicates rounding creates.
// Returns null when the ring collapses (< 4 positions, i.e. < 3 distinct).
function roundRing(ring) {
  const out = [];
  for (const [x, y] of ring) {
    const p = [round(x), round(y)];
    if (out.length === 0 || !samePos(out[out.length - 1], p)) out.push(p);
  }
  if (!samePos(out[0], out[out.length - 1])) out.push([out[0][0], out[0][1]]);
  return out.length >= 4 ? out : null;
}
// Rounds a polygon; null when its outer ring collapses (holes that collapse are dropped).
function roundPolygon(rings) {
  const outer = roundRing(rings[0]);
  if (!outer) return null;
  return [outer, ...rings.slice(1).map(roundRing).filter(Boolean)];
}
function roundGeometry(g, label) {
  if (g === null) return null;
  if (g.type === 'Polygon' || g.type === 'MultiPolygon') {
    const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    const ps = polygons.flatMap(splitAntimeridian).map(roundPolygon).filter(Boolean);
    if (ps.length === 0) throw new Error(`${label}: polygon collapsed when rounded`);
    return ps.length === 1
      ? { type: 'Polygon', coordinates: ps[0] }
      : { type: 'MultiPolygon', coordinates: ps };
  }
  throw new Error(`${label}: unexpected geometry type ${g.type}`);
}

const collection = feature(topology, topology.objects.countries);
const unmapped = [];
const features = collection.features.map((f) => {
  const name = f.properties?.name ?? '';
  let iso3;
  if (f.id !== undefined && f.id !== null && f.id !== '') {
    iso3 = countries.numericToAlpha3(String(f.id).padStart(3, '0'));
  }
  if (!iso3) {
    if (Object.prototype.hasOwnProperty.call(NO_NUMERIC_ID, name)) {
      iso3 = NO_NUMERIC_ID[name];
    } else {
      iso3 = '';
      unmapped.push(`${name} (id ${f.id})`);
    }
  }
  return {
    type: 'Feature',
    properties: { iso3, name },
    geometry: roundGeometry(f.geometry, name),
  };
});
if (unmapped.length) {
  console.warn(`warning: no ISO alpha-3 for: ${unmapped.join(', ')} (kept with iso3 "")`);
}
const seen = new Map();
for (const f of features) {
  const c = f.properties.iso3;
  if (c && seen.has(c)) throw new Error(`duplicate iso3 ${c}: ${seen.get(c)} / ${f.properties.name}`);
  seen.set(c, f.properties.name);
}
for (const must of ['CHN', 'USA', 'COD', 'GRL', 'TWN', 'AUS', 'CHL']) {
  if (!seen.has(must)) throw new Error(`world.geo.json is missing ${must}`);
}
write('world.geo.json', JSON.stringify({ type: 'FeatureCollection', features }) + '\n');

// ---------------------------------------------------------------- licences
const i18nPkg = pkgJson('i18n-iso-countries');
const topoPkg = pkgJson('topojson-client');
const zrenderPkg = pkgJson('zrender');
const zrenderDir = pkgDir('zrender');
const neVersion =
  /Natural Earth[^\n]*?version (\d+(?:\.\d+)+)/.exec(readIfExists(join(atlasDir, 'README.md')) ?? '')?.[1] ??
  'unknown';
const echartsNotice = readIfExists(join(echartsDir, 'NOTICE'));
const fence = (text) => '```text\n' + text + '\n```';

const licenses = `# Vendored front-end assets

Files in this folder are generated; do not edit them by hand. Regenerate with:

\`\`\`sh
${REGEN_CMD}
\`\`\`

(\`web/package.json\` and \`web/package-lock.json\` pin the exact versions.)

| file | from | version | licence | upstream |
| --- | --- | --- | --- | --- |
| \`echarts.min.js\` | npm package \`echarts\`, \`dist/echarts.min.js\`, copied verbatim | ${echartsPkg.version} | ${echartsPkg.license} (bundles zrender ${zrenderPkg.version}, ${zrenderPkg.license}, and parts of d3, BSD-3-Clause) | https://echarts.apache.org/ , https://github.com/apache/echarts |
| \`world.geo.json\` | npm package \`world-atlas\`, \`countries-110m.json\` (Natural Earth ${neVersion} Admin 0 countries, 1:110m) | ${atlasPkg.version} | ${atlasPkg.license} (world-atlas packaging); map data: Natural Earth, public domain | https://github.com/topojson/world-atlas , https://www.naturalearthdata.com/ |

## world.geo.json

Built by \`web/vendor.mjs\`: the TopoJSON object \`countries\` is converted to a GeoJSON
FeatureCollection with \`feature()\` from \`topojson-client\` ${topoPkg.version} (${topoPkg.license},
https://github.com/topojson/topojson-client), polygons that cross the antimeridian (Fiji,
Chukotka) are split at +-180 again, coordinates are rounded to 2 decimal places, and each
feature's properties are exactly \`{"iso3", "name"}\`:

- \`name\` is the Natural Earth short name (e.g. "Dem. Rep. Congo", "United States of America").
- \`iso3\` is the ISO 3166-1 alpha-3 code mapped from the ISO numeric id with
  \`numericToAlpha3\` from \`i18n-iso-countries\` ${i18nPkg.version} (${i18nPkg.license},
  https://github.com/michaelwittig/node-i18n-iso-countries). Shapes without a numeric id:
  Kosovo gets the user-assigned code \`XKX\`; N. Cyprus and Somaliland keep \`""\`.

Natural Earth: "All versions of Natural Earth raster + vector map data found on this website
are in the public domain. You may use the maps in any manner, including modifying the content
and design, electronic dissemination, and offset printing." (https://www.naturalearthdata.com/about/terms-of-use/)

## Licence and notice texts

### Apache ECharts ${echartsPkg.version}: NOTICE

${echartsNotice ? fence(echartsNotice) : '(the package ships no NOTICE file)'}

### Apache ECharts ${echartsPkg.version}: LICENSE

${fence(readIfExists(join(echartsDir, 'LICENSE')) ?? 'Apache License 2.0: https://www.apache.org/licenses/LICENSE-2.0')}

### d3 (embedded in ECharts): licenses/LICENSE-d3

${fence(readIfExists(join(echartsDir, 'licenses', 'LICENSE-d3')) ?? 'BSD-3-Clause')}

### zrender ${zrenderPkg.version} (bundled in echarts.min.js): LICENSE

${fence(readIfExists(join(zrenderDir, 'LICENSE')) ?? zrenderPkg.license)}

### world-atlas ${atlasPkg.version}: LICENSE

${fence(readIfExists(join(atlasDir, 'LICENSE')) ?? atlasPkg.license)}
`;
write('LICENSES.md', licenses);
