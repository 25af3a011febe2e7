import { createHash } from 'node:crypto';
import { runPass } from './chunk-pass';
import { planPass } from './grid';
import { nodeSha256 } from './node-hashing';
import { toHex } from './hashing';
import { bytesSource } from './source';

const grid = { fileSize: 10_000, chunkSize: 1000 };
const file = Uint8Array.from({ length: grid.fileSize }, (_, i) => (i * 7) % 251);

function delay(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A source that records reads and how many chunks are alive (read but not yet released by a send). */
function watchedSource() {
  const reads: number[] = [];
  const source = bytesSource(file);
  return { reads, source: { ...source, read: async (start: number, end: number) => (reads.push(start / grid.chunkSize), delay(Math.random() * 3).then(() => source.read(start, end))) } };
}

describe('runPass', () => {
  it('keeps at most `parallel` chunks in flight, reading in order and hashing the whole file', async () => {
    const { reads, source } = watchedSource();
    let inFlight = 0;
    let most = 0;
    const sent: number[] = [];
    const hasher = nodeSha256.incremental();
    await runPass(planPass(10, [1, 2, 5, 6, 7, 9], true), {
      source,
      grid,
      parallel: 3,
      hasher,
      send: async (index) => {
        most = Math.max(most, ++inFlight);
        await delay(5 + Math.random() * 10);
        inFlight--;
        sent.push(index);
        return 'stored';
      },
    });
    expect(reads).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sent.sort((a, b) => a - b)).toEqual([1, 2, 5, 6, 7, 9]);
    expect(most).toBe(3);
    expect(toHex(hasher.digest())).toBe(createHash('sha256').update(file).digest('hex'));
  });

  it('hands each sender its previous bytes back for the source to read into, never bytes still being sent', async () => {
    const sending = new Set<Uint8Array>();
    const handedOut = new Set<Uint8Array>();
    const given: (Uint8Array | undefined)[] = [];
    const source = {
      ...bytesSource(file),
      read: async (start: number, end: number, done?: Uint8Array) => {
        given.push(done);
        expect(done === undefined || (handedOut.has(done) && !sending.has(done))).toBe(true);
        const bytes = file.slice(start, end);
        handedOut.add(bytes);
        return bytes;
      },
    };
    const sent: number[] = [];
    await runPass(planPass(10, Array.from({ length: 10 }, (_, i) => i), false), {
      source,
      grid,
      parallel: 3,
      send: async (index, bytes) => {
        sending.add(bytes);
        expect(bytes).toEqual(file.subarray(index * grid.chunkSize, (index + 1) * grid.chunkSize));
        await delay(2 + Math.random() * 5);
        sending.delete(bytes);
        sent.push(index);
        return 'stored';
      },
    });
    expect(sent.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // One first read per sender takes fresh memory; every later one is offered memory back.
    expect(given.filter((done) => done === undefined)).toHaveLength(3);
  });

  it('stops the other senders at the first failure and throws it', async () => {
    const { source } = watchedSource();
    const started: number[] = [];
    const failure = new Error('chunk 2 refused');
    const pass = runPass(planPass(10, Array.from({ length: 10 }, (_, i) => i), false), {
      source,
      grid,
      parallel: 2,
      send: async (index, _bytes, signal) => {
        started.push(index);
        if (index === 2) throw failure;
        await delay(20);
        if (signal.aborted) throw new Error('aborted');
        return 'stored';
      },
    });
    await expect(pass).rejects.toBe(failure);
    expect(started.length).toBeLessThan(6);
  });

  it('stops sending once the server moved on, but still reads the rest for the hash', async () => {
    const { reads, source } = watchedSource();
    const sent: number[] = [];
    const hasher = nodeSha256.incremental();
    const outcome = await runPass(planPass(10, Array.from({ length: 10 }, (_, i) => i), true), {
      source,
      grid,
      parallel: 1,
      hasher,
      send: async (index) => {
        sent.push(index);
        return index === 3 ? 'not-accepting' : 'stored';
      },
    });
    expect(outcome).toBe('not-accepting');
    expect(sent).toEqual([0, 1, 2, 3]);
    expect(reads).toHaveLength(10);
    expect(toHex(hasher.digest())).toBe(createHash('sha256').update(file).digest('hex'));
  });

  it.each([1, 3])('holds the last chunk to send until every chunk is read and hashed and beforeLastSend resolved (parallel %i)', async (parallel) => {
    const { reads, source } = watchedSource();
    const events: string[] = [];
    const hasher = nodeSha256.incremental();
    let digest = '';
    await runPass(planPass(10, [1, 2, 5], true), {
      source,
      grid,
      parallel,
      hasher,
      beforeLastSend: async () => {
        // Chunks 6 to 9 are only hashed, yet read before the last one to send goes out.
        events.push(`declare after ${reads.length} reads`);
        digest = toHex(hasher.digest());
        await delay(5);
      },
      send: async (index) => {
        events.push(`send ${index}`);
        await delay(Math.random() * 5);
        return 'stored';
      },
    });
    expect(digest).toBe(createHash('sha256').update(file).digest('hex'));
    expect(events.slice(-2)).toEqual(['declare after 10 reads', 'send 5']);
    expect(events.filter((event) => event.startsWith('send')).sort()).toEqual(['send 1', 'send 2', 'send 5']);
  });

  it('never sends the last chunk when beforeLastSend fails, nor calls it when a read failed', async () => {
    const refused = new Error('the file changed');
    const sent: number[] = [];
    const declaring = runPass(planPass(4, [0, 1, 2, 3], true), {
      source: bytesSource(file),
      grid: { fileSize: 4000, chunkSize: 1000 },
      parallel: 2,
      hasher: nodeSha256.incremental(),
      beforeLastSend: () => Promise.reject(refused),
      send: async (index) => (sent.push(index), 'stored'),
    });
    await expect(declaring).rejects.toBe(refused);
    expect(sent.sort()).toEqual([0, 1, 2]);

    const unreadable = new Error('read failed');
    let declared = false;
    const reading = runPass(planPass(4, [0], true), {
      source: { ...bytesSource(file), read: async (start: number, end: number) => (start === 2000 ? Promise.reject(unreadable) : file.subarray(start, end)) },
      grid: { fileSize: 4000, chunkSize: 1000 },
      parallel: 1,
      hasher: nodeSha256.incremental(),
      beforeLastSend: async () => void (declared = true),
      send: async () => 'stored',
    });
    await expect(reading).rejects.toBe(unreadable);
    expect(declared).toBe(false);
  });

  it('rejects with an AbortError when the caller aborts', async () => {
    const { source } = watchedSource();
    const controller = new AbortController();
    const pass = runPass(planPass(10, [0, 1, 2, 3], false), {
      source,
      grid,
      parallel: 2,
      signal: controller.signal,
      send: async (index) => {
        if (index === 1) controller.abort();
        await delay(5);
        return 'stored';
      },
    });
    await expect(pass).rejects.toMatchObject({ name: 'AbortError' });
  });
});
