// Deployments in a real browser: an admin sets up a service and its environments, an
// engineer records a deployment (wrong input first), finishes it, and finds it on the list,
// its detail page and the Overview, and downloads the list as CSV; GitHub reports an
// environment Switchyard does not know and the admin maps it; without JavaScript the same
// form still works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hydrated, launchBrowser, logIn, screenshotDir, startServer } from '../lib/harness.mjs';

let server;
let browser;
const PASSWORD = 'deployments-passphrase';
const GITHUB_SECRET = 'e2e-github-secret';

before(async () => {
  server = await startServer({ env: { SWITCHYARD_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET } });
  await server.createUser('admin', 'admin', PASSWORD);
  await server.createUser('eng', 'engineer', PASSWORD);
  await server.createUser('viewer', 'viewer', PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A logged-in page of `username`, collecting page errors. */
async function pageOf(username, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  await logIn(context, server.baseUrl, username, PASSWORD);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // Refused input answers 4xx on purpose; the browser logs each such response.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
  });
  return { context, page, errors };
}


describe('hydrated', () => {
  test('an admin sets up a service and a blue-green environment in the browser', async () => {
    const { context, page, errors } = await pageOf('admin');
    await page.goto(`${server.baseUrl}/admin/services`);
    await hydrated(page);
    const newService = page.getByRole('region', { name: 'New service' });
    await newService.getByLabel('Name').fill('Parts API');
    await newService.getByRole('button', { name: 'Create service' }).click();
    await newService.getByText("Use only lowercase letters, digits, '-', '_' and '.'.").waitFor();
    await newService.getByLabel('Name').fill('parts');
    await newService.getByLabel('Description').fill('The parts API');
    await newService.getByRole('button', { name: 'Create service' }).click();

    const newEnvironment = page.getByRole('region', { name: 'New environment' });
    await newEnvironment.getByLabel('Service').selectOption('parts');
    await newEnvironment.getByLabel('Name').fill('production');
    await newEnvironment.getByLabel('Tier').selectOption('production');
    await newEnvironment.getByLabel('Strategy').selectOption('blue_green');
    await newEnvironment.getByLabel('Blue upstream').fill('http://10.0.0.1:8080');
    await newEnvironment.getByLabel('Blue health URL').fill('http://10.0.0.1:8080/health');
    await newEnvironment.getByLabel('Green upstream').fill('not a url');
    await newEnvironment.getByRole('button', { name: 'Create environment' }).click();
    // Every wrong field at once: the bad upstream and the missing health URL.
    await newEnvironment.locator('#field-slots-green-upstream-error').getByText('Enter an address starting with http:// or https://').waitFor();
    await newEnvironment.locator('#field-slots-green-health_url-error').getByText('Enter an address starting with http:// or https://').waitFor();
    await newEnvironment.getByLabel('Green upstream').fill('http://10.0.0.2:8080');
    await newEnvironment.getByLabel('Green health URL').fill('http://10.0.0.2:8080/health');
    await newEnvironment.getByRole('button', { name: 'Create environment' }).click();
    const list = page.getByRole('region', { name: 'Environments' });
    await list.getByRole('cell', { name: /blue \(live\): http:\/\/10\.0\.0\.1:8080/ }).waitFor();
    // Slot addresses change in place; the list shows the new one.
    await page.getByText('Edit parts/production').click();
    const edit = page.locator('details.edit', { hasText: 'Edit parts/production' });
    await edit.getByLabel('Blue upstream').fill('http://10.0.0.11:8080');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await list.getByRole('cell', { name: /blue \(live\): http:\/\/10\.0\.0\.11:8080/ }).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'admin-services.png'), fullPage: true });
    // A staging environment through the API, as a script would.
    const staging = await context.request.post(`${server.baseUrl}/api/v1/services/parts/environments`, {
      data: { name: 'staging', tier: 'staging', strategy: 'rolling' },
    });
    assert.equal(staging.status(), 201, await staging.text());
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an engineer records a deployment, sees it running, and finishes it', async () => {
    const { context, page, errors } = await pageOf('eng');
    await page.goto(`${server.baseUrl}/deployments`);
    await hydrated(page);
    await page.getByRole('link', { name: 'Record a deployment' }).click();
    await page.getByRole('heading', { level: 1, name: 'Record a deployment' }).waitFor();
    await page.getByLabel('Service').selectOption('parts');
    await page.getByLabel('Environment').selectOption('production');
    await page.getByLabel('Commit SHA').fill('xyz');
    await page.getByRole('button', { name: 'Record deployment' }).click();
    // The first wrong field is named at the field; nothing is written.
    await page.getByText('Enter the version being deployed, such as 2.4.1.').waitFor();
    await page.getByLabel('Version', { exact: true }).fill('2.4.1');
    await page.getByRole('button', { name: 'Record deployment' }).click();
    await page.getByText('Enter the commit SHA as 7 to 40 hexadecimal characters.').waitFor();
    await page.screenshot({ path: join(screenshotDir, 'record-deployment-error.png'), fullPage: true });
    const none = await context.request.get(`${server.baseUrl}/api/v1/deployments`);
    assert.equal((await none.json()).deployments.length, 0);

    await page.getByLabel('Commit SHA').fill('ABCDEF1234567');
    await page.getByLabel('Slot').selectOption('green');
    await page.getByLabel('CI run or release link').fill('https://ci.example/runs/42');
    await page.getByRole('button', { name: 'Record deployment' }).click();
    await page.getByRole('heading', { level: 1, name: 'parts 2.4.1 to production' }).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/deployments\/\d+$/);
    await page.getByText('running', { exact: true }).first().waitFor();
    await page.getByText('abcdef1234567').waitFor();

    await page.getByLabel('Outcome').selectOption('succeeded');
    await page.getByRole('button', { name: 'Finish deployment' }).click();
    await page.getByText('succeeded', { exact: true }).first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Finish deployment' }).count(), 0);
    await page.getByLabel('Add a note').fill('Smooth; no alerts.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByText(/eng \(.*UTC\): Smooth; no alerts\./).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'deployment-detail.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the list, its filters and the Overview show the deployment', async () => {
    const { context, page, errors } = await pageOf('viewer');
    await page.goto(`${server.baseUrl}/deployments`);
    await hydrated(page);
    const row = page.getByRole('row', { name: /2\.4\.1.*parts.*production \(green\).*succeeded/ });
    await row.waitFor();
    // Viewers read; they are not offered the form.
    assert.equal(await page.getByRole('link', { name: 'Record a deployment' }).count(), 0);
    await page.screenshot({ path: join(screenshotDir, 'deployments.png'), fullPage: true });
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No deployments match.').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('status'), 'failed');

    await page.goto(`${server.baseUrl}/`);
    await hydrated(page);
    // 2.4.1 went to green, the idle slot: blue stays live, green holds 2.4.1 ready to switch.
    const production = page.getByRole('row', { name: /parts.*production.*blue: no version recorded yet.*2\.4\.1 on green.*2\.4\.1.*succeeded/ });
    await production.waitFor();
    await page.getByRole('row', { name: /parts.*staging.*Nothing deployed yet/ }).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'overview-services.png'), fullPage: true });
    await production.getByRole('link', { name: '2.4.1', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'parts 2.4.1 to production' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('on a phone the deployments list fits the screen', async () => {
    const { context, page } = await pageOf('viewer', { viewport: { width: 390, height: 844 }, isMobile: true });
    await page.goto(`${server.baseUrl}/deployments`);
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await context.close();
  });
});

