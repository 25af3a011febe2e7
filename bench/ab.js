#!/usr/bin/env node
// Paired A/B rounds of two builds of the service on the same machine: each round measures both,
// in alternating order, so machine noise hits them alike. A and B are directories holding a
// built `dist/` inside this repository (its node_modules must resolve): copy `dist/` aside,
// change and rebuild, then compare. See bench/README.md.
'use strict';

const { readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { createCleanup, createWorkDir, writeRandomFile, settleDisk } = require('./lib/environment');
const { startService } = require('./lib/service');
const { parseSize, MiB } = require('./lib/settings');
const { median } = require('./lib/stats');
const measure = require('./lib/measurements');
const client = require('./lib/service-client');
const { root } = require('../scripts/app-entries');

const cleanup = createCleanup();
const children = [];
const log = (message) => console.log(`[ab] ${message}`);

/** User + system CPU time of a process so far, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function readAbSettings(env = process.env) {
  const pairs = Number(env.AB_PAIRS || '6');
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`AB_PAIRS must be a whole number of at least 1, not "${env.AB_PAIRS}"`);
  return {
    a: resolve(env.AB_A || root),
    b: resolve(env.AB_B || root),
    // Extra environment for B's apps as JSON, for a setting rather than a build compared.
    bEnv: env.AB_B_ENV ? JSON.parse(env.AB_B_ENV) : {},
    pairs,
    fileSize: parseSize(env.AB_SIZE || '256m'),
    streams: (env.AB_STREAMS || '1,4').split(',').map(Number),
    chunkSize: 8 * MiB,
  };
}

/**
 * Both services of one pair, each with a new database, Redis prefix and storage directory,
 * started in the pair's order; `stop` removes them. Two services kept for a whole run let one
 * side win every pair: two runs comparing the same setting both ways round each had B ahead in
 * 8 of 8 pairs (medians 1.10× and 1.15×), where switching the setting within one service
 * measured 1.03×. New services each pair spread whatever a service's placement does to it
 * across both sides.
 */
async function startPair(settings, order, workDir) {
  const pairCleanup = createCleanup();
  cleanup.add('stop a pair of services', () => pairCleanup.run());
  const services = {};
  for (const name of order) {
    const options = name === 'A' ? { root: settings.a } : { root: settings.b, extraEnv: settings.bEnv };
    services[name] = await startService({ workDir: join(workDir, name.toLowerCase()), cleanup: pairCleanup, children, log, ...options });
  }
  return { ...services, stop: () => pairCleanup.run() };
}

async function main() {
  const settings = readAbSettings();
  const workDir = await createWorkDir(process.env.BENCH_DIR || require('node:os').tmpdir(), cleanup);
  log(`A = ${settings.a}, B = ${settings.b}${Object.keys(settings.bEnv).length ? ` with ${JSON.stringify(settings.bEnv)}` : ''}; ${settings.pairs} pairs of ${settings.fileSize / MiB} MiB at ${settings.streams.join(' and ')} stream(s)`);
  const filePath = await writeRandomFile(join(workDir, 'random.bin'), settings.fileSize);
  // The API's CPU seconds per GiB too: on a shared machine less noisy than the wall clock.
  const upload = async (service, streams) => {
    const cpuBefore = cpuSeconds(service.api.pid);
    const r = await measure.serviceUpload({ baseUrl: service.baseUrl, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize, streams, pollMs: 20, processes: [service.api, service.worker] });
    return { ...r, apiCpuSecondsPerGiB: ((cpuSeconds(service.api.pid) - cpuBefore) * 1024 * MiB) / settings.fileSize };
  };
  const results = Object.fromEntries(settings.streams.map((streams) => [streams, { A: [], B: [] }]));
  for (let pair = 1; pair <= settings.pairs; pair++) {
    const order = pair % 2 ? ['A', 'B'] : ['B', 'A'];
    const services = await startPair(settings, order, join(workDir, `pair-${pair}`));
    // A new service's first upload runs while its code is still warming up: not measured.
    for (const name of order) await upload(services[name], 1);
    for (const streams of settings.streams) {
      const line = {};
      for (const name of order) {
        await settleDisk();
        const r = await upload(services[name], streams);
        if (r.errorCount) throw new Error(`${name} had ${r.errorCount} chunk errors: ${JSON.stringify(r.errors[0])}`);
        results[streams][name].push(r);
        line[name] = r;
      }
      log(
        `pair ${pair} (${order.join('')}), ${streams} stream(s): A ${line.A.mibPerSecond.toFixed(1)} MiB/s, ack->completed ${line.A.ackToCompletedSeconds.toFixed(2)} s, API RSS ${line.A.peakRssMiB.api.toFixed(0)} MiB, API CPU ${line.A.apiCpuSecondsPerGiB.toFixed(2)} s/GiB | ` +
          `B ${line.B.mibPerSecond.toFixed(1)} MiB/s, ${line.B.ackToCompletedSeconds.toFixed(2)} s, ${line.B.peakRssMiB.api.toFixed(0)} MiB, ${line.B.apiCpuSecondsPerGiB.toFixed(2)} s/GiB | B/A ${(line.B.mibPerSecond / line.A.mibPerSecond).toFixed(3)}`,
      );
    }
    await services.stop();
  }
  for (const streams of settings.streams) {
    const { A, B } = results[streams];
    const ratios = A.map((a, i) => B[i].mibPerSecond / a.mibPerSecond);
    log(
      `${streams} stream(s): median A ${median(A.map((r) => r.mibPerSecond)).toFixed(1)}, B ${median(B.map((r) => r.mibPerSecond)).toFixed(1)} MiB/s; ` +
        `B/A per pair median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); ` +
        `API peak RSS A ${Math.max(...A.map((r) => r.peakRssMiB.api)).toFixed(0)}, B ${Math.max(...B.map((r) => r.peakRssMiB.api)).toFixed(0)} MiB; ` +
        `API CPU A ${median(A.map((r) => r.apiCpuSecondsPerGiB)).toFixed(2)}, B ${median(B.map((r) => r.apiCpuSecondsPerGiB)).toFixed(2)} s/GiB`,
    );
  }
}

main()
  .catch((error) => {
    console.error(`[ab] failed: ${error.stack || error.message}`);
    for (const child of children) if (child.log.trim()) console.error(`[ab] ${child.name} output (last lines):\n${child.log.slice(-4000)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup.run();
    client.agent.destroy();
  });
