// Everything the benchmark creates outside its own memory (database, Redis keys, files), and
// the undo list that removes it again, on success, on an error and on Ctrl+C.
'use strict';

const { Buffer } = require('node:buffer');
const { execFile } = require('node:child_process');
const { randomBytes, randomFill } = require('node:crypto');
const { mkdtemp, open, rm } = require('node:fs/promises');
const { join } = require('node:path');
const { URL } = require('node:url');
const { promisify } = require('node:util');
const Redis = require('ioredis');
const { Client } = require('pg');

const fillRandom = promisify(randomFill);

/** Undo steps, run last-in first-out exactly once; a failing step does not stop the others. */
function createCleanup() {
  const steps = [];
  let done = null;
  return {
    add(what, step) {
      steps.push({ what, step });
    },
    run() {
      done ??= (async () => {
        while (steps.length > 0) {
          const { what, step } = steps.pop();
          await step().catch((error) => console.error(`[bench] cleanup: could not ${what}: ${error.message}`));
        }
      })();
      return done;
    },
  };
}

async function withPg(adminUrl, work) {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the server DATABASE_URL points at (default: the local one). */
async function createDatabase(cleanup) {
  const serverUrl = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `ru_bench_${randomBytes(6).toString('hex')}`;
  serverUrl.pathname = '/postgres';
  await withPg(serverUrl.href, (client) => client.query(`CREATE DATABASE "${name}"`));
  // FORCE: a process that did not stop cleanly may still hold a connection.
  cleanup.add(`drop database ${name}`, () => withPg(serverUrl.href, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
  const databaseUrl = new URL(serverUrl.href);
  databaseUrl.pathname = `/${name}`;
  return { name, url: databaseUrl.href };
}

async function deleteKeys(redisUrl, prefix) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A Redis key prefix nobody else uses; its keys are deleted at the end. */
function reserveRedisPrefix(cleanup) {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `ru-bench-${randomBytes(6).toString('hex')}`;
  cleanup.add(`delete Redis keys ${prefix}:*`, () => deleteKeys(url, prefix));
  return { url, prefix };
}

async function createWorkDir(parentDir, cleanup) {
  const dir = await mkdtemp(join(parentDir, 'resumable-upload-bench-'));
  cleanup.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A file of random bytes (incompressible, so no layer can cheat), written in 8 MiB blocks. */
async function writeRandomFile(path, size) {
  const handle = await open(path, 'w');
  try {
    const block = Buffer.alloc(8 * 1024 * 1024);
    for (let offset = 0; offset < size; offset += block.length) {
      const length = Math.min(block.length, size - offset);
      await fillRandom(block, 0, length);
      await handle.write(block, 0, length, offset);
    }
    // On disk before any measurement, so none of them pays for its writeback.
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return path;
}

/**
 * Writes every dirty page to disk (`sync`), before each measurement: what one contender left
 * in the page cache (tus and the bare server never sync) must not be written back during the
 * next one, whose own fdatasyncs would wait for it.
 */
async function settleDisk() {
  await promisify(execFile)('sync').catch(() => undefined);
}

module.exports = { createCleanup, createDatabase, reserveRedisPrefix, createWorkDir, writeRandomFile, settleDisk };
