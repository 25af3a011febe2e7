#!/usr/bin/env node
// `npm run bench`: throughput, assembly latency and memory of this service against baselines
// measured in the same run on the same disk (raw write, one SHA-256 pass, @tus/server).
// Plain CommonJS, no build step: it runs the apps built in dist/. See bench/README.md.
'use strict';

const { mkdir } = require('node:fs/promises');
const { join } = require('node:path');
const { readSettings, wanted } = require('./lib/settings');
const { createCleanup, createWorkDir, writeRandomFile, settleDisk } = require('./lib/environment');
const { startChild, waitFor, freePort } = require('./lib/processes');
const { startService: startServiceIn } = require('./lib/service');
const measure = require('./lib/measurements');
const client = require('./lib/service-client');
const report = require('./lib/report');
const { s3Available, measureS3, s3TableRows } = require('./lib/s3');

const cleanup = createCleanup();
// The apps, so a failure can show what they logged.
const children = [];

function log(message) {
  console.log(`[bench] ${message}`);
}

function startService(workDir) {
  return startServiceIn({ workDir, cleanup, children, log });
}

async function startTus(workDir) {
  const port = await freePort();
  const tus = startChild('tus', [join(__dirname, 'tus-server.mjs')], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TUS_DIR: join(workDir, 'tus'),
    TUS_PORT: String(port),
  });
  children.push(tus);
  cleanup.add('stop the tus server', () => tus.stop());
  await waitFor(tus, 'printing "tus server ready"', async () => tus.log.includes('tus server ready'));
  return { process: tus, url: `http://127.0.0.1:${port}/files` };
}

/** bench/bare-server.mjs: HTTP + SHA-256 + page-cache write, nothing else; or HTTP alone (/discard). */
async function startBare(workDir) {
  const port = await freePort();
  const dir = join(workDir, 'bare');
  await mkdir(dir);
  const bare = startChild('bare', [join(__dirname, 'bare-server.mjs')], { PATH: process.env.PATH, HOME: process.env.HOME, BARE_DIR: dir, BARE_PORT: String(port) });
  children.push(bare);
  cleanup.add('stop the bare server', () => bare.stop());
  await waitFor(bare, 'printing "bare server ready"', async () => bare.log.includes('bare server ready'));
  return { url: `http://127.0.0.1:${port}/upload`, discardUrl: `http://127.0.0.1:${port}/discard`, targetPath: join(dir, 'upload.bin') };
}

/** One small upload to completion: proves the worker takes jobs (at LOG_LEVEL=warn it prints nothing) and warms both apps up. */
async function warmUp(service, filePath, settings) {
  await waitFor(service.worker, 'assembling a warm-up upload', async () => {
    await measure.serviceUpload({
      baseUrl: service.baseUrl,
      filePath,
      fileSize: settings.concurrent.fileSize,
      chunkSize: settings.chunkSize,
      streams: 1,
      pollMs: settings.statusPollMs,
      processes: [service.api, service.worker],
    });
    return true;
  }, 120_000);
}

async function prepareFiles(workDir, settings) {
  const want = (name) => wanted(settings, name);
  // The warm-up uses the concurrent uploads' file.
  const sizes = [
    settings.concurrent.fileSize,
    ...(['raw', 'sha256', 'http', 'tus', 'service-tus', 'single', 'parallel', 'sdk'].some(want) || (want('small') && settings.smallFileSize === settings.fileSize) ? [settings.fileSize] : []),
    ...(want('small') ? [settings.smallFileSize] : []),
    ...(want('many') ? [settings.many.fileSize] : []),
  ];
  const files = {};
  for (const size of new Set(sizes)) {
    log(`writing a random ${report.sizeLabel(size)} file`);
    files[size] = await writeRandomFile(join(workDir, `random-${size}.bin`), size);
  }
  return files;
}

/** Every measurement starts with nothing left for the disk to write back. */
async function settled(measurement) {
  await settleDisk();
  return measurement();
}

/**
 * The single-file measurements, interleaved round by round so that a noisy minute on the
 * machine hits baselines and service alike, which keeps their ratios honest.
 */
