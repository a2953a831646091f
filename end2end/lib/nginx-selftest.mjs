// Checks examples/nginx/switch.sh against a real nginx under load, without Switchyard:
//   node end2end/lib/nginx-selftest.mjs [switches]
// Blue and green upstreams, nginx in front (blue live), 4 looping clients; the script switches
// 20 times, alternating. Prints failed requests (must be 0) and how long after the script's
// start all traffic was on the new colour. Exits 1 on any failed request or late switch.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startUpstream } from './upstream.mjs';
import { NGINX_BIN, startNginx } from './nginx.mjs';
import { failures, firstTimeAllOn, startLoad } from './load.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// SWITCH_SCRIPT=... tries another driver with the same harness.
export const SWITCH_SCRIPT = process.env.SWITCH_SCRIPT ?? join(here, '..', '..', 'examples', 'nginx', 'switch.sh');

/** Runs switch.sh as Switchyard would (cleared environment); resolves {code, output, start, end}. */
function runSwitch(nginx, slot, upstream, operationId) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    NGINX_PREFIX: nginx.prefix,
    NGINX_CONF: nginx.conf,
    UPSTREAM_FILE: nginx.upstreamFile,
    NGINX_BIN,
    SWITCHYARD_SERVICE: 'shop',
    SWITCHYARD_ENVIRONMENT: 'production',
    SWITCHYARD_OPERATION: 'switch',
    SWITCHYARD_ACTION: 'switch',
    SWITCHYARD_TARGET_SLOT: slot,
    SWITCHYARD_TARGET_UPSTREAM: upstream.url,
    SWITCHYARD_VERSION: '2.0.0',
    SWITCHYARD_CANARY_WEIGHT: '',
    SWITCHYARD_OPERATION_ID: String(operationId),
  };
  const start = Date.now();
  const child = spawn(SWITCH_SCRIPT, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output, start, end: Date.now() })));
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function main() {
  const count = Number(process.argv[2] ?? 20);
  const blue = await startUpstream({ colour: 'blue', version: '1.0.0' });
  const green = await startUpstream({ colour: 'green', version: '2.0.0' });
  const nginx = await startNginx({ upstreamPort: blue.port });
  const load = startLoad(nginx.url, { concurrency: 4 });
  const runs = [];
  let ok = true;
  try {
    await sleep(300);
    for (let i = 0; i < count; i++) {
      const [slot, upstream] = i % 2 === 0 ? ['green', green] : ['blue', blue];
      const run = await runSwitch(nginx, slot, upstream, i + 1);
      runs.push({ slot, ...run });
      if (run.code !== 0) {
        console.error(`switch ${i + 1} to ${slot} exited ${run.code}:\n${run.output}`);
        ok = false;
        break;
      }
      if (i === 0) process.stdout.write(`first run's log:\n${run.output}`);
      await sleep(300); // let the load show where traffic settled before the next switch
    }
  } finally {
    await load.stop();
    await nginx.stop();
    await blue.stop();
    await green.stop();
  }

  const results = load.results;
  const failed = failures(results);
  const lags = [];
  const durations = [];
  let late = 0;
  runs.forEach((run, i) => {
    const to = runs[i + 1]?.start ?? Infinity;
    const allOn = firstTimeAllOn(results, run.slot, { from: run.start, to });
    if (allOn === null) {
      console.error(`switch ${i + 1}: traffic never all on ${run.slot}`);
      late++;
      return;
    }
    lags.push(allOn - run.start);
    durations.push(run.end - run.start);
    // The script promises traffic has moved when it exits; allow 2 ms for the next request
    // to start (the measure is the start of an observed request).
    if (allOn > run.end + 2) {
      console.error(`switch ${i + 1}: all on ${run.slot} ${allOn - run.end} ms after the script exited`);
      late++;
    }
  });
  console.log(`requests: ${results.length}, failed: ${failed.length}`);
  for (const f of failed.slice(0, 5)) console.log(`  failed: ${JSON.stringify(f)}`);
  if (lags.length) {
    console.log(`script start → all traffic on the new colour: p50 ${percentile(lags, 50)} ms, max ${Math.max(...lags)} ms`);
    console.log(`script duration: p50 ${percentile(durations, 50)} ms, max ${Math.max(...durations)} ms`);
  }
  console.log(`switches: ${runs.length}, traffic moved after the script exited: ${late}`);
  if (!ok || failed.length > 0 || late > 0 || runs.length < count) process.exit(1);
}

await main();
