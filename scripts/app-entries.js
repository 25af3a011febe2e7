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

module.exports = { root, entry, isBuilt, freePort };
