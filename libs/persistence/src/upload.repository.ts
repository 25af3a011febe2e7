import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  EVENT_STATUSES,
  ChunkClaim,
  ChunkRecordResult,
  NewUploadSession,
  RecordedChunk,
  UploadProblem,
  UploadRepository,
  UploadSession,
  UploadStatus,
} from '@app/core';

interface UploadRow {
  id: string;
  owner_key_hash: string | null;
  file_name: string;
  file_size: string;
  chunk_size: number;
  total_chunks: number;
  content_type: string | null;
  metadata: Record<string, string>;
  tus_concat: string | null;
  sha256: string | null;
  status: UploadStatus;
  received_chunks: number;
  received_bytes: string;
  error: UploadProblem | null;
  request_hash: string | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
  completed_at: Date | null;
}

function toSession(row: UploadRow): UploadSession {
  return {
    id: row.id,
    ownerKeyHash: row.owner_key_hash,
    fileName: row.file_name,
    fileSize: Number(row.file_size),
    chunkSize: row.chunk_size,
    totalChunks: row.total_chunks,
    contentType: row.content_type,
    metadata: row.metadata,
    // Absent from event snapshots written before the column existed.
    tusConcat: row.tus_concat ?? null,
    sha256: row.sha256,
    status: row.status,
    receivedChunks: row.received_chunks,
    receivedBytes: Number(row.received_bytes),
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    completedAt: row.completed_at,
  };
}

/** An upload row as to_jsonb wrote it into an event: timestamps are strings there. */
export function sessionFromSnapshot(snapshot: Record<string, unknown>): UploadSession {
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));
  const row = snapshot as unknown as UploadRow;
  return toSession({ ...row, created_at: date(row.created_at)!, updated_at: date(row.updated_at)!, expires_at: date(row.expires_at)!, completed_at: date(row.completed_at) });
}

// UPDATE ... RETURNING through TypeORM's query() yields [rows, affectedCount].
function updatedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

/**
 * The Postgres side of the domain. Hot paths are single SQL statements so each chunk
 * costs one round trip; every state change is conditional on the state it starts from.
 */
@Injectable()
export class PostgresUploadRepository implements UploadRepository {
  constructor(
    private readonly db: DataSource,
    /** Whether moves to `completed` and `failed` record an event for delivery (webhooks are on). */
    private readonly recordEvents = false,
  ) {}

  async create(session: NewUploadSession): Promise<{ session: UploadSession; created: boolean; requestHash: string | null }> {
    const inserted: UploadRow[] = await this.db.query(
      `INSERT INTO uploads (id, owner_key_hash, file_name, file_size, chunk_size, total_chunks, content_type, metadata, sha256, expires_at, idempotency_key, request_hash, tus_concat)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT ((coalesce(owner_key_hash, '')), idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING *`,
      [
        session.id,
        session.ownerKeyHash,
        session.fileName,
        session.fileSize,
        session.chunkSize,
        session.totalChunks,
        session.contentType,
        JSON.stringify(session.metadata),
        session.sha256,
        session.expiresAt,
        session.idempotencyKey,
        session.requestHash,
        session.tusConcat ?? null,
      ],
    );
    if (inserted.length > 0) return { session: toSession(inserted[0]), created: true, requestHash: inserted[0].request_hash };

    const [existing]: UploadRow[] = await this.db.query(`SELECT * FROM uploads WHERE coalesce(owner_key_hash, '') = coalesce($1, '') AND idempotency_key = $2`, [
      session.ownerKeyHash,
      session.idempotencyKey,
    ]);
    return { session: toSession(existing), created: false, requestHash: existing.request_hash };
  }

  async find(id: string): Promise<UploadSession | null> {
    const [row]: UploadRow[] = await this.db.query('SELECT * FROM uploads WHERE id = $1', [id]);
    return row ? toSession(row) : null;
  }

