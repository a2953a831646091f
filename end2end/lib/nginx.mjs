// A private nginx in front of the slot upstreams, the same shape as examples/nginx: the live
// upstream's `server host:port;` line sits in its own include file, which switch.sh rewrites.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** A port nobody listens on right now (the OS picks it; nginx binds it a moment later). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function config(port) {
  // As root, workers would drop to `nobody`, which cannot enter the 0700 temp prefix.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `# Written by end2end/lib/nginx.mjs for one test run.
${user}worker_processes 2;
pid nginx.pid;
error_log logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path temp/client_body;
  proxy_temp_path temp/proxy;
  fastcgi_temp_path temp/fastcgi;
  uwsgi_temp_path temp/uwsgi;
  scgi_temp_path temp/scgi;
  upstream app {
    include upstream.conf;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
    }
  }
}
`;
}

/** Any HTTP answer from `url`, or null when nothing listens yet. */
function probe(url) {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', () => resolve(null));
    request.on('timeout', () => request.destroy());
  });
}

/** Starts nginx on 127.0.0.1 and a free port, proxying to 127.0.0.1:`upstreamPort`. */
export async function startNginx({ upstreamPort }) {
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'switchyard-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'temp'));
  const conf = join(prefix, 'nginx.conf');
  const upstreamFile = join(prefix, 'upstream.conf');
  writeFileSync(conf, config(port));
  writeFileSync(upstreamFile, `server 127.0.0.1:${upstreamPort};\n`);
  // -e: the error log before the config is read defaults to /var/log/nginx, outside the prefix.
  const child = spawn(NGINX_BIN, ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs', 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  const exitedPromise = new Promise((resolve) => child.once('exit', () => resolve((exited = true))));
  // If the test process dies first, take nginx with it: SIGTERM makes the master stop its
  // workers too (a SIGKILLed master would leave them serving).
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while ((await probe(url)) === null) {
    if (exited || Date.now() > deadline) {
      const log = readFileSync(join(prefix, 'logs', 'error.log'), 'utf8');
      throw new Error(`nginx did not start on ${url}:\n${log}`);
    }
    await sleep(20);
  }
  const stop = async () => {
    process.off('exit', onExit);
    if (!exited) child.kill('SIGTERM');
    await exitedPromise;
    rmSync(prefix, { recursive: true, force: true });
  };
  return { url, port, prefix, conf, upstreamFile, pid: child.pid, stop };
}
