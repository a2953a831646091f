// Identity in a real browser: the first-run setup link, logging in and out, creating an
// engineer as admin, what an engineer sees, and the messages for wrong input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { hydrated, launchBrowser, screenshotDir, startServer } from '../lib/harness.mjs';

let server;
let browser;
let context;
let page;
const errors = [];

const ADMIN = { username: 'ada', password: 'first-admin-passphrase' };
const ENGINEER = { username: 'eng', password: 'engineer-passphrase' };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
});


async function logIn({ username, password }) {
  await page.goto(`${server.baseUrl}/login`);
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function logOut() {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Log in to Switchyard' }).waitFor();
}

test('the first-run link creates the admin, who is logged in at once', async () => {
  assert.ok(server.setupUrl, `the server printed a setup link:\n${server.log.join('\n')}`);
  await page.goto(server.setupUrl);
  await hydrated(page);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Display name').fill('Ada Lovelace');
  // A short password typed differently twice: both problems are named at once.
  await page.getByLabel('Password', { exact: true }).fill('too short');
  await page.getByLabel('Password again').fill('too shrot');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByText('Use at least 12 characters for the password (9 given).').waitFor();
  await page.getByText('The two passwords differ; type the same password twice.').waitFor();
  await page.screenshot({ path: join(screenshotDir, 'setup-error.png'), fullPage: true });

  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await page.getByLabel('Password again').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await page.getByRole('link', { name: /Ada Lovelace/ }).waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count(), 1);

  // The link is single use.
  await page.goto(server.setupUrl);
  await page.getByText('This setup link has expired or was already used.').waitFor();
});

test('log out, then log in again and return to the page asked for', async () => {
  await page.goto(`${server.baseUrl}/`);
  await hydrated(page);
  await logOut();
  const response = await page.goto(`${server.baseUrl}/admin`);
  assert.equal(new URL(page.url()).pathname, '/login', `redirected, status ${response.status()}`);
  await hydrated(page);
  await page.screenshot({ path: join(screenshotDir, 'login.png'), fullPage: true });
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 2, name: 'New user' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/admin');
});

test('the admin creates an engineer and sees field errors for bad input', async () => {
  await page.goto(`${server.baseUrl}/admin`);
  await hydrated(page);
  const form = page.locator('form', { has: page.getByRole('button', { name: 'Create user' }) });
  await form.getByLabel('Username').fill(ADMIN.username);
  await form.getByLabel('Role').selectOption('engineer');
  await form.getByLabel('Password').fill(ENGINEER.password);
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('The username ada is taken; choose another.').waitFor();

  await form.getByLabel('Username').fill(ENGINEER.username);
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('Created eng (eng, engineer): they can log in now.').waitFor();
  assert.equal(await form.getByLabel('Password').inputValue(), '', 'the form is emptied for the next user');
  await page.getByRole('rowheader', { name: 'eng' }).waitFor();
  await page.screenshot({ path: join(screenshotDir, 'admin-users.png'), fullPage: true });
});

test('a refusal without a field shows beside the button that caused it', async () => {
  await page.goto(`${server.baseUrl}/admin`);
  await hydrated(page);
  const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: ADMIN.username, exact: true }) });
  const lastAdmin = `${ADMIN.username} is the last active admin; make someone else an admin first.`;
  // Demoting the last admin is refused; the dropdown goes back to the saved role.
  await row.getByLabel(`Role of ${ADMIN.username}`, { exact: true }).selectOption('viewer');
  await row.getByRole('button', { name: `Save role of ${ADMIN.username}` }).click();
  const roleCell = row.getByRole('cell').filter({ has: page.getByRole('button', { name: `Save role of ${ADMIN.username}` }) });
  await roleCell.getByText(lastAdmin).waitFor();
  // The list is read again after the answer, which may land just after the message shows;
  // the row then comes back with the saved role.
  await page.waitForFunction(
    (label) => [...document.querySelectorAll('select')].some((s) => s.labels[0]?.textContent === label && s.value === 'admin'),
    `Role of ${ADMIN.username}`,
    { timeout: 5000 },
  );
  assert.equal(await row.getByLabel(`Role of ${ADMIN.username}`, { exact: true }).inputValue(), 'admin');
  await page.screenshot({ path: join(screenshotDir, 'admin-users-refused.png'), fullPage: true });
  // Deactivating asks first, then is refused beside its own button.
  await row.getByLabel(`Deactivate ${ADMIN.username}`, { exact: true }).click();
  await row.getByText(`Deactivate ${ADMIN.username}? Their sessions end`).waitFor();
  await row.getByRole('button', { name: `Yes, deactivate ${ADMIN.username}` }).click();
  const statusCell = row.getByRole('cell').filter({ hasText: 'Active' });
  await statusCell.getByText(lastAdmin).waitFor();
  assert.equal(await roleCell.getByText(lastAdmin).count(), 0, 'only beside the button pressed');
});

