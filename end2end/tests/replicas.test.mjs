// Two replicas on one PostgreSQL database (issue 17): a checklist sign-off and an incident
// timeline note made through one replica appear, without a reload, on a page a browser holds
// open on the other, both ways. The replicas share nothing but the database: each page's live
// stream re-reads it, so what matters is that a change made elsewhere reaches the page in time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hydrated, launchBrowser, logIn, startServer } from '../lib/harness.mjs';
import { PASSWORD, apiSession } from '../lib/blue-green.mjs';

const adminUrl = process.env.SWITCHYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `switchyard_e2e_replicas_${process.pid}`;
// The first replica creates the database, as a fresh server does.
const env = { SWITCHYARD_DATABASE_URL: adminUrl.replace(/\/[^/]*$/, `/${database}`) };

let browser;
const replicas = [];
const api = [];
let releaseId;
let incidentId;

before(async () => {
  browser = await launchBrowser();
  replicas.push(await startServer({ env }));
  replicas.push(await startServer({ env }));
  await replicas[0].createUser('admin', 'admin', PASSWORD);
  await replicas[0].createUser('watcher', 'engineer', PASSWORD);
  for (const replica of replicas) api.push(await apiSession(replica.baseUrl, 'admin', PASSWORD));
  const made = [
    await api[0].post('/api/v1/services', { name: 'shop' }),
    await api[1].post('/api/v1/services/shop/environments', { name: 'production', tier: 'production', strategy: 'rolling' }),
    await api[0].put('/api/v1/services/shop/checklist-template', {
      items: ['Tests Pass', 'Code Review', 'Changelog', 'Runbook'].map((title) => ({ group: 'Release', title })),
    }),
  ];
  for (const answer of made) assert.ok(answer.status < 300, answer.text);
  const release = await api[1].post('/api/v1/releases', { service: 'shop', environment: 'production', version: '3.0.0' });
  assert.equal(release.status, 201, release.text);
  releaseId = release.json.id;
  const incident = await api[0].post('/api/v1/incidents', {
    title: 'Checkout errors',
    service: 'shop',
    environment: 'production',
    severity: 'SEV2',
  });
  assert.equal(incident.status, 201, incident.text);
  incidentId = incident.json.id;
});

after(async () => {
  await browser?.close();
  for (const replica of replicas) await replica.stop();
  spawnSync('psql', [adminUrl, '-qc', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
});

/** `path` open in a browser signed in on replica `n`, hydrated (its live stream runs then). */
async function watch(n, path) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  await logIn(context, replicas[n].baseUrl, 'watcher', PASSWORD);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${replicas[n].baseUrl}${path}`);
  await hydrated(page);
  return { context, page, errors };
}

/** Makes `change` through one replica and waits until `shown` appears on the other's page. */
async function reaches(shown, change) {
  const started = performance.now();
  const answer = await change();
  assert.ok(answer.status < 300, answer.text);
  await shown.waitFor({ timeout: 2000 });
  return performance.now() - started;
}

const waits = [];

describe('two replicas behind one PostgreSQL database', () => {
  test('a sign-off made through one replica appears live on the other', async () => {
    const items = (await api[0].get(`/api/v1/releases/${releaseId}`)).json.items;
    for (const [n, item] of items.entries()) {
      const [made, watched] = n % 2 === 0 ? [0, 1] : [1, 0];
      const { context, page, errors } = await watch(watched, `/releases/${releaseId}`);
      const row = page.locator('li.checklist-item', { has: page.getByRole('heading', { name: item.title, exact: true }) });
      const note = `checked through replica ${made}`;
      waits.push(
        await reaches(row.getByText(new RegExp(`by admin at .* — ${note}`)), () =>
          api[made].post(`/api/v1/releases/${releaseId}/items/${item.key}/sign`, { note }),
        ),
      );
      assert.deepEqual(errors, []);
      await context.close();
    }
  });

  test('a timeline note made through one replica appears live on the other', async () => {
    for (const n of [0, 1, 2, 3]) {
      const [made, watched] = n % 2 === 0 ? [0, 1] : [1, 0];
      const { context, page, errors } = await watch(watched, `/incidents/${incidentId}`);
      const text = `note ${n} through replica ${made}`;
      waits.push(
        await reaches(page.locator('ol.timeline li', { hasText: text }), () =>
          api[made].post(`/api/v1/incidents/${incidentId}/timeline`, { text }),
        ),
      );
      assert.deepEqual(errors, []);
      await context.close();
    }
    waits.sort((a, b) => a - b);
    console.log(
      `a change through one replica reached a browser on the other in ${Math.round(waits[waits.length >> 1])} ms ` +
        `(median) to ${Math.round(waits[waits.length - 1])} ms (slowest) over ${waits.length} changes`,
    );
  });
});
