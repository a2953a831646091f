// A stand-in for one slot of a blue-green service: a tiny HTTP server that says which colour and
// version answered, so a load generator can tell where nginx sent each request.
import { createServer } from 'node:http';

/**
 * Starts an upstream on 127.0.0.1 and a free port.
 * `failHealthUnderLoad`: /health answers 503 while the slot takes real traffic (a non-health
 * request in the last 2 s), like a release that passes its idle check and breaks under load.
 */
export async function startUpstream({ colour, version, failHealthUnderLoad = false }) {
  let currentVersion = version;
  let lastTrafficAt = -Infinity;
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://upstream').pathname;
    let status = 200;
    let body;
    if (path === '/health') {
      const busy = Date.now() - lastTrafficAt < 2000;
      if (failHealthUnderLoad && busy) {
        status = 503;
        body = { status: 'failing', colour, version: currentVersion };
      } else {
        body = { status: 'ok', colour, version: currentVersion };
      }
    } else {
      lastTrafficAt = Date.now();
      body = { colour, version: currentVersion };
    }
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setVersion: (next) => {
      currentVersion = next;
    },
    // closeAllConnections: nginx may hold a connection open; stop() must not wait for it.
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
