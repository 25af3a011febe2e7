import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClaimedUploadEvent, UploadEvent, UploadEventOutbox, UploadEventState, UploadEventType } from '@app/core';
import { sessionFromSnapshot } from './upload.repository';

interface EventRow {
  id: string;
  upload_id: string;
  type: UploadEventType;
  upload_snapshot: Record<string, unknown>;
  occurred_at: Date;
  state: UploadEventState;
  attempts: number;
  retry_from: Date;
  next_attempt_at: Date;
  claim: string | null;
  last_error: string | null;
}

function toEvent(row: EventRow): UploadEvent {
  return {
    id: row.id,
    uploadId: row.upload_id,
    type: row.type,
    occurredAt: row.occurred_at,
    upload: sessionFromSnapshot(row.upload_snapshot),
    state: row.state,
    attempts: row.attempts,
    retryFrom: row.retry_from,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
  };
}

// UPDATE/DELETE ... RETURNING through TypeORM's query() yields [rows, affectedCount].
function changedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

/** The outbox in Postgres: claims are leases held in the rows, taken with FOR UPDATE SKIP LOCKED. */
@Injectable()
export class PostgresUploadEventOutbox implements UploadEventOutbox {
  constructor(private readonly db: DataSource) {}

  async claimDue(limit: number, claimMs: number): Promise<ClaimedUploadEvent[]> {
    const rows: EventRow[] = changedRows(
      await this.db.query(
        `UPDATE webhook_events e SET claim = gen_random_uuid(), claimed_until = now() + $2 * interval '1 millisecond', attempts = e.attempts + 1
         WHERE e.id IN (
           SELECT id FROM webhook_events
           WHERE state = 'pending' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until <= now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         RETURNING e.*`,
        [limit, claimMs],
      ),
    );
    return rows.map((row) => ({ ...toEvent(row), claim: row.claim as string }));
  }

  async extendClaim(id: string, claim: string, claimMs: number): Promise<boolean> {
    return this.changed(`UPDATE webhook_events SET claimed_until = now() + $3 * interval '1 millisecond' WHERE id = $1 AND claim = $2 AND state = 'pending' RETURNING id`, [id, claim, claimMs]);
  }

  async markDelivered(id: string, claim: string): Promise<boolean> {
    return this.changed(`DELETE FROM webhook_events WHERE id = $1 AND claim = $2 AND state = 'pending' RETURNING id`, [id, claim]);
  }

  async scheduleRetry(id: string, claim: string, at: Date, error: string): Promise<boolean> {
    return this.changed(
      `UPDATE webhook_events SET next_attempt_at = $3, last_error = $4, claim = NULL, claimed_until = NULL WHERE id = $1 AND claim = $2 AND state = 'pending' RETURNING id`,
      [id, claim, at, error],
    );
  }

  async markDead(id: string, claim: string, error: string): Promise<boolean> {
    return this.changed(
      `UPDATE webhook_events SET state = 'dead', last_error = $3, claim = NULL, claimed_until = NULL WHERE id = $1 AND claim = $2 AND state = 'pending' RETURNING id`,
      [id, claim, error],
    );
  }

  async listForUpload(uploadId: string): Promise<UploadEvent[]> {
    const rows: EventRow[] = await this.db.query('SELECT * FROM webhook_events WHERE upload_id = $1 ORDER BY occurred_at, id', [uploadId]);
    return rows.map(toEvent);
  }

  async redeliverDead(uploadId: string): Promise<UploadEvent[]> {
    const rows: EventRow[] = changedRows(
      await this.db.query(`UPDATE webhook_events SET state = 'pending', retry_from = now(), next_attempt_at = now() WHERE upload_id = $1 AND state = 'dead' RETURNING *`, [uploadId]),
    );
    return rows.map(toEvent).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  }

  async backlog(): Promise<{ oldestPendingAt: Date | null; dead: number }> {
    const [row]: { oldest_pending_at: Date | null; dead: string }[] = await this.db.query(
      `SELECT min(occurred_at) FILTER (WHERE state = 'pending') AS oldest_pending_at, count(*) FILTER (WHERE state = 'dead') AS dead FROM webhook_events`,
    );
    return { oldestPendingAt: row.oldest_pending_at, dead: Number(row.dead) };
  }

  private async changed(sql: string, values: unknown[]): Promise<boolean> {
    return changedRows<unknown>(await this.db.query(sql, values)).length > 0;
  }
}
