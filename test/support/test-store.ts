import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { S3Access, TestS3Server, s3ClientFor, s3Environment, sharedTestS3Server } from './s3-server';

export type StorageMode = 'disk' | 's3';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The modes the suites that matter run in: both, unless E2E_STORAGE_MODES names a subset
 * (`disk`, `s3`, or `disk,s3`), e.g. for a quick run without booting Ceph.
 */
export const STORAGE_MODES: StorageMode[] = (() => {
  const asked = (process.env.E2E_STORAGE_MODES ?? 'disk,s3').split(',').map((mode) => mode.trim());
  const modes = (['disk', 's3'] as const).filter((mode) => asked.includes(mode));
  if (modes.length === 0) throw new Error(`E2E_STORAGE_MODES=${process.env.E2E_STORAGE_MODES}: name disk, s3 or both`);
  return modes;
})();

/** The smallest chunk each mode accepts, which keeps the suites' files small: S3 refuses parts under 5 MiB. */
export function smallChunk(mode: StorageMode): number {
  return mode === 's3' ? 5 * MiB : 256 * KiB;
}

/** One chunk of an upload as a test sent it: where it starts in the file, and its bytes. */
export interface SentChunk {
  index: number;
  start: number;
  bytes: Buffer;
}

/**
 * Where a stack keeps upload bytes, seen from the test: the settings each process gets, and
 * what a test checks or breaks behind the service's back (a part file on disk, a multipart
 * upload or object in S3), in the same words for both modes.
 */
export interface TestStore {
  readonly mode: StorageMode;
  /** Settings every process of the stack gets (STORAGE_BACKEND, S3_*, AWS_*). */
  readonly env: Record<string, string>;
  /** STORAGE_DIR for one more process: the shared directory on disk, a new private one in s3 mode. */
  storageDirForProcess(): Promise<string>;
  /** Whether the upload's unpublished bytes are stored (a part file; an open multipart upload). */
  holdsUnpublished(uploadId: string): Promise<boolean>;
  /** Whether the upload's published file is stored (files/<id>; the object). */
  holdsPublished(uploadId: string): Promise<boolean>;
  /** Loses the unpublished bytes, as a store could (deletes the part file; aborts the multipart upload). */
  loseUnpublished(uploadId: string): Promise<void>;
  /** Loses the published file (files/<id>; the object). */
  losePublished(uploadId: string): Promise<void>;
  /** Flips byte `at` of a received chunk where it is stored (in the part file; by overwriting the part). */
  damageChunk(uploadId: string, chunk: SentChunk, at: number): Promise<void>;
  /** Removes whatever this store made for the stack. */
  destroy(): Promise<void>;
}

/** One directory shared by every process, as in production on disk. */
export class DiskTestStore implements TestStore {
  readonly mode = 'disk';
  readonly env = {};

  private constructor(
    readonly dir: string,
    private readonly owned: boolean,
  ) {}

  static async create(dir?: string): Promise<DiskTestStore> {
    return new DiskTestStore(dir ?? (await mkdtemp(join(tmpdir(), 'ru-e2e-'))), dir === undefined);
  }

  async storageDirForProcess(): Promise<string> {
    return this.dir;
  }

  partPath(uploadId: string): string {
    return join(this.dir, 'tmp', `${uploadId}.part`);
  }

  async holdsUnpublished(uploadId: string): Promise<boolean> {
    return existsSync(this.partPath(uploadId));
  }

  async holdsPublished(uploadId: string): Promise<boolean> {
    return existsSync(join(this.dir, 'files', uploadId));
  }

  async loseUnpublished(uploadId: string): Promise<void> {
    await rm(this.partPath(uploadId));
  }

  async losePublished(uploadId: string): Promise<void> {
    await rm(join(this.dir, 'files', uploadId));
  }

  async damageChunk(uploadId: string, chunk: SentChunk, at: number): Promise<void> {
    const part = await open(this.partPath(uploadId), 'r+');
    try {
      await part.write(Buffer.from([chunk.bytes[at] ^ 0xff]), 0, 1, chunk.start + at);
    } finally {
      await part.close();
    }
  }

