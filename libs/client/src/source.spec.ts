import { blobSource, bytesSource, fingerprintOf } from './source';

describe('fingerprints', () => {
  const file = (name: string, lastModified: number, content = 'hello') => new File([content], name, { lastModified });

  it('identify a File by name, size and lastModified', () => {
    expect(blobSource(file('a.txt', 1000)).fingerprint).toBe(blobSource(file('a.txt', 1000)).fingerprint);
    const base = blobSource(file('a.txt', 1000)).fingerprint;
    expect(blobSource(file('b.txt', 1000)).fingerprint).not.toBe(base);
    expect(blobSource(file('a.txt', 1001)).fingerprint).not.toBe(base);
    expect(blobSource(file('a.txt', 1000, 'hello!')).fingerprint).not.toBe(base);
  });

  it('are null for a Blob with no name, and for bytes (which are fingerprinted by content once hashed)', () => {
    expect(blobSource(new Blob(['x'])).fingerprint).toBeNull();
    expect(bytesSource(new Uint8Array(3)).fingerprint).toBeNull();
  });

  it('cannot be made to collide by a separator inside a name', () => {
    expect(fingerprintOf('path', 'a:1', 2, 3)).not.toBe(fingerprintOf('path', 'a', 12, 3));
    expect(fingerprintOf('path', 'a:1:2', 3, 4)).not.toBe(fingerprintOf('path', 'a', 1, '2:3:4'));
  });
});

describe('sources', () => {
  it('read a Blob by slices', async () => {
    const source = blobSource(new Blob(['0123456789'], { type: 'text/plain' }));
    expect(source).toMatchObject({ size: 10, type: 'text/plain', hashFirst: false });
    expect(new TextDecoder().decode(await source.read(3, 7))).toBe('3456');
  });

  it('read bytes without copying, and hash them first', async () => {
    const bytes = new TextEncoder().encode('0123456789');
    const source = bytesSource(bytes);
    expect(source.hashFirst).toBe(true);
    const part = await source.read(8, 10);
    expect(new TextDecoder().decode(part)).toBe('89');
    expect(part.buffer).toBe(bytes.buffer);
  });
});
