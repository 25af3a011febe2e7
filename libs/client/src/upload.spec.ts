import { createHash } from 'node:crypto';
import { MemoryFingerprintStore, storeKey } from './fingerprint-store';
import { nodeSha256 } from './node-hashing';
import { bytesSource, fingerprintOf } from './source';
import { uploadWith } from './upload';

const CHUNK = 256 * 1024;
const ENDPOINT = 'http://api.test';

/**
 * A one-upload server in memory, just enough of the contract for upload() to finish: it
 * starts with `received` chunks of session `uploadId`, and logs each request in `events`.
 */
function fakeServer(file: Uint8Array, uploadId: string, received: number[], events: string[]) {
  const total = Math.ceil(file.length / CHUNK);
  const stored = new Set(received);
  let completed = false;
  const statusBody = () => {
    const missingChunks = Array.from({ length: total }, (_, index) => index).filter((index) => !stored.has(index));
    const sha256 = completed ? createHash('sha256').update(file).digest('hex') : null;
    return { uploadId, fileSize: file.length, chunkSize: CHUNK, totalChunks: total, status: completed ? 'completed' : 'uploading', receivedChunks: stored.size, receivedBytes: 0, missingChunks, sha256, error: null };
  };
  const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  return (async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname.replace('/resumable-upload', '');
    events.push(`${init.method} ${path}`);
    if (path === '/initiate') return answer(201, { uploadId, chunkSize: CHUNK, totalChunks: total });
    if (path === '/chunk') {
      const range = (init.headers as Record<string, string>)['content-range'];
      stored.add(Number(/^bytes (\d+)-/.exec(range)?.[1]) / CHUNK);
      return answer(200, {});
    }
    if (path.endsWith('/complete')) {
      completed = true;
      return answer(200, statusBody());
    }
    return answer(200, statusBody());
  }) as typeof fetch;
}

function uploadBytes(file: Uint8Array, options: { fetch: typeof fetch; store: MemoryFingerprintStore; events: string[] }) {
  return uploadWith({ sha256: nodeSha256, toSource: async (bytes: Uint8Array) => bytesSource(bytes) }, file, {
    endpoint: ENDPOINT,
    fileName: 'f.bin',
    chunkSize: CHUNK,
    parallel: 1,
    fetch: options.fetch,
    fingerprintStore: options.store,
    onSession: (session) => options.events.push(`session ${session.uploadId} resumed=${session.resumed}`),
  });
}

describe('upload() onSession', () => {
  const file = new Uint8Array(CHUNK + 10).map((_, index) => index % 251);

  it('names a new session before its first chunk is sent', async () => {
    const events: string[] = [];
    const result = await uploadBytes(file, { fetch: fakeServer(file, 'u-new', [], events), store: new MemoryFingerprintStore(), events });
    expect(result.uploadId).toBe('u-new');
    expect(events.filter((event) => event.startsWith('session'))).toEqual(['session u-new resumed=false']);
    expect(events.indexOf('session u-new resumed=false')).toBe(events.indexOf('POST /initiate') + 1);
  });

  it('says resumed for a session found through the store, and sends only what it lacks', async () => {
    const events: string[] = [];
    const store = new MemoryFingerprintStore();
    const sha256 = createHash('sha256').update(file).digest('hex');
    await store.set(storeKey(ENDPOINT, fingerprintOf('content', 'f.bin', file.length, sha256)), 'u-old');
    await uploadBytes(file, { fetch: fakeServer(file, 'u-old', [0], events), store, events });
    expect(events.slice(0, 3)).toEqual(['GET /uploads/u-old', 'session u-old resumed=true', 'PUT /chunk']);
    expect(events.filter((event) => event === 'PUT /chunk')).toHaveLength(1);
  });
});
