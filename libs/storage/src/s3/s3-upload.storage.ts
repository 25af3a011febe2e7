import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import { S3Settings } from '@app/config';
import {
  ChunkSlot,
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
import { digestStream } from './stream-digests';

/** Part copies of a reopened upload in flight at once. */
const COPIES_AT_ONCE = 4;
/** Multipart upload ids remembered per process; older ones are looked up again when needed. */
const REMEMBERED_UPLOADS = 10_000;
/** An ETag that is the MD5 of the part's bytes, as AWS (without KMS), Ceph RGW and MinIO give. */
const MD5_ETAG = /^"?([0-9a-f]{32})"?$/i;

/** The part's body failed (the fence, the source, a wrong length): its own error is the one to throw. */
class BodyFailure {
  constructor(readonly cause: unknown) {}
}

const sameTag = (a: string | null | undefined, b: string | null | undefined) => !!a && !!b && a.replace(/"/g, '') === b.replace(/"/g, '');

/**
 * Uploads in an S3 bucket. An upload is one multipart upload at `S3_PREFIX<upload id>`, chunk
 * `i` its part `i + 1`; CompleteMultipartUpload with the recorded ETags turns it into the
 * object, which is then the published file. See docs/architecture.md ("S3 storage").
 */
export class S3UploadStorage implements UploadStorage {
  /** Upload id → its open multipart upload, as this process last saw it. */
  private readonly openUploads = new Map<string, string>();

  constructor(
    private readonly settings: S3Settings,
    private readonly clients: S3Clients = createS3Clients(settings),
  ) {}

  /** Connects and checks the bucket can be listed; throws a message naming the setting to fix. */
  static async open(settings: S3Settings, clients?: S3Clients): Promise<S3UploadStorage> {
    const storage = new S3UploadStorage(settings, clients);
    try {
      await storage.clients.requests.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: settings.prefix, MaxKeys: 1 }));
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
        new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: Readable.from([Buffer.from('x')]), ContentLength: 1, ChecksumAlgorithm: 'SHA256' }),
      );
    } catch (error) {
      refusal = error;
    }
    if (uploadId !== undefined) await this.clients.requests.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
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
          const result = await this.sendPart(key, uploadId, slot.index + 1, part);
          return { etag: this.provenTag(result, part) };
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

  /** Sends one part; an error of its body (the fence, the source, a wrong length) aborts the request and is the one thrown. */
  private async sendPart(key: string, uploadId: string, partNumber: number, part: PartBody): Promise<UploadPartCommandOutput> {
    const controller = new AbortController();
    let bodyError: unknown;
    const onBodyError = (error: unknown) => {
      bodyError = error;
      controller.abort();
    };
    part.stream.once('error', onBodyError);
    try {
      return await this.clients.parts.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: part.stream,
          ContentLength: part.length,
          // The SDK hashes the stream as it sends it and puts the digest in a trailer, as S3 allows.
          ...(this.settings.checksums ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
        }),
        { abortSignal: controller.signal },
      );
    } catch (error) {
      throw bodyError === undefined ? error : new BodyFailure(bodyError);
    } finally {
      part.stream.off('error', onBodyError);
    }
  }

  /** The part's ETag, once it is proven to be the MD5 of the bytes sent where the store's ETags are MD5s. */
  private provenTag(result: UploadPartCommandOutput, part: PartBody): string {
    const etag = result.ETag;
    if (!etag) throw new UploadError('SERVICE_UNAVAILABLE', 'Object storage kept the chunk without an ETag, so it could not be recorded; re-send it.', {}, 1);
    const md5 = MD5_ETAG.exec(etag)?.[1].toLowerCase();
    if (md5 !== undefined && md5 !== part.md5Hex()) {
      throw new UploadError('SERVICE_UNAVAILABLE', 'Object storage kept other bytes than the ones sent for this chunk, so it was not recorded; re-send it.', {}, 1);
    }
    return etag;
  }

  async readForVerification(upload: UploadLayout, chunks: RecordedStoredChunk[]): Promise<StoredUpload> {
    const key = this.key(upload.id);
    return mapStoreErrors(async () => {
      // Looked up afresh: another process may have replaced the upload since this one cached it.
      const uploadId = await this.findOpenUpload(key);
      if (uploadId !== null) {
        if (totalChunks(upload) === 0) {
          // S3 completes no multipart upload without parts: an empty file is put whole.
          await this.clients.requests.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0 }));
          await this.abortOpenUploads(upload.id, key);
        } else {
          const lost = await this.completeAsRecorded(upload, key, uploadId, chunks);
          if (lost.length > 0) return { kind: 'chunks-lost', chunks: lost };
        }
        this.openUploads.delete(upload.id);
        const digests = await this.readDigests(upload, key);
        return digests === null ? { kind: 'gone' } : { kind: 'read', digests, published: false };
      }
      // No multipart upload: a re-run after it was completed, or nothing stored at all.
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
          new CompleteMultipartUploadCommand({
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
      const object = await this.clients.requests.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
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
          new UploadPartCopyCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, CopySource: source, CopySourceRange: `bytes=${start}-${end}` }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(COPIES_AT_ONCE, chunks.length) }, copyNext));
  }

  /** The object is the published file from the moment it is completed: nothing is left to do. */
  async publish(_upload: UploadLayout): Promise<void> {}

  async readPublished(uploadId: string, range?: { start: number; end: number }): Promise<Readable> {
    const request = new GetObjectCommand({ Bucket: this.bucket, Key: this.key(uploadId), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) });
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
      if (which === 'all') await this.clients.requests.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    });
  }

  async *listLeftovers(changedBefore: Date): AsyncIterable<StoredLeftover> {
    const prefix = this.settings.prefix;
    const uploadIdOf = (key: string | undefined) => {
      const rest = key?.startsWith(prefix) ? key.slice(prefix.length) : undefined;
      return isUploadId(rest) ? rest : null;
    };
    let token: string | undefined;
    do {
      const page = await mapStoreErrors(() => this.clients.requests.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const object of page.Contents ?? []) {
        const uploadId = uploadIdOf(object.Key);
        if (uploadId !== null && object.LastModified !== undefined && object.LastModified < changedBefore) yield { uploadId, published: true };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    for await (const open of this.multipartUploads(prefix)) {
      const uploadId = uploadIdOf(open.key);
      if (uploadId !== null && open.initiated < changedBefore) yield { uploadId, published: false };
    }
  }

  async ping(): Promise<void> {
    await mapStoreErrors(() => this.clients.requests.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  private async startMultipartUpload(key: string): Promise<string> {
    const created = await this.clients.requests.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...(this.settings.checksums ? { ChecksumAlgorithm: 'SHA256' as const } : {}) }),
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
      await this.clients.requests.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: open.id })).catch((error: unknown) => {
        if (s3ErrorName(error) !== 'NoSuchUpload') throw error;
      });
    }
  }

  private async *multipartUploads(prefix: string): AsyncGenerator<{ key: string; id: string; initiated: Date }> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.clients.requests.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
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
      const page = await this.clients.requests.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
      for (const part of page.Parts ?? []) if (part.PartNumber !== undefined && part.ETag !== undefined) parts.set(part.PartNumber, part.ETag);
      if (!page.IsTruncated) return parts;
      marker = page.NextPartNumberMarker;
    }
  }

  private async objectExists(key: string): Promise<boolean> {
    try {
      await this.clients.requests.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (s3ErrorName(error) === 'NotFound' || s3ErrorName(error) === 'NoSuchKey') return false;
      throw error;
    }
  }
}
