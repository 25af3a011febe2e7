import { ChunkClaim, ChunkRecordResult, NewUploadSession, UploadRepository } from '../ports/upload.repository';
import { UploadStatus, effectiveStatus } from '../rules/upload-status';
import { ServiceUnavailableError } from '../errors';
import { RecordedChunk, UploadProblem, UploadSession } from '../upload-session';

interface SessionRow extends UploadSession {
  idempotencyKey: string | null;
  requestHash: string | null;
}

type ChunkRow = RecordedChunk & { size: number };

/**
 * The `UploadRepository` port in memory, with the Postgres adapter's rules: every method is
 * all or nothing, records need the chunk's newest claim, state changes are conditional on the
 * state they start from. Answers are copies, as rows read from a database would be.
 */
export class InMemoryUploadRepository implements UploadRepository {
  private readonly sessions = new Map<string, SessionRow>();
  private readonly chunks = new Map<string, Map<number, ChunkRow>>();
  /** The newest claim's fence of each chunk not yet recorded, by `uploadId:index`. */
  private readonly claims = new Map<string, string>();
  /** Bytes stored of a chunk's beginning under its claim, by `uploadId:index`. */
  private readonly beginnings = new Map<string, number>();
  /** Writers that claimed each chunk since its last record, by `uploadId:index` (2 once sent back to missing). */
  private readonly claimCounts = new Map<string, number>();
  /** Recorded chunks that more than one writer claimed, by `uploadId:index`. */
  private readonly contested = new Set<string>();
  private lastFence = 0;
  /** While true, every call fails as a database that cannot be reached does. */
  unreachable = false;

  async create(session: NewUploadSession): Promise<{ session: UploadSession; created: boolean; requestHash: string | null }> {
    this.reach();
    if (session.idempotencyKey !== null) {
      const existing = [...this.sessions.values()].find((row) => row.ownerKeyHash === session.ownerKeyHash && row.idempotencyKey === session.idempotencyKey);
      if (existing) return { session: toSession(existing), created: false, requestHash: existing.requestHash };
    }
    const now = new Date();
    const row: SessionRow = { ...copy(session), tusConcat: session.tusConcat ?? null, status: 'uploading', receivedChunks: 0, receivedBytes: 0, error: null, createdAt: now, updatedAt: now, completedAt: null };
    this.sessions.set(session.id, row);
    this.chunks.set(session.id, new Map());
    return { session: toSession(row), created: true, requestHash: row.requestHash };
  }

  async find(id: string): Promise<UploadSession | null> {
    this.reach();
    const row = this.sessions.get(id);
    return row ? toSession(row) : null;
  }

  async findChunk(uploadId: string, index: number): Promise<RecordedChunk | null> {
    this.reach();
    const chunk = this.chunks.get(uploadId)?.get(index);
    return chunk ? { index, sha256: chunk.sha256, etag: chunk.etag } : null;
  }

  async claimChunk(uploadId: string, index: number): Promise<ChunkClaim> {
    this.reach();
    const row = this.sessions.get(uploadId);
    if (!row) throw new Error(`Upload ${uploadId} does not exist, so none of its chunks can be claimed`);
    const status = effectiveStatus(row);
    if (status !== 'uploading') return { status, fence: null, recorded: null };
    const recorded = this.chunks.get(uploadId)?.get(index);
    if (recorded) return { status, fence: null, recorded: { index, sha256: recorded.sha256 } };
    const fence = String(++this.lastFence);
    this.claims.set(claimKey(uploadId, index), fence);
    this.claimCounts.set(claimKey(uploadId, index), (this.claimCounts.get(claimKey(uploadId, index)) ?? 0) + 1);
    this.beginnings.delete(claimKey(uploadId, index));
    return { status, fence, recorded: null };
  }

  async findChunkBeginning(uploadId: string, index: number): Promise<number> {
    this.reach();
    return this.beginnings.get(claimKey(uploadId, index)) ?? 0;
  }

