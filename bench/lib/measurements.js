// One run of each measurement. Every function returns plain numbers for the JSON report.
'use strict';

const { Buffer } = require('node:buffer');
const { createHash } = require('node:crypto');
const { constants, createReadStream } = require('node:fs');
const { open, readFile, rm } = require('node:fs/promises');
const { performance } = require('node:perf_hooks');
const { MiB } = require('./settings');
const { trackPeakRss } = require('./processes');
const { percentile } = require('./stats');
const client = require('./service-client');
// The service's own helper, from the build `npm run bench` makes first.
const { pageAlignedMemory } = require('../../dist/libs/storage/src/page-aligned-memory');

const seconds = (ms) => ms / 1000;
const mibPerSecond = (bytes, ms) => bytes / MiB / seconds(ms);

/**
 * One file through this service: `streams` chunk requests in flight at a time, then the wait
 * for `completed`. Upload time runs from the first chunk request to the last acknowledgement.
 */
async function serviceUpload({ baseUrl, filePath, fileSize, chunkSize, streams, pollMs, processes }) {
  const memory = trackPeakRss(processes);
  try {
    const session = await client.initiate(baseUrl, `bench-${fileSize}.bin`, fileSize, chunkSize);
    const indexes = Array.from({ length: session.totalChunks }, (_, i) => i);
    const observed = { latenciesMs: [], errors: [] };
    const began = performance.now();
    await client.sendChunks(session, filePath, fileSize, indexes, streams, observed);
    const lastAck = performance.now();
    const completed = await client.waitUntilCompleted(session, pollMs);
    const peakRssMiB = memory.finish();
    await client.discard(baseUrl, session);
    return {
      uploadSeconds: seconds(lastAck - began),
      mibPerSecond: mibPerSecond(fileSize, lastAck - began),
      ackToCompletedSeconds: seconds(completed - lastAck),
      peakRssMiB,
      errorCount: observed.errors.length,
      errors: observed.errors.slice(0, 20),
    };
  } finally {
    memory.finish();
  }
}

/** Reads the file in blocks of `blockSize` and hands each one to `use` (awaited). */
async function forEachBlock(filePath, blockSize, use) {
  const handle = await open(filePath, 'r');
  const block = Buffer.alloc(blockSize);
  try {
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(block, 0, blockSize, position);
      if (bytesRead === 0) return;
      await use(block.subarray(0, bytesRead), position);
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * The disk's own speed: the file copied to `targetPath` in chunk-sized writes, made durable
 * with fdatasync after every chunk (what the service promises before each ack) or once at the
 * end. `direct` writes around the page cache (O_DIRECT) from page-aligned memory, as the
 * service does on disks that allow it.
 */
async function rawWrite(filePath, targetPath, chunkSize, { syncEveryChunk, direct = false }) {
  const target = await open(targetPath, direct ? constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT : 'w');
  const aligned = direct ? Buffer.from(pageAlignedMemory(chunkSize), 0, chunkSize) : null;
  const began = performance.now();
  let bytes = 0;
  try {
    await forEachBlock(filePath, chunkSize, async (block, position) => {
      if (aligned && block.length % 4096 === 0) {
        block.copy(aligned);
        await target.write(aligned, 0, block.length, position);
      } else if (aligned) {
        // A last block that is not a whole number of disk blocks: the page cache takes it.
        const tail = await open(targetPath, 'r+');
        try {
          await tail.write(block, 0, block.length, position);
          await tail.datasync();
        } finally {
          await tail.close();
        }
      } else {
        await target.write(block, 0, block.length, position);
      }
      if (syncEveryChunk) await target.datasync();
      bytes += block.length;
    });
    if (!syncEveryChunk) await target.datasync();
  } finally {
    await target.close();
  }
  const elapsed = performance.now() - began;
  await rm(targetPath, { force: true });
  return { seconds: seconds(elapsed), mibPerSecond: mibPerSecond(bytes, elapsed) };
}

/** One SHA-256 pass over the file: the least work a verifying assembly can do. */
async function sha256Pass(filePath) {
  const hash = createHash('sha256');
  let bytes = 0;
  const began = performance.now();
  await forEachBlock(filePath, MiB, (block) => {
    hash.update(block);
    bytes += block.length;
  });
  hash.digest();
  const elapsed = performance.now() - began;
  return { seconds: seconds(elapsed), mibPerSecond: mibPerSecond(bytes, elapsed) };
}

/**
 * The same file sent by tus-js-client to @tus/server + @tus/file-store, same chunk size. With
 * `readLikeServiceClient`, tus-js-client gets the file's chunks as this service's client reads
 * them, into one buffer reused from chunk to chunk, instead of reading them itself (a
 * ReadStream per chunk): the two servers then get the same client-side reading.
 */
async function tusUpload({ tusUrl, filePath, fileSize, chunkSize, tusProcess, readLikeServiceClient = false }) {
  const memory = trackPeakRss([tusProcess]);
  try {
    const source = readLikeServiceClient ? reusedMemorySource(filePath, fileSize, chunkSize) : { input: createReadStream(filePath) };
    return await timeTusUpload(tusUrl, source, fileSize, chunkSize, memory);
  } finally {
    memory.finish();
  }
}

/**
 * A tus-js-client file reader that reads each chunk into the same buffer. It asks for the next
 * chunk only once the previous one is acknowledged, so the buffer is free by then.
 */
function reusedMemorySource(filePath, fileSize, chunkSize) {
  const buffer = Buffer.allocUnsafeSlow(chunkSize);
  const file = {
    size: fileSize,
    async slice(start, end) {
      const value = await client.readRange(filePath, start, Math.min(end, fileSize) - 1, buffer);
      // tus-js-client reads the chunk's length from `size`, as on its own sources.
      value.size = value.length;
      return { value, done: end >= fileSize };
    },
    close() {},
  };
  return { input: filePath, fileReader: { openFile: async () => file } };
}

async function timeTusUpload(tusUrl, source, fileSize, chunkSize, memory) {
  const { Upload } = require('tus-js-client');
  const began = performance.now();
  const uploadUrl = await new Promise((resolve, reject) => {
    const upload = new Upload(source.input, {
      ...(source.fileReader ? { fileReader: source.fileReader } : {}),
      endpoint: tusUrl,
      chunkSize,
      uploadSize: fileSize,
      retryDelays: null,
      // No resume lookups between runs: every run is a fresh upload.
      storeFingerprintForResuming: false,
      metadata: { filename: `bench-${fileSize}.bin` },
      onError: reject,
      onSuccess: () => resolve(upload.url),
    });
    upload.start();
  });
  const elapsed = performance.now() - began;
  const peakRssMiB = memory.finish();
  await client.request(uploadUrl, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } }).catch(() => undefined);
  return { uploadSeconds: seconds(elapsed), mibPerSecond: mibPerSecond(fileSize, elapsed), peakRssMiB };
}

