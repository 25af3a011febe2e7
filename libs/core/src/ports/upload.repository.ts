import { UploadProblem, UploadSession, RecordedChunk } from '../upload-session';
import { UploadStatus } from '../rules/upload-status';

export const UPLOAD_REPOSITORY = Symbol('UPLOAD_REPOSITORY');

export interface NewUploadSession extends Omit<UploadSession, 'status' | 'receivedChunks' | 'receivedBytes' | 'error' | 'createdAt' | 'updatedAt' | 'completedAt'> {
  idempotencyKey: string | null;
  /** Hash of the initiate body, to tell a true repeat from a reused key. */
  requestHash: string | null;
}

export interface ChunkRecordResult {
  /** False when the chunk was already recorded, or the session stopped taking chunks. */
  recorded: boolean;
  /** True for the one write that recorded the last missing chunk and moved the session to `assembling`. */
  completedSet: boolean;
  /** The session after the write (status is `assembling` when this chunk completed the set). */
  session: UploadSession;
}

/**
 * Where sessions and their chunk records live. Every method either does all of its
 * work or none of it; failures to reach the store are thrown as they come.
 */
export interface UploadRepository {
  /**
   * Inserts a new session. When `idempotencyKey` is already taken by the same owner,
   * inserts nothing and returns the existing session with `created: false` instead.
   */
  create(session: NewUploadSession): Promise<{ session: UploadSession; created: boolean; requestHash: string | null }>;

  /** The session, or null if there is none with that id. */
  find(id: string): Promise<UploadSession | null>;

  /** The recorded chunk at `index`, or null if that chunk is still missing. */
  findChunk(uploadId: string, index: number): Promise<RecordedChunk | null>;

  /** Every recorded chunk, ordered by index. */
  listChunks(uploadId: string): Promise<RecordedChunk[]>;

  /** The first `limit` chunk indexes in [0, totalChunks) that have no record, ascending. */
  listMissingChunks(uploadId: string, totalChunks: number, limit: number): Promise<number[]>;

  /**
   * Records a durably stored chunk, only while the session is `uploading`; the unique
   * (upload, chunk) key makes a second record a no-op. Updates the counters, slides
   * `expiresAt` to `now + ttlMs`, and moves the session to `assembling` when this was
   * the last missing chunk, all in one atomic step.
   */
  recordChunk(uploadId: string, chunk: RecordedChunk & { size: number }, ttlMs: number): Promise<ChunkRecordResult>;

  /**
   * Moves the session to `to` only if it is in one of `from`, applying `patch` with it.
   * Returns the updated session, or null when the session was not in one of `from`.
   */
  transition(id: string, from: UploadStatus[], to: UploadStatus, patch?: Partial<Pick<UploadSession, 'sha256' | 'error' | 'completedAt'>>): Promise<UploadSession | null>;

  /** Sets the declared whole-file SHA-256 while the session is `uploading` and has none; false otherwise. */
  declareSha256(id: string, sha256: string): Promise<boolean>;

  /**
   * Forgets the given chunks (they become missing) and moves an `assembling` session back
   * to `uploading` with `error` set, in one step; the session gets at least `ttlMs` more to
   * receive them again. Returns false if it was not `assembling`.
   */
  returnChunksToMissing(id: string, indexes: number[], error: UploadProblem, ttlMs: number): Promise<boolean>;

  /** Marks up to `limit` sessions still `uploading` past their `expiresAt` as `expired`; returns their ids. */
  expireOverdue(now: Date, limit: number): Promise<string[]>;

  /** Up to `limit` sessions in `assembling` whose last change is older than `before`, oldest first. */
  findAssemblingSince(before: Date, limit: number): Promise<string[]>;

  /** Confirms the store answers. */
  ping(): Promise<void>;
}
