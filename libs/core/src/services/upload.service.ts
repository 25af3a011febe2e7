import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_CONFIG, AppConfig, chunkSizeBounds } from '@app/config';
import { InsufficientStorageError, UploadError, ValidationFailedError } from '../errors';
import { ASSEMBLY_QUEUE, AssemblyQueue } from '../ports/assembly-queue';
import { UPLOAD_REPOSITORY, UploadRepository } from '../ports/upload.repository';
import { UPLOAD_STORAGE, UploadStorage, reportsFreeSpace } from '../ports/upload-storage';
import { formatByteRange, mergeChunkRanges, totalChunks } from '../rules/chunk-grid';
import { parseCompleteRequest, parseInitiateRequest } from '../rules/initiate-request';
import { assertNotGone, effectiveStatus, statusesLeadingTo } from '../rules/upload-status';
import { newUploadId } from '../rules/upload-id';
import { UploadSession } from '../upload-session';

/** At most this many missing chunk indexes are listed in one answer. */
export const MISSING_CHUNKS_LISTED = 1000;
/** While complete waits for an assembly, the session is re-read after 25, 50, 100 ms, then every this many ms. */
const ASSEMBLY_RECHECK_MAX_MS = 200;

/** Who is asking: the hash of their API key, or null when the server has no keys. */
export type Caller = { keyHash: string | null };

export interface UploadProgress {
  missingChunks: number[];
  missingRanges: string[];
}

export type CompletionState = 'completed' | 'assembling';

/** Throws unless the session exists and is the caller's: someone else's session is reported as not found. */
export function assertOwnedBy<T extends { ownerKeyHash: string | null }>(session: T | null, caller: Caller): asserts session is T {
  if (!session || session.ownerKeyHash !== caller.keyHash) {
    throw new UploadError('UPLOAD_NOT_FOUND', 'No upload has this id: check the id, or initiate a new upload.');
  }
}

/** Session lifecycle outside the chunk data path: initiate, look up, complete, abort, download. */
@Injectable()
export class UploadService {
  private readonly logger = new Logger(UploadService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
    @Inject(ASSEMBLY_QUEUE) private readonly queue: AssemblyQueue,
  ) {}

  /**
   * Creates a session and its storage. With an idempotency key, a repeat of the same
   * request returns the first session (`created: false`); the same key with another body is refused.
   * `tusConcat` marks a tus partial or final upload, as its HEAD answers tell.
   */
  async initiate(body: unknown, caller: Caller, idempotencyKey: string | null, tusConcat: string | null = null): Promise<{ session: UploadSession; created: boolean }> {
    if (idempotencyKey !== null && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      throw new ValidationFailedError([{ field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }]);
    }
    const request = parseInitiateRequest(body, { maxFileSize: this.config.maxFileSize, defaultChunkSize: this.config.defaultChunkSize, ...chunkSizeBounds(this.config) });
    // Only a store that knows its free space can refuse early; any other refuses when it fills up.
    const free = reportsFreeSpace(this.storage) ? await this.storage.freeBytes() : null;
    if (free !== null && request.fileSize > free) throw new InsufficientStorageError();

    const id = newUploadId();
    const requestHash = idempotencyKey === null ? null : createHash('sha256').update(JSON.stringify(request)).digest('hex');
    // The storage exists before the session does, so no recorded session ever lacks it.
    await this.storage.create({ id, fileSize: request.fileSize, chunkSize: request.chunkSize });
    const result = await this.uploads.create({
      id,
      ownerKeyHash: caller.keyHash,
      fileName: request.fileName,
      fileSize: request.fileSize,
      chunkSize: request.chunkSize,
      totalChunks: totalChunks(request),
      contentType: request.contentType,
      metadata: request.metadata,
      tusConcat,
      sha256: request.sha256,
      expiresAt: new Date(Date.now() + this.config.uploadTtlMs),
      idempotencyKey,
      requestHash,
    }).catch(async (error: unknown) => {
      await this.storage.remove(id);
      throw error;
    });

    if (!result.created) {
      await this.storage.remove(id);
      if (result.requestHash !== requestHash) {
        throw new UploadError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body: use a new key for a new upload.');
      }
    }
    return result;
  }

  /** The caller's session; someone else's session is reported as not found. */
  async get(id: string, caller: Caller): Promise<UploadSession> {
    const session = await this.uploads.find(id);
    assertOwnedBy(session, caller);
    return { ...session, status: effectiveStatus(session) };
  }

  /** What is still missing, for the status and complete answers. */
  async progress(session: UploadSession): Promise<UploadProgress> {
    if (session.status !== 'uploading' || session.receivedChunks === session.totalChunks) return { missingChunks: [], missingRanges: [] };
    const missing = await this.uploads.listMissingChunks(session.id, session.totalChunks, MISSING_CHUNKS_LISTED);
    return {
      missingChunks: missing,
      missingRanges: mergeChunkRanges(session, missing).map((range) => formatByteRange(range, session.fileSize)),
    };
  }

