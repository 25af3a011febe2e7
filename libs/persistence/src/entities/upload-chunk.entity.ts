import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UploadEntity } from './upload.entity';

/** A chunk that is durably stored; its primary key is what makes a second record of it a no-op. */
@Entity('upload_chunks')
export class UploadChunkEntity {
  @PrimaryColumn({ name: 'upload_id', type: 'varchar', length: 22 })
  uploadId!: string;

  @PrimaryColumn({ name: 'chunk_index', type: 'integer' })
  chunkIndex!: number;

  @Column({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ type: 'integer' })
  size!: number;

  /** The store's tag for the chunk's bytes (an S3 part's ETag); null on a disk. */
  @Column({ type: 'text', nullable: true })
  etag!: string | null;

  /** More than one writer claimed the chunk before it was recorded: a superseded one may still write it. */
  @Column({ type: 'boolean', default: true })
  contested!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @ManyToOne(() => UploadEntity, (upload) => upload.chunks, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'upload_id' })
  upload?: UploadEntity;
}