  async destroy(): Promise<void> {
    if (this.owned) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A bucket of its own on the run's shared Ceph RGW (or on a server the test gives), and a
 * private STORAGE_DIR for every process: nothing is shared between replicas but the bucket.
 */
export class S3TestStore implements TestStore {
  readonly mode = 's3';
  /** Keys live under a prefix, as an operator sharing a bucket would set it. */
  readonly prefix = 'uploads/';
  readonly client: S3Client;
  /** The STORAGE_DIR handed to each process, one each. */
  readonly privateDirs: string[] = [];

  private constructor(
    readonly access: S3Access,
    readonly bucket: string,
    private readonly server: TestS3Server,
  ) {
    this.client = s3ClientFor(access);
  }

  static async create(server?: TestS3Server): Promise<S3TestStore> {
    const chosen = server ?? (await sharedTestS3Server());
    return new S3TestStore(chosen.access, await chosen.newBucket(), chosen);
  }

  get env(): Record<string, string> {
    return s3Environment(this.access, this.bucket, this.prefix);
  }

  async storageDirForProcess(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ru-e2e-private-'));
    this.privateDirs.push(dir);
    return dir;
  }

  key(uploadId: string): string {
    return `${this.prefix}${uploadId}`;
  }

  /** The open multipart uploads of an upload's key. */
  async multipartUploads(uploadId: string): Promise<string[]> {
    const listed = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.key(uploadId) }));
    return (listed.Uploads ?? []).filter((upload) => upload.Key === this.key(uploadId)).map((upload) => upload.UploadId as string);
  }

  /** Every key in the bucket, and every key with an open multipart upload. */
  async everything(): Promise<{ objects: string[]; multipartUploads: string[] }> {
    const objects = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket }));
    const uploads = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket }));
    return { objects: (objects.Contents ?? []).map((object) => object.Key as string), multipartUploads: (uploads.Uploads ?? []).map((upload) => upload.Key as string) };
  }

  async holdsUnpublished(uploadId: string): Promise<boolean> {
    return (await this.multipartUploads(uploadId)).length > 0;
  }

  async holdsPublished(uploadId: string): Promise<boolean> {
    const listed = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(uploadId) }));
    return (listed.Contents ?? []).some((object) => object.Key === this.key(uploadId));
  }

  async loseUnpublished(uploadId: string): Promise<void> {
    for (const id of await this.multipartUploads(uploadId)) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key(uploadId), UploadId: id }));
  }

  async losePublished(uploadId: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(uploadId) }));
  }

  /** Overwrites the chunk's part with other bytes of the same length, as a stale writer would. */
  async damageChunk(uploadId: string, chunk: SentChunk, at: number): Promise<void> {
    const [id] = await this.multipartUploads(uploadId);
    if (id === undefined) throw new Error(`upload ${uploadId} has no open multipart upload to damage`);
    const bytes = Buffer.from(chunk.bytes);
    bytes[at] ^= 0xff;
    await this.client.send(
      new UploadPartCommand({ Bucket: this.bucket, Key: this.key(uploadId), UploadId: id, PartNumber: chunk.index + 1, Body: Readable.from([bytes]), ContentLength: bytes.length }),
    );
  }

  async destroy(): Promise<void> {
    await Promise.all(this.privateDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    await this.server.removeBucket(this.bucket).catch(() => undefined);
    this.client.destroy();
  }
}

/** The store for a stack: a directory (the given one, or a new temporary one) or a bucket. */
export async function createTestStore(mode: StorageMode, options: { storageDir?: string; s3Server?: TestS3Server } = {}): Promise<TestStore> {
  return mode === 's3' ? S3TestStore.create(options.s3Server) : DiskTestStore.create(options.storageDir);
}

/** Runs the suite once per storage mode (see STORAGE_MODES), named `<name>, on disk` / `<name>, in s3`. */
export function describeInStorageModes(name: string, suite: (mode: StorageMode) => void): void {
  describe.each(STORAGE_MODES)(`${name}, storage: %s`, suite);
}