  /**
   * Asks for assembly; idempotent. Resolves `completed` once the file is ready, `assembling`
   * while the worker runs, and refuses while chunks are missing.
   */
  async complete(id: string, caller: Caller, body: unknown): Promise<{ session: UploadSession; state: CompletionState }> {
    const { sha256 } = parseCompleteRequest(body);
    let session = await this.get(id, caller);
    assertNotGone(session.status);

    if (sha256 !== null && session.sha256 !== sha256) {
      if (session.status === 'completed') {
        throw new UploadError('CHECKSUM_MISMATCH', `The assembled file's SHA-256 is ${session.sha256}, not the ${sha256} you sent.`, { sha256: session.sha256 });
      }
      if (session.sha256 !== null || session.status !== 'uploading' || !(await this.uploads.declareSha256(id, sha256))) {
        throw new ValidationFailedError([{ field: 'sha256', message: 'differs from the SHA-256 already declared for this upload, or came after assembly started' }]);
      }
      session = { ...session, sha256 };
    }

    switch (session.status) {
      case 'completed':
        return { session, state: 'completed' };
      case 'assembling':
        // Cheap insurance against a lost job: enqueuing one that exists is a no-op.
        await this.requestAssembly(id);
        return this.untilAssembled(session);
      case 'failed':
        throw new UploadError('UPLOAD_NOT_ACCEPTING', `This upload failed (${session.error?.message ?? 'unknown reason'}): start a new upload.`, { status: session.status, error: session.error });
      default: {
        const progress = await this.progress(session);
        if (progress.missingChunks.length > 0) {
          throw new UploadError('UPLOAD_INCOMPLETE', `${session.totalChunks - session.receivedChunks} of ${session.totalChunks} chunks are still missing: upload them, then complete again.`, { ...progress });
        }
        return this.untilAssembled(await this.startAssembly(session));
      }
    }
  }

  /**
   * Waits up to COMPLETE_WAIT for the assembly under way: a file verified meanwhile is answered
   * `completed` at once, so its client needs no poll (most files take less than a second).
   * Any other outcome is answered as before the wait, `assembling`: the client's poll finds out.
   */
  private async untilAssembled(session: UploadSession): Promise<{ session: UploadSession; state: CompletionState }> {
    const deadline = Date.now() + this.config.completeWaitMs;
    for (let delayMs = 25; session.status === 'assembling' && Date.now() + delayMs <= deadline; delayMs = Math.min(2 * delayMs, ASSEMBLY_RECHECK_MAX_MS)) {
      await sleep(delayMs);
      const current = await this.uploads.find(session.id);
      if (current?.status === 'completed') return { session: current, state: 'completed' };
      if (current?.status !== 'assembling') break;
    }
    return { session, state: 'assembling' };
  }

  /** Moves a fully received session to `assembling` and asks for its assembly. */
  async startAssembly(session: UploadSession): Promise<UploadSession> {
    const assembling = (await this.uploads.transition(session.id, ['uploading'], 'assembling')) ?? (await this.uploads.find(session.id)) ?? session;
    if (assembling.status === 'assembling') await this.requestAssembly(session.id);
    return assembling;
  }

  /**
   * Enqueues the assembly of a session that is `assembling`. The session's state is already
   * recorded, so a queue that cannot be reached is no reason to fail the request: the worker's
   * reconciler re-enqueues assemblies that have no job.
   */
  async requestAssembly(id: string): Promise<void> {
    await this.queue.enqueue(id).catch((error: Error) => this.logger.warn(`Could not enqueue assembly of ${id} (the reconciler will): ${error.message}`));
  }

  /** Aborts a session and removes its bytes; aborting twice is fine. */
  async abort(id: string, caller: Caller): Promise<void> {
    const session = await this.get(id, caller);
    if (session.status === 'expired') assertNotGone(session.status);
    if (session.status !== 'aborted') {
      const aborted = await this.uploads.transition(id, statusesLeadingTo('aborted'), 'aborted');
      if (!aborted) {
        // It changed under us (expired, or aborted by someone else): report what it is now.
        const current = await this.get(id, caller);
        if (current.status !== 'aborted') assertNotGone(current.status);
      }
    }
    await this.storage.remove(id);
  }

  /** The session of a completed upload, ready to be downloaded. */
  async getDownloadable(id: string, caller: Caller): Promise<UploadSession> {
    const session = await this.get(id, caller);
    assertNotGone(session.status);
    if (session.status !== 'completed') {
      throw new UploadError('UPLOAD_NOT_COMPLETED', `This upload is ${session.status}, not completed: poll its status until it is completed.`, { status: session.status });
    }
    return session;
  }
}
