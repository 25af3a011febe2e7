import { sleep, throwIfAborted } from './abort';
import { DEFAULT_RETRY, RetryPolicy } from './backoff';
import { runPass } from './chunk-pass';
import { ChecksumMismatchError, InvalidUploadError, SourceChangedError, UploadFailedError, UploadSessionError } from './errors';
import { FingerprintStore, storeKey } from './fingerprint-store';
import { contentRange, Grid, planPass, totalChunks } from './grid';
import { contentDigestHeader, IncrementalSha256, Sha256Provider, toHex } from './hashing';
import { UploadApi, UploadStatus } from './http';
import { ProgressTracker, UploadProgress } from './progress';
import { assertUsableSize, fingerprintOf, UploadSource } from './source';

export interface UploadOptions {
  /** The API's base URL, e.g. `https://uploads.example.com` (the SDK adds `/resumable-upload/...`). */
  endpoint: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Bytes per chunk, within [256 KiB, 64 MiB]; the server's default (8 MiB) when unset. A resumed session keeps its own. */
  chunkSize?: number;
  /** Chunks in flight at once (and so, give or take one, in memory); default 4. */
  parallel?: number;
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  /** Called once the session is known (found through the store, or just initiated), before any chunk is sent. */
  onSession?: (session: UploadSessionInfo) => void;
  metadata?: Record<string, string>;
  /** Defaults to the source's own name (a File's name, a path's base name); required for bytes and nameless Blobs. */
  fileName?: string;
  /** Defaults to a Blob's `type`. */
  contentType?: string;
  /** Where to remember sessions so a later call resumes them; without it nothing resumes. */
  fingerprintStore?: FingerprintStore;
  retry?: Partial<RetryPolicy>;
  /** The fetch to use (a wrapper that logs, counts or routes); default the global one. */
  fetch?: typeof fetch;
  /** Wait between status polls while assembling when the server names none; default 1000 ms. */
  pollIntervalMs?: number;
}

/** Which session an upload goes to, and whether it picked up one an earlier call started. */
export interface UploadSessionInfo {
  uploadId: string;
  resumed: boolean;
}

export interface UploadResult {
  uploadId: string;
  /** The whole file's SHA-256 (hex), computed here and confirmed by the server. */
  sha256: string;
  status: 'completed';
}

/** What differs between Node and browsers: how to hash, and which inputs become which sources. */
export interface Platform<Input> {
  sha256: Sha256Provider;
  toSource(input: Input): Promise<UploadSource>;
  /** Whether fetch takes chunk bodies as streams over HTTP/1.1 (Node's does; browsers' do not). */
  streamChunkBodies?: boolean;
}

/** A session's id and grid, and its status when it was found or made. */
interface Session {
  uploadId: string;
  grid: Grid;
  status: UploadStatus;
  resumed: boolean;
}

const DEFAULT_PARALLEL = 4;
const HASH_READ_SIZE = 8 * 1024 * 1024;
// Verification may send chunks back, e.g. after a disk error; past this many times something is wrong for good.
const MAX_VERIFICATION_ROUNDS = 5;

/** Uploads `input` through the platform's adapters; see UploadOptions. */
export async function uploadWith<Input>(platform: Platform<Input>, input: Input, options: UploadOptions): Promise<UploadResult> {
  const settings = checkOptions(options);
  throwIfAborted(options.signal);
  const source = await platform.toSource(input);
  try {
    return await new UploadRun(platform, source, options, settings).run();
  } finally {
    await source.close?.();
  }
}

interface Settings {
  parallel: number;
  retry: RetryPolicy;
  pollIntervalMs: number;
}

function checkOptions(options: UploadOptions): Settings {
  if (typeof options.endpoint !== 'string' || !/^https?:\/\//.test(options.endpoint)) {
    throw new InvalidUploadError(`endpoint must be an http(s) URL such as https://uploads.example.com, not ${JSON.stringify(options.endpoint)}.`);
  }
  const parallel = options.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1) throw new InvalidUploadError(`parallel must be a whole number of at least 1, not ${parallel}.`);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw new InvalidUploadError(`retry.attempts must be a whole number of at least 1, not ${retry.attempts}.`);
  if (!(retry.baseDelayMs >= 0 && retry.maxDelayMs >= retry.baseDelayMs)) throw new InvalidUploadError('retry needs 0 ≤ baseDelayMs ≤ maxDelayMs.');
  return { parallel, retry, pollIntervalMs: options.pollIntervalMs ?? 1000 };
}

/** One call of upload(): find or start the session, send what is missing, see it verified. */
class UploadRun {
  private readonly api: UploadApi;
  private readonly signal?: AbortSignal;
  private readonly fileName: string;
  private storeKey: string | null = null;
  private sha256: string | undefined;

  private readonly hashes: Sha256Provider;