/** A signed GitHub deployment_status event for `acme/parts` in GitHub environment `environment`. */
async function githubReports(environment, id) {
  const body = JSON.stringify({
    deployment_status: { state: 'success', environment, created_at: new Date().toISOString() },
    deployment: { id, sha: '0123456789abcdef0123456789abcdef01234567', ref: `v9.${id}.0`, environment, created_at: new Date(Date.now() - 60_000).toISOString(), payload: {} },
    repository: { full_name: 'acme/parts' },
  });
  const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
  const response = await fetch(`${server.baseUrl}/api/v1/webhooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'deployment_status', 'x-hub-signature-256': signature },
    body,
  });
  return { status: response.status, json: await response.json() };
}

describe('GitHub and exports', () => {
  test('GitHub reports an environment Switchyard does not know; the admin maps it and the next event lands', async () => {
    const unknown = await githubReports('QA', 1);
    assert.equal(unknown.status, 202, JSON.stringify(unknown.json));
    assert.match(unknown.json.ignored, /listed under Admin → Services/);
    const { context, page, errors } = await pageOf('admin');
    await page.goto(`${server.baseUrl}/admin/services`);
    await hydrated(page);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'GitHub environments without a match' }) });
    const row = section.getByRole('row', { name: /qa.*acme\/parts.*parts.*1.*Waiting for a decision/ });
    await row.waitFor();
    await row.getByLabel('Decision for qa').selectOption({ label: 'Record in staging' });
    await row.getByRole('button', { name: 'Save' }).click();
    await section.getByRole('row', { name: /qa.*Recorded in staging/ }).waitFor();
    await section.screenshot({ path: join(screenshotDir, 'github-environments.png') });
    const recorded = await githubReports('QA', 2);
    assert.equal(recorded.status, 201, JSON.stringify(recorded.json));
    assert.equal(recorded.json.environment, 'staging');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the filtered deployments list downloads as CSV, every page of it', async () => {
    const { context, page, errors } = await pageOf('viewer');
    await page.goto(`${server.baseUrl}/deployments?service=parts`);
    await hydrated(page);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download as CSV' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^switchyard-deployments-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync(await download.path(), 'utf8').trimEnd().split('\r\n');
    assert.match(lines[0], /^id,service,environment,version,status,/);
    const rows = await page.locator('table.deployments tbody tr').count();
    assert.ok(rows >= 1);
    assert.equal(lines.length - 1, rows, lines.join('\n'));
    assert.ok(lines.slice(1).every((line) => line.split(',')[1] === 'parts'), lines.join('\n'));
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('JavaScript disabled', () => {
  test('the form records a finished deployment and opens it; the Overview shows it running nowhere', async () => {
    const { context, page } = await pageOf('eng', { javaScriptEnabled: false });
    await page.goto(`${server.baseUrl}/deployments/new`);
    await page.getByLabel('Service').selectOption('parts');
    await page.getByLabel('Environment').selectOption('staging');
    await page.getByLabel('Version', { exact: true }).fill('2.4.2');
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByLabel('Started').fill('2026-11-20T10:00');
    await page.getByLabel('Finished').fill('2026-11-20T10:07');
    await page.getByRole('button', { name: 'Record deployment' }).click();
    await page.getByRole('heading', { level: 1, name: 'parts 2.4.2 to staging' }).waitFor();
    assert.equal(await page.getByText('7 min', { exact: true }).count(), 1);
    await page.goto(`${server.baseUrl}/deployments?environment=staging`);
    assert.equal(await page.getByRole('link', { name: '2.4.2' }).count(), 1);
    assert.equal(await page.getByRole('link', { name: '2.4.1' }).count(), 0);
    await context.close();
  });
});
