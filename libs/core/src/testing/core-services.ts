import { randomBytes } from 'node:crypto';
import { AppConfig } from '@app/config';
import { chunkRange } from '../rules/chunk-grid';
import { AssemblyReconciler } from '../services/assembly-reconciler.service';
import { AssemblyService } from '../services/assembly.service';
import { ChunkReceiver, IncomingChunk } from '../services/chunk-receiver.service';
import { ExpiryService } from '../services/expiry.service';
import { OrphanSweeper } from '../services/orphan-sweeper.service';
import { TusService } from '../services/tus.service';
import { Caller, UploadService } from '../services/upload.service';
import { UploadSession } from '../upload-session';
import { InMemoryAssemblyQueue } from './in-memory-assembly.queue';
import { InMemoryChunkLease } from './in-memory-chunk-lease';
import { InMemoryUploadRepository } from './in-memory-upload.repository';
import { InMemoryUploadStorage } from './in-memory-upload.storage';
import { testConfig } from './test-config';

export const ANYONE: Caller = { keyHash: null };
export const KiB = 1024;

/** Every core service wired to in-memory fakes of its ports. */
export function newCoreServices(options: { config?: Partial<AppConfig>; storage?: InMemoryUploadStorage } = {}) {
  const config = testConfig(options.config);
  const uploads = new InMemoryUploadRepository();
  const storage = options.storage ?? new InMemoryUploadStorage();
  const leases = new InMemoryChunkLease();
  const queue = new InMemoryAssemblyQueue();
  const uploadService = new UploadService(config, uploads, storage, queue);
  const chunkReceiver = new ChunkReceiver(config, uploads, storage, leases, uploadService);
  return {
    config,
    uploads,
    storage,
    leases,
    queue,
    uploadService,
    chunkReceiver,
    tus: new TusService(config, uploads, storage, leases, uploadService, chunkReceiver),
    assembly: new AssemblyService(config, uploads, storage),
    expiry: new ExpiryService(uploads, storage),
    reconciler: new AssemblyReconciler(config, uploads, queue),
    sweeper: new OrphanSweeper(uploads, storage),
  };
}

export type CoreServices = ReturnType<typeof newCoreServices>;

/** A file of random bytes cut into chunks of the smallest allowed size, the last one short. */
export function randomFile(chunks = 3, chunkSize = 256 * KiB): { bytes: Buffer; chunkSize: number } {
  return { bytes: randomBytes((chunks - 1) * chunkSize + 1000), chunkSize };
}

/** Initiates an upload of `file` and returns its session. */
export async function initiate(services: CoreServices, file: { bytes: Buffer; chunkSize: number }, body: Record<string, unknown> = {}): Promise<UploadSession> {
  const { session } = await services.uploadService.initiate({ fileName: 'file.bin', fileSize: file.bytes.length, chunkSize: file.chunkSize, ...body }, ANYONE, null);
  return session;
}

export interface ChunkRequestOptions {
  /** The bytes to send instead of the file's own. */
  bytes?: Buffer;
  /** Runs after the first piece of the body went out: what happens elsewhere while it streams. */
  meanwhile?: () => Promise<void> | void;
  contentDigest?: string;
}

/** A chunk request for grid chunk `index` of `file`, its body in 64 KiB pieces. */
export function chunkRequest(session: UploadSession, file: { bytes: Buffer }, index: number, options: ChunkRequestOptions = {}): IncomingChunk {
  const { start, end } = chunkRange(session, index);
  const bytes = options.bytes ?? file.bytes.subarray(start, end + 1);
  return {
    uploadId: session.id,
    contentRange: `bytes ${start}-${end}/${session.fileSize}`,
    contentLength: bytes.length,
    contentDigest: options.contentDigest,
    body: pieces(bytes, options.meanwhile),
    caller: ANYONE,
  };
}

async function* pieces(bytes: Buffer, meanwhile?: () => Promise<void> | void): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += 64 * KiB) {
    yield bytes.subarray(at, at + 64 * KiB);
    if (at === 0) await meanwhile?.();
  }
}

/** Sends every chunk of `file`, in order. */
export async function sendAll(services: CoreServices, session: UploadSession, file: { bytes: Buffer }): Promise<void> {
  for (let index = 0; index < session.totalChunks; index++) await services.chunkReceiver.receive(chunkRequest(session, file, index));
}
