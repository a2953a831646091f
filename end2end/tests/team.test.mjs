// What a team sees, in a real browser at desktop and phone width, light and dark: what is live
// after CI records deployments, the Services pages, every field error at once, why the
// operation buttons are absent; and on every route, no sideways scrolling at 390 px and no
// WCAG 2.1 A/AA violation found by axe-core.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hydrated, launchBrowser, logIn, screenshotDir, startServer } from '../lib/harness.mjs';
import { axeViolations } from '../lib/a11y.mjs';

let server;
let browser;
let admin;
let token;
const ids = {};

const PASSWORD = 'team-view-passphrase';
// Nothing listens on port 9 here: the slots' health checks fail, as a down slot's would.
const DOWN = 'http://127.0.0.1:9';

/** A JSON request as the admin; returns the parsed answer after checking the status. */
async function api(method, path, data, status) {
  const response = await admin.request.fetch(`${server.baseUrl}${path}`, { method, data });
  assert.equal(response.status(), status, `${method} ${path}: ${await response.text()}`);
  return response.json();
}

/** Records a deployment as CI does, with the API token. */
async function record(body) {
  const response = await fetch(`${server.baseUrl}/api/v1/deployments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  return JSON.parse(text).id;
}

before(async () => {
  server = await startServer({ env: { SWITCHYARD_HEALTH_CHECK_INTERVAL: '1s' } });
  await server.createUser('admin', 'admin', PASSWORD);
  await server.createUser('eng', 'engineer', PASSWORD);
  browser = await launchBrowser();
  admin = await browser.newContext();
  await logIn(admin, server.baseUrl, 'admin', PASSWORD);
  await api('POST', '/api/v1/services', { name: 'parts', description: 'Spare parts shop', owner_team: 'Payments' }, 201);
  const slot = (name) => ({ upstream: `${DOWN}/${name}`, health_url: `${DOWN}/${name}/health` });
  await api('POST', '/api/v1/services/parts/environments', {
    name: 'production', tier: 'production', strategy: 'blue_green', slots: { blue: slot('blue'), green: slot('green') },
  }, 201);
  await api('POST', '/api/v1/services/parts/environments', { name: 'staging', tier: 'staging', strategy: 'rolling' }, 201);
  token = (await api('POST', '/api/v1/tokens', { name: 'ci', role: 'engineer' }, 201)).secret;
  // CI reports: 2.4.0 on blue, then 2.4.2 on green of production; on staging 1.1.0 is left
  // running when 1.1.1, started later, succeeds.
  const at = (minute) => `2026-11-30T10:${String(minute).padStart(2, '0')}:00Z`;
  ids.blue = await record({ service: 'parts', environment: 'production', version: '2.4.0', status: 'succeeded', slot: 'blue', started_at: at(0), finished_at: at(5) });
  ids.green = await record({ service: 'parts', environment: 'production', version: '2.4.2', status: 'succeeded', slot: 'green', started_at: at(10), finished_at: at(15) });
  ids.stuck = await record({ service: 'parts', environment: 'staging', version: '1.1.0', status: 'running', started_at: at(20) });
  ids.staging = await record({ service: 'parts', environment: 'staging', version: '1.1.1', status: 'succeeded', started_at: at(30), finished_at: at(32) });
  // A resolved SEV1 caused by 2.4.2, its post-mortem saved, an overdue action item: every
  // incident page has something to show.
  const incident = await api('POST', '/api/v1/incidents', {
    title: 'Checkout returns 502', service: 'parts', environment: 'production', severity: 'SEV1',
    started_at: at(20), status: 'resolved', resolved_at: at(50), causes: [ids.green],
    description: 'Payments failed for most users after 2.4.2 went live.',
  }, 201);
  ids.incident = incident.id;
  await api('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { markdown: '## Summary\n\n2.4.2 broke **checkout**.', base_version: 0 }, 200);
  await api('POST', '/api/v1/action-items', { incident_id: incident.id, title: 'Alert on 502 rate', owner: 'eng', due: '2026-12-01' }, 201);
  // The first round of health checks (every second here) has looked at both slots.
  for (let tries = 0; ; tries += 1) {
    const state = await api('GET', '/api/v1/services/parts/environments/production', undefined, 200);
    if (state.health.length === 2) break;
    assert.ok(tries < 100, 'the slots were checked within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

after(async () => {
  await admin?.close();
  await browser?.close();
  await server?.stop();
});

/** A context logged in as `username`, at `viewport`, in `colorScheme`. */
async function contextFor(username, { viewport = { width: 1280, height: 900 }, colorScheme = 'light', isMobile = false } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, isMobile });
  await logIn(context, server.baseUrl, username, PASSWORD);
  return context;
}


describe('what is live', () => {
  test('the Overview, the environment page and the API agree on what CI recorded', async () => {
    const context = await contextFor('eng');
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/`);
    await hydrated(page);
    const production = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'production', exact: true }) });
    const live = production.getByRole('cell').nth(1);
    assert.match(await live.innerText(), /2\.4\.0 on blue\s+by ci/);
    assert.equal((await production.getByRole('cell').nth(2).innerText()).trim(), '2.4.2 on green');
    // The slots' health, checked in the background: both fail here, and say when.
    const health = production.getByRole('cell').nth(3);
    assert.match(await health.innerText(), /blue: not healthy checked .*\n?.*green: not healthy checked/s);
    const staging = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'staging', exact: true }) });
    assert.match(await staging.getByRole('cell').nth(1).innerText(), /1\.1\.1\s+by ci/);
    // The running deployment a newer one overtook lights no "running" badge.
    assert.equal(await staging.getByText(/running$/).count(), 0);
    await page.screenshot({ path: join(screenshotDir, 'team-overview.png'), fullPage: true });

    await production.getByRole('link', { name: 'production' }).click();
    await page.getByRole('heading', { level: 1, name: 'parts · production' }).waitFor();
    assert.equal(await page.locator('#live-version').innerText(), '2.4.0');
    assert.equal(await page.locator('#live-slot').innerText(), 'blue');
    assert.equal((await page.locator('tr[data-slot="green"] td[data-label="Version"]').innerText()).trim(), '2.4.2');
    assert.match(await page.locator('tr[data-slot="blue"] td[data-label="Shipped"]').innerText(), /^ci /);
    // Health, with the time of the check.
    await page.locator('tr[data-slot="green"] td[data-label="Health"]').getByText('not healthy').waitFor();
    await page.locator('tr[data-slot="green"] td[data-label="Health"]').getByText(/checked/).waitFor();
    // Breadcrumbs lead back to the service.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'parts' }).waitFor();
    // No driver: everyone is told why there are no buttons; an engineer is not told to edit files.
    await page.getByText('An operator has not connected this environment to Switchyard yet').waitFor();
    await page.screenshot({ path: join(screenshotDir, 'team-environment.png'), fullPage: true });

    const state = await (await context.request.get(`${server.baseUrl}/api/v1/services/parts/environments/production`)).json();
    assert.equal(state.live_version.version, '2.4.0');
    assert.equal(state.live_version.slot, 'blue');
    assert.equal(state.live_version.shipped.by, 'ci');
    assert.equal(state.idle_version, '2.4.2');
    const stuck = await (await context.request.get(`${server.baseUrl}/api/v1/deployments/${ids.stuck}`)).json();
    assert.equal(stuck.superseded_by, ids.staging);
    await context.close();
  });

  test('an admin is told how to connect a driver', async () => {
    const context = await contextFor('admin');
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/services/parts/environments/staging`);
    await page.getByText(/No driver is configured for this environment.*\[\[environment\]\]/).waitFor();
    await context.close();
  });

  test('the Services pages list each service with its environments and recent deployments', async () => {
    const context = await contextFor('eng');
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/services`);
    await hydrated(page);
    await page.getByRole('heading', { level: 1, name: 'Services' }).waitFor();
    await page.getByText('Payments').first().waitFor();
    await page.getByRole('link', { name: 'parts', exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: 'parts' }).waitFor();
    await page.getByText('Spare parts shop').waitFor();
    for (const version of ['2.4.0', '2.4.2', '1.1.1']) {
      assert.ok(await page.getByRole('link', { name: version }).count() >= 1, version);
    }
    await page.getByText('superseded').first().waitFor();
    await page.screenshot({ path: join(screenshotDir, 'team-service.png'), fullPage: true });
    await page.getByRole('link', { name: 'staging' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'parts · staging' }).waitFor();
    const missing = await page.goto(`${server.baseUrl}/services/no-such-service`);
    assert.equal(missing.status(), 404);
    await context.close();
  });
});

