// The contract's chunk grid, kept here rather than imported from libs/core so the SDK stays a
// self-contained, browser-safe package.

export interface Grid {
  fileSize: number;
  chunkSize: number;
}

export function totalChunks({ fileSize, chunkSize }: Grid): number {
  return Math.ceil(fileSize / chunkSize);
}

/** Chunk `index` as [start, end) offsets. */
export function chunkBounds(grid: Grid, index: number): { start: number; end: number } {
  const start = index * grid.chunkSize;
  return { start, end: Math.min(start + grid.chunkSize, grid.fileSize) };
}

/** The `Content-Range` of chunk `index`: `bytes a-b/total`, b inclusive. */
export function contentRange(grid: Grid, index: number): string {
  const { start, end } = chunkBounds(grid, index);
  return `bytes ${start}-${end - 1}/${grid.fileSize}`;
}

/** One step of a pass over the source: read chunk `index`, and send it if `send`. */
export interface ChunkStep {
  index: number;
  send: boolean;
}

/**
 * The chunks a pass reads, ascending. When the whole-file hash is still being computed every
 * chunk must be read (in order), else only those to send are.
 */
export function planPass(total: number, toSend: Iterable<number>, hashWholeFile: boolean): ChunkStep[] {
  const sending = new Set([...toSend].filter((index) => Number.isInteger(index) && index >= 0 && index < total));
  if (hashWholeFile) return Array.from({ length: total }, (_, index) => ({ index, send: sending.has(index) }));
  return [...sending].sort((a, b) => a - b).map((index) => ({ index, send: true }));
}