  async recordChunkBeginning(uploadId: string, index: number, bytes: number, fence: string, ttlMs: number): Promise<boolean> {
    this.reach();
    const row = this.sessions.get(uploadId);
    const key = claimKey(uploadId, index);
    if (!row || row.status !== 'uploading' || row.expiresAt.getTime() <= Date.now() || this.claims.get(key) !== fence) return false;
    this.beginnings.set(key, bytes);
    row.expiresAt = new Date(Math.max(row.expiresAt.getTime(), Date.now() + ttlMs));
    row.updatedAt = new Date();
    return true;
  }

  async listChunks(uploadId: string): Promise<RecordedChunk[]> {
    this.reach();
    return [...(this.chunks.get(uploadId)?.values() ?? [])].sort((a, b) => a.index - b.index).map(({ index, sha256, etag }) => ({ index, sha256, etag }));
  }

  async listContestedChunks(uploadId: string): Promise<number[]> {
    this.reach();
    return [...(this.chunks.get(uploadId)?.keys() ?? [])].filter((index) => this.contested.has(claimKey(uploadId, index))).sort((a, b) => a - b);
  }

  /** Whoever wrote a chunk's forgotten bytes may write again: its next record is contested. */
  private markSentBack(uploadId: string, index: number): void {
    const key = claimKey(uploadId, index);
    this.claimCounts.set(key, (this.claimCounts.get(key) ?? 1) + 1);
    this.contested.delete(key);
  }

  async listMissingChunks(uploadId: string, totalChunks: number, limit: number): Promise<number[]> {
    this.reach();
    const recorded = this.chunks.get(uploadId) ?? new Map();
    const missing: number[] = [];
    for (let index = 0; index < totalChunks && missing.length < limit; index++) if (!recorded.has(index)) missing.push(index);
    return missing;
  }

  async recordChunk(uploadId: string, chunk: RecordedChunk & { size: number }, fence: string, ttlMs: number): Promise<ChunkRecordResult> {
    this.reach();
    const row = this.sessions.get(uploadId);
    if (!row) throw new Error(`Upload ${uploadId} disappeared while a chunk was being recorded`);
    const key = claimKey(uploadId, chunk.index);
    if (row.status !== 'uploading' || row.expiresAt.getTime() <= Date.now() || this.claims.get(key) !== fence) {
      return { recorded: false, completedSet: false, session: toSession(row) };
    }
    this.claims.delete(key);
    this.beginnings.delete(key);
    const recorded = this.chunks.get(uploadId)!;
    if (recorded.has(chunk.index)) return { recorded: false, completedSet: false, session: toSession(row) };
    recorded.set(chunk.index, { ...chunk });
    if ((this.claimCounts.get(key) ?? 1) > 1) this.contested.add(key);
    else this.contested.delete(key);
    this.claimCounts.delete(key);
    row.receivedChunks += 1;
    row.receivedBytes += chunk.size;
    const completedSet = row.receivedChunks === row.totalChunks;
    if (completedSet) row.status = 'assembling';
    row.expiresAt = new Date(Math.max(row.expiresAt.getTime(), Date.now() + ttlMs));
    row.updatedAt = new Date();
    return { recorded: true, completedSet, session: toSession(row) };
  }

  async forgetChunk(uploadId: string, index: number, sha256: string): Promise<boolean> {
    this.reach();
    const row = this.sessions.get(uploadId);
    const chunk = this.chunks.get(uploadId)?.get(index);
    if (!row || row.status !== 'uploading' || !chunk || chunk.sha256 !== sha256) return false;
    this.chunks.get(uploadId)!.delete(index);
    this.markSentBack(uploadId, index);
    row.receivedChunks -= 1;
    row.receivedBytes -= chunk.size;
    row.updatedAt = new Date();
    return true;
  }

