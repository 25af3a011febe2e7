import { open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { SourceChangedError } from './errors';
import { fingerprintOf, UploadSource } from './source';

/**
 * A file on disk, read at an offset just before each chunk is sent, and hashed from those same
 * reads. Its size and modification time, checked again once it has all been read, tell
 * whether it changed while being uploaded.
 */
export async function fileSource(path: string): Promise<UploadSource> {
  const absolute = resolve(path);
  const info = await stat(absolute);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let opening: Promise<Awaited<ReturnType<typeof open>>> | undefined;
  const opened = () => (opening ??= open(absolute, 'r').then((file) => (handle = file)));
  // Memory this source handed out, which a caller may give back (`done`) to be read into again.
  const own = new WeakSet<ArrayBufferLike>();
  const memoryFor = (length: number, done: Uint8Array | undefined) => {
    if (done && own.has(done.buffer) && done.buffer.byteLength >= length) return new Uint8Array(done.buffer, 0, length);
    const memory = new Uint8Array(length);
    own.add(memory.buffer);
    return memory;
  };
  return {
    size: info.size,
    name: basename(absolute),
    fingerprint: fingerprintOf('path', absolute, info.size, info.mtimeMs),
    hashFirst: false,
    read: async (start, end, done) => readExactly(await opened(), start, memoryFor(end - start, done)),
    assertUnchanged: async () => {
      const now = await (await opened()).stat();
      if (now.size !== info.size || now.mtimeMs !== info.mtimeMs) {
        throw new SourceChangedError(`${absolute} changed while being uploaded (it was written to after the upload started): upload it again once it is complete.`);
      }
    },
    close: async () => {
      await handle?.close();
      handle = undefined;
      opening = undefined;
    },
  };
}

/** Fills `buffer` from the file's byte `start` on. */
async function readExactly(file: Awaited<ReturnType<typeof open>>, start: number, buffer: Uint8Array): Promise<Uint8Array> {
  const end = start + buffer.length;
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, start + filled);
    // The file shrank since it was measured: its grid no longer fits it.
    if (bytesRead === 0) throw new SourceChangedError(`The file ended at byte ${start + filled}, before the ${end} it had when the upload started: it changed while being uploaded.`);
    filled += bytesRead;
  }
  return buffer;
}
