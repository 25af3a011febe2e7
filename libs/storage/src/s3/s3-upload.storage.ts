import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PutObjectCommandOutput, UploadPartCommandOutput } from '@aws-sdk/client-s3';
import { S3Settings } from '@app/config';
import {
  ChunkSlot,
  CopiesPublishedRanges,
  KeepsChunkBeginnings,
  PublishedRange,
  RecordedStoredChunk,
  StoredChunk,
  StoredDataMissingError,
  StoredDigests,
  StoredLeftover,
  StoredUpload,
  UploadError,
  UploadLayout,
  UploadStorage,
  assertUploadId,
  chunkRange,
  isUploadId,
  totalChunks,
} from '@app/core';
import { PartBody } from './part-body';
import { S3Clients, createS3Clients } from './s3-clients';
import { StorageStartupError, explainStartupFailure } from './s3-startup';
import { mapStoreErrors, s3ErrorName, toDomainError } from './s3-errors';
import { s3 } from './s3-sdk';
import { digestStream } from './stream-digests';

/** Part copies of a reopened upload in flight at once. */
const COPIES_AT_ONCE = 4;
/** Multipart upload ids remembered per process; older ones are looked up again when needed. */
const REMEMBERED_UPLOADS = 10_000;
/** An ETag that is the MD5 of the part's bytes, as AWS (without KMS), Ceph RGW and MinIO give. */
const MD5_ETAG = /^"?([0-9a-f]{32})"?$/i;
/** Between an upload's key and a kept chunk beginning's index and length: `<key>.tail-<index>-<length>`. */
const TAIL_MARK = '.tail-';

/** The part's body failed (the fence, the source, a wrong length): its own error is the one to throw. */
class BodyFailure {
  constructor(readonly cause: unknown) {}
}

const sameTag = (a: string | null | undefined, b: string | null | undefined) => !!a && !!b && a.replace(/"/g, '') === b.replace(/"/g, '');

/**
 * Uploads in an S3 bucket. An upload is one multipart upload at `S3_PREFIX<upload id>`, chunk
 * `i` its part `i + 1`; CompleteMultipartUpload with the recorded ETags turns it into the
 * object, which is then the published file. The beginning of a chunk whose rest has not arrived
 * (a tus PATCH that ended inside it) is an object of its own beside it, `<key>.tail-<i>-<length>`,
 * until the chunk is written whole. See docs/architecture.md ("S3 storage").
 */
export class S3UploadStorage implements UploadStorage, KeepsChunkBeginnings, CopiesPublishedRanges {
  /** Upload id → its open multipart upload, as this process last saw it. */
  private readonly openUploads = new Map<string, string>();
  /** `<upload id> <chunk index>` → the kept beginning this process last read for that chunk, to remove once it is superseded. */
  private readonly tailsRead = new Map<string, string>();

  constructor(
    private readonly settings: S3Settings,
    private readonly clients: S3Clients = createS3Clients(settings),
  ) {}

  /** Connects and checks the bucket can be listed; throws a message naming the setting to fix. */
  static async open(settings: S3Settings, clients?: S3Clients): Promise<S3UploadStorage> {
    const storage = new S3UploadStorage(settings, clients);
    try {
      await storage.clients.requests.send(new s3.ListObjectsV2Command({ Bucket: settings.bucket, Prefix: settings.prefix, MaxKeys: 1 }));
    } catch (error) {
      storage.close();
      throw new StorageStartupError(explainStartupFailure(error, settings));
    }
    if (settings.checksums) await storage.checkChecksums();
    return storage;
  }

