// The compiled entry points the start scripts (and the benchmark) run, a check that they are
// all built, and a free port to run them on.
'use strict';

const { existsSync } = require('node:fs');
const { createServer } = require('node:net');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = {
  migrate: 'dist/libs/persistence/src/migrate.js',
  api: 'dist/apps/api/src/main.js',
  worker: 'dist/apps/worker/src/main.js',
};

/**
 * Node flags the API and worker run with (package.json's start:api and start:worker pass the
 * same).
 * - A young generation of 2 MiB semi-spaces instead of V8's 16: the chunk path makes many
 *   short-lived buffers, and the default let each app's peak RSS grow by about 40 MiB under
 *   load with no measurable gain in speed.
 * - An old generation that never counts as full below 64 MiB: after a quiet spell V8 shrinks
 *   its limit to just above the live heap (about 35 MiB here), and the few objects each chunk
 *   promotes then set off a full mark-compact every ~100 ms, which doubled the API's CPU per
 *   uploaded byte. Peak RSS does not change: the heap stays far below 64 MiB.
 * - V8's memory-over-speed settings (`--optimize-for-size`): the API's peak RSS fell by 12-20
 *   MiB in paired rounds with no loss of speed (bench/README.md).
 */
const appNodeFlags = ['--max-semi-space-size=2', '--initial-old-space-size=64', '--optimize-for-size'];

/** True when every entry point is compiled (a fresh checkout has no dist/). */
function isBuilt() {
  return Object.values(entry).every((file) => existsSync(join(root, file)));
}

/** A free TCP port on loopback, as the OS hands it out. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

module.exports = { root, entry, appNodeFlags, isBuilt, freePort };
