// Operations in a real browser against a real nginx under load: a releaser deploys to the idle
// slot, switches and rolls back with no failed request, and traffic has moved by the time each
// operation says it finished; a green that fails its health checks under load is switched back
// to blue; a switch confirmed on a stale page is refused and the page catches up.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hydrated, launchBrowser, logIn, screenshotDir } from '../lib/harness.mjs';
import { ENVIRONMENT_PATH, PASSWORD, startBlueGreen } from '../lib/blue-green.mjs';
import { failures, firstTimeAllOn, startLoad } from '../lib/load.mjs';

let browser;
let fixture;
let load;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

// Each test builds its own fixture: they need different upstreams and a known starting state.
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await fixture?.stop();
  fixture = undefined;
});

/** The environment page of `username`, hydrated, collecting page errors. */
async function environmentPage(username) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await logIn(context, fixture.server.baseUrl, username, PASSWORD);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // A refused operation (409) is logged by the browser as a failed request; that is the point.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
  });
  await page.goto(`${fixture.server.baseUrl}${ENVIRONMENT_PATH}`);
  await hydrated(page);
  return { context, page, errors };
}

const text = async (page, selector) => (await page.locator(selector).textContent()).trim();

/** The revision the page shows the state at (kept out of sight, on the state card). */
const revisionOf = async (page) => Number(await page.locator('#state-card').getAttribute('data-revision'));

/** Waits until `#live-slot` reads `colour` (it follows the operation's events). */
const liveSlotIs = (page, colour) =>
  page.waitForFunction((c) => document.querySelector('#live-slot')?.textContent.trim() === c, colour, { timeout: 5000 });

const currentOperationId = (page) => page.evaluate(() => document.querySelector('#operation')?.dataset.operationId ?? null);

/** Opens an operation's confirmation (e.g. 'Switch…'); returns the question asked. */
async function confirmation(page, link) {
  await page.getByRole('link', { name: link }).click();
  const question = page.locator('#confirm-question');
  await question.waitFor();
  return (await question.textContent()).trim();
}

/**
 * Confirms with `button` and waits, without reloading, until a new operation is shown ended.
 * Returns {id, status, clickedAt}.
 */
async function confirmAndWait(page, button) {
  const previous = await currentOperationId(page);
  const clickedAt = Date.now();
  await page.getByRole('button', { name: button }).click();
  const handle = await page.waitForFunction(
    (previousId) => {
      const panel = document.querySelector('#operation');
      const ended = ['succeeded', 'failed', 'interrupted'];
      if (!panel || panel.dataset.operationId === previousId || !ended.includes(panel.dataset.status)) return null;
      return { id: panel.dataset.operationId, status: panel.dataset.status };
    },
    previous,
    { timeout: 60_000, polling: 50 },
  );
  return { ...(await handle.jsonValue()), clickedAt };
}

/** The operation over REST, with finished_at in ms. */
async function operation(context, id) {
  const response = await context.request.get(`${fixture.server.baseUrl}/api/v1/operations/${id}`);
  assert.equal(response.status(), 200, await response.text());
  const body = await response.json();
  return { ...body, finishedMs: Date.parse(body.finished_at) };
}

/** The panel of an operation that succeeded: every step done, the driver's lines in the log. */
async function assertSucceededPanel(page, logPattern) {
  await page.locator('#operation progress').waitFor({ state: 'attached' });
  const steps = await page.locator('#operation ol.steps > li').evaluateAll((items) => items.map((li) => li.dataset.status));
  assert.ok(steps.length > 0, 'the operation lists its steps');
  assert.deepEqual(steps, steps.map(() => 'succeeded'));
  assert.match(await page.locator('#operation pre.log').textContent(), logPattern);
}

