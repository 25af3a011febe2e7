import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceChangedError } from './errors';
import { fileSource } from './node-file-source';

describe('fileSource', () => {
  let dir: string;
  const content = randomBytes(10_000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-source-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function sourceOf(name: string) {
    const path = join(dir, name);
    await writeFile(path, content);
    return { path, source: await fileSource(path) };
  }

  it('reads each range, into the memory a caller gives back once done with it', async () => {
    const { source } = await sourceOf('reuse.bin');
    const first = await source.read(0, 4000);
    expect(Buffer.from(first)).toEqual(content.subarray(0, 4000));
    const second = await source.read(4000, 8000, first);
    expect(Buffer.from(second)).toEqual(content.subarray(4000, 8000));
    expect(second.buffer).toBe(first.buffer);
    // A shorter last range fits in the same memory.
    const last = await source.read(8000, 10_000, second);
    expect(Buffer.from(last)).toEqual(content.subarray(8000));
    expect(last.buffer).toBe(first.buffer);
    await source.close?.();
  });

  it('never writes into memory it did not hand out, or that is too small', async () => {
    const { source } = await sourceOf('foreign.bin');
    const foreign = new Uint8Array(4000);
    const read = await source.read(0, 4000, foreign);
    expect(read.buffer).not.toBe(foreign.buffer);
    expect(foreign.every((byte) => byte === 0)).toBe(true);

    const small = await source.read(0, 100);
    const larger = await source.read(0, 5000, small);
    expect(larger.buffer).not.toBe(small.buffer);
    expect(Buffer.from(larger)).toEqual(content.subarray(0, 5000));
    await source.close?.();
  });

  it('says so when the file shrank while being uploaded', async () => {
    const { path, source } = await sourceOf('shrunk.bin');
    await truncate(path, 5000);
    await expect(source.read(4000, 8000)).rejects.toThrow(/ended at byte 5000, before the 8000/);
    await expect(source.read(4000, 8000)).rejects.toThrow(SourceChangedError);
    await source.close?.();
  });

  it('says so when the file was written to since the upload started', async () => {
    const { path, source } = await sourceOf('written.bin');
    await source.read(0, 4000);
    await expect(source.assertUnchanged!()).resolves.toBeUndefined();
    // Same size, new bytes: only the modification time tells (kernels stamp it at a tick of a few ms).
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(path, randomBytes(content.length));
    await expect(source.assertUnchanged!()).rejects.toThrow(SourceChangedError);
    await source.close?.();
  });
});
