import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { UploadEventState, UploadEventType } from '@app/core';
import { UploadEntity } from './upload.entity';

/**
 * An upload event not delivered yet (the outbox). `claim` and `claimed_until` are a worker's lease
 * on it: workers claim rows with FOR UPDATE SKIP LOCKED, and a lapsed claim is free to take.
 */
@Entity('webhook_events')
@Index('webhook_events_pending_next_attempt_at_idx', ['nextAttemptAt'], { where: `"state" = 'pending'` })
@Index('webhook_events_upload_id_idx', ['uploadId'])
@Check('webhook_events_state_check', `"state" IN ('pending', 'dead')`)
export class WebhookEventEntity {
  /** The `webhook-id`: `msg_` and a random UUID's hex digits. */
  @PrimaryColumn({ type: 'varchar', length: 40, primaryKeyConstraintName: 'PK_webhook_events' })
  id!: string;

  @Column({ name: 'upload_id', type: 'varchar', length: 22 })
  uploadId!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: UploadEventType;

  /** The upload's row as the status change left it. */
  @Column({ name: 'upload_snapshot', type: 'jsonb' })
  uploadSnapshot!: Record<string, unknown>;

  @Column({ name: 'occurred_at', type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  state!: UploadEventState;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'retry_from', type: 'timestamptz', default: () => 'now()' })
  retryFrom!: Date;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ type: 'uuid', nullable: true })
  claim!: string | null;

  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @ManyToOne(() => UploadEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'upload_id', foreignKeyConstraintName: 'FK_webhook_events_upload' })
  upload?: UploadEntity;
}