  constructor(
    platform: Platform<unknown>,
    private readonly source: UploadSource,
    private readonly options: UploadOptions,
    private readonly settings: Settings,
  ) {
    this.hashes = platform.sha256;
    assertUsableSize(source);
    const fileName = options.fileName ?? source.name;
    if (!fileName) throw new InvalidUploadError('fileName is required when the source has no name of its own (bytes, or a Blob that is not a File).');
    this.fileName = fileName;
    this.signal = options.signal;
    this.api = new UploadApi({
      endpoint: options.endpoint,
      apiKey: options.apiKey,
      fetch: options.fetch ?? globalThis.fetch,
      retry: settings.retry,
      streamChunkBodies: platform.streamChunkBodies,
    });
  }

  async run(): Promise<UploadResult> {
    if (this.source.hashFirst) this.sha256 = await this.hashWholeSource();
    this.storeKey = this.fingerprintKey();
    const session = await this.findOrStartSession();
    this.options.onSession?.({ uploadId: session.uploadId, resumed: session.resumed });
    const progress = new ProgressTracker(this.source.size, session.grid.fileSize === 0 ? 0 : totalChunks(session.grid), this.options.onProgress);
    progress.reset(session.status.receivedBytes, session.status.receivedChunks);

    let final: UploadStatus;
    try {
      await this.firstPass(session, progress);
      final = await this.settle(session, progress);
    } catch (error) {
      if (error instanceof SourceChangedError) await this.giveUp(session.uploadId);
      throw error;
    }
    return this.conclude(session.uploadId, final);
  }

  /** Ends a session that can only ever hold a mix of two versions of the source. */
  private async giveUp(uploadId: string): Promise<void> {
    if (this.storeKey) await this.options.fingerprintStore!.remove(this.storeKey);
    // Best effort: a session left behind expires anyway.
    await this.api.abort(uploadId, this.signal).catch(() => undefined);
  }

  /** The store's key for this source, or null when it cannot resume. */
  private fingerprintKey(): string | null {
    const store = this.options.fingerprintStore;
    const fingerprint = this.source.fingerprint ?? (this.sha256 ? fingerprintOf('content', this.fileName, this.source.size, this.sha256) : null);
    return store && fingerprint ? storeKey(this.options.endpoint.replace(/\/+$/, ''), fingerprint) : null;
  }

  private async hashWholeSource(): Promise<string> {
    const hasher = this.hashes.incremental();
    let block: Uint8Array | undefined;
    for (let start = 0; start < this.source.size; start += HASH_READ_SIZE) {
      throwIfAborted(this.signal);
      block = await this.source.read(start, Math.min(start + HASH_READ_SIZE, this.source.size), block);
      hasher.update(block);
    }
    return toHex(hasher.digest());
  }

  private async findOrStartSession(): Promise<Session> {
    const resumed = await this.resumableSession();
    if (resumed) return resumed;
    const initiated = await this.api.initiate(
      {
        fileName: this.fileName,
        fileSize: this.source.size,
        ...(this.options.chunkSize !== undefined && { chunkSize: this.options.chunkSize }),
        ...(this.sha256 && { sha256: this.sha256 }),
        ...((this.options.contentType ?? this.source.type) && { contentType: this.options.contentType ?? this.source.type }),
        ...(this.options.metadata && { metadata: this.options.metadata }),
      },
      randomKey(),
      this.signal,
    );
    if (this.storeKey) await this.options.fingerprintStore!.set(this.storeKey, initiated.uploadId);
    const grid = { fileSize: this.source.size, chunkSize: initiated.chunkSize };
    return { uploadId: initiated.uploadId, grid, status: freshStatus(initiated.uploadId, grid), resumed: false };
  }

  /** The stored session for this source, when the server still has it in a state worth resuming. */
  private async resumableSession(): Promise<Session | null> {
    if (!this.storeKey) return null;
    const uploadId = await this.options.fingerprintStore!.get(this.storeKey);
    if (!uploadId) return null;
    const status = await this.api.status(uploadId, this.signal).catch((error: unknown) => {
      // Another API key's session, or an id the server finds malformed: start afresh.
      if (error instanceof UploadFailedError && error.status < 500) return null;
      throw error;
    });
    const alive = status && status.fileSize === this.source.size && ['uploading', 'assembling', 'completed'].includes(status.status);
    if (!alive) return null;
    return { uploadId, grid: { fileSize: status.fileSize, chunkSize: status.chunkSize }, status, resumed: true };
  }

