import { ChunkGrid, chunkIndexOf, chunkLength, chunkRange, formatByteRange, mergeChunkRanges, totalChunks } from './chunk-grid';
import { parseContentRange } from './content-range';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** A small seeded generator (mulberry32) so a failing property run can be replayed. */
function randomSource(seed: number): (min: number, max: number) => number {
  let state = seed >>> 0;
  return (min, max) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return min + Math.floor(unit * (max - min + 1));
  };
}

const PROPERTY_RUNS = 300;

/** Random grids small enough to walk chunk by chunk: up to 300 chunks of up to 4 KiB. */
function randomGrids(seed: number): ChunkGrid[] {
  const random = randomSource(seed);
  const grids: ChunkGrid[] = [];
  for (let run = 0; run < PROPERTY_RUNS; run++) {
    const chunkSize = random(1, 4 * KiB);
    const fileSize = random(0, 3) === 0 ? chunkSize * random(0, 300) : random(0, chunkSize * 300);
    grids.push({ fileSize, chunkSize });
  }
  return grids;
}

/** Random grids of realistic and extreme sizes, up to 2^53-1 bytes, probed at a few indexes. */
function randomLargeGrids(seed: number): ChunkGrid[] {
  const random = randomSource(seed);
  const grids: ChunkGrid[] = [];
  for (let run = 0; run < PROPERTY_RUNS; run++) {
    const chunkSize = random(256 * KiB, 64 * MiB);
    const fileSize = random(0, 1) === 0 ? random(0, 10 * GiB) : random(0, 2 ** 21 - 1) * 2 ** 32 + random(0, 2 ** 32 - 1);
    grids.push({ fileSize, chunkSize });
  }
  return grids;
}

describe(totalChunks.name, () => {
  it.each([
    { fileSize: 0, chunkSize: 256 * KiB, expected: 0 },
    { fileSize: 1, chunkSize: 256 * KiB, expected: 1 },
    { fileSize: 256 * KiB, chunkSize: 256 * KiB, expected: 1 },
    { fileSize: 256 * KiB + 1, chunkSize: 256 * KiB, expected: 2 },
    { fileSize: 1048576, chunkSize: 524288, expected: 2 },
    { fileSize: 20971520, chunkSize: 8 * MiB, expected: 3 },
    { fileSize: 10 * GiB, chunkSize: 8 * MiB, expected: 1280 },
    { fileSize: Number.MAX_SAFE_INTEGER, chunkSize: 64 * MiB, expected: 2 ** 27 },
  ])('splits $fileSize bytes into $expected chunks of $chunkSize', ({ fileSize, chunkSize, expected }) => {
    expect(totalChunks({ fileSize, chunkSize })).toBe(expected);
  });

  it('is ceil(fileSize / chunkSize): the chunks cover the file and none is wholly past its end, for random grids', () => {
    for (const grid of [...randomGrids(1), ...randomLargeGrids(2)]) {
      const total = totalChunks(grid);
      expect(Number.isSafeInteger(total)).toBe(true);
      expect(total * grid.chunkSize).toBeGreaterThanOrEqual(grid.fileSize);
      if (grid.fileSize === 0) expect(total).toBe(0);
      else expect((total - 1) * grid.chunkSize).toBeLessThan(grid.fileSize);
    }
  });
});

describe(chunkRange.name, () => {
  const grid = { fileSize: 20971520, chunkSize: 8 * MiB };

  it('starts the first chunk at byte 0 and ends it one byte before the chunk size', () => {
    expect(chunkRange(grid, 0)).toEqual({ start: 0, end: 8388607 });
  });

  it('places a middle chunk at index times chunk size', () => {
    expect(chunkRange(grid, 1)).toEqual({ start: 8388608, end: 16777215 });
  });

  it('cuts the last chunk short at the end of the file', () => {
    expect(chunkRange(grid, 2)).toEqual({ start: 16777216, end: 20971519 });
  });

  it('gives a full last chunk when the file is an exact multiple of the chunk size', () => {
    expect(chunkRange({ fileSize: 1048576, chunkSize: 524288 }, 1)).toEqual({ start: 524288, end: 1048575 });
  });

  it('gives a one-byte chunk for a one-byte file', () => {
    expect(chunkRange({ fileSize: 1, chunkSize: 256 * KiB }, 0)).toEqual({ start: 0, end: 0 });
  });

  it('tiles the file exactly, in order, with every chunk but the last one chunk size long, for random grids', () => {
    const failures: string[] = [];
    for (const grid of randomGrids(3)) {
      const total = totalChunks(grid);
      let nextStart = 0;
      for (let index = 0; index < total; index++) {
        const range = chunkRange(grid, index);
        const length = range.end - range.start + 1;
        const lengthOk = index < total - 1 ? length === grid.chunkSize : length >= 1 && length <= grid.chunkSize;
        if (range.start !== nextStart || !lengthOk) failures.push(`${JSON.stringify(grid)} chunk ${index}: ${JSON.stringify(range)}`);
        nextStart = range.end + 1;
      }
      if (nextStart !== grid.fileSize) failures.push(`${JSON.stringify(grid)}: chunks end at ${nextStart - 1}`);
    }
    expect(failures).toEqual([]);
  });
});

