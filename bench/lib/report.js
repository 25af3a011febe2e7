// Turns the raw runs into medians, ratios to the baselines and PASS/FAIL per target; prints
// the table and writes the JSON.
'use strict';

const { statfs, mkdir, writeFile } = require('node:fs/promises');
const os = require('node:os');
const { join } = require('node:path');
const { MiB } = require('./settings');
const { median } = require('./stats');

const TARGETS = {
  singleVsTus: 1.6,
  singleVsRawWrite: 0.85,
  ackToCompletedVsSha256: 1.5,
  peakRssMiB: 200,
  concurrentErrors: 0,
};

const medianOf = (runs, pick) => median(runs.map(pick));
// Peak memory is a ceiling: the worst run counts, not the typical one.
const maxOf = (runs, pick) => Math.max(...runs.map(pick));

function sizeLabel(bytes) {
  return bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0 ? `${bytes / 1024 / MiB} GiB` : `${+(bytes / MiB).toFixed(1)} MiB`;
}

/** The medians and ratios the targets are judged on. */
function summarize(runs) {
  const m = {
    rawWriteSyncEachChunk: medianOf(runs.rawWriteSyncEachChunk, (r) => r.mibPerSecond),
    rawWriteSyncAtEnd: medianOf(runs.rawWriteSyncAtEnd, (r) => r.mibPerSecond),
    rawWriteDirect: medianOf(runs.rawWriteDirect, (r) => r.mibPerSecond),
    rawWriteDirectSyncAtEnd: medianOf(runs.rawWriteDirectSyncAtEnd, (r) => r.mibPerSecond),
    sha256Seconds: medianOf(runs.sha256, (r) => r.seconds),
    sha256MibPerSecond: medianOf(runs.sha256, (r) => r.mibPerSecond),
    httpAlone: medianOf(runs.httpAlone, (r) => r.mibPerSecond),
    bare: medianOf(runs.bare, (r) => r.mibPerSecond),
    tus: medianOf(runs.tus, (r) => r.mibPerSecond),
    tusSameReading: medianOf(runs.tusSameReading, (r) => r.mibPerSecond),
    serviceTus: medianOf(runs.serviceTus ?? [], (r) => r.mibPerSecond),
    tusPeakRssMiB: maxOf(runs.tus, (r) => r.peakRssMiB.tus),
    single: medianOf(runs.single, (r) => r.mibPerSecond),
    singleAckToCompleted: medianOf(runs.single, (r) => r.ackToCompletedSeconds),
    parallel: medianOf(runs.parallel, (r) => r.mibPerSecond),
    parallelAckToCompleted: medianOf(runs.parallel, (r) => r.ackToCompletedSeconds),
    sdk: medianOf(runs.sdk, (r) => r.mibPerSecond),
    singleSmall: medianOf(runs.singleSmall, (r) => r.mibPerSecond),
    rss: {
      small: { api: maxOf(runs.singleSmall, (r) => r.peakRssMiB.api), worker: maxOf(runs.singleSmall, (r) => r.peakRssMiB.worker) },
      full: { api: maxOf(runs.single, (r) => r.peakRssMiB.api), worker: maxOf(runs.single, (r) => r.peakRssMiB.worker) },
      parallel: { api: maxOf(runs.parallel, (r) => r.peakRssMiB.api), worker: maxOf(runs.parallel, (r) => r.peakRssMiB.worker) },
      concurrent: { api: maxOf(runs.concurrent, (r) => r.peakRssMiB.api), worker: maxOf(runs.concurrent, (r) => r.peakRssMiB.worker) },
    },
    concurrentMibPerSecond: medianOf(runs.concurrent, (r) => r.mibPerSecond),
    concurrentAllCompletedSeconds: medianOf(runs.concurrent, (r) => r.allCompletedSeconds),
    concurrentP50Ms: medianOf(runs.concurrent, (r) => r.chunkLatencyMs.p50),
    concurrentP99Ms: medianOf(runs.concurrent, (r) => r.chunkLatencyMs.p99),
    // Retried chunk errors of the single-file runs: their figures include the retries.
    singleFileChunkErrors: [...runs.single, ...runs.parallel, ...runs.singleSmall].reduce((sum, r) => sum + r.errorCount, 0),
    // Errors are summed, not a median: one error in any run is a failure.
    concurrentErrors: runs.concurrent.reduce((sum, r) => sum + r.errorCount, 0),
  };
  // What the target against tus asks of one stream, next to what the disk itself does: with a
  // flush per chunk (as the service must before each ack) and with one flush at the end.
  const tusTarget = m.tus * TARGETS.singleVsTus;
  const ratios = {
    singleVsTus: m.single / m.tus,
    singleVsTusSameReading: m.single / m.tusSameReading,
    tusSameReadingVsTus: m.tusSameReading / m.tus,
    serviceTusVsTus: m.serviceTus / m.tus,
    tusTargetMibPerSecond: tusTarget,
    tusTargetVsRawWriteDirect: tusTarget / m.rawWriteDirect,
    tusTargetVsRawWriteDirectSyncAtEnd: tusTarget / m.rawWriteDirectSyncAtEnd,
    singleVsRawWrite: m.single / m.rawWriteSyncEachChunk,
    singleVsRawWriteSyncAtEnd: m.single / m.rawWriteSyncAtEnd,
    singleVsRawWriteDirect: m.single / m.rawWriteDirect,
    singleVsBare: m.single / m.bare,
    singleVsHttpAlone: m.single / m.httpAlone,
    tusVsBare: m.tus / m.bare,
    parallelVsTus: m.parallel / m.tus,
    parallelVsRawWrite: m.parallel / m.rawWriteSyncEachChunk,
    sdkVsTus: m.sdk / m.tus,
    ackToCompletedVsSha256: m.singleAckToCompleted / m.sha256Seconds,
    parallelAckToCompletedVsSha256: m.parallelAckToCompleted / m.sha256Seconds,
  };
  const pass = {
    singleVsTus: ratios.singleVsTus >= TARGETS.singleVsTus,
    singleVsRawWrite: ratios.singleVsRawWrite >= TARGETS.singleVsRawWrite,
    ackToCompletedVsSha256: ratios.ackToCompletedVsSha256 <= TARGETS.ackToCompletedVsSha256,
    peakRss: [m.rss.small.api, m.rss.small.worker, m.rss.full.api, m.rss.full.worker].every((mib) => mib < TARGETS.peakRssMiB),
    concurrentErrors: m.concurrentErrors === TARGETS.concurrentErrors,
  };
  return { medians: m, ratios, targets: TARGETS, pass };
}

