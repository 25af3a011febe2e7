// Turns the raw runs into medians, ratios to the baselines and PASS/FAIL per target; prints
// the table and writes the JSON.
'use strict';

const { statfs, mkdir, writeFile } = require('node:fs/promises');
const os = require('node:os');
const { join } = require('node:path');
const { MiB } = require('./settings');
const { median } = require('./stats');

// The goals, each judged PASS or FAIL on the medians (peak RSS: the worst run) of one run.
const TARGETS = {
  // SDK upload() with its defaults, from the call to `completed`, against tus-js-client → @tus/server.
  sdkVsTus: 1.5,
  // Last chunk's answer → `completed`, one stream, against one SHA-256 pass over the file.
  ackToCompletedVsSha256: 0.25,
  // One raw stream against tus, and against the bare HTTP + SHA-256 reference.
  singleVsTus: 1.6,
  singleVsBare: 0.9,
  // tus-js-client against this service's /files/ versus against @tus/server.
  serviceTusVsTus: 1.0,
  peakRssMiB: 200,
  concurrentErrors: 0,
};

const medianOf = (runs, pick) => median(runs.map(pick));
// Peak memory is a ceiling: the worst run counts, not the typical one.
// Errors are summed, not a median: one error in any run is a failure.
const sumOf = (runs, pick) => (runs.length === 0 ? NaN : runs.reduce((sum, r) => sum + pick(r), 0));
const maxOf = (runs, pick) => (runs.length === 0 ? NaN : Math.max(...runs.map(pick)));

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
    manyMibPerSecond: medianOf(runs.many ?? [], (r) => r.mibPerSecond),
    manyAllCompletedSeconds: medianOf(runs.many ?? [], (r) => r.allCompletedSeconds),
    manyP50Ms: medianOf(runs.many ?? [], (r) => r.chunkLatencyMs.p50),
    manyP99Ms: medianOf(runs.many ?? [], (r) => r.chunkLatencyMs.p99),
    manyErrors: sumOf(runs.many ?? [], (r) => r.errorCount),
    manyRss: { api: maxOf(runs.many ?? [], (r) => r.peakRssMiB.api), worker: maxOf(runs.many ?? [], (r) => r.peakRssMiB.worker) },
    concurrentMibPerSecond: medianOf(runs.concurrent, (r) => r.mibPerSecond),
    concurrentAllCompletedSeconds: medianOf(runs.concurrent, (r) => r.allCompletedSeconds),
    concurrentP50Ms: medianOf(runs.concurrent, (r) => r.chunkLatencyMs.p50),
    concurrentP99Ms: medianOf(runs.concurrent, (r) => r.chunkLatencyMs.p99),
    // Retried chunk errors of the single-file runs: their figures include the retries.
    singleFileChunkErrors: sumOf([...runs.single, ...runs.parallel, ...runs.singleSmall], (r) => r.errorCount),
    concurrentErrors: sumOf(runs.concurrent, (r) => r.errorCount),
  };
  const ratios = {
    singleVsTus: m.single / m.tus,
    singleVsTusSameReading: m.single / m.tusSameReading,
    tusSameReadingVsTus: m.tusSameReading / m.tus,
    serviceTusVsTus: m.serviceTus / m.tus,
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
  // null: not measured in this run (BENCH_ONLY).
  const judge = (value, ok) => (Number.isFinite(value) ? ok(value) : null);
  const pass = {
    sdkVsTus: judge(ratios.sdkVsTus, (v) => v >= TARGETS.sdkVsTus),
    ackToCompletedVsSha256: judge(ratios.ackToCompletedVsSha256, (v) => v <= TARGETS.ackToCompletedVsSha256),
    singleVsTus: judge(ratios.singleVsTus, (v) => v >= TARGETS.singleVsTus),
    singleVsBare: judge(ratios.singleVsBare, (v) => v >= TARGETS.singleVsBare),
    serviceTusVsTus: judge(ratios.serviceTusVsTus, (v) => v >= TARGETS.serviceTusVsTus),
    concurrentApiRss: judge(m.rss.concurrent.api, (v) => v < TARGETS.peakRssMiB),
    concurrentErrors: judge(m.concurrentErrors, (v) => v === TARGETS.concurrentErrors),
    manyErrors: judge(m.manyErrors, (v) => v === TARGETS.concurrentErrors),
  };
  return { medians: m, ratios, targets: TARGETS, pass };
}

const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const verdict = (ok) => (ok === null || ok === undefined ? '' : ok ? 'PASS' : 'FAIL');

/**
 * Rows of [figure, median, unit, ratio, target, result]. Rows of measurements this run did not
 * take (BENCH_ONLY) are left out, and so are ratios to them.
 */
function tableRows(settings, summary) {
  return goalRows(settings, summary).filter(([figure, median, , ratio]) => !median.includes('n/a') && !ratio.includes('n/a') && !(figure === '' && ratio === ''));
}

