import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UploadError } from './errors';
import { FingerprintStore } from './fingerprint-store';

/** The store's file could not be read as the JSON object it should be. */
export class FingerprintStoreError extends UploadError {}

/**
 * Fingerprints kept in a JSON file, so a CLI run resumes what an earlier one started. Every
 * change writes a temporary file and renames it over the old one: a reader (or a crash) sees
 * the old content or the new, never half of either. Changes from one instance are serialized;
 * two processes sharing a file may lose each other's last entry, never the file.
 */
export class JsonFileFingerprintStore implements FingerprintStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async get(fingerprint: string): Promise<string | null> {
    return (await this.read())[fingerprint] ?? null;
  }

  set(fingerprint: string, uploadId: string): Promise<void> {
    return this.change((entries) => {
      entries[fingerprint] = uploadId;
    });
  }

  remove(fingerprint: string): Promise<void> {
    return this.change((entries) => {
      delete entries[fingerprint];
    });
  }

  /** Read-modify-write, one at a time, so concurrent calls do not drop each other's entries. */
  private change(edit: (entries: Record<string, string>) => void): Promise<void> {
    const next = this.queue.then(async () => {
      const entries = await this.read();
      edit(entries);
      await this.writeAtomically(JSON.stringify(entries, null, 2));
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    return parseEntries(text, this.path);
  }

  private async writeAtomically(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    // Beside the target, so the rename stays on one file system (and so is atomic).
    const temporary = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}

function parseEntries(text: string, path: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const isMap = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((id) => typeof id === 'string');
  if (!isMap) throw new FingerprintStoreError(`${path} is not a JSON object of fingerprints to upload ids; delete it or pass another path.`);
  return value as Record<string, string>;
}
