import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { InsufficientStorageError, ServiceUnavailableError, StoredDataMissingError } from '../errors';
import { ChunkSlot, CopiesPublishedRanges, EarlyRead, KeepsChunkBeginnings, PublishedRange, ReadsWhileReceiving, RecordedStoredChunk, ReportsFreeSpace, StoredChunk, StoredDigests, StoredLeftover, StoredUpload, UploadLayout, UploadStorage } from '../ports/upload-storage';
import { chunkRange } from '../rules/chunk-grid';
import { GridHasher } from '../verification/grid-hasher';

interface Unpublished {
  layout: UploadLayout;
  bytes: Buffer;
  /** With tags: the tag of each chunk the store holds, as an object store keeps one per part. */
  tags: Map<number, string>;
  changedAt: Date;
}

interface Published {
  layout: UploadLayout;
  bytes: Buffer;
  changedAt: Date;
}

export interface InMemoryStorageOptions {
  /**
   * Like an object store: each chunk is kept whole or not at all and gets a tag (the MD5 of its
   * bytes, as an S3 part's ETag), and chunks whose tag is no longer the recorded one are lost
   * at verification. Without: like a disk, bytes land in place as they arrive and have no tag.
   */
  tags?: boolean;
}

/**
 * The `UploadStorage` port in memory. Faults are switches: a full store, one that cannot be
 * reached, bytes lost or damaged behind the service's back.
 */
export class InMemoryUploadStorage implements UploadStorage, KeepsChunkBeginnings, ReadsWhileReceiving {
  private readonly unpublished = new Map<string, Unpublished>();
  private readonly published = new Map<string, Published>();
  /** Every call that changes what is stored, in order, e.g. `reopen abc 1,2`. */
  readonly calls: string[] = [];
  /** Every read made ahead of verification or to check chunks again, e.g. `read abc 0-1024`. */
  readonly reads: string[] = [];
  /** While true, anything that would store bytes fails as a full store does. */
  full = false;
  /** While true, every call fails as a store that cannot be reached does. */
  unreachable = false;

  constructor(private readonly options: InMemoryStorageOptions = {}) {}

  async create(upload: UploadLayout): Promise<void> {
    this.reach();
    this.calls.push(`create ${upload.id}`);
    if (this.full) throw new InsufficientStorageError();
    if (this.unpublished.has(upload.id) || this.published.has(upload.id)) return;
    this.unpublished.set(upload.id, { layout: { ...upload }, bytes: Buffer.alloc(upload.fileSize), tags: new Map(), changedAt: new Date() });
  }

  async writeChunk(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite: () => void = () => undefined): Promise<StoredChunk> {
    this.reach();
    this.calls.push(`write ${upload.id} ${slot.index}`);
    const target = this.unpublished.get(upload.id);
    if (!target) throw new StoredDataMissingError(upload.id);
    // A tagged store keeps a chunk only once all of it arrived; a disk takes each piece in place.
    const staged = this.options.tags ? Buffer.alloc(slot.length) : target.bytes.subarray(slot.offset, slot.offset + slot.length);
    let written = 0;
    for await (const piece of body) {
      beforeEachWrite();
      // As an object store refuses parts of an aborted multipart upload.
      if (this.unpublished.get(upload.id) !== target) throw new StoredDataMissingError(upload.id);
      if (this.full) throw new InsufficientStorageError();
      written += piece.copy(staged, written);
    }
    target.changedAt = new Date();
    if (!this.options.tags) return { etag: null };
    staged.copy(target.bytes, slot.offset, 0, written);
    const etag = `"${createHash('md5').update(staged.subarray(0, written)).digest('hex')}"`;
    target.tags.set(slot.index, etag);
    return { etag };
  }

  /** Like a disk: the beginning lands in place (a tagged store keeps it aside, tagged as nothing). */
  async writeChunkBeginning(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite: () => void = () => undefined): Promise<void> {
    this.reach();
    this.calls.push(`write-beginning ${upload.id} ${slot.index} ${slot.length}`);
    const target = this.unpublished.get(upload.id);
    if (!target) throw new StoredDataMissingError(upload.id);
    let written = 0;
    for await (const piece of body) {
      beforeEachWrite();
      if (this.full) throw new InsufficientStorageError();
      written += piece.copy(target.bytes, slot.offset + written, 0, Math.min(piece.length, slot.length - written));
    }
    target.changedAt = new Date();
  }

