import { UploadStatus } from './rules/upload-status';

/** Why a session is `failed`, or which chunks a verification sent back to missing. */
export interface UploadProblem {
  code: string;
  message: string;
  chunks?: number[];
}

/** An upload session as the domain sees it, whatever stores it. */
export interface UploadSession {
  id: string;
  /** SHA-256 of the API key that created it, or null when keys are not configured. */
  ownerKeyHash: string | null;
  fileName: string;
  fileSize: number;
  chunkSize: number;
  totalChunks: number;
  contentType: string | null;
  metadata: Record<string, string>;
  /** The tus `Upload-Concat` it was created with (`partial` or `final;<urls>`), or null. */
  tusConcat: string | null;
  /** The whole file's SHA-256: declared by the client until completion, verified after. */
  sha256: string | null;
  status: UploadStatus;
  receivedChunks: number;
  receivedBytes: number;
  error: UploadProblem | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  completedAt: Date | null;
}

/** A chunk that has been durably stored and recorded. */
export interface RecordedChunk {
  index: number;
  sha256: string;
  /** The store's tag for the bytes it kept (an S3 part's ETag), or null when it has none (a disk). */
  etag: string | null;
}
