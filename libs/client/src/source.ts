import { InvalidUploadError } from './errors';

/**
 * What the SDK reads from. Adapters exist for Blob/File and in-memory bytes (here) and for file
 * paths (`node.ts`); a CLI may bring its own. `read` is called just before a chunk is sent, so
 * no more than `parallel` chunks are ever held in memory.
 */
export interface UploadSource {
  readonly size: number;
  /** The file's own name (a File's name, a path's base name), used when no `fileName` is given. */
  readonly name?: string;
  readonly type?: string;
  /**
   * What identifies this file across runs (e.g. path + size + mtime), for resuming. When null,
   * a source hashed first is fingerprinted by file name, size and SHA-256; any other (a Blob
   * without a name) does not resume.
   */
  readonly fingerprint: string | null;
  /**
   * Whether the SHA-256 is computed in a first pass over the source and declared at initiate
   * (bytes in memory: this also fingerprints them by content). Otherwise it is computed while
   * the chunks are read for sending and declared before the last one goes out; either way the
   * server verifies the file against it.
   */
  readonly hashFirst: boolean;
  /**
   * Throws when the source is no longer what it was when the upload started (a file written to
   * since). Called once every chunk went into the hash, before the hash is declared: the bytes
   * sent are those hashed, so only this can tell a file changed while it was read.
   */
  assertUnchanged?(): Promise<void>;
  /**
   * Bytes [start, end). `done`, when given, is what an earlier read answered to the same caller
   * and is no longer used: a source that reads into memory of its own may read into it again
   * rather than take fresh memory for every chunk. Sources are free to ignore it.
   */
  read(start: number, end: number, done?: Uint8Array): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** A Blob or File: read lazily with `slice`; File's name, size and lastModified fingerprint it. */
export function blobSource(blob: Blob): UploadSource {
  const file = blob as Partial<File>;
  const name = typeof file.name === 'string' && file.name !== '' ? file.name : undefined;
  const lastModified = typeof file.lastModified === 'number' ? file.lastModified : undefined;
  return {
    size: blob.size,
    name,
    type: blob.type || undefined,
    fingerprint: name !== undefined && lastModified !== undefined ? fingerprintOf('file', name, blob.size, lastModified) : null,
    hashFirst: false,
    read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
  };
}

/** Bytes in memory (a Uint8Array or Buffer): hashed first, and so fingerprinted by their content. */
export function bytesSource(bytes: Uint8Array): UploadSource {
  return {
    size: bytes.byteLength,
    fingerprint: null,
    hashFirst: true,
    // A view, not a copy: the bytes are in memory already.
    read: async (start, end) => bytes.subarray(start, end),
  };
}

/**
 * A stable key for a file: its kind, name (or path), size and a change marker (mtime, or a
 * content hash). Each part is URI-encoded so a name containing the separator cannot collide.
 */
export function fingerprintOf(kind: string, name: string, size: number, changeMarker: string | number): string {
  return [kind, name, String(size), String(changeMarker)].map(encodeURIComponent).join(':');
}

export function isUploadSource(value: unknown): value is UploadSource {
  const source = value as UploadSource;
  return typeof value === 'object' && value !== null && typeof source.read === 'function' && typeof source.size === 'number';
}

/** Checks an adapter's size once, so the grid math never sees a bad one. */
export function assertUsableSize(source: UploadSource): void {
  if (!Number.isSafeInteger(source.size) || source.size < 0) {
    throw new InvalidUploadError(`The source's size must be a whole number of bytes, not ${source.size}.`);
  }
}
