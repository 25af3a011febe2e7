/**
 * Remembers which upload session a file went to, so a later call can resume it. Keys are
 * fingerprints (see `UploadSource.fingerprint`), scoped by endpoint; values are upload ids.
 */
export interface FingerprintStore {
  get(fingerprint: string): Promise<string | null>;
  set(fingerprint: string, uploadId: string): Promise<void>;
  remove(fingerprint: string): Promise<void>;
}

/** Resumes within one process (a browser tab, a long-running service). */
export class MemoryFingerprintStore implements FingerprintStore {
  private readonly entries = new Map<string, string>();

  async get(fingerprint: string): Promise<string | null> {
    return this.entries.get(fingerprint) ?? null;
  }

  async set(fingerprint: string, uploadId: string): Promise<void> {
    this.entries.set(fingerprint, uploadId);
  }

  async remove(fingerprint: string): Promise<void> {
    this.entries.delete(fingerprint);
  }
}

/** An upload id belongs to one server: the same file sent to two endpoints has two sessions. */
export function storeKey(endpoint: string, fingerprint: string): string {
  return `${endpoint} ${fingerprint}`;
}