  async *readChunkBeginning(upload: UploadLayout, slot: ChunkSlot): AsyncGenerator<Buffer> {
    this.reach();
    const target = this.unpublished.get(upload.id);
    if (!target) throw new StoredDataMissingError(upload.id);
    yield Buffer.from(target.bytes.subarray(slot.offset, slot.offset + slot.length));
  }

  async readForVerification(upload: UploadLayout, chunks: RecordedStoredChunk[]): Promise<StoredUpload> {
    this.reach();
    const unpublished = this.unpublished.get(upload.id);
    if (unpublished) {
      if (this.options.tags) {
        const lost = chunks.filter((chunk) => unpublished.tags.get(chunk.index) !== chunk.etag).map((chunk) => chunk.index);
        if (lost.length > 0) return { kind: 'chunks-lost', chunks: lost };
      }
      return { kind: 'read', digests: digestsOf(unpublished.bytes, upload), published: false };
    }
    const published = this.published.get(upload.id);
    if (published) return { kind: 'read', digests: digestsOf(published.bytes, upload), published: true };
    return { kind: 'gone' };
  }

  /** Like a disk: each allowed stretch is read (hashed) at once; a tagged store has nothing to read early. */
  async startEarlyRead(upload: UploadLayout): Promise<EarlyRead | null> {
    this.reach();
    const target = this.unpublished.get(upload.id);
    if (!target || this.options.tags) return null;
    this.reads.push(`early-read ${upload.id}`);
    const whole = createHash('sha256');
    const chunks = new GridHasher(upload);
    let settle: { resolve: (digests: StoredDigests) => void; reject: (error: Error) => void } = { resolve: () => undefined, reject: () => undefined };
    const digests = new Promise<StoredDigests>((resolve, reject) => (settle = { resolve, reject }));
    digests.catch(() => undefined);
    let readEnd = 0;
    let done = false;
    const reads = this.reads;
    return {
      allow(end: number) {
        if (done || end <= readEnd) return;
        const bytes = target.bytes.subarray(readEnd, Math.min(end, upload.fileSize));
        reads.push(`read ${upload.id} ${readEnd}-${readEnd + bytes.length}`);
        whole.update(bytes);
        chunks.update(bytes);
        readEnd += bytes.length;
        if (readEnd < upload.fileSize) return;
        done = true;
        settle.resolve({ sha256: whole.digest('hex'), chunkDigests: chunks.finish() });
      },
      get readEnd() {
        return readEnd;
      },
      digests,
      cancel() {
        if (done) return;
        done = true;
        settle.reject(new Error('The early read was cancelled'));
      },
    };
  }

  async readChunkDigests(upload: UploadLayout, chunks: number[]): Promise<string[]> {
    this.reach();
    const target = this.unpublished.get(upload.id);
    if (!target) throw new StoredDataMissingError(upload.id);
    this.reads.push(`read-chunks ${upload.id} ${chunks.join(',')}`);
    return chunks.map((index) => {
      const { start, end } = chunkRange(upload, index);
      return createHash('sha256').update(target.bytes.subarray(start, end + 1)).digest('hex');
    });
  }

  async reopenChunks(upload: UploadLayout, chunks: number[]): Promise<void> {
    this.reach();
    this.calls.push(`reopen ${upload.id} ${chunks.join(',')}`);
    // A tagged store starts over without these chunks, as a new multipart upload would.
    const unpublished = this.unpublished.get(upload.id);
    for (const index of chunks) unpublished?.tags.delete(index);
  }

  async publish(upload: UploadLayout): Promise<void> {
    this.reach();
    this.calls.push(`publish ${upload.id}`);
    const unpublished = this.unpublished.get(upload.id);
    if (!unpublished) {
      if (this.published.has(upload.id)) return;
      throw new StoredDataMissingError(upload.id);
    }
    this.unpublished.delete(upload.id);
    this.published.set(upload.id, { layout: unpublished.layout, bytes: unpublished.bytes, changedAt: new Date() });
  }