const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const verdict = (ok) => (ok ? 'PASS' : 'FAIL');

/** Rows of [figure, median, unit, ratio, target, result]. */
function tableRows(settings, { medians: m, ratios: r, pass }) {
  const full = sizeLabel(settings.fileSize);
  const small = sizeLabel(settings.smallFileSize);
  const rssRow = (who, size, mib) => [`${who} peak RSS, 1 stream @ ${size}`, fixed(mib), 'MiB', '', `< ${TARGETS.peakRssMiB} MiB`, verdict(mib < TARGETS.peakRssMiB)];
  return [
    [`raw write + fdatasync each chunk @ ${full}`, fixed(m.rawWriteSyncEachChunk), 'MiB/s', '1.00x', 'baseline', ''],
    [`raw write + one fdatasync @ ${full}`, fixed(m.rawWriteSyncAtEnd), 'MiB/s', '', 'info', ''],
    [`raw O_DIRECT write + fdatasync each chunk @ ${full}`, fixed(m.rawWriteDirect), 'MiB/s', '', 'info', ''],
    [`raw O_DIRECT write + one fdatasync @ ${full}`, fixed(m.rawWriteDirectSyncAtEnd), 'MiB/s', '', 'info', ''],
    [`SHA-256 pass @ ${full}`, fixed(m.sha256Seconds, 2), 's', '1.00x', 'baseline', ''],
    ['HTTP alone (body dropped), 1 stream', fixed(m.httpAlone), 'MiB/s', '', 'info', ''],
    ['bare HTTP + SHA-256 + page-cache write, 1 stream', fixed(m.bare), 'MiB/s', '', 'info', ''],
    [`@tus/server + file-store, tus-js-client reading the file`, fixed(m.tus), 'MiB/s', `1.00x (${fixed(r.tusVsBare, 2)}x bare)`, 'baseline', ''],
    [
      `  ${TARGETS.singleVsTus}x tus, what the target asks of 1 stream`,
      fixed(r.tusTargetMibPerSecond),
      'MiB/s',
      `${fixed(r.tusTargetVsRawWriteDirect, 2)}x raw O_DIRECT, ${fixed(r.tusTargetVsRawWriteDirectSyncAtEnd, 2)}x with one fdatasync`,
      'info',
      '',
    ],
    [`@tus/server + file-store, chunks read as this service's client reads them`, fixed(m.tusSameReading), 'MiB/s', `${fixed(r.tusSameReadingVsTus, 2)}x tus`, 'info', ''],
    [`tus-js-client -> this service's /files/, same options (durable, verified)`, fixed(m.serviceTus), 'MiB/s', `${fixed(r.serviceTusVsTus, 2)}x tus`, `>= 1.0x tus (goal)`, ''],
    [`this service, 1 stream @ ${full}`, fixed(m.single), 'MiB/s', `${fixed(r.singleVsTus, 2)}x tus`, `>= ${TARGETS.singleVsTus}x tus`, verdict(pass.singleVsTus)],
    ['', '', '', `${fixed(r.singleVsTusSameReading, 2)}x tus, same reading`, 'info', ''],
    ['', '', '', `${fixed(r.singleVsRawWrite, 2)}x raw`, `>= ${TARGETS.singleVsRawWrite}x raw`, verdict(pass.singleVsRawWrite)],
    ['', '', '', `${fixed(r.singleVsRawWriteDirect, 2)}x raw O_DIRECT`, 'info', ''],
    ['', '', '', `${fixed(r.singleVsBare, 2)}x bare`, 'info', ''],
    ['', '', '', `${fixed(r.singleVsHttpAlone, 2)}x HTTP alone`, 'info', ''],
    [`this service, ${settings.parallelStreams} streams @ ${full}`, fixed(m.parallel), 'MiB/s', `${fixed(r.parallelVsTus, 2)}x tus, ${fixed(r.parallelVsRawWrite, 2)}x raw`, 'info', ''],
    [`its SDK, upload() of ${full}: hash, send (4 in flight), completed`, fixed(m.sdk), 'MiB/s', `${fixed(r.sdkVsTus, 2)}x tus`, 'info', ''],
    ['last ack -> completed, 1 stream', fixed(m.singleAckToCompleted, 2), 's', `${fixed(r.ackToCompletedVsSha256, 2)}x SHA`, `<= ${TARGETS.ackToCompletedVsSha256}x SHA`, verdict(pass.ackToCompletedVsSha256)],
    [`last ack -> completed, ${settings.parallelStreams} streams`, fixed(m.parallelAckToCompleted, 2), 's', `${fixed(r.parallelAckToCompletedVsSha256, 2)}x SHA`, 'info', ''],
    ...(small === full ? [] : [[`this service, 1 stream @ ${small}`, fixed(m.singleSmall), 'MiB/s', '', 'info', '']]),
    // When BENCH_SIZE is the small size itself, its rows would only repeat the next two.
    ...(small === full ? [] : [rssRow('API', small, m.rss.small.api), rssRow('worker', small, m.rss.small.worker)]),
    rssRow('API', full, m.rss.full.api),
    rssRow('worker', full, m.rss.full.worker),
    ['chunk errors (retried), single-file runs', String(m.singleFileChunkErrors), '', '', 'info', ''],
    ['tus server peak RSS', fixed(m.tusPeakRssMiB), 'MiB', '', 'info', ''],
    [`${settings.concurrent.uploads} x ${sizeLabel(settings.concurrent.fileSize)} uploads: throughput`, fixed(m.concurrentMibPerSecond), 'MiB/s', '', 'info', ''],
    ['  all completed after', fixed(m.concurrentAllCompletedSeconds, 2), 's', '', 'info', ''],
    ['  chunk latency p50', fixed(m.concurrentP50Ms, 0), 'ms', '', 'info', ''],
    ['  chunk latency p99', fixed(m.concurrentP99Ms, 0), 'ms', '', 'info', ''],
    ['  errors (all runs)', String(m.concurrentErrors), '', '', '0', verdict(pass.concurrentErrors)],
    ['  API / worker peak RSS', `${fixed(m.rss.concurrent.api)} / ${fixed(m.rss.concurrent.worker)}`, 'MiB', '', 'info', ''],
  ];
}

function formatTable(rows) {
  const header = ['figure', 'median', 'unit', 'ratio', 'target', 'result'];
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column].length)));
  const line = (row) => row.map((cell, column) => (column === 1 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

async function describeMachine(dir) {
  const cpus = os.cpus();
  const disk = await statfs(dir);
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryMiB: Math.round(os.totalmem() / MiB),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    benchDir: dir,
    diskFreeMiB: Math.round((disk.bavail * disk.bsize) / MiB),
  };
}

async function writeJson(report) {
  const dir = join(__dirname, '..', 'results');
  await mkdir(dir, { recursive: true });
  // Colons are not allowed in file names everywhere.
  const file = join(dir, `${report.startedAt.replace(/:/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

module.exports = { summarize, tableRows, formatTable, describeMachine, writeJson, sizeLabel };
