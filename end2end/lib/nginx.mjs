// A private nginx in front of the slot upstreams, the same shape as examples/nginx: the live
// upstream's `server host:port;` line sits in its own include file, which switch.sh rewrites.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** nginx's main config around `http`, the contents of its http block (upstreams and servers). */
function mainConfig(http) {
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
${http}
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

/** A fresh temporary prefix for one nginx, with the folders its config above names. */
export function nginxPrefix() {
  const prefix = mkdtempSync(join(tmpdir(), 'switchyard-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'temp'));
  return prefix;
}

/**
 * Runs nginx in `prefix` with `http` as its http block; resolves once plain HTTP on
 * 127.0.0.1:`port` answers (one of the servers in `http` must listen there).
 */
export async function runNginx({ prefix, http, port }) {
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, mainConfig(http));
  // -e: the error log before the config is read defaults to /var/log/nginx, outside the prefix.
  const child = spawn(NGINX_BIN, ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs', 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  let spawnError;
  const exitedPromise = new Promise((resolve) => {
    child.once('exit', () => resolve((exited = true)));
    child.once('error', (error) => {
      spawnError = error;
      resolve((exited = true));
    });
  });
  // If the test process dies first, take nginx with it: SIGTERM makes the master stop its
  // workers too (a SIGKILLed master would leave them serving).
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while ((await probe(url)) === null) {
    if (spawnError) throw new Error(`cannot run ${NGINX_BIN} (Debian: apt-get install nginx): ${spawnError.message}`);
    if (exited || Date.now() > deadline) {
      const logFile = join(prefix, 'logs', 'error.log');
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no error log)';
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
  return { url, conf, pid: child.pid, stop };
}

/** Starts nginx on 127.0.0.1 and a free port, proxying to 127.0.0.1:`upstreamPort`. */
export async function startNginx({ upstreamPort }) {
  const port = await freePort();
  const prefix = nginxPrefix();
  const upstreamFile = join(prefix, 'upstream.conf');
  writeFileSync(upstreamFile, `server 127.0.0.1:${upstreamPort};\n`);
  const http = `  upstream app {
    include upstream.conf;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
    }
  }`;
  const nginx = await runNginx({ prefix, http, port });
  return { ...nginx, port, prefix, upstreamFile };
}
