import { UploadProblem, UploadSession, RecordedChunk } from '../upload-session';
import { UploadStatus } from '../rules/upload-status';

export const UPLOAD_REPOSITORY = Symbol('UPLOAD_REPOSITORY');

export interface NewUploadSession extends Omit<UploadSession, 'status' | 'receivedChunks' | 'receivedBytes' | 'error' | 'createdAt' | 'updatedAt' | 'completedAt' | 'tusConcat'> {
  /** Null unless the session is a tus partial or final upload. */
  tusConcat?: string | null;
  idempotencyKey: string | null;
  /** Hash of the initiate body, to tell a true repeat from a reused key. */
  requestHash: string | null;
}

export interface ChunkRecordResult {
  /** False when the chunk was already recorded, a newer claim superseded the writer's, or the session stopped taking chunks. */
  recorded: boolean;
  /** True for the one write that recorded the last missing chunk and moved the session to `assembling`. */
  completedSet: boolean;
  /** The session after the write (status is `assembling` when this chunk completed the set). */
  session: UploadSession;
}

/** A writer's claim on a chunk, taken before it writes the chunk's bytes. */
export interface ChunkClaim {
  /** The session's status as the claim found it (`expired` once past its expiry): only an `uploading` session's chunk is claimed or looked up. */
  status: UploadStatus;
  /**
   * Opaque; every claim of any chunk gets a greater fence than all claims before it. Null
   * when the chunk was already recorded, and then `recorded` is set, or when nothing was claimed.
   */
  fence: string | null;
  /** The chunk's record when it is already received: then the writer must only compare. */
  recorded: Pick<RecordedChunk, 'index' | 'sha256'> | null;
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

  /**
   * Makes the caller the newest writer of a chunk of an `uploading` session: any earlier claim
   * on it becomes stale, so a writer whose lease lapsed cannot record the chunk over the one
   * that took it over. Claims nothing for a session in any other status.
   */
  claimChunk(uploadId: string, index: number): Promise<ChunkClaim>;

  /**
   * How many bytes of the beginning of chunk `index` are stored durably though the chunk is not
   * yet whole (see `recordChunkBeginning`); 0 when none. A new claim of the chunk resets it to 0,
   * since its writer may overwrite them, and recording the chunk drops it.
   */
  findChunkBeginning(uploadId: string, index: number): Promise<number>;

  /**
   * Records that the first `bytes` of chunk `index` are durably stored, only while the session is
   * `uploading` and `fence` is still the chunk's newest claim (which stays, for the rest of the
   * chunk); slides `expiresAt` to `now + ttlMs`. False when nothing was recorded.
   */
  recordChunkBeginning(uploadId: string, index: number, bytes: number, fence: string, ttlMs: number): Promise<boolean>;

  /** Every recorded chunk with its digest and its store's tag, ordered by index. */
  listChunks(uploadId: string): Promise<RecordedChunk[]>;

  /**
   * Recorded chunks, ascending, that more than one writer claimed before they were recorded, or
   * that were recorded again after being sent back to missing: a writer whose lease lapsed may
   * still write such a chunk's bytes after its record. A chunk claimed once was written only by
   * the writer that recorded it, which had finished writing.
   */
  listContestedChunks(uploadId: string): Promise<number[]>;

  /** The first `limit` chunk indexes in [0, totalChunks) that have no record, ascending. */
  listMissingChunks(uploadId: string, totalChunks: number, limit: number): Promise<number[]>;

  /**
   * Records a durably stored chunk with what its store said of it (`etag`), only while the
   * session is `uploading` and `fence` is still the chunk's newest claim; the unique (upload,
   * chunk) key makes a second record a no-op. Consumes the claim. Updates the counters, slides
   * `expiresAt` to `now + ttlMs`, and moves the session to `assembling` when this was the last
   * missing chunk, all in one atomic step.
   */
  recordChunk(uploadId: string, chunk: RecordedChunk & { size: number }, fence: string, ttlMs: number): Promise<ChunkRecordResult>;

  /**
   * Drops the record of a chunk whose stored bytes were overwritten (it becomes missing), only
   * while the session is `uploading` and the record still has `sha256`; false otherwise.
   */
  forgetChunk(uploadId: string, index: number, sha256: string): Promise<boolean>;

  /**
   * Moves the session to `to` only if it is in one of `from`, applying `patch` with it.
   * Returns the updated session, or null when the session was not in one of `from`. While
   * webhooks are on, a move to `completed` or `failed` records its upload event (see
   * UploadEventOutbox) in the same atomic step.
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

  /** The status of each of `ids` that has a session; ids without one are left out. */
  findStatuses(ids: string[]): Promise<Map<string, UploadStatus>>;

  /** Deletes the chunk claims of sessions no longer `uploading`; returns how many. */
  deleteClaimsOfClosedUploads(): Promise<number>;

  /** True when there is no session at all (a database that is new, or not this deployment's). */
  isEmpty(): Promise<boolean>;

  /** Up to `limit` sessions in `assembling` whose last change is older than `before`, oldest first. */
  findAssemblingSince(before: Date, limit: number): Promise<string[]>;

  /** Confirms the store answers. */
  ping(): Promise<void>;
}