  async readPublished(uploadId: string, range?: { start: number; end: number }): Promise<Readable> {
    if (this.unreachable) throw new ServiceUnavailableError('The storage');
    const published = this.published.get(uploadId);
    if (!published) throw new StoredDataMissingError(uploadId);
    return Readable.from([published.bytes.subarray(range?.start ?? 0, range ? range.end + 1 : undefined)]);
  }

  async remove(uploadId: string, which: 'all' | 'unpublished' = 'all'): Promise<void> {
    this.reach();
    this.calls.push(`remove ${uploadId} ${which}`);
    this.unpublished.delete(uploadId);
    if (which === 'all') this.published.delete(uploadId);
  }

  async *listLeftovers(changedBefore: Date): AsyncGenerator<StoredLeftover> {
    this.reach();
    for (const [uploadId, { changedAt }] of [...this.unpublished]) if (changedAt < changedBefore) yield { uploadId, published: false };
    for (const [uploadId, { changedAt }] of [...this.published]) if (changedAt < changedBefore) yield { uploadId, published: true };
  }

  async ping(): Promise<void> {
    this.reach();
  }

  /** The bytes held for an upload not yet published, or null. */
  unpublishedBytes(uploadId: string): Buffer | null {
    return this.unpublished.get(uploadId)?.bytes ?? null;
  }

  /** The published file, or null. */
  publishedBytes(uploadId: string): Buffer | null {
    return this.published.get(uploadId)?.bytes ?? null;
  }

  /** Changes one stored byte of a chunk behind the service's back (its tag stays): bit rot. */
  damage(uploadId: string, index: number): void {
    const stored = this.unpublished.get(uploadId) ?? this.published.get(uploadId);
    if (!stored) throw new Error(`Nothing is stored for ${uploadId}`);
    stored.bytes[chunkRange(stored.layout, index).start] ^= 0xff;
  }

  /** Drops everything stored for an upload behind the service's back. */
  lose(uploadId: string): void {
    this.unpublished.delete(uploadId);
    this.published.delete(uploadId);
  }

  /** Sets when an upload's stored bytes last changed, to make them look old or young. */
  touch(uploadId: string, changedAt: Date): void {
    const stored = this.unpublished.get(uploadId) ?? this.published.get(uploadId);
    if (!stored) throw new Error(`Nothing is stored for ${uploadId}`);
    stored.changedAt = changedAt;
  }

  private reach(): void {
    if (this.unreachable) throw new ServiceUnavailableError('The storage');
  }
}

/** An in-memory store that also knows its free space, as a disk does. */
export class InMemoryStorageWithFreeSpace extends InMemoryUploadStorage implements ReportsFreeSpace {
  /** What `freeBytes` answers; null when the store cannot tell. */
  freeSpace: number | null = Number.MAX_SAFE_INTEGER;

  async freeBytes(): Promise<number | null> {
    return this.freeSpace;
  }
}

/** An in-memory store that copies ranges of published files into chunks by itself, as S3's UploadPartCopy does. */
export class InMemoryCopyingStorage extends InMemoryUploadStorage implements CopiesPublishedRanges {
  async copyChunk(upload: UploadLayout, slot: ChunkSlot, source: PublishedRange, beforeEachWrite: () => void = () => undefined): Promise<StoredChunk> {
    const from = this.publishedBytes(source.uploadId);
    if (from === null) throw new StoredDataMissingError(source.uploadId);
    const copied = from.subarray(source.offset, source.offset + slot.length);
    const write = `write ${upload.id} ${slot.index}`;
    const stored = this.writeChunk(upload, slot, (async function* () {
      yield copied;
    })(), beforeEachWrite);
    // Logged as the copy it stands for, not as the write it is made of.
    this.calls.splice(this.calls.lastIndexOf(write), 1, `copy ${upload.id} ${slot.index} from ${source.uploadId} ${source.offset}`);
    return stored;
  }
}

function digestsOf(bytes: Buffer, upload: UploadLayout): { sha256: string; chunkDigests: string[] } {
  const chunks = new GridHasher(upload);
  chunks.update(bytes);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), chunkDigests: chunks.finish() };
}
