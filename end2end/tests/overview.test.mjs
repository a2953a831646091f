// The Overview and the app shell in a real browser: hydrated, and server-rendered alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchBrowser, logIn, screenshotDir, startServer } from '../lib/harness.mjs';

let server;
let browser;

const ADMIN_PASSWORD = 'overview-admin-passphrase';

before(async () => {
  server = await startServer();
  await server.createUser('admin', 'admin', ADMIN_PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const SECTIONS = ['Overview', 'Deployments', 'Releases', 'Incidents', 'Metrics', 'Admin'];

describe('hydrated', () => {
  let context;
  let page;
  const errors = [];

  before(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await logIn(context, server.baseUrl, 'admin', ADMIN_PASSWORD);
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
  });

  after(async () => {
    await context.close();
  });

  test('the Overview renders, hydrates without errors and is saved as a screenshot', async () => {
    const response = await page.goto(`${server.baseUrl}/`);
    assert.equal(response.status(), 200);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The toggle is hidden in the server's HTML and shown by the hydrated app.
    await page.getByRole('button', { name: 'Dark theme' }).waitFor({ state: 'visible' });
    for (const name of SECTIONS) {
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).count(), 1, name);
    }
    await page.screenshot({ path: join(screenshotDir, 'overview.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('the theme toggle switches, and the choice survives a reload', async () => {
    await page.goto(`${server.baseUrl}/`);
    const toggle = page.getByRole('button', { name: 'Dark theme' });
    await toggle.waitFor({ state: 'visible' });
    await toggle.click();
    await page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' });
    const lightButton = page.getByRole('button', { name: 'Light theme' });
    assert.equal(await lightButton.getAttribute('aria-pressed'), 'true');
    await page.screenshot({ path: join(screenshotDir, 'overview-dark.png'), fullPage: true });

    await page.reload();
    await page.getByRole('button', { name: 'Light theme' }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
    await page.getByRole('button', { name: 'Light theme' }).click();
    await page.locator('html[data-theme="light"]').waitFor({ state: 'attached' });
    assert.deepEqual(errors, []);
  });

  test('navigation works with the keyboard and marks the current page', async () => {
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('button', { name: 'Dark theme' }).waitFor({ state: 'visible' });
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    assert.equal(await skip.evaluate((el) => el === document.activeElement), true);

    const deployments = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments' });
    await deployments.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/deployments');
    assert.equal(await deployments.getAttribute('aria-current'), 'page');
    assert.deepEqual(errors, []);
  });

  test('an unknown address shows the 404 page with a way back', async () => {
    const response = await page.goto(`${server.baseUrl}/no/such/page`);
    assert.equal(response.status(), 404);
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await page.getByRole('link', { name: 'Go to the Overview' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  });

  test('printed, the page drops the navigation and prints dark text on white', async () => {
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('button', { name: 'Dark theme' }).waitFor({ state: 'visible' });
    await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Dark theme' }).isVisible(), false);
    const colours = await page.evaluate(() => {
      const style = getComputedStyle(document.body);
      return { text: style.color, background: style.backgroundColor };
    });
    assert.deepEqual(colours, { text: 'rgb(0, 0, 0)', background: 'rgb(255, 255, 255)' });
    await page.emulateMedia({ media: 'screen', colorScheme: 'light' });
  });

  test('at a small laptop width every section link stays visible', async () => {
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.goto(`${server.baseUrl}/`);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Admin' }).waitFor();
    // Nothing scrolled out of sight: every link lies inside the navigation's box.
    const hidden = await nav.locator('ul').evaluate((list) => {
      const box = list.getBoundingClientRect();
      return [...list.querySelectorAll('a')]
        .filter((a) => a.getBoundingClientRect().right > box.right + 1)
        .map((a) => a.textContent);
    });
    assert.deepEqual(hidden, []);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('on a phone the layout fits the screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await logIn(phone, server.baseUrl, 'admin', ADMIN_PASSWORD);
    const phonePage = await phone.newPage();
    await phonePage.goto(`${server.baseUrl}/`);
    await phonePage.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await phonePage.screenshot({ path: join(screenshotDir, 'overview-phone.png'), fullPage: true });
    await phone.close();
  });
});

describe('JavaScript disabled', () => {
  let context;
  let page;

  before(async () => {
    context = await browser.newContext({ javaScriptEnabled: false });
    await logIn(context, server.baseUrl, 'admin', ADMIN_PASSWORD);
    page = await context.newPage();
  });

  after(async () => {
    await context.close();
  });

  test('the server-rendered Overview is complete on its own', async () => {
    const response = await page.goto(`${server.baseUrl}/`);
    assert.equal(response.status(), 200);
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Overview' }).isVisible(), true);
    for (const name of SECTIONS) {
      assert.equal(await page.getByRole('link', { name, exact: true }).count(), 1, name);
    }
    // Without JavaScript the toggle could do nothing, so it is not offered.
    assert.equal(await page.getByRole('button', { name: /theme/ }).count(), 0);
    assert.match(await page.locator('footer').innerText(), /Switchyard \d+\.\d+\.\d+/);
    await page.screenshot({ path: join(screenshotDir, 'overview-nojs.png'), fullPage: true });
  });

  test('links navigate by full page loads', async () => {
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('link', { name: 'Incidents', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Incidents' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/incidents');
  });

  test('the 404 page renders without JavaScript', async () => {
    const response = await page.goto(`${server.baseUrl}/missing`);
    assert.equal(response.status(), 404);
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Page not found' }).isVisible(), true);
  });
});
