// The S3 rows of `npm run bench`: the service's S3 storage adapter writing a file's chunks as
// parts (one stream, then several), against raw UploadPart requests of the same file, in the
// same chunks, to the same store in the same run: the store's own limit.
'use strict';

const { existsSync, createReadStream } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { S3Client, CreateMultipartUploadCommand, UploadPartCommand, AbortMultipartUploadCommand } = require('@aws-sdk/client-s3');
const { MiB } = require('./settings');
const { median } = require('./stats');
const { root } = require('../../scripts/app-entries');

const mibPerSecond = (bytes, ms) => bytes / MiB / (ms / 1000);

/** Whether this machine has what the S3 rows need: Ceph's gateway, monitor and OSD. */
function s3Available() {
  return ['/usr/bin/radosgw', '/usr/bin/ceph-mon', '/usr/bin/ceph-osd'].every((path) => existsSync(path));
}

/**
 * The tests' throwaway Ceph RGW (test/support/s3-server.ts), bundled on the fly: the bench
 * runs plain JavaScript and the project has one recipe for a private store, not two.
 */
async function startStore(cleanup) {
  // Inside the project, so the bundle's packages resolve from its node_modules.
  const outfile = join(root, 'dist', 'bench', 's3-server.js');
  await require('esbuild').build({ entryPoints: [join(root, 'test', 'support', 's3-server.ts')], bundle: true, platform: 'node', format: 'cjs', packages: 'external', outfile, logLevel: 'error' });
  const { TestS3Server } = require(outfile);
  const server = await TestS3Server.start();
  cleanup.add('stop the S3 store', () => server.stop());
  const bucket = await server.newBucket();
  return { server, bucket };
}

/** The chunks of the file, `streams` at a time, each handed to `send(index, start, end)`. */
async function inStreams(fileSize, chunkSize, streams, send) {
  const total = Math.ceil(fileSize / chunkSize);
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async () => {
      for (let index = next++; index < total; index = next++) {
        const start = index * chunkSize;
        await send(index, start, Math.min(start + chunkSize, fileSize) - 1);
      }
    }),
  );
  return performance.now() - began;
}

/** Raw UploadPart: the file's chunks streamed from disk with their length, nothing else. */
async function rawParts({ client, bucket, filePath, fileSize, chunkSize, streams }) {
  const key = `bench-raw-${Date.now()}`;
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  try {
    const ms = await inStreams(fileSize, chunkSize, streams, (index, start, end) =>
      client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: createReadStream(filePath, { start, end }), ContentLength: end - start + 1 })),
    );
    return { mibPerSecond: mibPerSecond(fileSize, ms), seconds: ms / 1000 };
  } finally {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
  }
}

/** The adapter: the same chunks through `writeChunk`, then one verification read of the completed object. */
async function adapterParts({ storage, newUploadId, filePath, fileSize, chunkSize, streams }) {
  const upload = { id: newUploadId(), fileSize, chunkSize };
  await storage.create(upload);
  try {
    const chunks = [];
    const ms = await inStreams(fileSize, chunkSize, streams, async (index, start, end) => {
      const { etag } = await storage.writeChunk(upload, { index, offset: start, length: end - start + 1 }, createReadStream(filePath, { start, end }), () => undefined);
      chunks.push({ index, sha256: '', etag });
    });
    const verifyStart = performance.now();
    const verified = await storage.readForVerification(upload, chunks);
    if (verified.kind !== 'read') throw new Error(`the adapter's verification answered ${verified.kind}`);
    return { mibPerSecond: mibPerSecond(fileSize, ms), seconds: ms / 1000, verifyMiBPerSecond: mibPerSecond(fileSize, performance.now() - verifyStart) };
  } finally {
    await storage.remove(upload.id);
  }
}

/** BENCH_RUNS interleaved rounds of raw and adapter, one stream and `parallelStreams`. */
async function measureS3({ settings, filePath, fileSize, cleanup, log }) {
  const { server, bucket } = await startStore(cleanup);
  const access = { region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } };
  const client = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', ...access });
  cleanup.add('close the S3 client', async () => client.destroy());
  const { S3UploadStorage, createS3Clients } = require(join(root, 'dist', 'libs', 'storage', 'src'));
  const { newUploadId } = require(join(root, 'dist', 'libs', 'core', 'src'));
  const s3Settings = { bucket, endpoint: server.endpoint, forcePathStyle: true, prefix: 'bench/', checksums: false };
  const storage = await S3UploadStorage.open(s3Settings, createS3Clients(s3Settings, access));
  cleanup.add('close the S3 storage', async () => storage.close());

  const runs = { raw1: [], adapter1: [], rawN: [], adapterN: [] };
  const common = { bucket, filePath, fileSize, chunkSize: settings.chunkSize };
  for (let round = 1; round <= settings.runs; round++) {
    log(`round ${round}/${settings.runs} S3 (Ceph RGW): raw UploadPart and the S3 adapter, 1 and ${settings.parallelStreams} streams`);
    runs.raw1.push(await rawParts({ ...common, client, streams: 1 }));
    runs.adapter1.push(await adapterParts({ ...common, storage, newUploadId, streams: 1 }));
    runs.rawN.push(await rawParts({ ...common, client, streams: settings.parallelStreams }));
    runs.adapterN.push(await adapterParts({ ...common, storage, newUploadId, streams: settings.parallelStreams }));
  }
  const rate = (list) => median(list.map((run) => run.mibPerSecond));
  const medians = {
    raw1: rate(runs.raw1),
    adapter1: rate(runs.adapter1),
    rawN: rate(runs.rawN),
    adapterN: rate(runs.adapterN),
    verify: median([...runs.adapter1, ...runs.adapterN].map((run) => run.verifyMiBPerSecond)),
  };
  const ratios = { single: medians.adapter1 / medians.raw1, parallel: medians.adapterN / medians.rawN };
  return { medians, ratios, pass: { single: ratios.single >= 0.85, parallel: ratios.parallel >= 0.85 }, runs };
}

function s3TableRows(settings, { medians: m, ratios: r, pass }) {
  const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  return [
    ['S3 (local Ceph RGW), raw UploadPart, 1 stream', fixed(m.raw1), 'MiB/s', '', 'baseline', ''],
    ['S3 adapter writeChunk, 1 stream', fixed(m.adapter1), 'MiB/s', `${fixed(r.single, 2)}x`, '>= 0.85x', verdict(pass.single)],
    [`S3 (local Ceph RGW), raw UploadPart, ${settings.parallelStreams} streams`, fixed(m.rawN), 'MiB/s', '', 'baseline', ''],
    [`S3 adapter writeChunk, ${settings.parallelStreams} streams`, fixed(m.adapterN), 'MiB/s', `${fixed(r.parallel, 2)}x`, '>= 0.85x', verdict(pass.parallel)],
    ['S3 adapter verification read (GetObject + SHA-256s)', fixed(m.verify), 'MiB/s', '', 'info', ''],
  ];
}

module.exports = { s3Available, measureS3, s3TableRows };