function goalRows(settings, { medians: m, ratios: r, pass }) {
  const full = sizeLabel(settings.fileSize);
  const small = sizeLabel(settings.smallFileSize);
  const x = (value) => `${fixed(value, 2)}x`;
  const rssRow = (who, size, mib) => [`${who} peak RSS, 1 stream @ ${size}`, fixed(mib), 'MiB', '', `< ${TARGETS.peakRssMiB} MiB`, verdict(Number.isFinite(mib) ? mib < TARGETS.peakRssMiB : null)];
  const { concurrent, many } = settings;
  const concurrentLabel = `${concurrent.uploads} x ${sizeLabel(concurrent.fileSize)} in ${sizeLabel(concurrent.chunkSize)} chunks`;
  const manyLabel = `${many.uploads} x ${sizeLabel(many.fileSize)} in ${sizeLabel(many.chunkSize)} chunks`;
  return [
    [`raw write + fdatasync each chunk @ ${full}`, fixed(m.rawWriteSyncEachChunk), 'MiB/s', '', 'info', ''],
    [`raw write + one fdatasync @ ${full}`, fixed(m.rawWriteSyncAtEnd), 'MiB/s', '', 'info', ''],
    [`raw O_DIRECT write + fdatasync each chunk @ ${full}`, fixed(m.rawWriteDirect), 'MiB/s', '', 'info', ''],
    [`raw O_DIRECT write + one fdatasync @ ${full}`, fixed(m.rawWriteDirectSyncAtEnd), 'MiB/s', '', 'info', ''],
    [`SHA-256 pass @ ${full}`, fixed(m.sha256Seconds, 2), 's', '1.00x', 'baseline', ''],
    ['HTTP alone (body dropped), 1 stream', fixed(m.httpAlone), 'MiB/s', '', 'info', ''],
    ['bare HTTP + SHA-256 + page-cache write, 1 stream', fixed(m.bare), 'MiB/s', '1.00x', 'baseline', ''],
    [`@tus/server + file-store, tus-js-client reading the file`, fixed(m.tus), 'MiB/s', '1.00x', 'baseline', ''],
    ['', '', '', `${x(r.tusVsBare)} bare`, 'info', ''],
    [`@tus/server + file-store, chunks read as this service's client reads them`, fixed(m.tusSameReading), 'MiB/s', `${x(r.tusSameReadingVsTus)} tus`, 'info', ''],
    [`SDK upload() of ${full}, defaults, until completed`, fixed(m.sdk), 'MiB/s', `${x(r.sdkVsTus)} tus`, `>= ${TARGETS.sdkVsTus}x tus`, verdict(pass.sdkVsTus)],
    [`last ack -> completed, 1 stream @ ${full}`, fixed(m.singleAckToCompleted, 2), 's', `${x(r.ackToCompletedVsSha256)} SHA`, `<= ${TARGETS.ackToCompletedVsSha256}x SHA`, verdict(pass.ackToCompletedVsSha256)],
    [`this service, 1 raw stream @ ${full}`, fixed(m.single), 'MiB/s', `${x(r.singleVsTus)} tus`, `>= ${TARGETS.singleVsTus}x tus`, verdict(pass.singleVsTus)],
    ['', '', '', `${x(r.singleVsBare)} bare`, `>= ${TARGETS.singleVsBare}x bare`, verdict(pass.singleVsBare)],
    ['', '', '', `${x(r.singleVsTusSameReading)} tus, same reading`, 'info', ''],
    ['', '', '', `${x(r.singleVsRawWrite)} raw, ${x(r.singleVsRawWriteDirect)} raw O_DIRECT`, 'info', ''],
    ['', '', '', `${x(r.singleVsHttpAlone)} HTTP alone`, 'info', ''],
    [`tus-js-client -> this service's /files/ (durable, verified)`, fixed(m.serviceTus), 'MiB/s', `${x(r.serviceTusVsTus)} tus`, `>= ${TARGETS.serviceTusVsTus.toFixed(1)}x tus`, verdict(pass.serviceTusVsTus)],
    [`this service, ${settings.parallelStreams} raw streams @ ${full}`, fixed(m.parallel), 'MiB/s', `${x(r.parallelVsTus)} tus`, 'info', ''],
    [`last ack -> completed, ${settings.parallelStreams} streams`, fixed(m.parallelAckToCompleted, 2), 's', `${x(r.parallelAckToCompletedVsSha256)} SHA`, 'info', ''],
    [`API peak RSS, ${concurrentLabel}`, fixed(m.rss.concurrent.api), 'MiB', '', `< ${TARGETS.peakRssMiB} MiB`, verdict(pass.concurrentApiRss)],
    ['  worker peak RSS', fixed(m.rss.concurrent.worker), 'MiB', '', 'info', ''],
    ['  throughput', fixed(m.concurrentMibPerSecond), 'MiB/s', '', 'info', ''],
    ['  chunk latency p50 / p99', `${fixed(m.concurrentP50Ms, 0)} / ${fixed(m.concurrentP99Ms, 0)}`, 'ms', '', 'info', ''],
    ['  errors (all runs)', fixed(m.concurrentErrors, 0), '', '', '0', verdict(pass.concurrentErrors)],
    [`${manyLabel}: errors (all runs)`, fixed(m.manyErrors, 0), '', '', '0', verdict(pass.manyErrors)],
    ['  chunk latency p50 / p99', `${fixed(m.manyP50Ms, 0)} / ${fixed(m.manyP99Ms, 0)}`, 'ms', '', 'p99 reported', ''],
    ['  throughput; all completed after', `${fixed(m.manyMibPerSecond)}; ${fixed(m.manyAllCompletedSeconds, 1)} s`, 'MiB/s', '', 'info', ''],
    ['  API / worker peak RSS', `${fixed(m.manyRss.api)} / ${fixed(m.manyRss.worker)}`, 'MiB', '', 'info', ''],
    ...(small === full ? [] : [[`this service, 1 stream @ ${small}`, fixed(m.singleSmall), 'MiB/s', '', 'info', '']]),
    // When BENCH_SIZE is the small size itself, its rows would only repeat the next two.
    ...(small === full ? [] : [rssRow('API', small, m.rss.small.api), rssRow('worker', small, m.rss.small.worker)]),
    rssRow('API', full, m.rss.full.api),
    rssRow('worker', full, m.rss.full.worker),
    ['chunk errors (retried), single-file runs', fixed(m.singleFileChunkErrors, 0), '', '', 'info', ''],
    ['tus server peak RSS', fixed(m.tusPeakRssMiB), 'MiB', '', 'info', ''],
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
