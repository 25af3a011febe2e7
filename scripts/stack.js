#!/usr/bin/env node
// `npm run stack -- --api 3 --worker 2 [--port 8080]`: the docker compose topology as local
// processes, for machines without a Docker engine. N API replicas on free ports and M workers
// against the Postgres and Redis the environment names (the defaults: local ones), behind nginx
// rendered from the same template compose uses (deploy/nginx/templates/default.conf.template).
// Plain CommonJS with no dependencies, like start-all.js.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const { root, entry, appNodeFlags, isBuilt, freePort } = require('./app-entries');
const TEMPLATE = join(root, 'deploy/nginx/templates/default.conf.template');

function usage(problem) {
  console.error(`${problem}\nUsage: npm run stack -- [--api N] [--worker M] [--port P]   (defaults: 2 API replicas, 1 worker, port 8080)`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { api: 2, worker: 1, port: 8080 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!(name in options)) usage(`Unknown option ${argv[i]}.`);
    if (!Number.isInteger(value) || value < 1 || (name === 'port' && value > 65535)) usage(`--${name} needs a whole number of at least 1${name === 'port' ? ' (and at most 65535)' : ''}.`);
    options[name] = value;
  }
  return options;
}

/** `${NAME}` → value for the given names only, as the nginx image's envsubst does; nginx's own `$vars` stay. */
function render(template, values) {
  return template.replace(/\$\{([A-Z_]+)\}/g, (match, name) => (name in values ? values[name] : match));
}

function findNginx() {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
}

const children = new Map();
let stopping = false;

/** Starts a child whose output lines are prefixed with its name; never takes the stack down when it exits. */
function start(name, command, args, env, stopSignal = 'SIGTERM') {
  // Detached: a Ctrl+C in the terminal reaches only this script, which stops each child the
  // graceful way (nginx's is SIGQUIT: SIGTERM would cut the chunks streaming through it).
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stopSignal = stopSignal;
  children.set(name, child);
  const prefix = (stream, out) => {
    let rest = '';
    stream.on('data', (data) => {
      const lines = (rest + data.toString()).split('\n');
      rest = lines.pop();
      for (const line of lines) out.write(`[${name}] ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  console.log(`[stack] ${name} started (pid ${child.pid})`);
  // 'close', not 'exit': by then the child's last output has been relayed.
  child.on('close', (code, signal) => {
    children.delete(name);
    // A replica that dies is only reported: the balancer routes around it, like compose's would.
    if (!stopping) console.log(`[stack] ${name} exited (${signal || `code ${code}`})`);
    if (stopping && children.size === 0) process.exit(process.exitCode ?? 0);
  });
  return child;
}

/** Prints the lines appended to `path`, as `tail -f` would, reading only what is new. */
function relayLines(path, prefix) {
  let offset = 0;
  let rest = '';
  const timer = setInterval(() => {
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    if (size <= offset) return;
    const fd = openSync(path, 'r');
    const data = Buffer.alloc(size - offset);
    readSync(fd, data, 0, data.length, offset);
    closeSync(fd);
    offset = size;
    const lines = (rest + data.toString()).split('\n');
    rest = lines.pop();
    for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
  }, 200);
  timer.unref();
}

function run(command, args, env) {
  return spawnSync(command, args, { cwd: root, env, stdio: 'inherit' }).status;
}

async function waitUntilLive(name, port) {
  // Generous: several Nest processes starting at once on two cores take a while.
  for (let attempt = 0; attempt < 900; attempt++) {
    if (!children.has(name)) throw new Error(`${name} exited during start-up`);
    const ok = await fetch(`http://127.0.0.1:${port}/health/live`).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not answer on port ${port}`);
}

function stopAll(signal) {
  if (stopping) {
    // Asked twice: stop waiting for anything.
    console.log('[stack] stopping now');
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(process.exitCode ?? 1);
  }
  stopping = true;
  console.log(`[stack] stopping (${signal}); again to force`);
  for (const child of children.values()) child.kill(child.stopSignal);
  if (children.size === 0) process.exit(process.exitCode ?? 0);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const nginx = findNginx();
  if (!nginx) usage('nginx is not installed: install Debian\'s package (apt-get install nginx), or run the stack with docker compose.');
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));

  if (!isBuilt()) {
    console.log('[stack] dist/ is missing or incomplete, running npm run build');
    if (run('npm', ['run', 'build'], process.env) !== 0) process.exit(1);
  }
  // Migrate once up front, as compose's one-shot `migrate` service does.
  if (run(process.execPath, [entry.migrate], process.env) !== 0) process.exit(1);

  const apiPorts = [];
  for (let i = 1; i <= options.api; i++) {
    const port = await freePort();
    apiPorts.push(port);
    start(`api-${i}`, process.execPath, [...appNodeFlags, entry.api], { ...process.env, PORT: String(port) });
  }
  for (let i = 1; i <= options.worker; i++) {
    // Each worker its own metrics port, as each container has its own network namespace.
    const metricsPort = process.env.METRICS_PORT === 'off' ? 'off' : String(await freePort());
    start(`worker-${i}`, process.execPath, [...appNodeFlags, entry.worker], { ...process.env, METRICS_PORT: metricsPort });
  }
  await Promise.all(apiPorts.map((port, i) => waitUntilLive(`api-${i + 1}`, port)));

  const workDir = mkdtempSync(join(tmpdir(), 'resumable-upload-nginx-'));
  process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const site = render(readFileSync(TEMPLATE, 'utf8'), {
    LISTEN_PORT: `127.0.0.1:${options.port}`,
    UPSTREAM_SERVERS: apiPorts.map((port) => `server 127.0.0.1:${port} max_fails=0;`).join('\n    '),
    RESOLVER_DIRECTIVE: '',
    PUBLIC_METRICS: process.env.PUBLIC_METRICS ?? '',
    // A file, not /dev/stdout: nginx cannot open that when our output is a socket; it is relayed below.
    ACCESS_LOG: join(workDir, 'access.log'),
  });
  // The wrapper the nginx image has built in: everything in a private directory, nothing in /var.
  writeFileSync(
    join(workDir, 'nginx.conf'),
    `worker_processes 1;\npid ${workDir}/nginx.pid;\nerror_log stderr warn;\nevents { worker_connections 1024; }\nhttp {\n` +
      ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${workDir}/${kind};\n`).join('') +
      `${site}\n}\n`,
  );
  start('nginx', nginx, ['-p', workDir, '-c', join(workDir, 'nginx.conf'), '-g', 'daemon off;'], process.env, 'SIGQUIT');
  relayLines(join(workDir, 'access.log'), '[nginx] ');
  await waitUntilLive('nginx', options.port);
  console.log(`[stack] ready: http://127.0.0.1:${options.port} balances ${options.api} API replica(s) (ports ${apiPorts.join(', ')}); ${options.worker} worker(s)`);
}

main().catch((error) => {
  console.error(`[stack] ${error.message}`);
  process.exitCode = 1;
  stopAll('error');
});
