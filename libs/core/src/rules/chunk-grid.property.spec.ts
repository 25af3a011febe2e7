import fc from 'fast-check';
import { ByteRange, ChunkGrid, chunkIndexOf, chunkLength, chunkRange, formatByteRange, mergeChunkRanges, totalChunks } from './chunk-grid';
import { parseContentRange } from './content-range';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// The contract's bounds: chunks of 256 KiB to 64 MiB; files up to MAX_FILE_SIZE (10 GiB by
// default, configurable up to 512 TiB − 256 KiB).
const chunkSizes = fc.integer({ min: 256 * KiB, max: 64 * MiB });

/** Files up to the default MAX_FILE_SIZE: at most 40,960 chunks, few enough to walk one by one. */
const walkableGrids: fc.Arbitrary<ChunkGrid> = fc.oneof(
  fc.record({ fileSize: fc.integer({ min: 0, max: 10 * GiB }), chunkSize: chunkSizes }),
  // Exact multiples of the chunk size and one byte either side, where off-by-ones hide.
  fc.tuple(chunkSizes, fc.integer({ min: 0, max: 40 }), fc.constantFrom(-1, 0, 1)).map(([chunkSize, chunks, offset]) => ({ chunkSize, fileSize: Math.max(0, chunks * chunkSize + offset) })),
);

/** Files of any size up to 2^53-1, probed at a few chunks. */
const largeGrids: fc.Arbitrary<ChunkGrid> = fc.record({ fileSize: fc.maxSafeNat(), chunkSize: chunkSizes });

/** The grid computed exactly, in BigInt, as the contract states it. */
function expectedTotal({ fileSize, chunkSize }: ChunkGrid): number {
  return Number((BigInt(fileSize) + BigInt(chunkSize) - 1n) / BigInt(chunkSize));
}

function expectedRange({ fileSize, chunkSize }: ChunkGrid, index: number): ByteRange {
  const start = BigInt(index) * BigInt(chunkSize);
  const end = BigInt(index + 1) * BigInt(chunkSize) < BigInt(fileSize) ? BigInt(index + 1) * BigInt(chunkSize) : BigInt(fileSize);
  return { start: Number(start), end: Number(end - 1n) };
}

/** A grid together with some of its chunk indexes, ascending and without repeats. */
const gridsWithIndexes = fc
  .tuple(chunkSizes, fc.integer({ min: 0, max: 2000 }))
  .chain(([chunkSize, chunks]) =>
    fc.record({
      grid: fc.integer({ min: Math.max(0, (chunks - 1) * chunkSize + 1), max: chunks * chunkSize }).map((fileSize) => ({ fileSize, chunkSize })),
      indexes: chunks === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.integer({ min: 0, max: chunks - 1 }), { maxLength: chunks }).map((indexes) => indexes.sort((a, b) => a - b)),
    }),
  );

describe('the chunk grid, for generated grids within the contract bounds', () => {
  it('has ceil(fileSize / chunkSize) chunks, exactly, for files up to 2^53-1', () => {
    fc.assert(
      fc.property(fc.oneof(walkableGrids, largeGrids), (grid) => {
        expect(totalChunks(grid)).toBe(expectedTotal(grid));
      }),
      { numRuns: 1000 },
    );
  });

  it('covers [0, fileSize) exactly once: chunks follow each other with no gap or overlap, all full but the last', () => {
    fc.assert(
      fc.property(walkableGrids, (grid) => {
        const total = totalChunks(grid);
        let nextByte = 0;
        for (let index = 0; index < total; index++) {
          const range = chunkRange(grid, index);
          if (range.start !== nextByte) return false;
          const length = chunkLength(grid, index);
          if (length !== range.end - range.start + 1 || length < 1 || length > grid.chunkSize) return false;
          if (index < total - 1 && length !== grid.chunkSize) return false;
          nextByte = range.end + 1;
        }
        return nextByte === grid.fileSize;
      }),
      { numRuns: 200 },
    );
  });

  it('maps every chunk back to its index: chunkIndexOf(chunkRange(i)) === i', () => {
    fc.assert(
      fc.property(walkableGrids, (grid) => {
        for (let index = 0; index < totalChunks(grid); index++) {
          if (chunkIndexOf(grid, chunkRange(grid, index)) !== index) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it('places any chunk of a file up to 2^53-1 where the contract says, and maps it back to its index', () => {
    const probes = largeGrids
      .filter((grid) => grid.fileSize > 0)
      .chain((grid) => fc.record({ grid: fc.constant(grid), index: fc.oneof(fc.constant(0), fc.constant(totalChunks(grid) - 1), fc.integer({ min: 0, max: totalChunks(grid) - 1 })) }));
    fc.assert(
      fc.property(probes, ({ grid, index }) => {
        const range = chunkRange(grid, index);
        expect(range).toEqual(expectedRange(grid, index));
        expect(chunkIndexOf(grid, range)).toBe(index);
        if (index + 1 < totalChunks(grid)) expect(chunkRange(grid, index + 1).start).toBe(range.end + 1);
        else expect(range.end).toBe(grid.fileSize - 1);
      }),
      { numRuns: 1000 },
    );
  });

  it('finds an index only for a range that is exactly one chunk of the grid', () => {
    // Ranges near chunk boundaries: a grid-aligned start or end shifted by a few bytes.
    const nearBoundaries = walkableGrids.chain((grid) =>
      fc.record({
        grid: fc.constant(grid),
        start: fc.tuple(fc.integer({ min: 0, max: totalChunks(grid) + 1 }), fc.integer({ min: -2, max: 2 })).map(([index, shift]) => index * grid.chunkSize + shift),
        length: fc.oneof(fc.constant(grid.chunkSize), fc.integer({ min: 1, max: 2 * grid.chunkSize })),
      }),
    );
    fc.assert(
      fc.property(nearBoundaries, ({ grid, start, length }) => {
        const range = { start, end: start + length - 1 };
        const found = chunkIndexOf(grid, range);
        const index = start / grid.chunkSize;
        const isChunk = Number.isInteger(index) && index >= 0 && index < totalChunks(grid) && chunkRange(grid, index).end === range.end;
        expect(found).toBe(isChunk ? index : null);
      }),
      { numRuns: 2000 },
    );
  });

  it('merges missing chunks into ranges that cover exactly those chunks, separated by received ones', () => {
    fc.assert(
      fc.property(gridsWithIndexes, ({ grid, indexes }) => {
        const ranges = mergeChunkRanges(grid, indexes);
        const covered: number[] = [];
        let previousLast = -2;
        for (const range of ranges) {
          const first = range.start / grid.chunkSize;
          const last = Math.floor(range.end / grid.chunkSize);
          // Each range starts and ends on chunk boundaries...
          expect(Number.isInteger(first)).toBe(true);
          expect(chunkRange(grid, last).end).toBe(range.end);
          // ...and touches no other range: at least one received chunk lies between two of them.
          expect(first).toBeGreaterThan(previousLast + 1);
          for (let index = first; index <= last; index++) covered.push(index);
          previousLast = last;
        }
        expect(covered).toEqual(indexes);
      }),
      { numRuns: 500 },
    );
  });

  it('writes missing ranges that a client can send back as Content-Range unchanged', () => {
    fc.assert(
      fc.property(gridsWithIndexes, ({ grid, indexes }) => {
        for (const range of mergeChunkRanges(grid, indexes)) {
          expect(parseContentRange(formatByteRange(range, grid.fileSize))).toEqual({ ...range, total: grid.fileSize });
        }
      }),
      { numRuns: 200 },
    );
  });
});
