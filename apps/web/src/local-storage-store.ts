import type { FingerprintStore } from '../../../libs/client/src/index';

/** Keys in localStorage start with this, so the page can list (and only touch) its own entries. */
export const STORE_PREFIX = 'resumable-upload:';

/**
 * Remembers sessions across reloads: a reloaded page that is given the same file again
 * resumes instead of starting over. A storage that refuses writes (private mode, quota) only
 * costs the resume, never the upload.
 */
export class LocalStorageFingerprintStore implements FingerprintStore {
  constructor(private readonly storage: Storage = window.localStorage) {}

  async get(fingerprint: string): Promise<string | null> {
    return this.storage.getItem(STORE_PREFIX + fingerprint);
  }

  async set(fingerprint: string, uploadId: string): Promise<void> {
    try {
      this.storage.setItem(STORE_PREFIX + fingerprint, uploadId);
    } catch {
      // Without room to remember it, the upload still works; it just cannot resume after a reload.
    }
  }

  async remove(fingerprint: string): Promise<void> {
    this.storage.removeItem(STORE_PREFIX + fingerprint);
  }

  /** The file names of sessions left unfinished (the SDK's keys end in `file:<name>:<size>:<mtime>`). */
  unfinishedFileNames(): string[] {
    const names: string[] = [];
    for (let index = 0; index < this.storage.length; index++) {
      const key = this.storage.key(index);
      const match = key?.startsWith(STORE_PREFIX) ? /(?:^| )file:([^:]*):\d+:\d+$/.exec(key) : null;
      if (match) names.push(decodeURIComponent(match[1]));
    }
    return names;
  }
}
