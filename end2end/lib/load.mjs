// A load generator that records who answered each request, to prove a switch drops nothing and
// to time when traffic moved.
import { request as httpRequest } from 'node:http';

/** One GET on a new connection: {start, end, status, colour, version, error}. */
function once(url) {
  const start = Date.now();
  return new Promise((resolve) => {
    const done = (fields) => resolve({ start, end: Date.now(), status: null, colour: null, version: null, error: null, ...fields });
    // A fresh connection per request (agent: false + Connection: close): a reload closes idle
    // keep-alive connections of the old workers, and a client racing that close would see an
    // error that real browsers retry silently; we want to count only failures users would see.
    const req = httpRequest(url, { agent: false, headers: { connection: 'close' }, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        let parsed = {};
        try {
          parsed = JSON.parse(body);
        } catch {
          // nginx's own error pages are HTML; the status says enough.
        }
        done({ status: response.statusCode, colour: parsed.colour ?? null, version: parsed.version ?? null });
      });
      response.on('error', (error) => done({ status: response.statusCode, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 5 s')));
    req.on('error', (error) => done({ error: error.message }));
    req.end();
  });
}

/** Keeps `concurrency` requests in flight against `url` until stop(). */
export function startLoad(url, { concurrency = 4 } = {}) {
  const results = [];
  let running = true;
  const loop = async () => {
    while (running) results.push(await once(url));
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    results,
    /** Resolves once `count` requests started after `after` (ms) have been answered. */
    answeredAfter: async (after, count = 8) => {
      while (results.filter((r) => r.start > after).length < count) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

/** The requests a user would have noticed: no answer, or anything but 200. */
export function failures(results) {
  return results.filter((r) => r.error !== null || r.status !== 200);
}

/**
 * When traffic was all on `colour`: the start of the earliest request such that it and every
 * request started after it were answered 200 by `colour`; null when the last one was not.
 * `from`/`to` (ms) limit it to requests started in [from, to), e.g. between two switches.
 * It is an observed time (a request really started then), so it errs late, never early.
 */
export function firstTimeAllOn(results, colour, { from = -Infinity, to = Infinity } = {}) {
  const window = results.filter((r) => r.start >= from && r.start < to).sort((a, b) => a.start - b.start);
  const onColour = (r) => r.status === 200 && r.colour === colour;
  let lastOther = -Infinity;
  for (const r of window) if (!onColour(r)) lastOther = Math.max(lastOther, r.start);
  // Strictly after the last request that went elsewhere: two may start in the same millisecond.
  const first = window.find((r) => r.start > lastOther);
  return first ? first.start : null;
}
