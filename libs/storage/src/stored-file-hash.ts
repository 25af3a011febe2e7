import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ChunkGrid, EarlyRead, GridHasher } from '@app/core';
import type { FromChunkHasher, ToChunkHasher } from './chunk-hash.thread';
import { pageAlignedMemory } from './page-aligned-memory';

const MiB = 1024 * 1024;
/** Bytes per read of the verification pass. */
const BLOCK_BYTES = MiB;
/**
 * Reads kept in flight ahead of the hashing. Direct I/O has no kernel read-ahead: with one
 * read at a time the pass would wait for the disk between blocks instead of hashing while the
 * next ones are read.
 */
const READS_AHEAD = 4;
/** Blocks shared with the chunk-hash thread: those being read, one or two being hashed, spares. */
const RING_BLOCKS = 8;
/** Below this a thread costs more to start than the second hash on one thread does. */
export const THREADED_HASH_FROM_BYTES = 64 * MiB;

// Compiled builds have the thread's .js beside this file; a run from TypeScript sources (Jest)
// does not, and hashes on one thread.
const THREAD_SCRIPT = join(__dirname, 'chunk-hash.thread.js');
const threadAvailable = existsSync(THREAD_SCRIPT);

/** Positional reads of one stored file. */
export interface StoredFileReader {
  /**
   * Fills `into` from `position` on; resolves the bytes read, 0 at the end of the file. Memory
   * from `pageAlignedMemory`, at block-aligned positions, lets the reader use direct I/O.
   */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface StoredFileDigests {
  /** SHA-256 of the whole file. */
  sha256: string;
  /** SHA-256 of each chunk fully present, in order (fewer than the grid when the file is short). */
  chunkDigests: string[];
  /** Bytes read. */
  size: number;
}

/**
 * One read pass over a stored file computing the whole file's SHA-256 and every chunk's.
 * A large file's chunk hashes are computed on a second thread from the same blocks (shared
 * memory, never copied), so the pass takes about as long as one SHA-256 instead of two.
 */
export async function hashStoredFile(reader: StoredFileReader, grid: ChunkGrid): Promise<StoredFileDigests> {
  return threadAvailable && grid.fileSize >= THREADED_HASH_FROM_BYTES ? hashOnTwoThreads(reader, grid) : hashOnOneThread(reader, grid);
}

/**
 * Page-aligned memory (so storage may read into it with direct I/O) kept from one verification
 * to the next: V8 frees WebAssembly memory only when it collects it, and a block per file
 * piled up under many small assemblies.
 */
class SpareMemory<T extends ArrayBufferLike> {
  private readonly idle: T[] = [];

  constructor(private readonly allocate: () => T) {}

  take(): T {
    return this.idle.pop() ?? this.allocate();
  }

  /** Keeps as many as ran at once, up to a few. */
  give(memory: T): void {
    if (this.idle.length < 4) this.idle.push(memory);
  }
}

const spareBlocks = new SpareMemory(() => pageAlignedMemory(BLOCK_BYTES));
const spareRings = new SpareMemory(() => pageAlignedMemory(RING_BLOCKS * BLOCK_BYTES, true) as SharedArrayBuffer);

/**
 * Chunk-hash threads kept from one verification to the next: starting a thread takes a
 * while, which the pass would spend waiting for it. An idle thread does not keep the process
 * alive.
 */
class ChunkHashThreads {
  private readonly idle: Worker[] = [];

  take(): Worker {
    const thread = this.idle.pop() ?? this.start();
    thread.ref();
    return thread;
  }

  /** Takes back a thread that finished its file; keeps as many as ran at once, up to a few. */
  give(thread: Worker): void {
    thread.unref();
    if (this.idle.length < 2) this.idle.push(thread);
    else void thread.terminate();
  }