describe(chunkLength.name, () => {
  it('is the chunk size for full chunks and the remainder for the last one', () => {
    const grid = { fileSize: 20971520, chunkSize: 8 * MiB };
    expect([0, 1, 2].map((index) => chunkLength(grid, index))).toEqual([8 * MiB, 8 * MiB, 4 * MiB]);
  });

  it('adds up to the file size over all chunks, for random grids', () => {
    const failures: string[] = [];
    for (const grid of randomGrids(4)) {
      let sum = 0;
      for (let index = 0; index < totalChunks(grid); index++) sum += chunkLength(grid, index);
      if (sum !== grid.fileSize) failures.push(`${JSON.stringify(grid)} adds up to ${sum}`);
    }
    expect(failures).toEqual([]);
  });
});

describe(chunkIndexOf.name, () => {
  const grid = { fileSize: 20971520, chunkSize: 8 * MiB };

  it.each([
    { range: { start: 0, end: 8388607 }, index: 0 },
    { range: { start: 8388608, end: 16777215 }, index: 1 },
    { range: { start: 16777216, end: 20971519 }, index: 2 },
  ])('finds chunk $index for bytes $range.start-$range.end', ({ range, index }) => {
    expect(chunkIndexOf(grid, range)).toBe(index);
  });

  it.each([
    { why: 'starts off the grid', range: { start: 1, end: 8388608 } },
    { why: 'ends before the chunk does', range: { start: 0, end: 8388606 } },
    { why: 'runs past the chunk', range: { start: 0, end: 8388608 } },
    { why: 'spans two chunks', range: { start: 0, end: 16777215 } },
    { why: 'pads the short last chunk to a full chunk size', range: { start: 16777216, end: 25165823 } },
    { why: 'runs past the end of the file', range: { start: 16777216, end: 20971520 } },
    { why: 'starts at the end of the file', range: { start: 25165824, end: 33554431 } },
    { why: 'starts well past the end of the file', range: { start: 8388608 * 100, end: 8388608 * 101 - 1 } },
  ])('returns null for a range that $why', ({ range }) => {
    expect(chunkIndexOf(grid, range)).toBeNull();
  });

  it('finds no chunk at all in an empty file', () => {
    expect(chunkIndexOf({ fileSize: 0, chunkSize: 256 * KiB }, { start: 0, end: 0 })).toBeNull();
    expect(chunkIndexOf({ fileSize: 0, chunkSize: 256 * KiB }, { start: 0, end: -1 })).toBeNull();
  });

  it("maps every chunk's range back to its index and rejects it shifted by one byte, for random grids", () => {
    const failures: string[] = [];
    for (const grid of randomGrids(5)) {
      const total = totalChunks(grid);
      for (let index = 0; index < total; index++) {
        const { start, end } = chunkRange(grid, index);
        const found = chunkIndexOf(grid, { start, end });
        const shifted = [{ start, end: end + 1 }, ...(end > start ? [{ start, end: end - 1 }, { start: start + 1, end }] : [])];
        if (found !== index) failures.push(`${JSON.stringify(grid)} chunk ${index} maps back to ${found}`);
        for (const range of shifted) {
          if (chunkIndexOf(grid, range) !== null) failures.push(`${JSON.stringify(grid)} accepts ${JSON.stringify(range)}`);
        }
      }
      const pastEnd = total * grid.chunkSize;
      if (chunkIndexOf(grid, { start: pastEnd, end: pastEnd + grid.chunkSize - 1 }) !== null) failures.push(`${JSON.stringify(grid)} accepts a chunk past the end`);
    }
    expect(failures).toEqual([]);
  });

  it('maps the first, last and random chunks back to their index in large files', () => {
    const random = randomSource(6);
    for (const grid of randomLargeGrids(7)) {
      const total = totalChunks(grid);
      if (total === 0) continue;
      for (const index of [0, total - 1, random(0, total - 1)]) {
        expect(chunkIndexOf(grid, chunkRange(grid, index))).toBe(index);
      }
    }
  });
});

