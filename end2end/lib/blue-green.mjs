// The operations fixture shared by tests/operations.test.mjs and bench/switch.mjs: a blue
// (1.0.0) and a green (2.0.0) upstream, a private nginx sending traffic to blue, and Switchyard
// configured to drive that nginx with examples/nginx/switch.sh, with service `shop` and its
// blue-green `production` environment (blue live) set up through the REST API by an admin.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './harness.mjs';
import { NGINX_BIN, startNginx } from './nginx.mjs';
import { startUpstream } from './upstream.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const SWITCH_SCRIPT = join(here, '..', '..', 'examples', 'nginx', 'switch.sh');
export const PASSWORD = 'operations-passphrase';
export const ENVIRONMENT_PATH = '/services/shop/environments/production';

// JSON strings are valid TOML basic strings for the plain paths used here.
const toml = (value) => JSON.stringify(value);

function configToml(nginx, health) {
  const env = `{ NGINX_PREFIX = ${toml(nginx.prefix)}, NGINX_CONF = ${toml(nginx.conf)}, UPSTREAM_FILE = ${toml(nginx.upstreamFile)}, NGINX_BIN = ${toml(NGINX_BIN)} }`;
  return `[[environment]]
service = "shop"
name = "production"
driver = { kind = "command", program = ${toml(SWITCH_SCRIPT)}, args = [], timeout = "30s", env = ${env} }
health = { interval = ${toml(health.interval)}, verify_for = ${toml(health.verify_for)}, healthy_within = ${toml(health.healthy_within)} }
`;
}

/**
 * A logged-in REST client for scripts (tests use Playwright's context.request instead).
 * Sends Origin so the cookie session passes the cross-site check like a same-site page would.
 */
export async function apiSession(baseUrl, username, password) {
  const login = await fetch(`${baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ username, password }),
  });
  if (!login.ok) throw new Error(`login as ${username}: ${login.status} ${await login.text()}`);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const call = async (method, path, body) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { cookie, origin: baseUrl, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON (e.g. 204); callers look at status.
    }
    return { status: response.status, json, text };
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    put: (path, body) => call('PUT', path, body ?? {}),
  };
}

/** Starts everything; stop() takes it all down in reverse order. */
export async function startBlueGreen({
  failGreenUnderLoad = false,
  // Staging by default: a production-tier switch waits for its release's signed checklist.
  tier = 'staging',
  health = { interval: '200ms', verify_for: '3s', healthy_within: '10s' },
} = {}) {
  const stops = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const blue = await startUpstream({ colour: 'blue', version: '1.0.0' });
    stops.push(blue.stop);
    const green = await startUpstream({ colour: 'green', version: '2.0.0', failHealthUnderLoad: failGreenUnderLoad });
    stops.push(green.stop);
    const nginx = await startNginx({ upstreamPort: blue.port });
    stops.push(nginx.stop);
    const server = await startServer({ configToml: configToml(nginx, health) });
    stops.push(server.stop);
    await server.createUser('admin', 'admin', PASSWORD);
    await server.createUser('rel', 'releaser', PASSWORD);

    const admin = await apiSession(server.baseUrl, 'admin', PASSWORD);
    const service = await admin.post('/api/v1/services', { name: 'shop' });
    if (service.status !== 201) throw new Error(`create service: ${service.status} ${service.text}`);
    const slot = (upstream) => ({ upstream: upstream.url, health_url: `${upstream.url}/health` });
    const environment = await admin.post('/api/v1/services/shop/environments', {
      name: 'production',
      tier,
      strategy: 'blue_green',
      slots: { blue: slot(blue), green: slot(green) },
    });
    if (environment.status !== 201) throw new Error(`create environment: ${environment.status} ${environment.text}`);
    // What blue runs, as CI would have recorded it: the version a rollback goes back to.
    const first = await admin.post('/api/v1/deployments', {
      service: 'shop',
      environment: 'production',
      version: '1.0.0',
      slot: 'blue',
      status: 'succeeded',
    });
    if (first.status !== 201) throw new Error(`record 1.0.0: ${first.status} ${first.text}`);
    return { blue, green, nginx, server, admin, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
