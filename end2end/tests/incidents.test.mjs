// Incidents in a real browser: an on-call releaser declares an incident on a phone, sees it on
// the Overview, rolls back from the incident page (the rollback lands in the timeline by itself
// and is linked as the fix), resolves it, writes and publishes the post-mortem with an action
// item and marks the item done; the same pages work with JavaScript off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hydrated, launchBrowser, logIn, screenshotDir } from '../lib/harness.mjs';
import { PASSWORD, startBlueGreen } from '../lib/blue-green.mjs';

const PHONE = { width: 390, height: 844 };
let browser;
let fixture;
let incidentPath;

/** Runs an operation over the API and waits for it to end. */
async function operate(body) {
  const env = await fixture.admin.get('/api/v1/services/shop/environments/production');
  const started = await fixture.admin.post('/api/v1/services/shop/environments/production/operations', {
    ...body,
    expected_revision: env.json.revision,
  });
  assert.equal(started.status, 202, started.text);
  for (let i = 0; i < 600; i += 1) {
    const op = await fixture.admin.get(`/api/v1/operations/${started.json.id}`);
    if (op.json.status !== 'running') return op.json;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the operation did not end');
}

before(async () => {
  browser = await launchBrowser();
  fixture = await startBlueGreen();
  // 2.0.0 goes live on green: the release the incident follows.
  assert.equal((await operate({ action: 'deploy', version: '2.0.0' })).status, 'succeeded');
  assert.equal((await operate({ action: 'switch' })).status, 'succeeded');
});

after(async () => {
  await browser?.close();
  await fixture?.stop();
});

async function pageAs(username, viewport, javaScriptEnabled = true) {
  const context = await browser.newContext({ viewport, javaScriptEnabled });
  await logIn(context, fixture.server.baseUrl, username, PASSWORD);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}


describe('incidents', () => {
  test('declare on a phone, roll back from the incident, resolve, write the post-mortem', async () => {
    const { context, page, errors } = await pageAs('rel', PHONE);
    await page.goto(`${fixture.server.baseUrl}/incidents/new`);
    await hydrated(page);
    // Each severity says what it means where it is chosen.
    assert.match(await page.getByRole('group', { name: 'Severity' }).innerText(), /Critical: the service is down/);
    // Wrong input first: the form says what is missing and nothing is written.
    await page.getByRole('button', { name: 'Declare incident' }).click();
    await page.getByText('Give the incident a title').waitFor();
    assert.equal((await fixture.admin.get('/api/v1/incidents')).json.length, 0);

    await page.getByLabel('What is wrong').fill('Checkout returns 502');
    await page.getByLabel('Service', { exact: true }).selectOption('shop');
    await page.getByLabel('Environment', { exact: true }).selectOption('production');
    await page.getByLabel(/^SEV1/).check();
    // While declaring, the deployment that just went live is offered as the likely cause.
    await page.getByLabel(/shop\/production 2\.0\.0/).check();
    await page.getByRole('button', { name: 'Declare incident' }).click();
    await page.getByRole('heading', { level: 1, name: 'Checkout returns 502' }).waitFor();
    incidentPath = new URL(page.url()).pathname;
    assert.match(incidentPath, /^\/incidents\/\d+$/);
    // The deployment that went live just before is suggested, and linked as ticked.
    assert.match(await page.locator('ul.suggestions').innerText(), /2\.0\.0[^\n]*linked as cause/);
    assert.match(await page.locator('ul.links').innerText(), /cause\s+2\.0\.0/);
    await page.screenshot({ path: join(screenshotDir, 'incident-phone.png'), fullPage: true });

    // It shows on the Overview, worst first.
    const overview = await context.newPage();
    await overview.goto(`${fixture.server.baseUrl}/`);
    assert.match(await overview.locator('section.attention').innerText(), /SEV1\s+Checkout returns 502/);
    await overview.close();

    // Roll back from the incident page; the timeline and the link follow without a reload.
    await hydrated(page);
    await page.getByLabel('Roll back from this incident').click();
    await page.getByRole('button', { name: 'Yes, roll back' }).click();
    await page.locator('ol.timeline li', { hasText: /rollback to 1\.0\.0 \(operation \d+\) succeeded/ }).waitFor({ timeout: 60_000 });
    assert.match(await page.locator('ul.links').innerText(), /fix\s+1\.0\.0 \(rollback\)/);
    // The guide's rollback steps appear once a rollback ran.
    await page.getByRole('heading', { name: 'Rollback procedure' }).waitFor();

    for (const [button, status] of [['Cause identified', 'identified'], ['Fix in place: monitor', 'monitoring'], ['Resolve', 'resolved']]) {
      await page.getByRole('button', { name: button, exact: true }).click();
      await page.locator('.page-head .status', { hasText: status }).waitFor();
    }
    await page.locator('.card.notice', { hasText: 'Post-mortem due' }).waitFor();
    assert.deepEqual(errors, []);

    // The post-mortem: from the template, previewed, saved, reviewed, published.
    await page.getByRole('link', { name: 'Write the post-mortem' }).click();
    const editor = page.getByLabel('Post-mortem (Markdown)');
    await editor.waitFor();
    await hydrated(page);
    assert.match(await editor.inputValue(), /## Timeline[\s\S]*rollback to 1\.0\.0/);
    await editor.fill('## Summary\n\n2.0.0 broke checkout; **rolled back** in minutes.\n\n<script>window.pwned = 1</script>');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('article.markdown strong', { hasText: 'rolled back' }).waitFor();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/draft, version 1, saved by rel/).waitFor();
    assert.equal(await page.evaluate(() => window.pwned), undefined);

    // Meanwhile the admin saves over version 1 from another browser: rel's next save is
    // refused, with the admin's text shown beside rel's to merge by hand.
    const other = await pageAs('admin', { width: 1280, height: 900 });
    await other.page.goto(page.url());
    await hydrated(other.page);
    await other.page.getByLabel('Post-mortem (Markdown)').fill('## Summary\n\nThe admin\'s version.');
    await other.page.getByRole('button', { name: 'Save', exact: true }).click();
    await other.page.getByText(/version 2, saved by admin/).waitFor();
    await other.context.close();
    await editor.fill('## Summary\n\nrel\'s second thought.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/admin saved version 2 .* merge the two by hand/).waitFor();
    assert.equal(await page.getByLabel(/admin's text \(version 2\)/).inputValue(), "## Summary\n\nThe admin's version.");
    await editor.fill("## Summary\n\nThe admin's version, and rel's second thought.");
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/draft, version 3, saved by rel/).waitFor();

    await page.getByRole('textbox', { name: 'Action item' }).fill('Alert on checkout error rate');
    await page.getByLabel('Owner', { exact: true }).fill('rel');
    await page.getByLabel('Due', { exact: true }).fill('2020-01-31');
    await page.getByRole('button', { name: 'Add action item' }).click();
    await page.locator('table.action-items tr', { hasText: 'Alert on checkout error rate' }).getByText('overdue').waitFor();

    await page.getByRole('button', { name: 'Ask for review' }).click();
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.locator('.page-head .status', { hasText: 'published' }).waitFor();
    assert.equal(await page.getByLabel('Post-mortem (Markdown)').count(), 0, 'published is read-only');
    await page.getByRole('button', { name: 'Done: Alert on checkout error rate' }).click();
    await page.locator('table.action-items tr', { hasText: 'Alert on checkout error rate' }).locator('.status', { hasText: 'done' }).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'postmortem-phone.png'), fullPage: true });

    // The print view is one clean document.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('nav.site-nav').isVisible(), false);
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the incident and its lists work without JavaScript', async () => {
    const { context, page } = await pageAs('rel', PHONE, false);
    await page.goto(`${fixture.server.baseUrl}/incidents`);
    await page.getByRole('link', { name: 'Checkout returns 502' }).click();
    await page.getByRole('heading', { level: 1, name: 'Checkout returns 502' }).waitFor();
    await page.getByLabel('Add to the timeline').fill('Customer support confirms checkout works again');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('ol.timeline li', { hasText: 'Customer support confirms' }).waitFor();
    // Declared by a plain form post, refused first for want of a title.
    await page.goto(`${fixture.server.baseUrl}/incidents/new`);
    await page.getByRole('button', { name: 'Declare incident' }).click();
    await page.getByText('Give the incident a title').waitFor();
    await page.getByLabel('What is wrong').fill('Search is slow');
    await page.getByLabel('Service', { exact: true }).selectOption('shop');
    await page.getByLabel('Environment', { exact: true }).selectOption('production');
    await page.getByLabel(/^SEV3/).check();
    await page.getByRole('button', { name: 'Declare incident' }).click();
    await page.getByRole('heading', { level: 1, name: 'Search is slow' }).waitFor();
    await page.getByRole('link', { name: 'Start a post-mortem' }).click();
    assert.match(await page.getByLabel('Post-mortem (Markdown)').inputValue(), /## Impact[\s\S]*Declared by rel/);
    await page.goto(`${fixture.server.baseUrl}/action-items?status=done`);
    await page.locator('table.action-items', { hasText: 'Alert on checkout error rate' }).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'incident-nojs.png'), fullPage: true });
    await context.close();
  });
});
