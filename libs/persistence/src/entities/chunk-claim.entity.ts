import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UploadEntity } from './upload.entity';

/**
 * The newest writer of a chunk that is not recorded yet. Each claim takes a fresh value of a
 * Postgres sequence, so a writer whose lease lapsed holds an older fence than the writer that
 * took over, and recording the chunk checks the fence: the stale writer can no longer commit.
 */
@Entity('chunk_claims')
export class ChunkClaimEntity {
  @PrimaryColumn({ name: 'upload_id', type: 'varchar', length: 22, primaryKeyConstraintName: 'PK_chunk_claims' })
  uploadId!: string;

  @PrimaryColumn({ name: 'chunk_index', type: 'integer', primaryKeyConstraintName: 'PK_chunk_claims' })
  chunkIndex!: number;

  @Column({ type: 'bigint', default: () => "nextval('chunk_claim_fence_seq')" })
  fence!: string;

  /** Bytes of the chunk's beginning its writer stored durably (a tus PATCH that ended inside the chunk). */
  @Column({ name: 'kept_bytes', type: 'integer', default: 0 })
  keptBytes!: number;

  /** How many writers claimed the chunk since it was last recorded (more after it was sent back). */
  @Column({ type: 'integer', default: 1 })
  claims!: number;

  @Column({ name: 'claimed_at', type: 'timestamptz', default: () => 'now()' })
  claimedAt!: Date;

  @ManyToOne(() => UploadEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'upload_id', foreignKeyConstraintName: 'FK_chunk_claims_upload' })
  upload?: UploadEntity;
}