async function runRounds(settings, files, workDir, service, tus, bare, runs) {
  const filePath = files[settings.fileSize];
  const upload = (streams) => ({
    baseUrl: service.baseUrl,
    filePath,
    fileSize: settings.fileSize,
    chunkSize: settings.chunkSize,
    streams,
    pollMs: settings.statusPollMs,
    processes: [service.api, service.worker],
  });
  const want = (name) => wanted(settings, name);
  const names = ['raw', 'sha256', 'http', 'tus', 'service-tus', 'single', 'parallel', 'sdk'].filter(want);
  if (names.length === 0) return;
  for (let round = 1; round <= settings.runs; round++) {
    log(`round ${round}/${settings.runs} @ ${report.sizeLabel(settings.fileSize)}: ${names.join(', ')}`);
    if (want('raw')) {
      const rawWrite = (options) => settled(() => measure.rawWrite(filePath, join(workDir, 'raw-write.bin'), settings.chunkSize, options));
      runs.rawWriteSyncEachChunk.push(await rawWrite({ syncEveryChunk: true }));
      runs.rawWriteSyncAtEnd.push(await rawWrite({ syncEveryChunk: false }));
      runs.rawWriteDirect.push(await rawWrite({ syncEveryChunk: true, direct: true }));
      runs.rawWriteDirectSyncAtEnd.push(await rawWrite({ syncEveryChunk: false, direct: true }));
    }
    if (want('sha256')) runs.sha256.push(await settled(() => measure.sha256Pass(filePath)));
    if (want('http')) {
      runs.httpAlone.push(await settled(() => measure.bareUpload({ url: bare.discardUrl, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize })));
      runs.bare.push(await settled(() => measure.bareUpload({ ...bare, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize })));
    }
    if (want('tus')) {
      const tusUpload = (readLikeServiceClient) => measure.tusUpload({ tusUrl: tus.url, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize, tusProcess: tus.process, readLikeServiceClient });
      runs.tus.push(await settled(() => tusUpload(false)));
      runs.tusSameReading.push(await settled(() => tusUpload(true)));
    }
    // The same client and options against this service's tus endpoint: durable, and its last PATCH answered once verified.
    if (want('service-tus')) {
      runs.serviceTus.push(await settled(() => measure.tusUpload({ tusUrl: `${service.baseUrl}/files/`, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize, tusProcess: service.api })));
    }
    if (want('single')) runs.single.push(await settled(() => measure.serviceUpload(upload(1))));
    if (want('parallel')) runs.parallel.push(await settled(() => measure.serviceUpload(upload(settings.parallelStreams))));
    if (want('sdk')) runs.sdk.push(await settled(() => measure.sdkUpload({ baseUrl: service.baseUrl, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize })));
  }
}

async function runSmallFile(settings, files, service, runs) {
  if (!wanted(settings, 'small')) return;
  if (settings.smallFileSize === settings.fileSize) {
    runs.singleSmall.push(...runs.single);
    return;
  }
  for (let round = 1; round <= settings.runs; round++) {
    log(`round ${round}/${settings.runs} @ ${report.sizeLabel(settings.smallFileSize)}: this service, 1 stream`);
    runs.singleSmall.push(
      await settled(() => measure.serviceUpload({
        baseUrl: service.baseUrl,
        filePath: files[settings.smallFileSize],
        fileSize: settings.smallFileSize,
        chunkSize: settings.chunkSize,
        streams: 1,
        pollMs: settings.statusPollMs,
        processes: [service.api, service.worker],
      })),
    );
  }
}

/** Rounds of many uploads at once: `concurrent` (memory under load) or `many` (many clients). */
async function runConcurrent(name, settings, files, service, runs) {
  if (!wanted(settings, name)) return;
  const { uploads, fileSize, chunkSize } = settings[name];
  for (let round = 1; round <= settings.runs; round++) {
    log(`round ${round}/${settings.runs}: ${uploads} concurrent uploads of ${report.sizeLabel(fileSize)} in ${report.sizeLabel(chunkSize)} chunks`);
    runs[name].push(
      await settled(() => measure.concurrentUploads({ baseUrl: service.baseUrl, filePath: files[fileSize], uploads, fileSize, chunkSize, processes: [service.api, service.worker] })),
    );
  }
}