test('an API token is shown once with a command that works, and stops at revocation', async () => {
  // A service to record against, as an admin would create it.
  for (const [path, data] of [
    ['/api/v1/services', { name: 'parts' }],
    ['/api/v1/services/parts/environments', { name: 'staging', tier: 'staging', strategy: 'rolling' }],
  ]) {
    const made = await context.request.post(`${server.baseUrl}${path}`, { data });
    assert.equal(made.status(), 201, await made.text());
  }
  await page.goto(`${server.baseUrl}/admin/tokens`);
  await hydrated(page);
  await page.getByLabel('Name').fill('ci-main');
  await page.getByLabel('Role').selectOption('releaser');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.locator('.token-secret').innerText()).trim();
  assert.match(secret, /^sy_[0-9a-f]{64}$/);
  await page.getByRole('rowheader', { name: 'ci-main' }).waitFor();
  await page.getByRole('button', { name: 'Copy token' }).waitFor();
  await page.screenshot({ path: join(screenshotDir, 'admin-tokens.png'), fullPage: true });

  // The command on the page records a deployment, as printed.
  const command = (await page.locator('#token-curl').innerText()).trim();
  assert.ok(command.includes(secret), command);
  const recorded = JSON.parse(execFileSync('sh', ['-c', `${command} --silent --show-error --fail-with-body`], { encoding: 'utf8' }));
  assert.equal(recorded.service, 'parts');
  assert.deepEqual(recorded.recorded_by, { kind: 'token', name: 'ci-main' });

  const me = () => fetch(`${server.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal((await (await me()).json()).role, 'releaser');
  // Revoking asks first.
  await page.getByLabel('Revoke ci-main', { exact: true }).click();
  await page.getByRole('button', { name: 'Yes, revoke ci-main' }).click();
  await page.getByRole('row', { name: /ci-main .* Revoked/ }).waitFor();
  const refused = await me();
  assert.equal(refused.status, 401);
  assert.match((await refused.json()).error.message, /^Invalid or expired API token\./);
  // After a reload the secret is gone for good.
  await page.reload();
  await hydrated(page);
  assert.equal(await page.locator('.token-secret').count(), 0);
});

test('the audit log lists what happened and filters it', async () => {
  await page.goto(`${server.baseUrl}/admin/audit`);
  await hydrated(page);
  for (const action of ['user.created', 'session.login', 'session.logout', 'token.created', 'token.revoked']) {
    assert.ok(await page.getByRole('cell', { name: action, exact: true }).count() >= 1, action);
  }
  await page.getByLabel('Action').fill('token.');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=token\./);
  await page.getByRole('cell', { name: 'token.revoked', exact: true }).waitFor();
  assert.equal(await page.getByRole('cell', { name: 'user.created', exact: true }).count(), 0);
  await page.screenshot({ path: join(screenshotDir, 'admin-audit.png'), fullPage: true });
  // The first admin created themself; the change reads as words.
  await page.goto(`${server.baseUrl}/admin/audit?action=user.created`);
  await hydrated(page);
  const first = page.getByRole('row', { name: /ada \(user\) user\.created user:ada/ });
  await first.getByText('display name: Ada Lovelace').waitFor();
  // Dates say their format and accept it; anything else is named at its field.
  await page.getByLabel('From (UTC)').fill('27.11.2026');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText('"27.11.2026" is not a day or time; use YYYY-MM-DD (a UTC day) or YYYY-MM-DD HH:MM in UTC.').waitFor();
  // The fields follow the address: fill them only once it holds the refused filter and the
  // page has settled, or a late render puts the refused date back over the new one (seen
  // under load); then check both still hold what was typed before filtering.
  await page.waitForURL(/from=27\.11\.2026/);
  await page.waitForLoadState('networkidle');
  const today = new Date().toISOString().slice(0, 10);
  const fields = [page.getByLabel('From (UTC)'), page.getByLabel('To (UTC, included)')];
  for (let attempt = 0; attempt < 20; attempt += 1) {
    for (const field of fields) await field.fill(today);
    await page.waitForLoadState('networkidle');
    const values = await Promise.all(fields.map((field) => field.inputValue()));
    if (values.every((value) => value === today)) break;
  }
  assert.equal(await page.getByLabel('From (UTC)').inputValue(), today);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(new RegExp(`to=${today}`));
  await first.waitFor();
  await logOut();
});

test('a wrong password shows the error and keeps the user on the login page', async () => {
  await logIn({ username: ENGINEER.username, password: 'not-the-password' });
  await page.getByText('The username or password is wrong.').waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');
  await page.screenshot({ path: join(screenshotDir, 'login-error.png'), fullPage: true });
});

test('the engineer sees no Admin link and gets 403 on the admin page', async () => {
  await logIn(ENGINEER);
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Metrics' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0);
  const response = await page.goto(`${server.baseUrl}/admin`);
  assert.equal(response.status(), 403);
  await page.getByRole('heading', { level: 1, name: 'Not allowed' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create user' }).count(), 0);
  await page.goto(`${server.baseUrl}/account`);
  await page.getByRole('heading', { level: 2, name: 'Your sessions' }).waitFor();
  await page.getByText('This session').waitFor();
  // The browser in words, not the raw header.
  await page.getByRole('cell', { name: /^Chrome \d+ on Linux$/ }).first().waitFor();
  await page.screenshot({ path: join(screenshotDir, 'account.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('without JavaScript, a wrong password shows the error and the right one logs in', async () => {
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noJs.newPage();
  await plain.goto(`${server.baseUrl}/login?next=/account`);
  await plain.getByLabel('Username').fill(ENGINEER.username);
  await plain.getByLabel('Password').fill('still-not-the-password');
  await plain.getByRole('button', { name: 'Log in' }).click();
  await plain.getByText('The username or password is wrong.').waitFor();
  await plain.getByLabel('Username').fill(ENGINEER.username);
  await plain.getByLabel('Password').fill(ENGINEER.password);
  await plain.getByRole('button', { name: 'Log in' }).click();
  await plain.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  await plain.getByRole('button', { name: 'Log out' }).click();
  await plain.getByRole('heading', { level: 1, name: 'Log in to Switchyard' }).waitFor();
  await noJs.close();
});

test('an admin clears the failed logins that hold a user up', async () => {
  const login = (request, password, username = ENGINEER.username) =>
    request.post(`${server.baseUrl}/api/v1/session`, { data: { username, password } });
  // The shared page is the engineer's by now; the admin works in a window of their own.
  const admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  assert.equal((await login(admin.request, ADMIN.password, ADMIN.username)).status(), 200);
  const page = await admin.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.baseUrl}/admin`);
  await hydrated(page);
  const guesser = await browser.newContext();
  for (let attempt = 0; attempt < 5; attempt += 1) {
    assert.equal((await login(guesser.request, `wrong-guess-${attempt}`)).status(), 401);
  }
  assert.equal((await login(guesser.request, ENGINEER.password)).status(), 429, 'held up from this address');
  const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: ENGINEER.username, exact: true }) });
  await row.getByRole('button', { name: `Clear the failed logins of ${ENGINEER.username}, wherever they came from` }).click();
  await row.getByText('Cleared: they can log in again now.').waitFor();
  await page.screenshot({ path: join(screenshotDir, 'admin-users-cleared.png'), fullPage: true });
  assert.equal((await login(guesser.request, ENGINEER.password)).status(), 200);
  await guesser.close();
  await admin.close();
});

// Last: it makes this client address wait.
test('after five failed logins the page says how long to wait', async () => {
  await page.goto(`${server.baseUrl}/`);
  await hydrated(page);
  await logOut();
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await logIn({ username: 'mallory', password: `guess-number-${attempt}` });
    await page.getByText(/The username or password is wrong\.|Too many failed logins/).waitFor();
  }
  await logIn({ username: 'mallory', password: 'one-more-guess' });
  await page.getByText(/^Too many failed logins\. Try again in \d+ (seconds?|minutes?)\.$/).waitFor();
  await page.screenshot({ path: join(screenshotDir, 'login-throttled.png'), fullPage: true });
});
