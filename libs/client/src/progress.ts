export interface UploadProgress {
  /** Bytes the server has confirmed, including those a resumed session already had. */
  bytesSent: number;
  bytesTotal: number;
  chunksDone: number;
  totalChunks: number;
}

/** Counts confirmed chunks and reports each change to the caller's callback. */
export class ProgressTracker {
  private bytesSent = 0;
  private chunksDone = 0;

  constructor(
    private readonly bytesTotal: number,
    private readonly totalChunks: number,
    private readonly onProgress?: (progress: UploadProgress) => void,
  ) {}

  /** Starts again from what the server says it has (a resume, or chunks sent back by verification). */
  reset(bytesSent: number, chunksDone: number): void {
    this.bytesSent = bytesSent;
    this.chunksDone = chunksDone;
    this.report();
  }

  chunkStored(length: number): void {
    this.bytesSent += length;
    this.chunksDone += 1;
    this.report();
  }

  private report(): void {
    this.onProgress?.({ bytesSent: this.bytesSent, bytesTotal: this.bytesTotal, chunksDone: this.chunksDone, totalChunks: this.totalChunks });
  }
}