/** The S3 rows, on a private Ceph RGW; null when they are not wanted or cannot run here. */
async function runS3(settings, workDir) {
  if (settings.s3 === 'off' || (settings.s3 === 'auto' && !s3Available())) return null;
  if (!s3Available()) throw new Error('BENCH_S3 asks for the S3 rows, which need Ceph (radosgw, ceph-mon, ceph-osd): run node scripts/test-prerequisites.js');
  log(`writing a random ${report.sizeLabel(settings.s3FileSize)} file for the S3 rows, and starting a Ceph RGW`);
  const filePath = await writeRandomFile(join(workDir, `random-s3-${settings.s3FileSize}.bin`), settings.s3FileSize);
  return measureS3({ settings, filePath, fileSize: settings.s3FileSize, cleanup, log });
}

async function main() {
  const settings = readSettings();
  const startedAt = new Date().toISOString();
  const workDir = await createWorkDir(settings.parentDir, cleanup);
  const machine = await report.describeMachine(workDir);
  if (settings.s3 === 'only') {
    log(`S3 rows only, ${report.sizeLabel(settings.s3FileSize)}, ${settings.runs} run(s) each, under ${workDir}`);
    const s3 = await runS3(settings, workDir);
    if (interrupted) return;
    console.log(`\n${report.formatTable(s3TableRows(settings, s3))}\n`);
    const { parentDir: _parentDir, ...measured } = settings;
    log(`raw figures: ${await report.writeJson({ startedAt, machine, settings: measured, s3 })}`);
    return;
  }
  log(`size ${report.sizeLabel(settings.fileSize)}, ${settings.runs} run(s) each${settings.only ? `, only ${settings.only.join(', ')}` : ''}; files, STORAGE_DIR and tus directory under ${workDir}`);
  const files = await prepareFiles(workDir, settings);
  const service = await startService(workDir);
  const tus = await startTus(workDir);
  const bare = await startBare(workDir);
  await warmUp(service, files[settings.concurrent.fileSize], settings);

  const runs = { rawWriteSyncEachChunk: [], rawWriteSyncAtEnd: [], rawWriteDirect: [], rawWriteDirectSyncAtEnd: [], sha256: [], httpAlone: [], bare: [], tus: [], tusSameReading: [], serviceTus: [], single: [], parallel: [], sdk: [], singleSmall: [], concurrent: [], many: [] };
  await runRounds(settings, files, workDir, service, tus, bare, runs);
  await runSmallFile(settings, files, service, runs);
  await runConcurrent('concurrent', settings, files, service, runs);
  await runConcurrent('many', settings, files, service, runs);
  const s3 = await runS3(settings, workDir);

  // Figures cut short by Ctrl+C are not results.
  if (interrupted) return;
  const summary = report.summarize(runs);
  console.log(`\n${report.formatTable([...report.tableRows(settings, summary), ...(s3 ? s3TableRows(settings, s3) : [])])}\n`);
  const { parentDir: _parentDir, ...measured } = settings;
  const file = await report.writeJson({ startedAt, machine, settings: measured, service: { database: service.database, redisPrefix: service.redisPrefix }, ...summary, runs, s3 });
  log(`machine: ${machine.cpuCount} x ${machine.cpuModel}, ${machine.totalMemoryMiB} MiB RAM, Node ${machine.node}`);
  log(`raw figures: ${file}`);
}

function reportFailure(error) {
  console.error(`[bench] failed: ${error.stack || error.message}`);
  for (const child of children) if (child.log.trim()) console.error(`[bench] ${child.name} output (last lines):\n${child.log.slice(-4000)}`);
}

let interrupted = false;
/** Leaves after cleaning up; a second signal means "now", without waiting for the cleanup. */
function stopEarly(reason, exitCode) {
  if (interrupted) process.exit(exitCode);
  interrupted = true;
  log(`${reason}: cleaning up`);
  // Fails the requests in flight at once, so the stopping API has nothing to wait for.
  client.agent.destroy();
  cleanup.run().finally(() => process.exit(exitCode));
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopEarly(signal, 130));
// An error thrown outside the main chain (a stream, a timer) must not skip the cleanup either.
process.on('uncaughtException', (error) => {
  reportFailure(error);
  stopEarly('uncaught exception', 1);
});

main()
  .catch((error) => {
    if (!interrupted) {
      reportFailure(error);
      process.exitCode = 1;
    }
  })
  .finally(async () => {
    if (interrupted) return;
    await cleanup.run();
    client.agent.destroy();
  });