  /**
   * Sends what the session lacks while, if the whole-file hash is still unknown, reading every
   * chunk in order to compute it. The hash is then declared before the last chunk goes out, so
   * the server verifies the file against it, as it does a hash declared at initiate.
   */
  private async firstPass(session: Session, progress: ProgressTracker): Promise<void> {
    const hasher = this.sha256 === undefined ? this.hashes.incremental() : undefined;
    const total = totalChunks(session.grid);
    const toSend = session.status.status === 'uploading' ? (session.resumed ? session.status.missingChunks : range(total)) : [];
    const declare = async () => {
      await this.finishHash(hasher!);
      await this.api.complete(session.uploadId, this.sha256, this.signal);
    };
    await this.sendPass(session, planPass(total, toSend, hasher !== undefined), progress, hasher, hasher && declare);
    // Nothing was sent, so nothing declared it yet: settle() does.
    if (hasher && this.sha256 === undefined) await this.finishHash(hasher);
  }

  /** The whole-file hash, once every chunk went through `hasher`, of a source that did not change meanwhile. */
  private async finishHash(hasher: IncrementalSha256): Promise<void> {
    await this.source.assertUnchanged?.();
    this.sha256 = toHex(hasher.digest());
  }

  private sendPass(session: Session, steps: ReturnType<typeof planPass>, progress: ProgressTracker, hasher?: IncrementalSha256, beforeLastSend?: () => Promise<void>) {
    return runPass(steps, {
      source: this.source,
      grid: session.grid,
      parallel: this.settings.parallel,
      hasher,
      beforeLastSend,
      signal: this.signal,
      send: async (index, bytes, signal) => {
        const digest = contentDigestHeader(await this.hashes.digest(bytes));
        const outcome = await this.api.putChunk(session.uploadId, contentRange(session.grid, index), digest, bytes, signal);
        if (outcome === 'stored') progress.chunkStored(bytes.byteLength);
        return outcome;
      },
    });
  }

  /**
   * Drives the session to an end state: sends chunks still missing (at most 1,000 are listed
   * at a time, and verification may send some back), asks for assembly once, then polls.
   */
  private async settle(session: Session, progress: ProgressTracker): Promise<UploadStatus> {
    let status = await this.currentStatus(session.uploadId);
    let completeAsked = false;
    let verificationRounds = 0;
    let pollDelayMs: number | null = null;
    for (;;) {
      throwIfAborted(this.signal);
      if (status.status === 'uploading' && status.missingChunks.length > 0) {
        if (completeAsked && ++verificationRounds > MAX_VERIFICATION_ROUNDS) {
          throw new UploadSessionError(session.uploadId, 'uploading', status.error?.code ?? 'CHUNKS_CORRUPT', `verification sent chunks back ${verificationRounds} times.`);
        }
        completeAsked = false;
        progress.reset(status.receivedBytes, status.receivedChunks);
        await this.sendPass(session, planPass(totalChunks(session.grid), status.missingChunks, false), progress);
        status = await this.currentStatus(session.uploadId);
      } else if (status.status === 'uploading' || (status.status === 'assembling' && !completeAsked)) {
        // The checksum may be declared only before assembly starts; after, it is checked here.
        const answer = await this.api.complete(session.uploadId, status.status === 'uploading' ? this.sha256 : undefined, this.signal);
        completeAsked = true;
        pollDelayMs = answer.retryAfterMs;
        status = answer.status ?? (await this.currentStatus(session.uploadId));
      } else if (status.status === 'assembling') {
        await sleep(pollDelayMs ?? this.settings.pollIntervalMs, this.signal);
        status = await this.currentStatus(session.uploadId);
      } else {
        return status;
      }
    }
  }

  private async currentStatus(uploadId: string): Promise<UploadStatus> {
    const status = await this.api.status(uploadId, this.signal);
    if (!status) throw new UploadFailedError('UPLOAD_NOT_FOUND', 404, `The server no longer knows upload ${uploadId}.`);
    return status;
  }

  private async conclude(uploadId: string, final: UploadStatus): Promise<UploadResult> {
    // The session is over either way: a later call must not try to resume it.
    if (this.storeKey) await this.options.fingerprintStore!.remove(this.storeKey);
    if (final.status !== 'completed') {
      const code = final.error?.code ?? final.status.toUpperCase();
      throw new UploadSessionError(uploadId, final.status, code, final.error?.message ?? `the server reports it ${final.status}.`);
    }
    const sha256 = this.sha256 as string;
    if (final.sha256 !== sha256) throw new ChecksumMismatchError(uploadId, sha256, final.sha256);
    return { uploadId, sha256, status: 'completed' };
  }
}

/** What a session just initiated looks like, without asking the server. */
function freshStatus(uploadId: string, grid: Grid): UploadStatus {
  const total = totalChunks(grid);
  return { uploadId, fileSize: grid.fileSize, chunkSize: grid.chunkSize, totalChunks: total, status: 'uploading', receivedChunks: 0, receivedBytes: 0, missingChunks: range(Math.min(total, 1000)), sha256: null, error: null };
}

function range(length: number): number[] {
  return Array.from({ length }, (_, index) => index);
}

/** An Idempotency-Key: getRandomValues works in every browser context, randomUUID only in secure ones. */
function randomKey(): string {
  return toHex(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}
