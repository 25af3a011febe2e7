import { Check, Column, Entity, Index, OneToMany, PrimaryColumn } from 'typeorm';
import type { UploadProblem, UploadStatus } from '@app/core';
import { UploadChunkEntity } from './upload-chunk.entity';

/** Postgres `bigint` comes back as a string; every size here stays below 2^53. */
export const bigintAsNumber = { to: (value: number) => value, from: (value: string | null) => (value === null ? null : Number(value)) };

@Entity('uploads')
@Index('uploads_uploading_expires_at_idx', ['expiresAt'], { where: `"status" = 'uploading'` })
@Index('uploads_assembling_updated_at_idx', ['updatedAt'], { where: `"status" = 'assembling'` })
// One session per (owner, Idempotency-Key); an expression index, so it lives in the migration only.
@Index('uploads_owner_idempotency_key_uq', { synchronize: false })
@Check('uploads_status_check', `"status" IN ('uploading', 'assembling', 'completed', 'failed', 'aborted', 'expired')`)
@Check('uploads_received_check', `"received_chunks" BETWEEN 0 AND "total_chunks" AND "received_bytes" BETWEEN 0 AND "file_size"`)
export class UploadEntity {
  @PrimaryColumn({ type: 'varchar', length: 22 })
  id!: string;

  @Column({ name: 'owner_key_hash', type: 'char', length: 64, nullable: true })
  ownerKeyHash!: string | null;

  @Column({ name: 'file_name', type: 'text' })
  fileName!: string;

  @Column({ name: 'file_size', type: 'bigint', transformer: bigintAsNumber })
  fileSize!: number;

  @Column({ name: 'chunk_size', type: 'integer' })
  chunkSize!: number;

  @Column({ name: 'total_chunks', type: 'integer' })
  totalChunks!: number;

  @Column({ name: 'content_type', type: 'text', nullable: true })
  contentType!: string | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  metadata!: Record<string, string>;

  @Column({ name: 'tus_concat', type: 'text', nullable: true })
  tusConcat!: string | null;

  @Column({ type: 'char', length: 64, nullable: true })
  sha256!: string | null;

  @Column({ type: 'varchar', length: 16, default: 'uploading' })
  status!: UploadStatus;

  @Column({ name: 'received_chunks', type: 'integer', default: 0 })
  receivedChunks!: number;

  @Column({ name: 'received_bytes', type: 'bigint', default: 0, transformer: bigintAsNumber })
  receivedBytes!: number;

  @Column({ type: 'jsonb', nullable: true })
  error!: UploadProblem | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey!: string | null;

  @Column({ name: 'request_hash', type: 'char', length: 64, nullable: true })
  requestHash!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @OneToMany(() => UploadChunkEntity, (chunk) => chunk.upload)
  chunks?: UploadChunkEntity[];
}