  async findChunk(uploadId: string, index: number): Promise<RecordedChunk | null> {
    const [row]: { sha256: string; etag: string | null }[] = await this.db.query('SELECT sha256, etag FROM upload_chunks WHERE upload_id = $1 AND chunk_index = $2', [
      uploadId,
      index,
    ]);
    return row ? { index, sha256: row.sha256, etag: row.etag } : null;
  }

  async claimChunk(uploadId: string, index: number): Promise<ChunkClaim> {
    // The fence comes from a sequence, so it keeps rising across restarts of every service. The
    // function (see its migrations) checks the session, claims and looks up the chunk's record
    // in one round trip.
    const [row]: { session_status: UploadStatus | null; claimed_fence: string | null; recorded_sha256: string | null }[] = await this.db.query(
      'SELECT * FROM claim_chunk($1, $2)',
      [uploadId, index],
    );
    // Sessions are never deleted, and a chunk is claimed only for one that was seen.
    if (row.session_status === null) throw new Error(`Upload ${uploadId} does not exist, so none of its chunks can be claimed`);
    return {
      status: row.session_status,
      fence: row.claimed_fence,
      recorded: row.recorded_sha256 === null ? null : { index, sha256: row.recorded_sha256 },
    };
  }

  async findChunkBeginning(uploadId: string, index: number): Promise<number> {
    const rows: { kept_bytes: number }[] = await this.db.query('SELECT kept_bytes FROM chunk_claims WHERE upload_id = $1 AND chunk_index = $2', [uploadId, index]);
    return rows[0]?.kept_bytes ?? 0;
  }

  async recordChunkBeginning(uploadId: string, index: number, bytes: number, fence: string, ttlMs: number): Promise<boolean> {
    // The session row is locked first, as recordChunk does, so this orders with aborts, expiry
    // and the chunk's own record.
    const rows = updatedRows(
      await this.db.query(
        `WITH session AS (
           SELECT id FROM uploads WHERE id = $1 AND status = 'uploading' AND expires_at > now() FOR UPDATE
         ), kept AS (
           UPDATE chunk_claims c SET kept_bytes = $3 FROM session
           WHERE c.upload_id = session.id AND c.chunk_index = $2 AND c.fence = $4::bigint
           RETURNING c.upload_id
         )
         UPDATE uploads u SET expires_at = greatest(u.expires_at, now() + $5 * interval '1 millisecond'), updated_at = now()
         FROM kept WHERE u.id = kept.upload_id
         RETURNING u.id`,
        [uploadId, index, bytes, fence, ttlMs],
      ),
    );
    return rows.length > 0;
  }

  async listChunks(uploadId: string): Promise<RecordedChunk[]> {
    const rows: { chunk_index: number; sha256: string; etag: string | null }[] = await this.db.query(
      'SELECT chunk_index, sha256, etag FROM upload_chunks WHERE upload_id = $1 ORDER BY chunk_index',
      [uploadId],
    );
    return rows.map((row) => ({ index: row.chunk_index, sha256: row.sha256, etag: row.etag }));
  }

  async listContestedChunks(uploadId: string): Promise<number[]> {
    const rows: { chunk_index: number }[] = await this.db.query('SELECT chunk_index FROM upload_chunks WHERE upload_id = $1 AND contested ORDER BY chunk_index', [uploadId]);
    return rows.map((row) => row.chunk_index);
  }

  async listMissingChunks(uploadId: string, totalChunks: number, limit: number): Promise<number[]> {
    // An anti-join on the primary key: reads only as far as the first `limit` gaps.
    const rows: { chunk_index: number }[] = await this.db.query(
      `SELECT i AS chunk_index FROM generate_series(0, $2::int - 1) AS i
       WHERE NOT EXISTS (SELECT 1 FROM upload_chunks c WHERE c.upload_id = $1 AND c.chunk_index = i)
       ORDER BY i LIMIT $3`,
      [uploadId, totalChunks, limit],
    );
    return rows.map((row) => row.chunk_index);
  }

