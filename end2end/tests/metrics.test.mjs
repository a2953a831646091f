// Metrics in a real browser: a manager opens the Metrics page over eight weeks of history and
// sees every chart drawn by the server, the same numbers the API gives, filters that change
// them, numbers that open the list they were computed from, a phone layout without sideways
// scrolling, and the printable report on A4 pages without the navigation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hydrated, launchBrowser, logIn, screenshotDir, startServer } from '../lib/harness.mjs';
import { apiSession } from '../lib/blue-green.mjs';

const PASSWORD = 'metrics-passphrase';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let server;
let browser;
let admin;

/** Eight weeks of deployments up to now: parts daily (a failure every fifth day, restored
 * two hours later), web every other day; one rollback and one incident with its cause and fix. */
async function recordHistory() {
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const record = async (body) => {
    const response = await admin.post('/api/v1/deployments', body);
    assert.equal(response.status, 201, response.text);
    return response.json.id;
  };
  for (let day = 56; day >= 1; day -= 1) {
    const finished = now - day * DAY;
    const deployment = (service, version, status, end, leadHours) => ({
      service,
      environment: 'production',
      version,
      status,
      started_at: iso(end - 6 * 60_000),
      finished_at: iso(end),
      commit_at: iso(end - leadHours * HOUR),
    });
    if (day % 5 === 0) {
      await record(deployment('parts', `1.${day}.0`, 'failed', finished, 20));
      await record(deployment('parts', `1.${day}.1`, 'succeeded', finished + 2 * HOUR, 22));
    } else {
      await record(deployment('parts', `1.${day}.0`, 'succeeded', finished, 3 + (day % 7)));
    }
    if (day % 2 === 0) await record(deployment('web', `7.${day}.0`, 'succeeded', finished + HOUR, 30));
  }
  // A bad release, rolled back after 25 minutes, and the incident it caused.
  const bad = await record({ service: 'parts', environment: 'production', version: '2.0.0', status: 'succeeded', started_at: iso(now - 3 * HOUR - 5 * 60_000), finished_at: iso(now - 3 * HOUR), commit_at: iso(now - 9 * HOUR) });
  const fix = await record({ service: 'parts', environment: 'production', version: '1.1.0', status: 'succeeded', is_rollback: true, started_at: iso(now - 2.6 * HOUR), finished_at: iso(now - 2.55 * HOUR) });
  const incident = await admin.post('/api/v1/incidents', { title: 'Parts search times out', service: 'parts', environment: 'production', severity: 'SEV2', status: 'resolved', started_at: iso(now - 2.9 * HOUR), detected_at: iso(now - 2.85 * HOUR), resolved_at: iso(now - 2.5 * HOUR) });
  assert.equal(incident.status, 201, incident.text);
  for (const [deployment_id, kind] of [[bad, 'cause'], [fix, 'fix']]) {
    const link = await admin.post(`/api/v1/incidents/${incident.json.id}/links`, { deployment_id, kind });
    assert.equal(link.status, 201, link.text);
  }
}

