// examples/nginx/switchyard-tls.conf, as shipped, in front of Switchyard with secure_cookies
// on and trusted_proxies set to match: plain HTTP redirects to https, HSTS is sent once, login
// through the form sets the Secure __Host- cookie, a live incident page receives an entry
// made elsewhere through the proxy's event stream, and the audit log records the address
// nginx saw, not one a client made up. Only ports and certificate paths are changed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hydrated, launchBrowser, screenshotDir, startServer } from '../lib/harness.mjs';
import { freePort, nginxPrefix, runNginx } from '../lib/nginx.mjs';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'nginx', 'switchyard-tls.conf');
const PASSWORD = 'tls-front-password-1';
let server;
let nginx;
let browser;
let https;
let http;

/** The example with `from` replaced by `to`; fails when the example no longer holds `from`. */
function replaceIn(text, from, to) {
  assert.ok(text.includes(from), `examples/nginx/switchyard-tls.conf no longer has ${JSON.stringify(from)}`);
  return text.replaceAll(from, to);
}

before(async () => {
  server = await startServer({
    env: { SWITCHYARD_SECURE_COOKIES: 'true', SWITCHYARD_TRUSTED_PROXIES: '127.0.0.1' },
  });
  await server.createUser('ops', 'admin', PASSWORD);
  const prefix = nginxPrefix();
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(prefix, 'privkey.pem'), '-out', join(prefix, 'fullchain.pem'),
  ], { stdio: 'ignore' });
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  let conf = readFileSync(EXAMPLE, 'utf8');
  conf = replaceIn(conf, 'server 127.0.0.1:3000;', `server ${new URL(server.baseUrl).host};`);
  conf = replaceIn(conf, 'listen 80;', `listen 127.0.0.1:${httpPort};`);
  conf = replaceIn(conf, 'listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`);
  conf = replaceIn(conf, '    listen [::]:80;\n', '');
  conf = replaceIn(conf, '    listen [::]:443 ssl http2;\n', '');
  conf = replaceIn(conf, 'https://$host$request_uri', `https://$host:${httpsPort}$request_uri`);
  conf = replaceIn(conf, '/etc/ssl/switchyard/', `${prefix}/`);
  nginx = await runNginx({ prefix, http: conf, port: httpPort });
  http = `http://127.0.0.1:${httpPort}`;
  https = `https://127.0.0.1:${httpsPort}`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await nginx?.stop();
  await server?.stop();
});

test('plain HTTP answers only with a redirect to https', async () => {
  const response = await fetch(`${http}/incidents?status=open`, { redirect: 'manual' });
  assert.equal(response.status, 301);
  assert.equal(response.headers.get('location'), `${https}/incidents?status=open`);
});

test('login, a live page and the audit trail through the TLS front', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const login = await page.goto(`${https}/login`);
  assert.equal(login.headers()['strict-transport-security'], 'max-age=31536000', 'HSTS once, from nginx');
  await hydrated(page);
  await page.getByLabel('Username').fill('ops');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  const cookies = await context.cookies(https);
  const session = cookies.find((c) => c.name === '__Host-switchyard_session');
  assert.ok(session, `the session cookie is the __Host- one: ${cookies.map((c) => c.name)}`);
  assert.ok(session.secure && session.httpOnly, 'Secure and HttpOnly');

  // Another client, through the proxy with its own session, with a made-up X-Forwarded-For.
  const api = await browser.newContext({ ignoreHTTPSErrors: true });
  const signIn = await api.request.post(`${https}/api/v1/session`, {
    data: { username: 'ops', password: PASSWORD },
    headers: { origin: https, 'x-forwarded-for': '203.0.113.7' },
  });
  assert.equal(signIn.status(), 200, await signIn.text());
  const post = async (path, data) => {
    const response = await api.request.post(`${https}${path}`, { data, headers: { origin: https } });
    assert.equal(response.status(), 201, `${path}: ${await response.text()}`);
    return response.json();
  };
  await post('/api/v1/services', { name: 'shop' });
  await post('/api/v1/services/shop/environments', { name: 'production', tier: 'production', strategy: 'rolling' });
  const incident = await post('/api/v1/incidents', { title: 'Checkout returns 502', service: 'shop', environment: 'production', severity: 'SEV2' });

  await page.goto(`${https}/incidents/${incident.id}`);
  await hydrated(page);
  await post(`/api/v1/incidents/${incident.id}/timeline`, { text: 'Entered through the other client' });
  // No reload: the entry arrives over the page's event stream, through nginx.
  await page.locator('ol.timeline li', { hasText: 'Entered through the other client' }).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(screenshotDir, 'tls-front-incident.png'), fullPage: true });

  const audit = await api.request.get(`${https}/api/v1/audit?action=session.login`);
  assert.equal(audit.status(), 200, await audit.text());
  const addresses = (await audit.json()).map((entry) => entry.client_address);
  assert.ok(addresses.length >= 2, `two logins audited: ${addresses}`);
  assert.ok(addresses.every((a) => a === '127.0.0.1'), `the address nginx saw, never the client's claim: ${addresses}`);
  assert.ok(
    !server.log.some((line) => line.includes('not in trusted_proxies')),
    'trusted_proxies matches the proxy: no warning about an untrusted one',
  );
  await api.close();
  await context.close();
});
