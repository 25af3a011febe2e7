/**
 * Cuts one request body into consecutive slices of given lengths without copying or holding
 * more than the piece at hand: a piece that straddles a boundary is split, and its rest opens
 * the next slice. Slices must be read one after the other, each to its end.
 */
export class BodySlices {
  private readonly iterator: AsyncIterator<Buffer>;
  private leftover: Buffer | null = null;
  private done = false;
  /** Bytes handed out so far, over all slices. */
  consumed = 0;

  constructor(body: AsyncIterable<Buffer>) {
    this.iterator = body[Symbol.asyncIterator]();
  }

  /** True once the body has ended and every byte was handed out. */
  get ended(): boolean {
    return this.done && this.leftover === null;
  }

  /** Waits for the next byte: false once the body has ended. */
  async hasMore(): Promise<boolean> {
    if (this.leftover !== null) return true;
    const piece = await this.pull();
    if (piece === null) return false;
    this.leftover = piece;
    return true;
  }

  /** The next `length` bytes, or fewer when the body ends first. */
  async *next(length: number): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      const piece = await this.pull();
      if (piece === null) return;
      const taken = piece.length > remaining ? piece.subarray(0, remaining) : piece;
      if (piece.length > remaining) this.leftover = piece.subarray(remaining);
      remaining -= taken.length;
      this.consumed += taken.length;
      yield taken;
    }
  }

  /** Reads whatever is left of the body and drops it; resolves to how many bytes that was. */
  async drain(onPiece?: (piece: Buffer) => void): Promise<number> {
    let dropped = 0;
    for (let piece = await this.pull(); piece !== null; piece = await this.pull()) {
      onPiece?.(piece);
      dropped += piece.length;
    }
    return dropped;
  }

  private async pull(): Promise<Buffer | null> {
    if (this.leftover !== null) {
      const piece = this.leftover;
      this.leftover = null;
      return piece;
    }
    if (this.done) return null;
    for (;;) {
      const result = await this.iterator.next();
      if (result.done) {
        this.done = true;
        return null;
      }
      if (result.value.length > 0) return result.value;
    }
  }
}
