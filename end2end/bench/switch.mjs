// How fast a switch moves real traffic, end to end through Switchyard:
//   SWITCHYARD_BIN=... SWITCHYARD_SITE_ROOT=target/site node end2end/bench/switch.mjs [switches]
// The fixture of tests/operations.test.mjs (blue and green behind a private nginx, driven by
// examples/nginx/switch.sh) under 4 looping clients; a releaser puts a version on both slots,
// then switches 20 times, alternating, through the REST API. Prints p50 and max of "request sent →
// all traffic on the new colour" and of "request sent → operation ended", and failed requests.
import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD, apiSession, startBlueGreen } from '../lib/blue-green.mjs';
import { failures, firstTimeAllOn, startLoad } from '../lib/load.mjs';

const ENVIRONMENT = '/api/v1/services/shop/environments/production';

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/** Starts an operation on the current revision; resolves with it once ended, and when it was sent. */
async function operate(api, body) {
  const state = await api.get(ENVIRONMENT);
  if (state.status !== 200) throw new Error(`environment: ${state.status} ${state.text}`);
  const sentAt = Date.now();
  const started = await api.post(`${ENVIRONMENT}/operations`, { ...body, expected_revision: state.json.revision });
  if (started.status !== 202) throw new Error(`${body.action}: ${started.status} ${started.text}`);
  for (;;) {
    const op = await api.get(`/api/v1/operations/${started.json.id}`);
    if (op.status !== 200) throw new Error(`operation ${started.json.id}: ${op.status} ${op.text}`);
    if (op.json.status !== 'running') return { op: op.json, sentAt, endedAt: Date.now(), from: state.json.live_slot };
    await sleep(50);
  }
}

async function main() {
  const count = Number(process.argv[2] ?? 20);
  const fixture = await startBlueGreen();
  const load = startLoad(fixture.nginx.url, { concurrency: 4 });
  const switches = [];
  try {
    const api = await apiSession(fixture.server.baseUrl, 'rel', PASSWORD);
    // Both slots must hold a version to switch back and forth: 2.0.0 onto green, switch,
    // then 1.0.0 (what blue runs) onto blue, now idle.
    for (const body of [{ action: 'deploy', version: '2.0.0' }, { action: 'switch' }, { action: 'deploy', version: '1.0.0' }]) {
      const run = await operate(api, body);
      if (run.op.status !== 'succeeded') throw new Error(`${body.action} ${run.op.status}: ${run.op.error}`);
    }
    for (let i = 0; i < count; i++) {
      const run = await operate(api, { action: 'switch' });
      if (run.op.status !== 'succeeded') throw new Error(`switch ${i + 1} ${run.op.status}: ${run.op.error}`);
      switches.push({ ...run, to: run.from === 'blue' ? 'green' : 'blue' });
      await sleep(300); // let the load show where traffic settled
    }
  } finally {
    await load.stop();
    await fixture.stop();
  }

  const results = load.results;
  const moved = [];
  const ended = switches.map((s) => s.endedAt - s.sentAt);
  switches.forEach((s, i) => {
    const allOn = firstTimeAllOn(results, s.to, { from: s.sentAt, to: switches[i + 1]?.sentAt ?? Infinity });
    if (allOn === null) console.error(`switch ${i + 1}: traffic never all on ${s.to}`);
    else moved.push(allOn - s.sentAt);
  });
  console.log(`switches: ${switches.length}; requests: ${results.length}, failed: ${failures(results).length}`);
  console.log(`request sent → all traffic on the new colour: p50 ${percentile(moved, 50)} ms, max ${Math.max(...moved)} ms`);
  console.log(`request sent → operation ended (seen by 50 ms polling): p50 ${percentile(ended, 50)} ms, max ${Math.max(...ended)} ms`);
}

await main();