  private start(): Worker {
    const thread = new Worker(THREAD_SCRIPT, {
      // It allocates next to nothing (the bytes live in the ring): a small heap keeps the worker's RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
    });
    // An idle thread that fails has no verification to tell: it is only dropped.
    thread.on('error', () => undefined);
    thread.once('exit', () => {
      const at = this.idle.indexOf(thread);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return thread;
  }
}

const chunkHashThreads = new ChunkHashThreads();

async function hashOnOneThread(reader: StoredFileReader, grid: ChunkGrid): Promise<StoredFileDigests> {
  const whole = createHash('sha256');
  const chunks = new GridHasher(grid);
  const memory = spareBlocks.take();
  const block = new Uint8Array(memory, 0, Math.max(1, Math.min(BLOCK_BYTES, grid.fileSize)));
  try {
    let size = 0;
    for (;;) {
      const length = await reader.read(block, size);
      if (length === 0) break;
      const bytes = block.subarray(0, length);
      whole.update(bytes);
      chunks.update(bytes);
      size += length;
    }
    return { sha256: whole.digest('hex'), chunkDigests: chunks.finish(), size };
  } finally {
    spareBlocks.give(memory);
  }
}

async function hashOnTwoThreads(reader: StoredFileReader, grid: ChunkGrid): Promise<StoredFileDigests> {
  const ring = spareRings.take();
  const blocks = new FreeBlocks(RING_BLOCKS);
  const thread = chunkHashThreads.take();
  let onMessage: (message: FromChunkHasher) => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const onExit = (code: number) => failed(new Error(`The chunk-hash thread stopped early (exit code ${code})`));
  const chunkDigests = new Promise<string[]>((resolve, reject) => {
    onMessage = (message) => ('free' in message ? blocks.release(message.free) : resolve(message.digests));
    failed = (error) => {
      blocks.fail(error);
      reject(error);
    };
  });
  thread.on('message', onMessage);
  thread.on('error', failed);
  thread.on('exit', onExit);
  thread.postMessage({ start: { grid, ring, blockBytes: BLOCK_BYTES } } satisfies ToChunkHasher);
  // Failures surface through `blocks` while reading; this only keeps an early one from going unhandled.
  chunkDigests.catch(() => undefined);
  const view = (block: number, length: number) => new Uint8Array(ring, block * BLOCK_BYTES, length);
  const readBlock = async (block: number, position: number) => ({ block, length: await reader.read(view(block, BLOCK_BYTES), position) });

  // Reads go to consecutive blocks of the file; a block that comes back short is its end.
  const reads: Promise<{ block: number; length: number }>[] = [];
  let finished = false;
  try {
    const whole = createHash('sha256');
    let nextPosition = 0;
    const readAhead = () => {
      const position = nextPosition;
      nextPosition += BLOCK_BYTES;
      const read = blocks.take().then((block) => readBlock(block, position));
      // A failure surfaces when this read's turn comes; until then it must not count as unhandled.
      read.catch(() => undefined);
      reads.push(read);
    };
    for (let read = 0; read < READS_AHEAD; read++) readAhead();
    let size = 0;
    for (;;) {
      const { block, length } = await reads.shift()!;
      if (length === 0) break;
      if (size % BLOCK_BYTES !== 0) throw new Error('The stored file was read short before its end');
      size += length;
      readAhead();
      whole.update(view(block, length));
      thread.postMessage({ block, length } satisfies ToChunkHasher);
    }
    thread.postMessage({ end: true } satisfies ToChunkHasher);
    const digests = { sha256: whole.digest('hex'), chunkDigests: await chunkDigests, size };
    finished = true;
    return digests;
  } finally {
    // The reads past the end are still in flight: the caller closes the reader once this returns.
    await Promise.allSettled(reads);
    thread.off('message', onMessage);
    thread.off('error', failed);
    thread.off('exit', onExit);
    // A thread that answered with the digests is done with the ring and ready for the next
    // file; after a failure it may still be hashing a block, so it goes.
    if (finished) chunkHashThreads.give(thread);
    else await thread.terminate();
    spareRings.give(ring);
  }
}

/** The ring's free blocks; `take` waits until the chunk-hash thread hands one back. */
class FreeBlocks {
  private readonly free: number[];
  private readonly waiting: { resolve: (block: number) => void; reject: (error: Error) => void }[] = [];
  private error: Error | null = null;

  constructor(count: number) {
    this.free = Array.from({ length: count }, (_, block) => block);
  }

  take(): Promise<number> {
    if (this.error) return Promise.reject(this.error);
    const block = this.free.pop();
    if (block !== undefined) return Promise.resolve(block);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  release(block: number): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve(block);
    else this.free.push(block);
  }

  fail(error: Error): void {
    this.error ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/**
 * The verification's read pass, started before the file is whole: each read waits until the
 * bytes it covers are allowed (recorded), so the pass follows the upload and only the rest is
 * left once the last chunk is in. Closes `reader` when the pass ends.
 */
export function hashStoredFileAsAllowed(reader: StoredFileReader, grid: ChunkGrid): EarlyRead {
  const gate = new ReadGate(reader, grid.fileSize);
  const digests = hashStoredFile(gate, grid)
    .then(({ sha256, chunkDigests }) => ({ sha256, chunkDigests }))
    .finally(() => reader.close());
  // A cancelled pass rejects; whoever cancelled it does not wait for it.
  digests.catch(() => undefined);
  return {
    allow: (end) => gate.allow(end),
    get readEnd() {
      return gate.readEnd;
    },
    digests,
    cancel: () => gate.cancel(),
  };
}

/** A reader that holds each read back until its bytes are allowed. */
class ReadGate implements StoredFileReader {
  private allowed = 0;
  private cancelled: Error | null = null;
  private readonly waiting: { end: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Where the reads let through so far end. */
  readEnd = 0;

  constructor(
    private readonly reader: StoredFileReader,
    private readonly fileSize: number,
  ) {}

  async read(into: Uint8Array, position: number): Promise<number> {
    const end = Math.min(position + into.length, this.fileSize);
    if (this.cancelled) throw this.cancelled;
    if (end > this.allowed) await new Promise<void>((resolve, reject) => this.waiting.push({ end, resolve, reject }));
    this.readEnd = Math.max(this.readEnd, end);
    return this.reader.read(into, position);
  }

  allow(end: number): void {
    this.allowed = Math.max(this.allowed, Math.min(end, this.fileSize));
    for (const waiter of this.waiting.filter((waiter) => waiter.end <= this.allowed)) {
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  cancel(): void {
    this.cancelled ??= new Error('The early read was cancelled');
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.cancelled);
  }

  /** The pass closes the real reader. */
  async close(): Promise<void> {}
}