before(async () => {
  server = await startServer();
  await server.createUser('admin', 'admin', PASSWORD);
  await server.createUser('manager', 'viewer', PASSWORD);
  admin = await apiSession(server.baseUrl, 'admin', PASSWORD);
  for (const name of ['parts', 'web']) {
    assert.equal((await admin.post('/api/v1/services', { name })).status, 201);
    const env = await admin.post(`/api/v1/services/${name}/environments`, { name: 'production', tier: 'production', strategy: 'rolling' });
    assert.equal(env.status, 201, env.text);
  }
  await recordHistory();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function pageOf(viewport) {
  const context = await browser.newContext({ viewport });
  await logIn(context, server.baseUrl, 'manager', PASSWORD);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

const card = (page, title) => page.locator('article.metric-card', { has: page.getByRole('heading', { name: title, exact: true }) });
const percent = (fraction) => `${(fraction * 100).toFixed(1)}%`;

describe('metrics', () => {
  test('the page shows the API figures, draws every chart, filters and links to its records', async () => {
    const { context, page, errors } = await pageOf({ width: 1280, height: 900 });
    const figures = (await admin.get('/api/v1/metrics')).json;
    assert.ok(figures.attempted > 30, JSON.stringify(figures));
    await page.goto(`${server.baseUrl}/metrics`);
    await hydrated(page);
    await page.getByRole('heading', { name: 'The four keys' }).waitFor();
    // The same figures as the API, with their DORA level.
    const failure = card(page, 'Change failure rate');
    assert.match(await failure.innerText(), new RegExp(percent(figures.change_failure_rate).replace('.', '\\.')));
    assert.match(await failure.innerText(), new RegExp(figures.levels.change_failure_rate, 'i'));
    const frequency = card(page, 'Deployment frequency');
    assert.match(await frequency.innerText(), new RegExp(`${figures.succeeded} succeeded of ${figures.attempted} attempted`));
    assert.match(await card(page, 'Lead time for changes').innerText(), new RegExp(`from ${figures.with_commit_time} of ${figures.succeeded} succeeded`));
    // The previous 30 days are beside each figure.
    assert.match(await frequency.innerText(), /previous 30 days: /);
    // The guide's KPIs, each judged against its target.
    assert.match(await card(page, 'Success rate').innerText(), /Guide's target: > 95%/);
    assert.match(await card(page, 'Success rate').innerText(), /(on|off) target/);
    // Four charts, each an SVG drawn by the server with its text alternative.
    const charts = page.locator('figure.chart');
    assert.equal(await charts.count(), 4);
    assert.equal(await page.locator('figure.chart .chart-svg svg').count(), 4);
    for (const name of ['Deployments by outcome', 'Lead time for changes', 'Change failure rate', 'Recovery time and MTTR']) {
      const figure = page.locator('figure.chart', { has: page.getByRole('heading', { name, exact: true }) });
      const label = await figure.locator('.chart-svg').getAttribute('aria-label');
      assert.ok(label && label.length > 40, `${name}: ${label}`);
    }
    assert.match(await page.locator('figure.chart').first().innerText(), /succeeded and failed deployments per bucket/);
    // Services side by side.
    const services = page.locator('table tbody tr');
    assert.equal(await services.count(), 2);
    await page.screenshot({ path: join(screenshotDir, 'metrics-desktop.png'), fullPage: true });

    // A filter changes the numbers: web alone.
    await page.getByLabel('Service', { exact: true }).fill('web');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/service=web/);
    const web = (await admin.get('/api/v1/metrics?service=web')).json;
    assert.notEqual(web.attempted, figures.attempted);
    await card(page, 'Deployment frequency').getByText(`${web.succeeded} succeeded of ${web.attempted} attempted`).waitFor();

    // A number opens the records it was computed from.
    await card(page, 'Deployment frequency').locator('.metric-value a').click();
    await page.waitForURL(/\/deployments\?/);
    await page.locator('table.deployments').waitFor();
    assert.equal(await page.locator('table.deployments tbody tr').count(), web.succeeded);
    assert.match(await page.locator('.filter-window').innerText(), /Finished from .* in production environments/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a window with nothing in it says so instead of drawing empty axes; bad windows are explained', async () => {
    const { context, page } = await pageOf({ width: 1280, height: 900 });
    await page.goto(`${server.baseUrl}/metrics?from=2020-01-01&to=2020-01-31`);
    await page.getByText(/No deployment finished and no incident was resolved/).waitFor();
    assert.equal(await page.locator('figure.chart svg').count(), 0);
    assert.equal(await page.locator('figure.chart').getByText(/^No data:/).count(), 4);
    assert.match(await card(page, 'Change failure rate').innerText(), /no data/);
    await page.goto(`${server.baseUrl}/metrics?from=2026-02-01&to=2026-01-01`);
    assert.match(await page.getByRole('alert').innerText(), /ends .* before it starts/);
    await context.close();
  });

  test('on a phone nothing scrolls sideways', async () => {
    const { context, page } = await pageOf({ width: 390, height: 844 });
    await page.goto(`${server.baseUrl}/metrics?range=90d`);
    await hydrated(page);
    await page.locator('figure.chart svg').first().waitFor();
    const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: join(screenshotDir, 'metrics-phone.png'), fullPage: true });

    await context.close();
  });

  test('the report holds the figures, incidents and action items, and prints on A4 without navigation', async () => {
    const { context, page, errors } = await pageOf({ width: 1280, height: 900 });
    await page.goto(`${server.baseUrl}/metrics?range=90d`);
    await hydrated(page);
    await page.getByRole('link', { name: 'Printable report' }).click();
    await page.waitForURL(/\/metrics\/report\?range=90d/);
    await page.getByRole('heading', { level: 1, name: 'Delivery report' }).waitFor();
    await page.getByRole('heading', { name: 'The four keys' }).waitFor();
    assert.equal(await page.locator('figure.chart .chart-svg svg').count(), 4);
    // The incident of the window, its post-mortem due (SEV2); no action item yet.
    const incidents = page.locator('section', { has: page.getByRole('heading', { name: 'Incidents resolved in the window' }) });
    assert.match(await incidents.innerText(), /Parts search times out\s+SEV2\s+parts\/production.*\s+due/s);
    await page.getByText('No action item is open.').waitFor();

    await page.emulateMedia({ media: 'print' });
    for (const hidden of ['.site-nav', 'form.filters', 'button:has-text("Print")']) {
      assert.equal(await page.locator(hidden).first().isVisible(), false, hidden);
    }
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(screenshotDir, 'metrics-report.pdf'), pdf);
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? [];
    assert.ok(pages.length >= 3 && pages.length <= 12, `${pages.length} A4 pages`);
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.screenshot({ path: join(screenshotDir, 'metrics-report-print.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  });
});
