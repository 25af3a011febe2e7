import { createHash, randomInt } from 'node:crypto';
import { sleep } from './processes';
import { Stack } from './stack';
import { JsonResponse, UploadClient, sha256 } from './upload-client';

/** How many faults a suite injects: at least `minimum`, more with FAULT_INJECTIONS=<n>. */
export function injections(minimum: number): number {
  const asked = Number(process.env.FAULT_INJECTIONS);
  return Number.isSafeInteger(asked) && asked > minimum ? asked : minimum;
}

/** Recovery times for the suite's log: "min / median / max" in seconds. */
export function describeTimes(milliseconds: number[]): string {
  if (milliseconds.length === 0) return 'none measured';
  const sorted = [...milliseconds].sort((a, b) => a - b);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return `min ${seconds(sorted[0])}, median ${seconds(sorted[Math.floor(sorted.length / 2)])}, max ${seconds(sorted[sorted.length - 1])}`;
}

/** A random integer in [min, max]. */
export function between(min: number, max: number): number {
  return randomInt(min, max + 1);
}

/**
 * Sends a chunk the way a well-behaved client does after a failure: on `409 CHUNK_IN_PROGRESS`
 * (a dead writer's lease has not lapsed yet) and `503` it waits and retries; a `409
 * UPLOAD_NOT_ACCEPTING` from an upload already assembling means the lost attempt had counted.
 * Anything else fails the test.
 */
export async function putUntilAccepted(client: UploadClient, uploadId: string, file: Buffer, index: number, chunkSize: number, timeoutMs = 60_000): Promise<JsonResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response: JsonResponse = await client.putChunk(uploadId, file, index, chunkSize).catch((error: Error) => ({ status: 0, headers: new Headers(), body: { message: error.message } }));
    if (response.status === 200) return response;
    // The chunk was recorded before the failure, and it was the last one: the upload moved on.
    if (response.body?.code === 'UPLOAD_NOT_ACCEPTING' && ['assembling', 'completed'].includes(response.body.status)) return response;
    // 502/504: a load balancer whose replica died under the request.
    const retryable = [0, 502, 503, 504].includes(response.status) || (response.status === 409 && response.body?.code === 'CHUNK_IN_PROGRESS');
    if (!retryable || Date.now() > deadline) throw new Error(`chunk ${index} of ${uploadId}: ${response.status} ${JSON.stringify(response.body)}`);
    await sleep(100);
  }
}

/** The SHA-256 of each grid chunk of `file`. */
export function chunkHashes(file: Buffer, chunkSize: number): string[] {
  const hashes: string[] = [];
  for (let start = 0; start < file.length; start += chunkSize) hashes.push(sha256(file.subarray(start, start + chunkSize)));
  return hashes;
}

/** What Postgres recorded for each chunk of an upload: index → sha256. */
export async function recordedHashes(stack: Pick<Stack, 'db'>, uploadId: string): Promise<Map<number, string>> {
  const { rows } = await stack.db.query<{ chunk_index: number; sha256: string }>('SELECT chunk_index, sha256 FROM upload_chunks WHERE upload_id = $1', [uploadId]);
  return new Map(rows.map((row) => [row.chunk_index, row.sha256]));
}

/**
 * The end of every fault case: the upload is completed, its download is the file byte for byte,
 * every chunk record names the bytes really stored, and no unpublished bytes (a part file, an
 * open multipart upload) are left behind.
 */
export async function expectDelivered(stack: Pick<Stack, 'db' | 'store'>, client: UploadClient, uploadId: string, file: Buffer, chunkSize: number): Promise<void> {
  const status = await client.waitForStatus(uploadId, ['completed', 'failed'], 120_000);
  expect(status).toMatchObject({ status: 'completed', sha256: sha256(file) });
  const download = await client.download(uploadId);
  expect(download.status).toBe(200);
  expect(download.data.length).toBe(file.length);
  expect(createHash('sha256').update(download.data).digest('hex')).toBe(sha256(file));
  const recorded = await recordedHashes(stack, uploadId);
  expect([...recorded.keys()].sort((a, b) => a - b)).toEqual(chunkHashes(file, chunkSize).map((_, index) => index));
  chunkHashes(file, chunkSize).forEach((hash, index) => expect(recorded.get(index)).toBe(hash));
  expect(await stack.store.holdsUnpublished(uploadId)).toBe(false);
}
