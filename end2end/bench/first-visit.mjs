// A first visit over a slow mobile link: how long until the signed-in Overview's text shows
// and until its buttons work (the page has hydrated), with an empty cache, the network
// throttled through the Chrome DevTools Protocol.
//   SWITCHYARD_BIN=... SWITCHYARD_SITE_ROOT=target/site node end2end/bench/first-visit.mjs [runs]
// Reported, never asserted: timings belong in the README's benchmarks.
import { hydrated, launchBrowser, logIn, startServer } from '../lib/harness.mjs';

const PASSWORD = 'first-visit-passphrase';
// Throughputs in bytes per second, latencies in milliseconds (DevTools' presets).
const PROFILES = [
  { name: '1.6 Mbit/s, 150 ms (slow mobile)', latency: 150, down: (1.6e6 / 8) * 0.9, up: (750e3 / 8) * 0.9 },
  { name: '9 Mbit/s, 40 ms (fast 4G)', latency: 40, down: (9e6 / 8) * 0.9, up: (1.5e6 / 8) * 0.9 },
  // The same machine without throttling: what compiling the WASM and hydrating cost alone.
  { name: 'loopback, no throttling', latency: 0, down: -1, up: -1 },
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main() {
  const runs = Number(process.argv[2] ?? 5);
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    await server.createUser('admin', 'admin', PASSWORD);
    for (const profile of PROFILES) {
      const text = [];
      const interactive = [];
      let wire = 0;
      for (let run = 0; run < runs; run += 1) {
        const context = await browser.newContext();
        await logIn(context, server.baseUrl, 'admin', PASSWORD);
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
        await cdp.send('Network.emulateNetworkConditions', {
          offline: false,
          latency: profile.latency,
          downloadThroughput: profile.down,
          uploadThroughput: profile.up,
        });
        const requests = [];
        page.on('requestfinished', (request) => requests.push(request));
        const started = Date.now();
        await page.goto(`${server.baseUrl}/`, { waitUntil: 'commit' });
        await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
        text.push(Date.now() - started);
        await hydrated(page);
        interactive.push(Date.now() - started);
        wire = 0;
        for (const request of requests) wire += (await request.sizes()).responseBodySize;
        await context.close();
      }
      console.log(
        `${profile.name}: text at ${median(text)} ms, interactive at ${median(interactive)} ms ` +
          `(median of ${runs}; ${wire} B on the wire, page included)`,
      );
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