describe('forms', () => {
  test('the record form names every wrong field at once', async () => {
    const context = await contextFor('eng');
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/deployments/new`);
    await hydrated(page);
    await page.getByLabel('Commit SHA').fill('not-a-sha');
    await page.getByLabel('Started (UTC)').fill('yesterday');
    await page.getByRole('button', { name: 'Record deployment' }).click();
    for (const message of [
      'Choose the service this deployment belongs to.',
      'Choose the environment it reached.',
      'Enter the version being deployed, such as 2.4.1.',
      'Enter the commit SHA as 7 to 40 hexadecimal characters.',
      '"yesterday" is not a time; use YYYY-MM-DD HH:MM in UTC, such as 2026-11-27 10:45, or RFC 3339.',
    ]) {
      await page.getByText(message, { exact: true }).waitFor();
    }
    await page.screenshot({ path: join(screenshotDir, 'team-record-errors.png'), fullPage: true });
    // What the hint says is what is accepted.
    await page.getByLabel('Service').selectOption('parts');
    await page.getByLabel('Environment').selectOption('staging');
    await page.getByLabel('Version', { exact: true }).fill('1.2.0');
    await page.getByLabel('Commit SHA').fill('');
    await page.getByLabel('Started (UTC)').fill('2026-11-30 11:00');
    await page.getByLabel('Finished (UTC)').fill('2026-11-30 11:04');
    await page.getByRole('button', { name: 'Record deployment' }).click();
    await page.getByRole('heading', { level: 1, name: /1\.2\.0/ }).waitFor();
    await page.getByText('2026-11-30 11:00 UTC').first().waitFor();
    await context.close();
  });
});

// Every page a team opens, by path.
const routes = () => [
  '/', '/services', '/services/parts', '/services/parts/environments/production',
  '/services/parts/environments/staging', '/deployments', '/deployments/new', `/deployments/${ids.blue}`,
  `/deployments/${ids.stuck}`, '/releases', '/releases/1', '/incidents', '/incidents/new', `/incidents/${ids.incident}`,
  `/incidents/${ids.incident}/postmortem`, '/action-items', '/metrics', '/metrics/report', '/admin', '/admin/tokens',
  '/admin/services', '/admin/services/parts/checklist', '/admin/audit', '/account', '/no-such-page',
];

for (const colorScheme of ['light', 'dark']) {
  describe(`every route, ${colorScheme}`, () => {
    test('at 390 px nothing scrolls sideways and the header leaves the screen to the page', async () => {
      const context = await contextFor('admin', { viewport: { width: 390, height: 844 }, colorScheme, isMobile: true });
      const page = await context.newPage();
      const wide = [];
      for (const path of routes()) {
        await page.goto(`${server.baseUrl}${path}`);
        await page.locator('h1').first().waitFor();
        // In a mobile viewport innerWidth grows with the content: compare with the screen's 390.
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > 390) wide.push(`${path}: ${width}px`);
        const name = path === '/' ? 'home' : path.slice(1).replaceAll('/', '-');
        await page.screenshot({ path: join(screenshotDir, `phone-${colorScheme}-${name}.png`), fullPage: true });
      }
      const header = await page.locator('.site-header').evaluate((el) => el.getBoundingClientRect().height);
      assert.ok(header < 844 / 4, `the header is ${header}px tall`);
      assert.deepEqual(wide, []);
      // Anonymous pages too.
      const anonymous = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme, isMobile: true });
      const login = await anonymous.newPage();
      await login.goto(`${server.baseUrl}/login`);
      assert.ok(await login.evaluate(() => document.documentElement.scrollWidth) <= 390);
      await anonymous.close();
      await context.close();
    });

    test('axe-core finds no WCAG 2.1 A/AA violation', async () => {
      const context = await contextFor('admin', { colorScheme });
      const page = await context.newPage();
      const found = [];
      for (const path of routes()) {
        await page.goto(`${server.baseUrl}${path}`);
        await hydrated(page);
        found.push(...(await axeViolations(page)).map((v) => `${path} ${v}`));
      }
      // The confirmation of a destructive button, opened.
      await page.goto(`${server.baseUrl}/admin`);
      await hydrated(page);
      await page.getByLabel('Deactivate eng', { exact: true }).click();
      found.push(...(await axeViolations(page)).map((v) => `/admin (confirm) ${v}`));
      const anonymous = await browser.newContext({ colorScheme });
      const login = await anonymous.newPage();
      await login.goto(`${server.baseUrl}/login`);
      await hydrated(login);
      found.push(...(await axeViolations(login)).map((v) => `/login ${v}`));
      await anonymous.close();
      assert.deepEqual(found, []);
      await context.close();
    });
  });
}
