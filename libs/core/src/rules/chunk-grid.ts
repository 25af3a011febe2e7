/**
 * The fixed chunk grid of a session: chunk i covers bytes
 * [i*chunkSize, min((i+1)*chunkSize, fileSize) - 1].
 */
export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface ChunkGrid {
  fileSize: number;
  chunkSize: number;
}

export function totalChunks({ fileSize, chunkSize }: ChunkGrid): number {
  return Math.ceil(fileSize / chunkSize);
}

export function chunkRange(grid: ChunkGrid, index: number): ByteRange {
  const start = index * grid.chunkSize;
  return { start, end: Math.min(start + grid.chunkSize, grid.fileSize) - 1 };
}

export function chunkLength(grid: ChunkGrid, index: number): number {
  const { start, end } = chunkRange(grid, index);
  return end - start + 1;
}

/** The index of the grid chunk that is exactly `range`, or null when the range is not one chunk. */
export function chunkIndexOf(grid: ChunkGrid, range: ByteRange): number | null {
  if (range.start < 0 || range.start % grid.chunkSize !== 0) return null;
  const index = range.start / grid.chunkSize;
  if (index >= totalChunks(grid)) return null;
  return chunkRange(grid, index).end === range.end ? index : null;
}

export function formatByteRange(range: ByteRange, fileSize: number): string {
  return `bytes ${range.start}-${range.end}/${fileSize}`;
}

/** Merges chunk indexes (ascending) into byte ranges, joining neighbours. */
export function mergeChunkRanges(grid: ChunkGrid, indexes: number[]): ByteRange[] {
  const ranges: ByteRange[] = [];
  for (const index of indexes) {
    const range = chunkRange(grid, index);
    const last = ranges[ranges.length - 1];
    if (last && last.end + 1 === range.start) last.end = range.end;
    else ranges.push(range);
  }
  return ranges;
}
