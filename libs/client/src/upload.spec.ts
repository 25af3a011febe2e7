import { createHash } from 'node:crypto';
import { MemoryFingerprintStore, storeKey } from './fingerprint-store';
import { nodeSha256 } from './node-hashing';
import { SourceChangedError } from './errors';
import { bytesSource, fingerprintOf, UploadSource } from './source';
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
      const declared = JSON.parse(init.body as string).sha256;
      if (declared) events.push(`declared ${declared}`);
      const body = statusBody();
      if (body.missingChunks.length > 0) return answer(409, { statusCode: 409, code: 'UPLOAD_INCOMPLETE', message: 'chunks missing', ...body });
      completed = true;
      return answer(200, statusBody());
    }
    if (init.method === 'DELETE') return new Response(null, { status: 204 });
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

describe('upload() of a source hashed while it is sent', () => {
  const file = new Uint8Array(3 * CHUNK + 10).map((_, index) => (index * 7) % 251);
  const sha256 = createHash('sha256').update(file).digest('hex');
  // Read like a file on disk: not hashed first, and able to tell whether it changed meanwhile.
  const streamed = (changed: boolean): UploadSource => ({
    ...bytesSource(file),
    name: 'f.bin',
    hashFirst: false,
    fingerprint: 'path:f.bin',
    assertUnchanged: async () => {
      if (changed) throw new SourceChangedError('f.bin changed while being uploaded.');
    },
  });
  const run = (source: UploadSource, events: string[], received: number[], store: MemoryFingerprintStore, parallel: number) =>
    uploadWith({ sha256: nodeSha256, toSource: async (input: UploadSource) => input }, source, {
      endpoint: ENDPOINT,
      chunkSize: CHUNK,
      parallel,
      fetch: fakeServer(file, 'u-1', received, events),
      fingerprintStore: store,
    });

  it.each([1, 4])('declares the SHA-256 of every chunk, sent or already stored, before the last chunk goes out (parallel %i)', async (parallel) => {
    const events: string[] = [];
    const result = await run(streamed(false), events, [], new MemoryFingerprintStore(), parallel);
    expect(result.sha256).toBe(sha256);
    // The last entry is the complete that asks for assembly, declaring the hash again.
    const sendsAndDeclarations = (log: string[]) => log.filter((event) => event === 'PUT /chunk' || event.startsWith('declared')).slice(0, -1);
    expect(sendsAndDeclarations(events)).toEqual(['PUT /chunk', 'PUT /chunk', 'PUT /chunk', `declared ${sha256}`, 'PUT /chunk']);

    // Resumed with chunks 0 and 3 stored: 3 is read and hashed, never sent, and 2 waits for it.
    const store = new MemoryFingerprintStore();
    await store.set(storeKey(ENDPOINT, 'path:f.bin'), 'u-1');
    const resumed: string[] = [];
    await run(streamed(false), resumed, [0, 3], store, parallel);
    expect(sendsAndDeclarations(resumed)).toEqual(['PUT /chunk', `declared ${sha256}`, 'PUT /chunk']);
  });

  it('gives up a session whose source changed: the last chunk stays unsent, the session is aborted and forgotten', async () => {
    const events: string[] = [];
    const store = new MemoryFingerprintStore();
    await expect(run(streamed(true), events, [], store, 2)).rejects.toBeInstanceOf(SourceChangedError);
    expect(events.filter((event) => event === 'PUT /chunk')).toHaveLength(3);
    expect(events.some((event) => event.startsWith('declared'))).toBe(false);
    expect(events.at(-1)).toBe('DELETE /uploads/u-1');
    expect(await store.get(storeKey(ENDPOINT, 'path:f.bin'))).toBeNull();
  });
});