  /**
   * A store without flexible checksums refuses every part sent with a SHA-256 trailer: better
   * said once at start-up than as a 503 on every chunk. One byte in a throwaway multipart
   * upload, under a key that is no upload id, aborted at once.
   */
  private async checkChecksums(): Promise<void> {
    const key = `${this.settings.prefix}checksum-check-${randomUUID()}`;
    let uploadId: string | undefined;
    let refusal: unknown;
    try {
      uploadId = await this.startMultipartUpload(key);
      await this.clients.parts.send(
        new s3.UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: Readable.from([Buffer.from('x')]), ContentLength: 1, ChecksumAlgorithm: 'SHA256' }),
      );
    } catch (error) {
      refusal = error;
    }
    if (uploadId !== undefined) await this.clients.requests.send(new s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    if (refusal === undefined) return;
    this.close();
    throw new StorageStartupError(`S3_CHECKSUMS: ${this.settings.endpoint ?? 'AWS S3'} refused a part sent with its SHA-256 (${(refusal as Error).message}); set S3_CHECKSUMS=off for stores without flexible checksums.`);
  }

  /** Nest calls this on shutdown: the connections to the store go with the process. */
  onApplicationShutdown(): void {
    this.close();
  }

  close(): void {
    this.clients.requests.destroy();
    this.clients.parts.destroy();
  }

  private get bucket(): string {
    return this.settings.bucket;
  }

  // Ids are checked again here: keys come from upload ids only, never from client input.
  private key(uploadId: string): string {
    return `${this.settings.prefix}${assertUploadId(uploadId)}`;
  }

  async create(upload: UploadLayout): Promise<void> {
    const key = this.key(upload.id);
    await mapStoreErrors(async () => {
      const existing = await this.findOpenUpload(key);
      this.remember(upload.id, existing ?? (await this.startMultipartUpload(key)));
    });
  }

  async writeChunk(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite?: () => void): Promise<StoredChunk> {
    beforeEachWrite?.();
    const key = this.key(upload.id);
    const part = new PartBody(body, slot.length, beforeEachWrite);
    try {
      let uploadId = await mapStoreErrors(() => this.openUploadId(upload.id, key));
      for (;;) {
        try {
          const result = await this.sendBody(part, (abortSignal) =>
            this.clients.parts.send(
              new s3.UploadPartCommand({
                Bucket: this.bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: slot.index + 1,
                Body: part.stream,
                ContentLength: part.length,
                // The SDK hashes the stream as it sends it and puts the digest in a trailer, as S3 allows.
                ...(this.settings.checksums ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
              }),
              { abortSignal },
            ),
          );
          const etag = this.provenTag(result, part);
          await this.dropTailRead(upload.id, slot.index, null, beforeEachWrite);
          return { etag };
        } catch (error) {
          if (error instanceof BodyFailure) throw error.cause;
          if (s3ErrorName(error) !== 'NoSuchUpload') throw toDomainError(error);
          // The upload was completed, aborted or replaced (reopenChunks) since this process looked.
          this.openUploads.delete(upload.id);
          const current = await mapStoreErrors(() => this.findOpenUpload(key));
          if (current === null) throw new StoredDataMissingError(upload.id);
          if (part.started || current === uploadId) {
            throw new UploadError('SERVICE_UNAVAILABLE', `Chunk ${slot.index} reached storage while the upload's storage was being replaced; nothing was recorded. Re-send the chunk.`, { chunkIndex: slot.index }, 1);
          }
          // Refused before a byte was read (Expect: 100-continue): the same body can go to the new one.
          this.remember(upload.id, current);
          uploadId = current;
        }
      }
    } finally {
      if (!part.stream.readableEnded) part.stream.destroy();
    }
  }

  /** Sends one streamed body; an error of the body (the fence, the source, a wrong length) aborts the request and is the one thrown. */
  private async sendBody<T>(part: PartBody, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let bodyError: unknown;
    const onBodyError = (error: unknown) => {
      bodyError = error;
      controller.abort();
    };
    part.stream.once('error', onBodyError);
    try {
      return await send(controller.signal);
    } catch (error) {
      throw bodyError === undefined ? error : new BodyFailure(bodyError);
    } finally {
      part.stream.off('error', onBodyError);
    }
  }

  /** The part's ETag, once it is proven to be the MD5 of the bytes sent where the store's ETags are MD5s. */
  private provenTag(result: UploadPartCommandOutput | PutObjectCommandOutput, part: PartBody): string {
    const etag = result.ETag;
    if (!etag) throw new UploadError('SERVICE_UNAVAILABLE', 'Object storage kept the chunk without an ETag, so it could not be recorded; re-send it.', {}, 1);
    const md5 = MD5_ETAG.exec(etag)?.[1].toLowerCase();
    if (md5 !== undefined && md5 !== part.md5Hex()) {
      throw new UploadError('SERVICE_UNAVAILABLE', 'Object storage kept other bytes than the ones sent for this chunk, so it was not recorded; re-send it.', {}, 1);
    }
    return etag;
  }

  /**
   * Puts the beginning as an object of its own, keyed by the chunk and the beginning's length: a
   * writer whose lease lapsed can only put a beginning of its own length, which the newer writer
   * of that length wrote with the same bytes of the file, never replace a newer one. Once it is
   * durable, the beginning this process read for that chunk (which it extends) is removed.
   */
  async writeChunkBeginning(upload: UploadLayout, slot: ChunkSlot, body: AsyncIterable<Buffer>, beforeEachWrite?: () => void): Promise<void> {
    beforeEachWrite?.();
    const key = this.tailKey(upload.id, slot.index, slot.length);
    const part = new PartBody(body, slot.length, beforeEachWrite);
    try {
      // A removed upload takes no more bytes (a beginning put after its removal would be left over).
      await mapStoreErrors(() => this.openUploadId(upload.id, this.key(upload.id)));
      const result = await this.sendBody(part, (abortSignal) =>
        this.clients.parts.send(
          new s3.PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: part.stream,
            ContentLength: part.length,
            ...(this.settings.checksums ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
          }),
          { abortSignal },
        ),
      ).catch((error: unknown) => {
        if (error instanceof BodyFailure) throw error.cause;
        throw toDomainError(error);
      });
      this.provenTag(result, part);
      await this.dropTailRead(upload.id, slot.index, key, beforeEachWrite);
    } finally {
      if (!part.stream.readableEnded) part.stream.destroy();
    }
  }

  /**
   * The kept beginning of `slot.length` bytes of chunk `slot.index`. One that is gone or not of
   * that length (removed by a writer whose lease had lapsed) fails the read with a retryable
   * error: the caller's claim of the chunk already stopped counting it, so the client resumes from
   * the chunk's start.
   */
  async *readChunkBeginning(upload: UploadLayout, slot: ChunkSlot): AsyncGenerator<Buffer> {
    if (slot.length === 0) return;
    const key = this.tailKey(upload.id, slot.index, slot.length);
    const lost = () =>
      new UploadError(
        'SERVICE_UNAVAILABLE',
        `The kept beginning of chunk ${slot.index} is no longer stored, so it no longer counts: resume from the offset HEAD reports.`,
        { chunkIndex: slot.index },
        1,
      );
    let object;
    try {
      object = await this.clients.requests.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw s3ErrorName(error) === 'NoSuchKey' ? lost() : toDomainError(error);
    }
    if (object.ContentLength !== slot.length) {
      (object.Body as Readable).destroy();
      throw lost();
    }
    this.tailsRead.set(`${upload.id} ${slot.index}`, key);
    try {
      for await (const piece of object.Body as Readable) yield piece as Buffer;
    } catch (error) {
      throw toDomainError(error);
    }
  }

  /**
   * Removes the beginning this process read for the chunk once the chunk or a longer beginning
   * is durable. Best effort, and only while the writer still holds the chunk: what stays behind
   * is removed with the upload's other leftovers.
   */
  private async dropTailRead(uploadId: string, index: number, keep: string | null, beforeEachWrite?: () => void): Promise<void> {
    const name = `${uploadId} ${index}`;
    const key = this.tailsRead.get(name);
    if (key === undefined) return;
    this.tailsRead.delete(name);
    if (key === keep) return;
    try {
      beforeEachWrite?.();
      await this.clients.requests.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch {
      // Left for the sweep.
    }
  }

  private tailKey(uploadId: string, index: number, length: number): string {
    return `${this.key(uploadId)}${TAIL_MARK}${index}-${length}`;
  }

  /** Removes every kept beginning of the upload. */
  private async removeTails(uploadId: string): Promise<void> {
    const prefix = `${this.key(uploadId)}${TAIL_MARK}`;
    for (const name of [...this.tailsRead.keys()]) if (name.startsWith(`${uploadId} `)) this.tailsRead.delete(name);
    let token: string | undefined;
    do {
      const page = await this.clients.requests.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) await this.clients.requests.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: object.Key }));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async readForVerification(upload: UploadLayout, chunks: RecordedStoredChunk[]): Promise<StoredUpload> {
    const key = this.key(upload.id);
    return mapStoreErrors(async () => {
      // Looked up afresh: another process may have replaced the upload since this one cached it.
      const uploadId = await this.findOpenUpload(key);
      if (uploadId !== null) {
        if (totalChunks(upload) === 0) {
          // S3 completes no multipart upload without parts: an empty file is put whole.
          await this.clients.requests.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0 }));
          await this.abortOpenUploads(upload.id, key);
        } else {
          const lost = await this.completeAsRecorded(upload, key, uploadId, chunks);
          if (lost.length > 0) return { kind: 'chunks-lost', chunks: lost };
        }
        this.openUploads.delete(upload.id);
        // Every chunk is whole in the object: kept beginnings are of no more use.
        await this.removeTails(upload.id);
        const digests = await this.readDigests(upload, key);
        return digests === null ? { kind: 'gone' } : { kind: 'read', digests, published: false };
      }
      // No multipart upload: a re-run after it was completed, or nothing stored at all.
      await this.removeTails(upload.id);
      const digests = await this.readDigests(upload, key);
      return digests === null ? { kind: 'gone' } : { kind: 'read', digests, published: true };
    });
  }

  /**
   * CompleteMultipartUpload with the recorded ETags: a part overwritten since it was recorded (a
   * stale writer) no longer matches and S3 refuses with InvalidPart. Returns the chunks whose
   * parts are not as recorded (none once the object is made). Parts a replacement upload lacks
   * while the object still holds them (reopenChunks was interrupted) are copied in first.
   */
  private async completeAsRecorded(upload: UploadLayout, key: string, uploadId: string, chunks: RecordedStoredChunk[]): Promise<number[]> {
    const recorded = [...chunks].sort((a, b) => a.index - b.index);
    const untagged = recorded.filter((chunk) => chunk.etag === null).map((chunk) => chunk.index);
    if (untagged.length > 0) return untagged;
    let copied = false;
    for (;;) {
      try {
        await this.clients.requests.send(
          new s3.CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: {
              Parts: recorded.map((chunk) => ({
                PartNumber: chunk.index + 1,
                ETag: chunk.etag as string,
                ...(this.settings.checksums ? { ChecksumSHA256: Buffer.from(chunk.sha256, 'hex').toString('base64') } : {}),
              })),
            },
          }),
        );
        return [];
      } catch (error) {
        // Completed by an earlier try whose answer was lost: the object is read next.
        if (s3ErrorName(error) === 'NoSuchUpload') return [];
        if (s3ErrorName(error) !== 'InvalidPart') throw error;
        const parts = await this.listParts(key, uploadId);
        const absent = recorded.filter((chunk) => !parts.has(chunk.index + 1)).map((chunk) => chunk.index);
        if (absent.length > 0 && !copied && (await this.objectExists(key))) {
          await this.copyFromObject(upload, key, uploadId, absent);
          copied = true;
          continue;
        }
        const lost = recorded.filter((chunk) => !sameTag(parts.get(chunk.index + 1), chunk.etag)).map((chunk) => chunk.index);
        if (lost.length === 0) throw error;
        return lost;
      }
    }
  }

  /** One streamed read of the object: the whole file's SHA-256 and each chunk's. Null when there is no object. */
  private async readDigests(upload: UploadLayout, key: string): Promise<StoredDigests | null> {
    try {
      const object = await this.clients.requests.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await digestStream(object.Body as Readable, upload);
    } catch (error) {
      if (s3ErrorName(error) === 'NoSuchKey') return null;
      throw error;
    }
  }

  /**
   * A new multipart upload in which every chunk but `chunks` is copied from the completed object
   * (server-side, by byte range), so only those must be sent again. The object stays whole until
   * the next CompleteMultipartUpload replaces it in one step, so a crash at any point loses no
   * chunk: a re-run of verification copies in whatever this did not.
   */
  async reopenChunks(upload: UploadLayout, chunks: number[]): Promise<void> {
    const key = this.key(upload.id);
    await mapStoreErrors(async () => {
      if (!(await this.objectExists(key))) throw new StoredDataMissingError(upload.id);
      // Left by an interrupted reopen: it holds only copies of what the object holds.
      await this.abortOpenUploads(upload.id, key);
      const uploadId = await this.startMultipartUpload(key);
      const reopened = new Set(chunks);
      const kept = Array.from({ length: totalChunks(upload) }, (_, index) => index).filter((index) => !reopened.has(index));
      await this.copyFromObject(upload, key, uploadId, kept);
      this.remember(upload.id, uploadId);
    });
  }

  private async copyFromObject(upload: UploadLayout, key: string, uploadId: string, chunks: number[]): Promise<void> {
    const source = `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const queue = [...chunks];
    const copyNext = async (): Promise<void> => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        const { start, end } = chunkRange(upload, index);
        await this.clients.requests.send(
          new s3.UploadPartCopyCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, CopySource: source, CopySourceRange: `bytes=${start}-${end}` }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(COPIES_AT_ONCE, chunks.length) }, copyNext));
  }

  /**
   * Chunk `slot` of `upload` as a server-side copy (UploadPartCopy) of bytes `source.offset` on
   * of the published object of `source.uploadId`: the bytes do not pass through the service.
   */
  async copyChunk(upload: UploadLayout, slot: ChunkSlot, source: PublishedRange, beforeEachWrite?: () => void): Promise<StoredChunk> {
    const key = this.key(upload.id);
    const copySource = `${this.bucket}/${this.key(source.uploadId).split('/').map(encodeURIComponent).join('/')}`;
    const range = `bytes=${source.offset}-${source.offset + slot.length - 1}`;
    return mapStoreErrors(async () => {
      let uploadId = await this.openUploadId(upload.id, key);
      for (let attempt = 0; ; attempt++) {
        beforeEachWrite?.();
        try {
          const result = await this.clients.requests.send(
            new s3.UploadPartCopyCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: slot.index + 1, CopySource: copySource, CopySourceRange: range }),
          );
          const etag = result.CopyPartResult?.ETag;
          if (!etag) throw new UploadError('SERVICE_UNAVAILABLE', 'Object storage copied the chunk without an ETag, so it could not be recorded; try again.', {}, 1);
          return { etag };
        } catch (error) {
          if (s3ErrorName(error) === 'NoSuchKey') throw new StoredDataMissingError(source.uploadId);
          if (s3ErrorName(error) !== 'NoSuchUpload' || attempt > 0) throw error;
          // The upload was replaced since this process looked: a copy can simply be made again.
          this.openUploads.delete(upload.id);
          const current = await this.findOpenUpload(key);
          if (current === null) throw new StoredDataMissingError(upload.id);
          this.remember(upload.id, current);
          uploadId = current;
        }
      }
    });
  }

  /** The object is the published file from the moment it is completed: nothing is left to do. */
  async publish(_upload: UploadLayout): Promise<void> {}

  async readPublished(uploadId: string, range?: { start: number; end: number }): Promise<Readable> {
    const request = new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(uploadId), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) });
    try {
      return (await this.clients.requests.send(request)).Body as Readable;
    } catch (error) {
      throw s3ErrorName(error) === 'NoSuchKey' ? new StoredDataMissingError(uploadId) : toDomainError(error);
    }
  }

  async remove(uploadId: string, which: 'all' | 'unpublished' = 'all'): Promise<void> {
    const key = this.key(uploadId);
    await mapStoreErrors(async () => {
      await this.abortOpenUploads(uploadId, key);
      await this.removeTails(uploadId);
      if (which === 'all') await this.clients.requests.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    });
  }

  async *listLeftovers(changedBefore: Date): AsyncIterable<StoredLeftover> {
    const prefix = this.settings.prefix;
    const uploadIdOf = (key: string | undefined) => {
      const rest = key?.startsWith(prefix) ? key.slice(prefix.length) : undefined;
      return isUploadId(rest) ? rest : null;
    };
    // A kept chunk beginning is unpublished bytes of its upload.
    const tailOf = (key: string | undefined) => {
      const at = key?.indexOf(TAIL_MARK) ?? -1;
      return at < 0 ? null : uploadIdOf(key?.slice(0, at));
    };
    let token: string | undefined;
    do {
      const page = await mapStoreErrors(() => this.clients.requests.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const object of page.Contents ?? []) {
        if (object.LastModified === undefined || object.LastModified >= changedBefore) continue;
        const uploadId = uploadIdOf(object.Key);
        if (uploadId !== null) yield { uploadId, published: true };
        const tailOwner = tailOf(object.Key);
        if (tailOwner !== null) yield { uploadId: tailOwner, published: false };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    for await (const open of this.multipartUploads(prefix)) {
      const uploadId = uploadIdOf(open.key);
      if (uploadId !== null && open.initiated < changedBefore) yield { uploadId, published: false };
    }
  }

  async ping(): Promise<void> {
    await mapStoreErrors(() => this.clients.requests.send(new s3.HeadBucketCommand({ Bucket: this.bucket })));
  }

  private async startMultipartUpload(key: string): Promise<string> {
    const created = await this.clients.requests.send(
      new s3.CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...(this.settings.checksums ? { ChecksumAlgorithm: 'SHA256' as const } : {}) }),
    );
    return created.UploadId as string;
  }

  private async openUploadId(uploadId: string, key: string): Promise<string> {
    const known = this.openUploads.get(uploadId);
    if (known !== undefined) return known;
    const found = await this.findOpenUpload(key);
    if (found === null) throw new StoredDataMissingError(uploadId);
    this.remember(uploadId, found);
    return found;
  }

  private remember(uploadId: string, multipartUploadId: string): void {
    this.openUploads.delete(uploadId);
    this.openUploads.set(uploadId, multipartUploadId);
    if (this.openUploads.size > REMEMBERED_UPLOADS) this.openUploads.delete(this.openUploads.keys().next().value as string);
  }

  /** The open multipart upload of `key`; the newest if an interrupted reopen left more than one. */
  private async findOpenUpload(key: string): Promise<string | null> {
    let newest: { id: string; initiated: Date } | null = null;
    for await (const open of this.multipartUploads(key)) {
      if (open.key === key && (newest === null || open.initiated > newest.initiated)) newest = { id: open.id, initiated: open.initiated };
    }
    return newest?.id ?? null;
  }

  private async abortOpenUploads(uploadId: string, key: string): Promise<void> {
    this.openUploads.delete(uploadId);
    for await (const open of this.multipartUploads(key)) {
      if (open.key !== key) continue;
      await this.clients.requests.send(new s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: open.id })).catch((error: unknown) => {
        if (s3ErrorName(error) !== 'NoSuchUpload') throw error;
      });
    }
  }

  private async *multipartUploads(prefix: string): AsyncGenerator<{ key: string; id: string; initiated: Date }> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.clients.requests.send(new s3.ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      for (const open of page.Uploads ?? []) {
        if (open.Key !== undefined && open.UploadId !== undefined) yield { key: open.Key, id: open.UploadId, initiated: open.Initiated ?? new Date(0) };
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** Part number → ETag of what the multipart upload holds now. */
  private async listParts(key: string, uploadId: string): Promise<Map<number, string>> {
    const parts = new Map<number, string>();
    let marker: string | undefined;
    for (;;) {
      const page = await this.clients.requests.send(new s3.ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
      for (const part of page.Parts ?? []) if (part.PartNumber !== undefined && part.ETag !== undefined) parts.set(part.PartNumber, part.ETag);
      if (!page.IsTruncated) return parts;
      marker = page.NextPartNumberMarker;
    }
  }

  private async objectExists(key: string): Promise<boolean> {
    try {
      await this.clients.requests.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (s3ErrorName(error) === 'NotFound' || s3ErrorName(error) === 'NoSuchKey') return false;
      throw error;
    }
  }
}