describe(formatByteRange.name, () => {
  it('writes a Content-Range style "bytes first-last/total"', () => {
    expect(formatByteRange({ start: 524288, end: 1048575 }, 1048576)).toBe('bytes 524288-1048575/1048576');
  });

  it('writes a range that parseContentRange reads back unchanged, for random grids', () => {
    const random = randomSource(8);
    for (const grid of randomLargeGrids(9)) {
      const total = totalChunks(grid);
      if (total === 0) continue;
      const range = chunkRange(grid, random(0, total - 1));
      expect(parseContentRange(formatByteRange(range, grid.fileSize))).toEqual({ ...range, total: grid.fileSize });
    }
  });
});

describe(mergeChunkRanges.name, () => {
  const grid = { fileSize: 20971520, chunkSize: 8 * MiB };

  it('returns no ranges for no indexes', () => {
    expect(mergeChunkRanges(grid, [])).toEqual([]);
  });

  it('joins neighbouring chunks into one range', () => {
    expect(mergeChunkRanges(grid, [0, 1])).toEqual([{ start: 0, end: 16777215 }]);
  });

  it('keeps chunks with a gap between them apart', () => {
    expect(mergeChunkRanges(grid, [0, 2])).toEqual([
      { start: 0, end: 8388607 },
      { start: 16777216, end: 20971519 },
    ]);
  });

  it('ends a run that includes the last chunk at the end of the file', () => {
    expect(mergeChunkRanges(grid, [1, 2])).toEqual([{ start: 8388608, end: 20971519 }]);
  });

  it('matches the contract example of one missing chunk', () => {
    const contractGrid = { fileSize: 1048576, chunkSize: 524288 };
    expect(mergeChunkRanges(contractGrid, [1]).map((range) => formatByteRange(range, contractGrid.fileSize))).toEqual(['bytes 524288-1048575/1048576']);
  });

  it('gives the same answer when called twice (it does not share range objects between calls)', () => {
    const first = mergeChunkRanges(grid, [0, 1, 2]);
    const second = mergeChunkRanges(grid, [0, 1, 2]);
    expect(second).toEqual(first);
    expect(chunkRange(grid, 0)).toEqual({ start: 0, end: 8388607 });
  });

  it('covers exactly the bytes of the given chunks with separated, grid-aligned ranges, for random grids', () => {
    const random = randomSource(12);
    for (const grid of randomGrids(13)) {
      const total = totalChunks(grid);
      const indexes: number[] = [];
      for (let index = 0; index < total; index++) if (random(0, 1) === 1) indexes.push(index);

      const ranges = mergeChunkRanges(grid, indexes);

      const coveredBytes = ranges.reduce((sum, range) => sum + range.end - range.start + 1, 0);
      const expectedBytes = indexes.reduce((sum, index) => sum + chunkLength(grid, index), 0);
      const aligned = ranges.every((range) => range.start % grid.chunkSize === 0 && (range.end === grid.fileSize - 1 || (range.end + 1) % grid.chunkSize === 0));
      // Merged means no two ranges touch: there is at least one chunk between them.
      const separated = ranges.every((range, position) => position === 0 || range.start > ranges[position - 1].end + 1);
      const covered = indexes.every((index) => {
        const chunk = chunkRange(grid, index);
        return ranges.some((range) => range.start <= chunk.start && chunk.end <= range.end);
      });
      expect({ grid, coveredBytes, aligned, separated, covered }).toEqual({ grid, coveredBytes: expectedBytes, aligned: true, separated: true, covered: true });
      if (total > 0) expect(mergeChunkRanges(grid, [...Array(total).keys()])).toEqual([{ start: 0, end: grid.fileSize - 1 }]);
    }
  });
});
