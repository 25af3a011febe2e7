import { UploadSession } from '../upload-session';

/** What never changes about a session: whose it is and how its file is cut into chunks. */
export type SessionShape = Pick<UploadSession, 'id' | 'ownerKeyHash' | 'fileSize' | 'chunkSize' | 'totalChunks'>;

/** Sessions remembered per process: about a megabyte at most. */
const REMEMBERED_SESSIONS = 10_000;

/**
 * The shapes of the sessions this process most recently took chunks for. A shape never
 * changes, so it cannot go stale: a chunk of a known session skips the read of its row, and
 * the chunk's claim checks the session's status instead.
 */
export class SessionShapes {
  private readonly shapes = new Map<string, SessionShape>();

  constructor(private readonly capacity = REMEMBERED_SESSIONS) {}

  get(id: string): SessionShape | undefined {
    return this.shapes.get(id);
  }

  remember({ id, ownerKeyHash, fileSize, chunkSize, totalChunks }: SessionShape): void {
    this.shapes.delete(id);
    this.shapes.set(id, { id, ownerKeyHash, fileSize, chunkSize, totalChunks });
    // A Map iterates in insertion order: the first key is the one remembered longest ago.
    if (this.shapes.size > this.capacity) this.shapes.delete(this.shapes.keys().next().value as string);
  }
}
