import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** The body is not the slot's length: the part must not complete. */
export class PartLengthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartLengthError';
  }
}

/**
 * One part's body as the store receives it: the chunk's pieces passed on one at a time as the
 * request asks for them (never the whole chunk in memory), each after `beforeEachWrite`, with
 * the MD5 of exactly the bytes passed on. Any error (the source's, the fence's, a wrong length)
 * fails the stream before its last byte, so the part request cannot complete.
 */
export class PartBody {
  readonly stream: Readable;
  private readonly md5 = createHash('md5');
  private pulled = false;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    readonly length: number,
    private readonly beforeEachWrite?: () => void,
  ) {
    this.stream = Readable.from(this.pieces(), { objectMode: false, highWaterMark: 0 });
  }

  /** Whether the request asked for any byte yet: a part refused before then can be sent elsewhere. */
  get started(): boolean {
    return this.pulled;
  }

  /** The hex MD5 of what was passed on; only meaningful once the stream ended. */
  md5Hex(): string {
    return this.md5.digest('hex');
  }

  private async *pieces(): AsyncGenerator<Buffer> {
    this.pulled = true;
    let received = 0;
    // One piece is held back until the next arrives, so the last byte goes out only once the
    // source has ended at the right length: the store cannot complete a part the caller refuses.
    let held: Buffer | null = null;
    for await (const piece of this.source) {
      received += piece.length;
      if (received > this.length) throw new PartLengthError(`the chunk body is longer than its ${this.length} bytes`);
      if (held) yield this.pass(held);
      held = piece;
    }
    if (received !== this.length) throw new PartLengthError(`the chunk body ended after ${received} of its ${this.length} bytes`);
    if (held) yield this.pass(held);
  }

  private pass(piece: Buffer): Buffer {
    this.beforeEachWrite?.();
    this.md5.update(piece);
    return piece;
  }
}
