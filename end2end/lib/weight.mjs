// What a first visit downloads: every script and WASM file a page fetches until it has
// hydrated, with its raw, gzip -9 and brotli -q 11 size. Shared by the page-weight test (which
// holds the budget) and the first-visit benchmark.
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { hydrated } from './harness.mjs';

/** `brotli -q 11` as the command-line tool does it (its default window is 2^24). */
export function brotliSize(buffer) {
  return brotliCompressSync(buffer, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: buffer.length,
    },
  }).length;
}

export function gzipSize(buffer) {
  return gzipSync(buffer, { level: 9 }).length;
}


/**
 * Opens `url` in `page` (a fresh context: nothing cached) and returns the WASM and JavaScript
 * files fetched until the page hydrated: [{ file, raw, gzip, brotli, wire }], `wire` being the
 * bytes that crossed the network (compressed when the server sent it so).
 */
export async function firstVisit(page, url) {
  const fetched = [];
  const onResponse = (response) => {
    const path = new URL(response.url()).pathname;
    if (/\.(wasm|js)$/.test(path)) fetched.push({ path, response });
  };
  page.on('response', onResponse);
  await page.goto(url);
  await hydrated(page);
  page.off('response', onResponse);
  const files = [];
  for (const { path, response } of fetched) {
    const body = await response.body();
    const sizes = await response.request().sizes();
    files.push({
      file: path.split('/').pop(),
      kind: path.endsWith('.wasm') ? 'wasm' : 'js',
      raw: body.length,
      gzip: gzipSize(body),
      brotli: brotliSize(body),
      wire: sizes.responseBodySize,
      encoding: response.headers()['content-encoding'] ?? 'identity',
    });
  }
  return files;
}

/** Sums a size over the files of one kind. */
export const total = (files, kind, size) =>
  files.filter((f) => f.kind === kind).reduce((sum, f) => sum + f[size], 0);
