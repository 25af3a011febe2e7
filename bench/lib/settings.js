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

function readSettings(env = process.env) {
  return {
    // The S3 rows: `auto` when Ceph's gateway is installed, `only` skips everything else.
    s3: parseS3(env.BENCH_S3 || 'auto'),
    s3FileSize: parseSize(env.BENCH_S3_SIZE || '256m'),
    fileSize: parseSize(env.BENCH_SIZE || '1g'),
    runs: parseRuns(env.BENCH_RUNS || '3'),
    chunkSize: 8 * MiB,
    parallelStreams: 4,
    // The memory check compares this size with fileSize.
    smallFileSize: 256 * MiB,
    concurrent: { uploads: 100, fileSize: 16 * MiB, chunkSize: MiB },
    // Where the random files, the service's STORAGE_DIR, the tus directory and the raw write go:
    // one parent directory, so every figure comes from the same disk.
    parentDir: env.BENCH_DIR || require('node:os').tmpdir(),
    statusPollMs: 20,
  };
}

module.exports = { MiB, parseSize, readSettings };