describe('operations', () => {
  test('deploy to idle, switch and roll back under load drop no request', async () => {
    fixture = await startBlueGreen();
    const { context, page, errors } = await environmentPage('rel');
    await liveSlotIs(page, 'blue');
    load = startLoad(fixture.nginx.url, { concurrency: 4 });

    assert.match(await confirmation(page, 'Deploy to idle…'), /green/);
    await page.getByRole('textbox', { name: 'Version' }).fill('2.0.0');
    const deploy = await confirmAndWait(page, 'Yes, deploy');
    assert.equal(deploy.status, 'succeeded');
    await assertSucceededPanel(page, /expected to run 2\.0\.0/);
    assert.equal(await text(page, '#live-slot'), 'blue', 'deploying to idle moves no traffic');

    assert.match(await confirmation(page, 'Switch…'), /Switch production to green, version 2\.0\.0\?/);
    const switched = await confirmAndWait(page, 'Yes, switch');
    assert.equal(switched.status, 'succeeded');
    await assertSucceededPanel(page, /traffic goes to green/);
    await liveSlotIs(page, 'green');
    const switchOp = await operation(context, switched.id);
    assert.equal(switchOp.status, 'succeeded');
    assert.equal(switchOp.action, 'switch');

    assert.match(await confirmation(page, 'Roll back…'), /blue/);
    const rolledBack = await confirmAndWait(page, 'Yes, roll back');
    assert.equal(rolledBack.status, 'succeeded');
    await assertSucceededPanel(page, /traffic goes to blue/);
    await liveSlotIs(page, 'blue');
    const rollbackOp = await operation(context, rolledBack.id);
    assert.equal(rollbackOp.status, 'succeeded');
    await page.screenshot({ path: join(screenshotDir, 'operations.png'), fullPage: true });

    // Requests after the rollback ended, to see where traffic settled.
    await load.answeredAfter(rollbackOp.finishedMs);
    const results = await load.stop();
    assert.deepEqual(failures(results), [], 'no request failed');
    assert.ok(
      results.filter((r) => r.end < switched.clickedAt).every((r) => r.colour === 'blue'),
      'all on blue until the switch',
    );
    const onGreen = firstTimeAllOn(results, 'green', { from: switched.clickedAt, to: rolledBack.clickedAt });
    assert.ok(onGreen !== null && onGreen <= switchOp.finishedMs + 1000, `all on green at ${onGreen}, switch finished ${switchOp.finishedMs}`);
    assert.ok(results.some((r) => r.colour === 'green' && r.version === '2.0.0'));
    const backOnBlue = firstTimeAllOn(results, 'blue', { from: rolledBack.clickedAt });
    assert.ok(backOnBlue !== null && backOnBlue <= rollbackOp.finishedMs + 1000, `all on blue at ${backOnBlue}, rollback finished ${rollbackOp.finishedMs}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a green that fails its health checks under load is switched back to blue', async () => {
    fixture = await startBlueGreen({ failGreenUnderLoad: true });
    const { context, page, errors } = await environmentPage('rel');
    load = startLoad(fixture.nginx.url, { concurrency: 4 });

    await confirmation(page, 'Deploy to idle…');
    await page.getByRole('textbox', { name: 'Version' }).fill('2.0.0');
    // Green is healthy while idle: nothing but health checks reach it.
    assert.equal((await confirmAndWait(page, 'Yes, deploy')).status, 'succeeded');

    await confirmation(page, 'Switch…');
    const switched = await confirmAndWait(page, 'Yes, switch');
    assert.equal(switched.status, 'failed');
    await liveSlotIs(page, 'blue');
    assert.match(await page.locator('#operation pre.log').textContent(), /switch(ing|ed)? back|back to blue/i);
    const op = await operation(context, switched.id);
    assert.equal(op.status, 'failed');
    assert.ok(op.error, 'the failed operation says why');
    await page.screenshot({ path: join(screenshotDir, 'operation-failed.png'), fullPage: true });

    await load.answeredAfter(op.finishedMs);
    const results = await load.stop();
    assert.deepEqual(failures(results), [], 'no request failed');
    assert.ok(results.some((r) => r.colour === 'green' && r.start >= switched.clickedAt), 'the switch did reach green');
    const backOnBlue = firstTimeAllOn(results, 'blue', { from: switched.clickedAt });
    assert.ok(backOnBlue !== null && backOnBlue <= op.finishedMs + 1000, `all on blue at ${backOnBlue}, operation finished ${op.finishedMs}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a switch confirmed on a stale page is refused, and the page catches up', async () => {
    fixture = await startBlueGreen();
    const first = await environmentPage('rel');
    const second = await environmentPage('admin');
    const revision = await revisionOf(second.page);

    const deployToIdle = async (version) => {
      await confirmation(first.page, 'Deploy to idle…');
      await first.page.getByRole('textbox', { name: 'Version' }).fill(version);
      assert.equal((await confirmAndWait(first.page, 'Yes, deploy')).status, 'succeeded');
    };
    await deployToIdle('2.0.0');
    const staleRevision = await revisionOf(first.page);
    assert.ok(staleRevision > revision, 'a completed operation bumps the revision');

    // The second page reads "switch to green, version 2.0.0"; meanwhile the first puts 2.1.0
    // on green. Confirming now would switch to a version nobody read: it must be refused.
    assert.equal(await confirmation(second.page, 'Switch…'), 'Switch production to green, version 2.0.0?');
    await deployToIdle('2.1.0');
    await second.page.getByRole('alert').filter({ hasText: /changed since you pressed/ }).waitFor();
    await second.page.getByRole('button', { name: 'Yes, switch' }).click();
    await second.page.getByRole('alert').filter({ hasText: /changed since you looked/ }).waitFor();
    assert.ok(await revisionOf(second.page) > staleRevision);
    assert.equal(await text(second.page, '#live-slot'), 'blue', 'nothing switched');
    assert.equal(await text(second.page, 'tr[data-slot="green"] td:nth-of-type(2)'), '2.1.0', 'the page shows the new state');
    await second.page.screenshot({ path: join(screenshotDir, 'operation-stale.png'), fullPage: true });

    // The same refusal over REST, and nothing ran: blue stays live.
    const stale = await second.context.request.post(`${fixture.server.baseUrl}/api/v1/services/shop/environments/production/operations`, {
      data: { action: 'switch', expected_revision: staleRevision },
    });
    assert.equal(stale.status(), 409, await stale.text());
    const state = await (await second.context.request.get(`${fixture.server.baseUrl}/api/v1/services/shop/environments/production`)).json();
    assert.equal(state.live_slot, 'blue');
    assert.deepEqual(first.errors, []);
    assert.deepEqual(second.errors, []);
    await first.context.close();
    await second.context.close();
  });

  test('without JavaScript the buttons still work, and the page fits a phone and prints', async () => {
    fixture = await startBlueGreen();
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 375, height: 800 } });
    await logIn(context, fixture.server.baseUrl, 'rel', PASSWORD);
    const page = await context.newPage();
    await page.goto(`${fixture.server.baseUrl}${ENVIRONMENT_PATH}`);
    // Nothing on green yet: Switch is offered disabled, with the reason beside it.
    assert.equal(await page.getByRole('button', { name: 'Switch…' }).isDisabled(), true);
    await page.getByText('Switch: The idle slot (green) holds no version yet: deploy to it first.').waitFor();
    await page.getByRole('link', { name: 'Deploy to idle…' }).click();
    await page.getByRole('textbox', { name: 'Version' }).fill('2.0.0');
    await page.getByRole('button', { name: 'Yes, deploy' }).click();
    // A plain form post lands back on the page, which reloads itself while the operation runs.
    await page.locator('#operation[data-status="succeeded"]').waitFor({ timeout: 30_000 });
    assert.equal(await text(page, 'tr[data-slot="green"] td:nth-of-type(2)'), '2.0.0');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await page.screenshot({ path: join(screenshotDir, 'operations-phone.png'), fullPage: true });

    await page.getByRole('link', { name: 'Switch…' }).click();
    await page.locator('#confirm-question').waitFor();
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.confirm-panel').isVisible(), false, 'a printout leaves the buttons out');
    assert.equal(await page.locator('#operation pre.log').isVisible(), true, 'and keeps the log');
    await context.close();
  });
});