  async recordChunk(uploadId: string, chunk: RecordedChunk & { size: number }, fence: string, ttlMs: number): Promise<ChunkRecordResult> {
    // Only the newest claim may record (a newer claim has replaced the fence). The session row
    // is locked first, and FOR UPDATE, not NO KEY: with the foreign-key share locks that claims
    // take on the same row, a weaker lock had to be upgraded by the UPDATE below, and two records
    // upgrading at once deadlocked. The lock orders this against aborts, expiry and other chunks
    // of the same session; ON CONFLICT makes a second record of the chunk a no-op.
    const rows: (UploadRow & { completed_set: boolean })[] = updatedRows(
      await this.db.query(
        `WITH session AS (
           SELECT id FROM uploads WHERE id = $1 AND status = 'uploading' AND expires_at > now() FOR UPDATE
         ), claim AS (
           DELETE FROM chunk_claims c USING session
           WHERE c.upload_id = session.id AND c.chunk_index = $2 AND c.fence = $6::bigint
           RETURNING c.upload_id, c.claims
         ), inserted AS (
           INSERT INTO upload_chunks (upload_id, chunk_index, sha256, size, etag, contested)
           SELECT upload_id, $2, $3, $4, $7, claims > 1 FROM claim
           ON CONFLICT (upload_id, chunk_index) DO NOTHING
           RETURNING size
         )
         UPDATE uploads u SET
           received_chunks = u.received_chunks + 1,
           received_bytes = u.received_bytes + inserted.size,
           status = CASE WHEN u.received_chunks + 1 = u.total_chunks THEN 'assembling' ELSE u.status END,
           expires_at = greatest(u.expires_at, now() + $5 * interval '1 millisecond'),
           updated_at = now()
         FROM inserted
         WHERE u.id = $1
         RETURNING u.*, u.status = 'assembling' AS completed_set`,
        [uploadId, chunk.index, chunk.sha256, chunk.size, ttlMs, fence, chunk.etag],
      ),
    );
    if (rows.length > 0) return { recorded: true, completedSet: rows[0].completed_set, session: toSession(rows[0]) };
    const session = await this.find(uploadId);
    if (!session) throw new Error(`Upload ${uploadId} disappeared while a chunk was being recorded`);
    return { recorded: false, completedSet: false, session };
  }

  async forgetChunk(uploadId: string, index: number, sha256: string): Promise<boolean> {
    const rows = updatedRows(
      await this.db.query(
        `WITH target AS (
           SELECT id FROM uploads WHERE id = $1 AND status = 'uploading' FOR UPDATE
         ), deleted AS (
           DELETE FROM upload_chunks c USING target
           WHERE c.upload_id = target.id AND c.chunk_index = $2 AND c.sha256 = $3
           RETURNING c.size
         ), marked AS (
           -- Writers of the forgotten bytes may still write: the chunk's next record is contested.
           INSERT INTO chunk_claims AS c (upload_id, chunk_index, claims) SELECT $1, $2, 2 FROM deleted
           ON CONFLICT (upload_id, chunk_index) DO UPDATE SET claims = c.claims + 1
         )
         UPDATE uploads u SET
           received_chunks = u.received_chunks - 1,
           received_bytes = u.received_bytes - deleted.size,
           updated_at = now()
         FROM deleted
         WHERE u.id = $1
         RETURNING u.id`,
        [uploadId, index, sha256],
      ),
    );
    return rows.length > 0;
  }

