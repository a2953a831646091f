// Page weight (issue 10): what a phone downloads before a page works. The Overview and the
// login page must become interactive with at most 350 KB (brotli -q 11) of WASM; every other
// page loads its own chunk on first use. Sizes are deterministic for a build, so this is a
// budget, not a timing. The figures go to end2end/screenshots/page-weight.json.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, logIn, screenshotDir, startServer } from '../lib/harness.mjs';
import { firstVisit, total } from '../lib/weight.mjs';

/** The budget for the WASM that the Overview and the login page need, brotli -q 11. */
const BUDGET = 350_000;
const PASSWORD = 'page-weight-passphrase';

let server;
let browser;

before(async () => {
  server = await startServer();
  await server.createUser('admin', 'admin', PASSWORD);
  browser = await launchBrowser();
  // An environment to open, so its page is measured with its data.
  const api = await browser.newContext();
  await logIn(api, server.baseUrl, 'admin', PASSWORD);
  const post = async (path, data) => {
    const response = await api.request.post(`${server.baseUrl}${path}`, { data });
    assert.equal(response.status(), 201, `${path}: ${await response.text()}`);
  };
  await post('/api/v1/services', { name: 'parts' });
  await post('/api/v1/services/parts/environments', { name: 'staging', tier: 'staging', strategy: 'rolling' });
  await post('/api/v1/deployments', { service: 'parts', environment: 'staging', version: '1.0.0', status: 'succeeded' });
  await api.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PAGES = [
  ['/', true],
  ['/login', false],
  ['/deployments', true],
  ['/deployments/new', true],
  ['/deployments/1', true],
  ['/services/parts/environments/staging', true],
  ['/admin', true],
  ['/admin/tokens', true],
  ['/admin/services', true],
  ['/admin/audit', true],
  ['/account', true],
  ['/releases', true],
  ['/incidents', true],
  ['/metrics', true],
];

test('the Overview and the login page hydrate within the WASM budget; every page is measured', async () => {
  const report = [];
  for (const [path, signedIn] of PAGES) {
    const context = await browser.newContext();
    if (signedIn) await logIn(context, server.baseUrl, 'admin', PASSWORD);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // The Content-Security-Policy (security finding 5) must let every page load and hydrate:
    // Chromium reports each refused script, style or connection on the console.
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) errors.push(message.text());
    });
    const files = await firstVisit(page, `${server.baseUrl}${path}`);
    await context.close();
    assert.deepEqual(errors, [], path);
    assert.ok(total(files, 'wasm', 'raw') > 0, `${path} loads its WASM under the policy`);
    const row = {
      path,
      wasm_files: files.filter((f) => f.kind === 'wasm').map((f) => f.file),
      wasm_raw: total(files, 'wasm', 'raw'),
      wasm_gzip: total(files, 'wasm', 'gzip'),
      wasm_brotli: total(files, 'wasm', 'brotli'),
      js_brotli: total(files, 'js', 'brotli'),
      wire: files.reduce((sum, f) => sum + f.wire, 0),
      encodings: [...new Set(files.map((f) => f.encoding))],
    };
    report.push(row);
    console.log(
      `${path.padEnd(40)} wasm ${row.wasm_raw} raw, ${row.wasm_gzip} gzip, ${row.wasm_brotli} brotli ` +
        `(${row.wasm_files.length} files); js ${row.js_brotli} brotli; ${row.wire} B on the wire (${row.encodings})`,
    );
  }
  writeFileSync(join(screenshotDir, 'page-weight.json'), JSON.stringify(report, null, 2));
  for (const path of ['/', '/login']) {
    const row = report.find((r) => r.path === path);
    assert.ok(
      row.wasm_brotli <= BUDGET,
      `${path} needs ${row.wasm_brotli} B of WASM (brotli -q 11) before it works; the budget is ${BUDGET} B`,
    );
    // The server sends the precompressed files.
    assert.deepEqual(row.encodings, ['br'], `${path}: ${row.encodings}`);
  }
  const heaviest = report.reduce((a, b) => (b.wasm_brotli > a.wasm_brotli ? b : a));
  console.log(`heaviest page: ${heaviest.path}, ${heaviest.wasm_brotli} B of WASM (brotli -q 11)`);
});
