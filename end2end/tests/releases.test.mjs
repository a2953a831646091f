// Releases in real browsers: two engineers (a laptop and a phone) sign one release's checklist
// and each sees the other's sign-off appear without a reload; a releaser's Switch button on the
// release page enables by itself when the last required item is signed, and the switch then
// runs; the same page signs by full-page forms with JavaScript off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hydrated, launchBrowser, logIn, screenshotDir } from '../lib/harness.mjs';
import { PASSWORD, apiSession, startBlueGreen } from '../lib/blue-green.mjs';
import { axeViolations } from '../lib/a11y.mjs';

let browser;
let fixture;
let releaseId;

before(async () => {
  browser = await launchBrowser();
  fixture = await startBlueGreen({ tier: 'production' });
  for (const name of ['laptop', 'phone']) await fixture.server.createUser(name, 'engineer', PASSWORD);
  // A short checklist keeps the test about signing, not typing.
  const template = await fixture.admin.put('/api/v1/services/shop/checklist-template', {
    items: [
      { group: 'Code Quality', title: 'Tests Pass', evidence: true },
      { group: 'Code Quality', title: 'Code Review' },
      { group: 'Documentation', title: 'Changelog', required: false },
    ],
  });
  assert.equal(template.status, 200, template.text);
  // CI puts 2.0.0 on the idle green slot: its release opens by itself.
  const recorded = await fixture.admin.post('/api/v1/deployments', {
    service: 'shop',
    environment: 'production',
    version: '2.0.0',
    slot: 'green',
    status: 'succeeded',
  });
  assert.equal(recorded.status, 201, recorded.text);
  const open = await fixture.admin.get('/api/v1/releases?status=open');
  releaseId = open.json.find((r) => r.version === '2.0.0').id;
});

after(async () => {
  await browser?.close();
  await fixture?.stop();
});

