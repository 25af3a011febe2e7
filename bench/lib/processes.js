// Child processes (API, worker, tus server) and their memory, read from /proc.
'use strict';

const { spawn } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { freePort } = require('../../scripts/app-entries');
const { clearInterval, clearTimeout } = require('node:timers');
const { setTimeout: sleep } = require('node:timers/promises');

/** A child whose recent output is kept, to show it when something goes wrong. */
function startChild(name, args, env) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (data) => {
    log = (log + data.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    name,
    pid: child.pid,
    get log() {
      return log;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    /** Asks a child started with BENCH_PROFILE to write its CPU profile, and waits for it. */
    async writeProfile() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const before = log.length;
      child.kill('SIGUSR2');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !log.slice(before).includes('cpu profile')) await sleep(50);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A process that does not stop in time is killed outright: cleanup must finish.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it resolves truthy; fails early when the child dies. */
async function waitFor(child, what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`${child.name} exited before ${what}:\n${child.log}`);
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${child.name}: timed out waiting for ${what}:\n${child.log}`);
}

/** One field of /proc/<pid>/status in MiB (VmRSS: now, VmHWM: peak since the last reset); NaN once the process is gone. */
function readMemoryMiB(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Peak RSS of some processes over one measurement. Linux resets VmHWM when "5" is written to
 * clear_refs; where that is refused we fall back to polling VmRSS, which can miss short peaks.
 */
function trackPeakRss(children) {
  const polled = new Map(children.map((child) => [child.name, 0]));
  let hwmReset = true;
  for (const child of children) {
    try {
      writeFileSync(`/proc/${child.pid}/clear_refs`, '5');
    } catch {
      hwmReset = false;
    }
  }
  const poll = () => {
    for (const child of children) {
      const rss = readMemoryMiB(child.pid, 'VmRSS');
      if (rss > polled.get(child.name)) polled.set(child.name, rss);
    }
  };
  const timer = setInterval(poll, 50);
  // Polling must never keep the benchmark alive after an error.
  timer.unref();
  let peaks = null;
  return {
    /** Stops polling; returns { name: MiB } for each process (the same answer when called again). */
    finish() {
      if (peaks) return peaks;
      clearInterval(timer);
      poll();
      peaks = {};
      for (const child of children) {
        const hwm = hwmReset ? readMemoryMiB(child.pid, 'VmHWM') : NaN;
        peaks[child.name] = Number.isNaN(hwm) ? polled.get(child.name) : Math.max(hwm, polled.get(child.name));
      }
      return peaks;
    },
  };
}

module.exports = { startChild, waitFor, freePort, trackPeakRss };
