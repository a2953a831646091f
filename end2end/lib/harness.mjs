// Starts a real switchyard process on a free port with a fresh SQLite database, and a real
// Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const screenshotDir = join(here, '..', 'screenshots');

/**
 * Starts switchyard; resolves with its base URL and a stop() that sends SIGTERM.
 * Options: `configToml`, the text of a config file (passed as SWITCHYARD_CONFIG); `env`, extra
 * environment variables (they win over the defaults here).
 */
export async function startServer({ configToml, env: extraEnv = {} } = {}) {
  const bin = process.env.SWITCHYARD_BIN;
  const siteRoot = process.env.SWITCHYARD_SITE_ROOT;
  if (!bin || !siteRoot) {
    throw new Error('set SWITCHYARD_BIN and SWITCHYARD_SITE_ROOT (scripts/test.sh does)');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
  const env = {
    PATH: process.env.PATH,
    SWITCHYARD_ADDR: '127.0.0.1:0',
    SWITCHYARD_DATABASE_URL: `sqlite://${join(dataDir, 'switchyard.db')}`,
    SWITCHYARD_SITE_ROOT: siteRoot,
  };
  if (configToml !== undefined) {
    const configFile = join(dataDir, 'switchyard.toml');
    writeFileSync(configFile, configToml);
    env.SWITCHYARD_CONFIG = configFile;
  }
  Object.assign(env, extraEnv);
  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
  const log = [];
  let setupUrl;
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log.join('\n')}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log.join('\n')}`)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      log.push(line);
      try {
        const fields = JSON.parse(line)?.fields;
        if (fields?.setup_url) setupUrl = fields.setup_url;
        const addr = fields?.addr;
        if (addr) {
          clearTimeout(timer);
          resolve(`http://${addr}`);
        }
      } catch {
        // Not JSON: keep it for the error message.
      }
    });
  });
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  /** Creates a user through `switchyard user create`, the password on stdin. */
  const createUser = (username, role, password) =>
    new Promise((resolve, reject) => {
      const cli = spawn(bin, ['user', 'create', '--username', username, '--role', role], {
        env,
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      cli.stderr.on('data', (chunk) => (stderr += chunk));
      cli.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`user create: ${stderr}`))));
      cli.stdin.end(`${password}\n`);
    });
  return { baseUrl, stop, log, setupUrl, createUser };
}

/** Logs a browser context in through the JSON API; its pages then share the cookie. */
export async function logIn(context, baseUrl, username, password) {
  const response = await context.request.post(`${baseUrl}/api/v1/session`, { data: { username, password } });
  if (!response.ok()) throw new Error(`login as ${username}: ${response.status()} ${await response.text()}`);
}

/** What each page reported that could stop it hydrating: kept to explain a failed `hydrated`. */
const pageTrouble = new WeakMap();

function watchPage(page) {
  const trouble = [];
  pageTrouble.set(page, trouble);
  const note = (line) => {
    trouble.push(`${new Date().toISOString()} ${line}`);
    if (trouble.length > 400) trouble.shift();
  };
  page.on('pageerror', (error) => note(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') note(`console ${message.type()}: ${message.text()}`);
  });
  page.on('requestfailed', (request) => note(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    if (response.status() >= 400) note(`${response.status()} for ${response.url()}`);
    if (response.request().isNavigationRequest()) {
      const csp = response.headers()['content-security-policy'] ?? 'none';
      note(`document ${response.status()} ${response.url()} csp=${csp.slice(0, 70)} ${JSON.stringify(response.headers()).slice(0, 600)}`);
    }
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) note(`navigated to ${frame.url()}`);
  });
}

/**
 * Waits until the app has hydrated `page` (the theme toggle appears only then). If it does
 * not, the error says why as far as the browser knows: errors, failed or refused requests,
 * and the scripts and WASM the page fetched.
 */
export async function hydrated(page, { timeout = 30_000 } = {}) {
  try {
    await page.getByRole('button', { name: /theme/ }).waitFor({ state: 'visible', timeout });
  } catch (error) {
    const fetched = await page
      .evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((entry) => /\/pkg\//.test(entry.name))
          .map((entry) => `${entry.name} status ${entry.responseStatus} ${Math.round(entry.duration)} ms`),
      )
      .catch((reason) => [`(cannot read: ${reason.message})`]);
    const readyState = await page.evaluate(() => document.readyState).catch(() => '?');
    throw new Error(
      [
        `${page.url()} did not hydrate (document ${readyState}): ${error.message.split('\n')[0]}`,
        'fetched:',
        ...fetched,
        'trouble:',
        ...(pageTrouble.get(page) ?? ['(page not watched)']),
      ].join('\n'),
    );
  }
}

/**
 * Launches Debian's Chromium headless with the flags this sandbox needs. Every page of every
 * context it makes is watched, so `hydrated` can explain a failure.
 */
export async function launchBrowser() {
  mkdirSync(screenshotDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on('page', watchPage);
    return context;
  };
  return browser;
}
