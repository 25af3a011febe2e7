// A client of this service as the README describes it: initiate, PUT each chunk streamed from
// the file with Content-Range, then poll the status until `completed`.
'use strict';

const { Buffer } = require('node:buffer');
const { open } = require('node:fs/promises');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');

// Keep-alive, no socket limit: the 100-upload test must really have 100 requests in flight.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** The answer's JSON, or its first characters when it is not JSON (a proxy's error page). */
function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { raw: text.slice(0, 200) };
  }
}

/**
 * Sends one HTTP request; `body` is a Buffer, nothing, or a function that resolves the Buffer
 * (called once the headers are out). Resolves { status, json }.
 */
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const parts = [];
      res.on('data', (part) => parts.push(part));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        resolve({ status: res.statusCode, json: parseJson(text) });
      });
      res.on('error', reject);
    });
    // Whether a keep-alive socket was reused tells a connection that failed to open from one
    // the server closed between requests.
    req.on('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    if (typeof body === 'function') {
      // Headers go out now, not with the body: the server validates the request and claims
      // the chunk while this side reads it from the file, as curl -T does.
      req.flushHeaders();
      body().then(
        (bytes) => req.end(bytes),
        (error) => req.destroy(error),
      );
    } else {
      req.end(body);
    }
  });
}

async function initiate(baseUrl, fileName, fileSize, chunkSize) {
  const body = Buffer.from(JSON.stringify({ fileName, fileSize, chunkSize }));
  const { status, json } = await request(`${baseUrl}/resumable-upload/initiate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
    body,
  });
  if (status !== 201) throw new Error(`initiate answered ${status}: ${JSON.stringify(json)}`);
  return json;
}

/** The chunk grid of the contract: chunk i covers [i*chunkSize, min((i+1)*chunkSize, fileSize) - 1]. */
function chunkRange(index, chunkSize, fileSize) {
  const start = index * chunkSize;
  return { start, end: Math.min(start + chunkSize, fileSize) - 1 };
}

/** Reads bytes [start, end] of the file into `memory` (at least that long); resolves the part of it they fill. */
async function readRange(filePath, start, end, memory) {
  const length = end - start + 1;
  const file = await open(filePath, 'r');
  try {
    for (let filled = 0; filled < length; ) {
      const { bytesRead } = await file.read(memory, filled, length - filled, start + filled);
      if (bytesRead === 0) throw new Error(`${filePath} ended at byte ${start + filled}`);
      filled += bytesRead;
    }
  } finally {
    await file.close();
  }
  return memory.subarray(0, length);
}

/**
 * Memory to read chunks into, one per stream of requests, reused from one chunk to the next.
 * Fresh memory for every read (what createReadStream allocates) costs a page fault per 4 KiB:
 * on a 2-core VM, about 2.5 ms of kernel time per MiB, more than the server under test spent,
 * and how much of it a run paid swung with the allocator, so runs measured the client.
 */
class ChunkMemory {
  constructor(size) {
    this.size = size;
    this.memory = null;
  }

  /** The memory, once it is free again (after a 200: the server has read every byte of it). */
  take() {
    this.memory ??= Buffer.allocUnsafeSlow(this.size);
    return this.memory;
  }

  /** After any other answer, part of the body may still wait in a socket's queue: never reuse it. */
  abandon() {
    this.memory = null;
  }
}

/**
 * PUTs one chunk, read from the file into `memory` (or, given `fileBytes`, the whole file already
 * in memory, sent from there); resolves { status, json, latencyMs }.
 */
async function putChunk(session, filePath, index, fileSize, memory, fileBytes) {
  const { start, end } = chunkRange(index, session.chunkSize, fileSize);
  const began = performance.now();
  const answer = await request(session.uploadUrl, {
    method: 'PUT',
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': end - start + 1,
      'Content-Range': `bytes ${start}-${end}/${fileSize}`,
    },
    body: fileBytes ? () => Promise.resolve(fileBytes.subarray(start, end + 1)) : () => readRange(filePath, start, end, memory.take()),
  });
  if (answer.status !== 200) memory?.abandon();
  return { ...answer, latencyMs: performance.now() - began };
}

const MAX_ATTEMPTS = 3;

/**
 * PUTs one chunk until it is acknowledged. Every attempt's latency and every failed attempt go
 * to `observed`, so an error is reported without one retryable answer wasting a long run.
 */
async function putChunkUntilAcknowledged(session, filePath, index, fileSize, memory, observed, fileBytes) {
  for (let attempt = 1; ; attempt++) {
    const answer = await putChunk(session, filePath, index, fileSize, memory, fileBytes).catch((error) => {
      memory?.abandon();
      return { status: 0, json: { error: error.message, reusedSocket: error.reusedSocket } };
    });
    if (answer.latencyMs !== undefined) observed.latenciesMs.push(answer.latencyMs);
    if (answer.status === 200) return;
    observed.errors.push({ uploadId: session.uploadId, chunk: index, attempt, status: answer.status, answer: answer.json });
    if (attempt === MAX_ATTEMPTS) throw new Error(`chunk ${index} failed ${MAX_ATTEMPTS} times, last with ${answer.status} ${JSON.stringify(answer.json)}`);
  }
}

/**
 * Sends chunks `indexes` with `streams` requests in flight at a time; resolves at the last
 * acknowledgement. `fileBytes`, the whole (small) file in memory, spares many uploads of the
 * same file a chunk of memory each.
 */
async function sendChunks(session, filePath, fileSize, indexes, streams, observed, fileBytes = null) {
  let next = 0;
  const stream = async () => {
    const memory = fileBytes ? null : new ChunkMemory(session.chunkSize);
    while (next < indexes.length) await putChunkUntilAcknowledged(session, filePath, indexes[next++], fileSize, memory, observed, fileBytes);
  };
  await Promise.all(Array.from({ length: streams }, stream));
}

/** Polls the status every `intervalMs` until completed; throws on failed or after `timeoutMs`. */
async function waitUntilCompleted(session, intervalMs, timeoutMs = 10 * 60_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { status, json } = await request(session.statusUrl);
    if (status === 200 && json.status === 'completed') return performance.now();
    if (status !== 200 || !['uploading', 'assembling'].includes(json.status)) {
      throw new Error(`upload ${session.uploadId} ended as ${status} ${JSON.stringify(json)}`);
    }
    if (performance.now() > deadline) throw new Error(`upload ${session.uploadId} not completed within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Aborting removes the stored bytes, so runs do not fill the disk; the answer does not matter. */
async function discard(baseUrl, session) {
  await request(`${baseUrl}/resumable-upload/uploads/${session.uploadId}`, { method: 'DELETE' }).catch(() => undefined);
}

module.exports = { initiate, sendChunks, waitUntilCompleted, discard, request, readRange, agent };