/**
 * One file through this service's own SDK (its Node entry, as the CLI uses it) with its default
 * of 4 chunks in flight: the whole `upload()` call, which hashes the file from the reads that
 * send it, sends every chunk with its Content-Digest, declares the SHA-256 before the last
 * chunk and returns once the file is `completed`.
 */
async function sdkUpload({ baseUrl, filePath, fileSize, chunkSize }) {
  const { upload } = require('../../dist/libs/client/src/node');
  const began = performance.now();
  const result = await upload(filePath, { endpoint: baseUrl, chunkSize, fileName: `bench-sdk-${fileSize}.bin` });
  const elapsed = performance.now() - began;
  await client.discard(baseUrl, result);
  return { seconds: seconds(elapsed), mibPerSecond: mibPerSecond(fileSize, elapsed) };
}

/**
 * The same client, chunk size and chunk order against bench/bare-server.mjs: what HTTP plus
 * SHA-256 plus a page-cache write cost on this machine, with nothing else (or, at its discard
 * URL, HTTP alone, with no `targetPath`). Time from the first chunk request to the last answer.
 */
async function bareUpload({ url, filePath, fileSize, chunkSize, targetPath }) {
  const session = { uploadId: 'bare', uploadUrl: url, chunkSize };
  const observed = { latenciesMs: [], errors: [] };
  const indexes = Array.from({ length: Math.ceil(fileSize / chunkSize) }, (_, i) => i);
  const began = performance.now();
  await client.sendChunks(session, filePath, fileSize, indexes, 1, observed);
  const elapsed = performance.now() - began;
  if (targetPath) await rm(targetPath, { force: true });
  return { seconds: seconds(elapsed), mibPerSecond: mibPerSecond(fileSize, elapsed), errorCount: observed.errors.length };
}

/**
 * Many small uploads at once, each its own sequential stream of chunks, all sent from one copy
 * of the file in memory. Every failed chunk attempt (retried up to 3 times), failed initiate
 * and upload that never completes is an error.
 */
async function concurrentUploads({ baseUrl, filePath, uploads, fileSize, chunkSize, processes }) {
  const memory = trackPeakRss(processes);
  const observed = { latenciesMs: [], errors: [] };
  const sessions = [];
  const fileBytes = await readFile(filePath);
  try {
    const failedAt = (step) => (error) => {
      throw Object.assign(error, { step });
    };
    const oneUpload = async (n) => {
      const session = await client.initiate(baseUrl, `bench-concurrent-${n}.bin`, fileSize, chunkSize).catch(failedAt('initiate'));
      sessions.push(session);
      await client.sendChunks(session, filePath, fileSize, Array.from({ length: session.totalChunks }, (_, i) => i), 1, observed, fileBytes);
      return session;
    };
    const began = performance.now();
    const sent = await Promise.allSettled(Array.from({ length: uploads }, (_, n) => oneUpload(n)));
    const lastAck = performance.now();
    // Slower polling the more uploads there are: 1,000 uploads polled every 20 ms would be a load test of its own.
    const acknowledged = sent.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const finished = await Promise.allSettled(
      acknowledged.map((session) => client.waitUntilCompleted(session, Math.max(200, uploads), 10 * 60_000).catch(failedAt('status'))),
    );
    const allCompleted = performance.now();
    for (const r of [...sent, ...finished]) {
      if (r.status === 'rejected') observed.errors.push({ step: r.reason.step ?? 'chunks', error: r.reason.message, reusedSocket: r.reason.reusedSocket });
    }
    return {
      seconds: seconds(lastAck - began),
      mibPerSecond: mibPerSecond(uploads * fileSize, lastAck - began),
      allCompletedSeconds: seconds(allCompleted - began),
      chunkLatencyMs: { p50: percentile(observed.latenciesMs, 50), p99: percentile(observed.latenciesMs, 99), max: Math.max(...observed.latenciesMs), count: observed.latenciesMs.length },
      errorCount: observed.errors.length,
      errors: observed.errors.slice(0, 20),
      peakRssMiB: memory.finish(),
    };
  } finally {
    memory.finish();
    await Promise.all(sessions.map((session) => client.discard(baseUrl, session)));
  }
}

module.exports = { serviceUpload, sdkUpload, rawWrite, sha256Pass, tusUpload, bareUpload, concurrentUploads };
