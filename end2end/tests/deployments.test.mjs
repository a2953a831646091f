// Deployments in a real browser: an admin sets up a service and its environments, an
// engineer records a deployment (wrong input first), finishes it, and finds it on the list,
// its detail page and the Overview; without JavaScript the same form still works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchBrowser, logIn, screenshotDir, startServer } from '../lib/harness.mjs';

let server;
let browser;
const PASSWORD = 'deployments-passphrase';

before(async () => {
  server = await startServer();
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

const hydrated = (page) => page.getByRole('button', { name: /theme/ }).waitFor({ state: 'visible' });

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
