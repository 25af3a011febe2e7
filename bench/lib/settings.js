// What the benchmark measures, read once from the environment.
'use strict';

const MiB = 1024 * 1024;
const UNITS = { '': 1, b: 1, k: 1024, m: MiB, g: 1024 * MiB };

/** `1g`, `256m`, `512k`, `1048576` → bytes (binary units, as the service's own settings). */
function parseSize(text) {
  const match = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(String(text).trim());
  if (!match) throw new Error(`BENCH_SIZE must look like 64m, 256m or 1g, not "${text}"`);
  const bytes = Number(match[1]) * UNITS[match[2].toLowerCase()];
  if (bytes < MiB) throw new Error('BENCH_SIZE must be at least 1 MiB');
  return bytes;
}

function parseRuns(text) {
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_RUNS must be a whole number of at least 1, not "${text}"`);
  return runs;
}

function parseS3(text) {
  if (['auto', 'on', 'off', 'only'].includes(text)) return text;
  throw new Error(`BENCH_S3 must be auto, on, off or only, not "${text}"`);
}

/** The measurements BENCH_ONLY can name. A ratio needs both of its measurements named (`single,tus`). */
const MEASUREMENTS = ['raw', 'sha256', 'http', 'tus', 'service-tus', 'single', 'parallel', 'sdk', 'small', 'concurrent', 'many', 's3'];

/** `sdk,tus` → a Set of measurement names; empty or unset → null (everything). */
function parseOnly(text) {
  if (!text || !text.trim()) return null;
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !MEASUREMENTS.includes(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names ${unknown.join(', ')}; it takes a comma-separated list of ${MEASUREMENTS.join(', ')}`);
  return new Set(names);
}

function readSettings(env = process.env) {
  const only = parseOnly(env.BENCH_ONLY);
  return {
    // Which measurements run: null for all of them.
    only: only && [...only],
    // The S3 rows: `auto` when Ceph's gateway is installed, `only` skips everything else.
    s3: only ? (!only.has('s3') ? 'off' : only.size === 1 ? 'only' : 'on') : parseS3(env.BENCH_S3 || 'auto'),
    s3FileSize: parseSize(env.BENCH_S3_SIZE || '256m'),
    fileSize: parseSize(env.BENCH_SIZE || '1g'),
    runs: parseRuns(env.BENCH_RUNS || '3'),
    chunkSize: 8 * MiB,
    parallelStreams: 4,
    // The memory check compares this size with fileSize.
    smallFileSize: 256 * MiB,
    // Peak memory under load: many chunks in flight at once, each its own upload.
    concurrent: { uploads: 100, fileSize: 16 * MiB, chunkSize: MiB },
    // Many clients at once: every upload's initiate, chunks, status polls and assembly.
    many: { uploads: 1000, fileSize: 4 * MiB, chunkSize: MiB },
    // Where the random files, the service's STORAGE_DIR, the tus directory and the raw write go:
    // one parent directory, so every figure comes from the same disk.
    parentDir: env.BENCH_DIR || require('node:os').tmpdir(),
    statusPollMs: 20,
  };
}

/** Whether BENCH_ONLY lets the named measurement run. */
function wanted(settings, name) {
  return settings.only === null || settings.only.includes(name);
}

module.exports = { MiB, MEASUREMENTS, parseSize, readSettings, wanted };