  async transition(id: string, from: UploadStatus[], to: UploadStatus, patch: Partial<Pick<UploadSession, 'sha256' | 'error' | 'completedAt'>> = {}): Promise<UploadSession | null> {
    const assignments = ['status = $3', 'updated_at = now()'];
    const values: unknown[] = [id, from, to];
    const set = (column: string, value: unknown) => {
      values.push(value);
      assignments.push(`${column} = $${values.length}`);
    };
    if (patch.sha256 !== undefined) set('sha256', patch.sha256);
    if (patch.error !== undefined) set('error', patch.error === null ? null : JSON.stringify(patch.error));
    if (patch.completedAt !== undefined) set('completed_at', patch.completedAt);

    const update = `UPDATE uploads SET ${assignments.join(', ')} WHERE id = $1 AND status = ANY($2) RETURNING *`;
    // The event is written by the same statement as the status change, so one never exists
    // without the other: no crash or restart between the two can lose an event or invent one.
    const sql = this.recordEvents && EVENT_STATUSES.includes(to)
      ? `WITH updated AS (${update}), recorded AS (
           INSERT INTO webhook_events (id, upload_id, type, upload_snapshot)
           SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), id, 'upload.' || status, to_jsonb(updated) - 'idempotency_key' - 'request_hash' FROM updated
         )
         SELECT * FROM updated`
      : update;
    const rows: UploadRow[] = updatedRows(await this.db.query(sql, values));
    return rows.length > 0 ? toSession(rows[0]) : null;
  }

  async declareSha256(id: string, sha256: string): Promise<boolean> {
    const rows = updatedRows(
      await this.db.query(`UPDATE uploads SET sha256 = $2, updated_at = now() WHERE id = $1 AND status = 'uploading' AND (sha256 IS NULL OR sha256 = $2) RETURNING id`, [id, sha256]),
    );
    return rows.length > 0;
  }

  async returnChunksToMissing(id: string, indexes: number[], error: UploadProblem, ttlMs: number): Promise<boolean> {
    const rows = updatedRows(
      await this.db.query(
        `WITH target AS (
           SELECT id FROM uploads WHERE id = $1 AND status = 'assembling' FOR UPDATE
         ), deleted AS (
           DELETE FROM upload_chunks c USING target
           WHERE c.upload_id = target.id AND c.chunk_index = ANY($2::int[])
           RETURNING c.chunk_index, c.size
         ), marked AS (
           -- Whatever wrote the bad bytes may write again: the chunks' next records are contested.
           INSERT INTO chunk_claims AS c (upload_id, chunk_index, claims) SELECT $1, chunk_index, 2 FROM deleted
           ON CONFLICT (upload_id, chunk_index) DO UPDATE SET claims = c.claims + 1
         )
         UPDATE uploads u SET
           status = 'uploading',
           error = $3,
           received_chunks = u.received_chunks - (SELECT count(*) FROM deleted),
           received_bytes = u.received_bytes - (SELECT coalesce(sum(size), 0) FROM deleted),
           expires_at = greatest(u.expires_at, now() + $4 * interval '1 millisecond'),
           updated_at = now()
         FROM target
         WHERE u.id = target.id
         RETURNING u.id`,
        [id, indexes, JSON.stringify(error), ttlMs],
      ),
    );
    return rows.length > 0;
  }

  async expireOverdue(now: Date, limit: number): Promise<string[]> {
    const rows: { id: string }[] = updatedRows(
      await this.db.query(
        `UPDATE uploads SET status = 'expired', updated_at = now()
         WHERE id IN (
           SELECT id FROM uploads WHERE status = 'uploading' AND expires_at <= $1
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
         )
         RETURNING id`,
        [now, limit],
      ),
    );
    return rows.map((row) => row.id);
  }

  async findStatuses(ids: string[]): Promise<Map<string, UploadStatus>> {
    const rows: { id: string; status: UploadStatus }[] = await this.db.query('SELECT id, status FROM uploads WHERE id = ANY($1)', [ids]);
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  async deleteClaimsOfClosedUploads(): Promise<number> {
    const rows = updatedRows(
      await this.db.query(`DELETE FROM chunk_claims c USING uploads u WHERE c.upload_id = u.id AND u.status <> 'uploading' RETURNING c.upload_id`),
    );
    return rows.length;
  }

  async isEmpty(): Promise<boolean> {
    const rows: unknown[] = await this.db.query('SELECT 1 FROM uploads LIMIT 1');
    return rows.length === 0;
  }

  async findAssemblingSince(before: Date, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM uploads WHERE status = 'assembling' AND updated_at < $1 ORDER BY updated_at LIMIT $2`, [before, limit]);
    return rows.map((row) => row.id);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
