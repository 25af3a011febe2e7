import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FingerprintStoreError, JsonFileFingerprintStore } from './json-file-store';

describe('JsonFileFingerprintStore', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ru-store-'));
    path = join(dir, 'nested', 'uploads.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps entries across instances, as a later run of a CLI needs', async () => {
    await new JsonFileFingerprintStore(path).set('fp-a', 'id-a');
    const later = new JsonFileFingerprintStore(path);
    expect(await later.get('fp-a')).toBe('id-a');
    expect(await later.get('fp-b')).toBeNull();
    await later.remove('fp-a');
    expect(await new JsonFileFingerprintStore(path).get('fp-a')).toBeNull();
  });

  it('answers null before anything was stored', async () => {
    expect(await new JsonFileFingerprintStore(path).get('fp')).toBeNull();
  });

  it('loses no entry when changes are made at once', async () => {
    const store = new JsonFileFingerprintStore(path);
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.set(`fp-${i}`, `id-${i}`)));
    const saved = JSON.parse(await readFile(path, 'utf8'));
    expect(Object.keys(saved)).toHaveLength(30);
    expect(saved['fp-17']).toBe('id-17');
  });

  it('replaces the file whole: a reader never sees half of it, and no temporary file stays', async () => {
    const store = new JsonFileFingerprintStore(path);
    await store.set('seed', 'x');
    let writing = true;
    const reads: string[] = [];
    const reader = (async () => {
      while (writing) reads.push(await readFile(path, 'utf8'));
    })();
    // Large values make a torn write likely to show if the file were rewritten in place.
    for (let i = 0; i < 40; i++) await store.set(`fp-${i}`, 'u'.repeat(20_000));
    writing = false;
    await reader;
    expect(reads.length).toBeGreaterThan(0);
    for (const text of reads) expect(() => JSON.parse(text)).not.toThrow();
    expect(await readdir(join(dir, 'nested'))).toEqual(['uploads.json']);
  });

  it('refuses a file that is not its JSON, rather than overwrite it', async () => {
    await new JsonFileFingerprintStore(path).set('a', 'b');
    await writeFile(path, '["not", "a", "map"]');
    const store = new JsonFileFingerprintStore(path);
    await expect(store.get('a')).rejects.toThrow(FingerprintStoreError);
    await expect(store.set('a', 'c')).rejects.toThrow(/not a JSON object of fingerprints/);
    expect(await readFile(path, 'utf8')).toBe('["not", "a", "map"]');
  });
});