/** The release page as `username`, hydrated, at `viewport`. */
async function releasePage(username, viewport = { width: 1280, height: 900 }, options = {}) {
  const context = await browser.newContext({ viewport, ...options });
  await logIn(context, fixture.server.baseUrl, username, PASSWORD);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${fixture.server.baseUrl}/releases/${releaseId}`);
  if (options.javaScriptEnabled !== false) await hydrated(page);
  return { context, page, errors };
}

const item = (page, title) =>
  page.locator('li.checklist-item', { has: page.getByRole('heading', { name: title, exact: true }) });

describe('a release signed from a laptop and a phone', () => {
  test('sign-offs appear live, the Switch enables by itself, and the switch runs', async () => {
    const laptop = await releasePage('laptop');
    const phone = await releasePage('phone', { width: 390, height: 844 }, { isMobile: true, hasTouch: true });
    const releaser = await releasePage('rel');

    // Before anything is signed, the releaser sees the gate's reason beside a disabled Switch.
    const gated = releaser.page.locator('.gate-actions li', { hasText: 'Switch…' });
    await gated.getByRole('button', { name: 'Switch…' }).waitFor();
    assert.match(await gated.innerText(), /2 required items unsigned on release 2\.0\.0/);

    // The laptop signs one item; the phone sees who signed it without a reload.
    await item(laptop.page, 'Code Review').getByLabel('Note').fill('approved in #42');
    await item(laptop.page, 'Code Review').getByRole('button', { name: 'Sign', exact: true }).click();
    await item(phone.page, 'Code Review').getByText(/by laptop at/).waitFor({ timeout: 2000 });
    assert.match(await item(phone.page, 'Code Review').innerText(), /approved in #42/);

    // Evidence is required where the item says so: the phone is told, then signs with a link.
    const tests = item(phone.page, 'Tests Pass');
    await tests.getByRole('button', { name: 'Sign', exact: true }).tap();
    await tests.getByText('This item needs evidence').waitFor();
    await tests.getByLabel('Evidence link').fill('https://ci.example/runs/7');
    await phone.page.screenshot({ path: join(screenshotDir, 'release-phone.png'), fullPage: true });
    await tests.getByRole('button', { name: 'Sign', exact: true }).tap();
    await item(laptop.page, 'Tests Pass').getByText(/by phone at/).waitFor({ timeout: 2000 });
    await laptop.page.getByText('2 / 3 signed, every required item signed').waitFor({ timeout: 2000 });

    // The releaser's page enabled the Switch by itself; it opens the confirmation and runs.
    const switchLink = releaser.page.getByRole('link', { name: 'Switch…' });
    await switchLink.waitFor({ timeout: 2000 });
    await laptop.page.screenshot({ path: join(screenshotDir, 'release-laptop.png'), fullPage: true });
    assert.deepEqual(await axeViolations(laptop.page), []);
    await switchLink.click();
    await releaser.page.locator('#confirm-question').waitFor();
    await releaser.page.getByRole('button', { name: 'Yes, switch' }).click();
    await releaser.page.waitForFunction(
      () => document.querySelector('#operation')?.dataset.status === 'succeeded',
      null,
      { timeout: 30000 },
    );
    await laptop.page.getByText(/released at .* 2\.0\.0 took traffic/).waitFor({ timeout: 5000 });
    for (const { context, errors } of [laptop, phone, releaser]) {
      assert.deepEqual(errors, []);
      await context.close();
    }
  });
});

describe('a release without JavaScript', () => {
  test('signs by a full-page form', async () => {
    // A fresh release (the first one was released): 2.1.0 on the now idle blue slot.
    const recorded = await fixture.admin.post('/api/v1/deployments', {
      service: 'shop',
      environment: 'production',
      version: '2.1.0',
      slot: 'blue',
      status: 'succeeded',
    });
    assert.equal(recorded.status, 201, recorded.text);
    const open = await fixture.admin.get('/api/v1/releases?status=open');
    releaseId = open.json.find((r) => r.version === '2.1.0').id;
    const { context, page } = await releasePage('laptop', { width: 1280, height: 900 }, { javaScriptEnabled: false });
    await item(page, 'Changelog').getByLabel('Note').fill('written');
    await item(page, 'Changelog').getByRole('button', { name: 'Sign', exact: true }).click();
    await page.waitForURL(`**/releases/${releaseId}`);
    await item(page, 'Changelog').getByText(/by laptop at .* — written/).waitFor();
    const api = await apiSession(fixture.server.baseUrl, 'laptop', PASSWORD);
    const release = await api.get(`/api/v1/releases/${releaseId}`);
    assert.equal(release.json.items.find((i) => i.key === 'changelog').signed_by, 'laptop');
    await context.close();
  });
});

describe('admins shape the gate in the browser', () => {
  test('a weekly freeze window added on the environment page holds the switch', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await logIn(context, fixture.server.baseUrl, 'admin', PASSWORD);
    const page = await context.newPage();
    await page.goto(`${fixture.server.baseUrl}/services/shop/environments/production`);
    await hydrated(page);
    const section = page.getByRole('region', { name: 'Freeze windows' });
    await section.getByText('No freeze windows').waitFor();
    await section.getByText('Add a freeze window').click();
    // Wrong first: every field named at once.
    await section.getByLabel('Time zone').fill('Mars/Olympus');
    await section.getByRole('button', { name: 'Add freeze window' }).click();
    await section.getByText('"Mars/Olympus" is not a time zone').waitFor();
    await section.getByText('Choose at least one weekday.').waitFor();
    for (const day of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) await section.getByLabel(day, { exact: true }).check();
    await section.getByLabel('From (local)').fill('00:00');
    await section.getByLabel('To (local)').fill('00:00');
    await section.getByLabel('Time zone').fill('UTC');
    await section.getByLabel('Reason').fill('year-end freeze');
    await section.getByRole('button', { name: 'Add freeze window' }).click();
    await section.getByText('The window starts and ends at the same time').waitFor();
    await section.getByLabel('To (local)').fill('23:59');
    await section.getByRole('button', { name: 'Add freeze window' }).click();
    await section.getByText(/weekly, Mon–Sun 00:00–23:59 \(UTC\): year-end freeze/).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'environment-freeze.png'), fullPage: true });
    const windows = await fixture.admin.get('/api/v1/services/shop/environments/production/freezes');
    assert.equal(windows.json.length, 1);
    // Remove it again, so it holds nothing else.
    await section.getByRole('button', { name: /Remove the freeze window/ }).click();
    await section.getByText('No freeze windows').waitFor();
    await context.close();
  });

  test('the checklist editor saves a new revision that new releases copy', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await logIn(context, fixture.server.baseUrl, 'admin', PASSWORD);
    const page = await context.newPage();
    await page.goto(`${fixture.server.baseUrl}/admin/services/shop/checklist`);
    await hydrated(page);
    const newRow = page.getByRole('group', { name: 'New item' }).first();
    await newRow.getByLabel('Group').fill('Documentation');
    await newRow.getByLabel('Title').fill('Runbook updated');
    await page.getByRole('group', { name: /Item 3: Changelog/ }).getByLabel('Remove').check();
    await page.getByRole('button', { name: 'Save checklist' }).click();
    await page.getByText(/Saved as revision \d+/).waitFor();
    const template = await fixture.admin.get('/api/v1/services/shop/checklist-template');
    assert.deepEqual(template.json.items.map((i) => i.title), ['Tests Pass', 'Code Review', 'Runbook updated']);
    await context.close();
  });
});