  async transition(id: string, from: UploadStatus[], to: UploadStatus, patch: Partial<Pick<UploadSession, 'sha256' | 'error' | 'completedAt'>> = {}): Promise<UploadSession | null> {
    this.reach();
    const row = this.sessions.get(id);
    if (!row || !from.includes(row.status)) return null;
    Object.assign(row, copy(patch), { status: to, updatedAt: new Date() });
    return toSession(row);
  }

  async declareSha256(id: string, sha256: string): Promise<boolean> {
    this.reach();
    const row = this.sessions.get(id);
    if (!row || row.status !== 'uploading' || (row.sha256 !== null && row.sha256 !== sha256)) return false;
    row.sha256 = sha256;
    row.updatedAt = new Date();
    return true;
  }

  async returnChunksToMissing(id: string, indexes: number[], error: UploadProblem, ttlMs: number): Promise<boolean> {
    this.reach();
    const row = this.sessions.get(id);
    if (!row || row.status !== 'assembling') return false;
    const recorded = this.chunks.get(id)!;
    for (const index of indexes) {
      const chunk = recorded.get(index);
      if (!chunk) continue;
      recorded.delete(index);
      this.markSentBack(id, index);
      row.receivedChunks -= 1;
      row.receivedBytes -= chunk.size;
    }
    Object.assign(row, { status: 'uploading', error: copy(error), updatedAt: new Date() });
    row.expiresAt = new Date(Math.max(row.expiresAt.getTime(), Date.now() + ttlMs));
    return true;
  }

  async expireOverdue(now: Date, limit: number): Promise<string[]> {
    this.reach();
    const overdue = [...this.sessions.values()]
      .filter((row) => row.status === 'uploading' && row.expiresAt.getTime() <= now.getTime())
      .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
      .slice(0, limit);
    for (const row of overdue) Object.assign(row, { status: 'expired', updatedAt: new Date() });
    return overdue.map((row) => row.id);
  }

  async findStatuses(ids: string[]): Promise<Map<string, UploadStatus>> {
    this.reach();
    return new Map(ids.flatMap((id) => (this.sessions.has(id) ? [[id, this.sessions.get(id)!.status] as const] : [])));
  }

  async deleteClaimsOfClosedUploads(): Promise<number> {
    this.reach();
    let deleted = 0;
    for (const key of [...this.claims.keys()]) {
      if (this.sessions.get(key.split(':')[0])?.status === 'uploading') continue;
      this.claims.delete(key);
      deleted += 1;
    }
    return deleted;
  }

  async isEmpty(): Promise<boolean> {
    this.reach();
    return this.sessions.size === 0;
  }

  async findAssemblingSince(before: Date, limit: number): Promise<string[]> {
    this.reach();
    return [...this.sessions.values()]
      .filter((row) => row.status === 'assembling' && row.updatedAt.getTime() < before.getTime())
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())
      .slice(0, limit)
      .map((row) => row.id);
  }

  async ping(): Promise<void> {
    this.reach();
  }

  /** Changes a session behind the services' backs, as time or another process would (e.g. its expiry). */
  alter(id: string, patch: Partial<UploadSession>): void {
    const row = this.sessions.get(id);
    if (!row) throw new Error(`No session ${id}`);
    Object.assign(row, copy(patch));
  }

  /** How many chunk claims are held, recorded or not. */
  get claimCount(): number {
    return this.claims.size;
  }

  private reach(): void {
    if (this.unreachable) throw new ServiceUnavailableError('The database');
  }
}

function claimKey(uploadId: string, index: number): string {
  return `${uploadId}:${index}`;
}

function toSession(row: SessionRow): UploadSession {
  const { idempotencyKey: _key, requestHash: _hash, ...session } = copy(row);
  return session;
}

/**
 * A deep copy of plain data and dates. Not structuredClone: its dates would come from another
 * realm than a Jest test's, and fail `instanceof Date` there.
 */
function copy<T>(value: T): T {
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, copy(field)])) as T;
}
