#!/usr/bin/env node
// `npm start`: the whole service in one terminal (migrate once, then API + worker).
// Plain CommonJS with no dependencies, so it runs before anything is compiled.
'use strict';

const { spawn } = require('node:child_process');
const { root, entry, appNodeFlags, isBuilt } = require('./app-entries');
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const running = new Set();
let stopping = false;

// Children share our stdio, and (for Ctrl+C) usually our process group too. Forwarding still
// matters for signals sent to this process alone (kill, a supervisor); Nest ignores repeats.
for (const signal of FORWARDED) {
  process.on(signal, () => {
    stopping = true;
    for (const child of running) child.kill(signal);
    if (running.size === 0) process.exit(0);
  });
}

/** Starts a child; resolves with its exit code (null when a signal ended it). */
function start(command, args, onExit) {
  // npm is npm.cmd on Windows, which only runs through a shell.
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' && command === 'npm' });
  running.add(child);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`[start-all] could not run ${command}: ${error.message}`);
      running.delete(child);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (onExit) onExit(code, signal);
      resolve(signal ? null : code);
    });
  });
}

async function main() {
  // A fresh checkout has no dist/; build it rather than fail with "Cannot find module".
  if (!isBuilt()) {
    console.log('[start-all] dist/ is missing or incomplete, running npm run build');
    if ((await start('npm', ['run', 'build'])) !== 0 || stopping) return process.exit(1);
  }

  // Migrate once up front so the API and worker never race each other on a fresh database.
  const migrated = await start(process.execPath, [entry.migrate]);
  if (migrated !== 0 || stopping) return process.exit(stopping ? 0 : migrated || 1);

  let exitCode = 0;
  const onExit = (name) => (code, signal) => {
    if (stopping) {
      // Asked to stop: a child that died of the forwarded signal stopped cleanly.
      if (code) exitCode = code;
      return;
    }
    // One half of the service is gone; running the other alone would look healthy but not work.
    console.error(`[start-all] ${name} exited unexpectedly (${signal || `code ${code}`}), stopping the rest`);
    stopping = true;
    exitCode = code || 1;
    for (const child of running) child.kill('SIGTERM');
  };

  await Promise.all([
    start(process.execPath, [...appNodeFlags, entry.api], onExit('api')),
    start(process.execPath, [...appNodeFlags, entry.worker], onExit('worker')),
  ]);
  process.exit(exitCode);
}

main();
