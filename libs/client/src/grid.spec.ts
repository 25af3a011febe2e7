import { chunkBounds, contentRange, planPass, totalChunks } from './grid';

const grid = { fileSize: 1000, chunkSize: 300 };

describe('the chunk grid', () => {
  it('splits a file into full chunks and a shorter last one', () => {
    expect(totalChunks(grid)).toBe(4);
    expect([0, 1, 2, 3].map((index) => chunkBounds(grid, index))).toEqual([
      { start: 0, end: 300 },
      { start: 300, end: 600 },
      { start: 600, end: 900 },
      { start: 900, end: 1000 },
    ]);
  });

  it('names each chunk with an inclusive Content-Range', () => {
    expect(contentRange(grid, 0)).toBe('bytes 0-299/1000');
    expect(contentRange(grid, 3)).toBe('bytes 900-999/1000');
    expect(contentRange({ fileSize: 600, chunkSize: 300 }, 1)).toBe('bytes 300-599/600');
  });

  it('has no chunks for an empty file', () => {
    expect(totalChunks({ fileSize: 0, chunkSize: 300 })).toBe(0);
  });
});

describe('planPass', () => {
  it('reads only the chunks to send, ascending, when the hash is known', () => {
    expect(planPass(4, [3, 1], false)).toEqual([
      { index: 1, send: true },
      { index: 3, send: true },
    ]);
  });

  it('reads every chunk in order while hashing, sending only those asked', () => {
    expect(planPass(4, [2], true)).toEqual([
      { index: 0, send: false },
      { index: 1, send: false },
      { index: 2, send: true },
      { index: 3, send: false },
    ]);
  });

  it('ignores duplicates and indexes outside the grid', () => {
    expect(planPass(3, [1, 1, -1, 3, 2.5, 0], false).map((step) => step.index)).toEqual([0, 1]);
  });
});
