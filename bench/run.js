#!/usr/bin/env node
// `npm run bench`: throughput, assembly latency and memory of this service against baselines
// measured in the same run on the same disk (raw write, one SHA-256 pass, @tus/server).
// Plain CommonJS, no build step: it runs the apps built in dist/. See bench/README.md.
'use strict';

const { mkdir } = require('node:fs/promises');
const { join, resolve } = require('node:path');
const { readSettings } = require('./lib/settings');
const { createCleanup, createDatabase, reserveRedisPrefix, createWorkDir, writeRandomFile, settleDisk } = require('./lib/environment');
const { startChild, waitFor, freePort } = require('./lib/processes');
const { root, entry, appNodeFlags } = require('../scripts/app-entries');
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

async function startService(workDir) {
  const database = await createDatabase(cleanup);
  const redis = reserveRedisPrefix(cleanup);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    STORAGE_DIR: join(workDir, 'storage'),
    PORT: String(port),
    // Logging per request would be measured too; warnings and errors still show in a failure.
    LOG_LEVEL: 'warn',
    METRICS_PORT: 'off',
    // The benchmark initiates hundreds of uploads a minute from one address.
    INITIATE_RATE_LIMIT: 'off',
    // Cleanup after Ctrl+C should not wait 30 s for requests the benchmark abandoned.
    SHUTDOWN_TIMEOUT: '2s',
    NO_COLOR: '1',
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const api = startApp('api', entry.api, env);
  await waitFor(api, 'answering /health/live', async () => (await client.request(`${baseUrl}/health/live`)).status === 200);
  const worker = startApp('worker', entry.worker, env);
  log(`service: API pid ${api.pid} on ${baseUrl}, worker pid ${worker.pid}, database ${database.name}, Redis prefix ${redis.prefix}`);
  return { api, worker, baseUrl, database: database.name, redisPrefix: redis.prefix };
}

/** One built app, stopped by the cleanup; with BENCH_PROFILE, it records a CPU profile written just before it stops. */
function startApp(name, script, env) {
  const profileDir = process.env.BENCH_PROFILE;
  const args = [...appNodeFlags, ...(profileDir ? ['-r', join(__dirname, 'lib', 'cpu-profile.js')] : []), join(root, script)];
  const app = startChild(name, args, profileDir ? { ...env, BENCH_PROFILE: resolve(profileDir), BENCH_PROCESS_NAME: name } : env);
  children.push(app);
  cleanup.add(`stop the ${name}`, () => app.stop());
  // Cleanup runs last-in first-out: the profile is written before the stop.
  if (profileDir) cleanup.add(`write the ${name}'s CPU profile`, () => app.writeProfile());
  return app;
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
  const sizes = [settings.fileSize, settings.smallFileSize, settings.concurrent.fileSize];
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
  for (let round = 1; round <= settings.runs; round++) {
    log(`round ${round}/${settings.runs} @ ${report.sizeLabel(settings.fileSize)}: raw writes, SHA-256, HTTP alone, bare HTTP + SHA-256, tus (2 ways), tus-js-client to this service, this service (1 and ${settings.parallelStreams} streams, its SDK)`);
    const rawWrite = (options) => settled(() => measure.rawWrite(filePath, join(workDir, 'raw-write.bin'), settings.chunkSize, options));
    runs.rawWriteSyncEachChunk.push(await rawWrite({ syncEveryChunk: true }));
    runs.rawWriteSyncAtEnd.push(await rawWrite({ syncEveryChunk: false }));
    runs.rawWriteDirect.push(await rawWrite({ syncEveryChunk: true, direct: true }));
    runs.rawWriteDirectSyncAtEnd.push(await rawWrite({ syncEveryChunk: false, direct: true }));
    runs.sha256.push(await settled(() => measure.sha256Pass(filePath)));
    runs.httpAlone.push(await settled(() => measure.bareUpload({ url: bare.discardUrl, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize })));
    runs.bare.push(await settled(() => measure.bareUpload({ ...bare, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize })));
    const tusUpload = (readLikeServiceClient) => measure.tusUpload({ tusUrl: tus.url, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize, tusProcess: tus.process, readLikeServiceClient });
    runs.tus.push(await settled(() => tusUpload(false)));
    runs.tusSameReading.push(await settled(() => tusUpload(true)));
    // The same client and options against this service's tus endpoint: durable, and its last PATCH answered once verified.
    runs.serviceTus.push(await settled(() => measure.tusUpload({ tusUrl: `${service.baseUrl}/files/`, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize, tusProcess: service.api })));
    runs.single.push(await settled(() => measure.serviceUpload(upload(1))));
    runs.parallel.push(await settled(() => measure.serviceUpload(upload(settings.parallelStreams))));
    runs.sdk.push(await settled(() => measure.sdkUpload({ baseUrl: service.baseUrl, filePath, fileSize: settings.fileSize, chunkSize: settings.chunkSize })));
  }
}

async function runSmallFile(settings, files, service, runs) {
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

async function runConcurrent(settings, files, service, runs) {
  const { uploads, fileSize, chunkSize } = settings.concurrent;
  for (let round = 1; round <= settings.runs; round++) {
    log(`round ${round}/${settings.runs}: ${uploads} concurrent uploads of ${report.sizeLabel(fileSize)} in ${report.sizeLabel(chunkSize)} chunks`);
    runs.concurrent.push(
      await settled(() => measure.concurrentUploads({
        baseUrl: service.baseUrl,
        filePath: files[fileSize],
        uploads,
        fileSize,
        chunkSize,
        pollMs: settings.statusPollMs,
        processes: [service.api, service.worker],
      })),
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
  log(`size ${report.sizeLabel(settings.fileSize)}, ${settings.runs} run(s) each; files, STORAGE_DIR and tus directory under ${workDir}`);
  const files = await prepareFiles(workDir, settings);
  const service = await startService(workDir);
  const tus = await startTus(workDir);
  const bare = await startBare(workDir);
  await warmUp(service, files[settings.concurrent.fileSize], settings);

  const runs = { rawWriteSyncEachChunk: [], rawWriteSyncAtEnd: [], rawWriteDirect: [], rawWriteDirectSyncAtEnd: [], sha256: [], httpAlone: [], bare: [], tus: [], tusSameReading: [], serviceTus: [], single: [], parallel: [], sdk: [], singleSmall: [], concurrent: [] };
  await runRounds(settings, files, workDir, service, tus, bare, runs);
  await runSmallFile(settings, files, service, runs);
  await runConcurrent(settings, files, service, runs);
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
