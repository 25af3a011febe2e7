import { sleep, throwIfAborted } from './abort';
import { isRetryableAnswer, parseRetryAfter, retryDelay, RetryPolicy } from './backoff';
import { ApiErrorBody, NetworkError, UploadAbortedError, UploadFailedError } from './errors';

const BASE_PATH = '/resumable-upload';

export interface ApiConfig {
  endpoint: string;
  apiKey?: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
  random?: () => number;
  /**
   * Sends chunk bytes as a one-piece stream with their Content-Length (Node's fetch writes it
   * straight to the socket, where it first copies a byte array body into fresh memory).
   * Browsers stream a request body only over HTTP/2, so there the bytes go as they are.
   */
  streamChunkBodies?: boolean;
}

/** What the status route answers (the fields the SDK reads). */
export interface UploadStatus {
  uploadId: string;
  fileSize: number;
  chunkSize: number;
  totalChunks: number;
  status: 'uploading' | 'assembling' | 'completed' | 'failed' | 'aborted' | 'expired';
  receivedChunks: number;
  receivedBytes: number;
  missingChunks: number[];
  sha256: string | null;
  error: { code: string; message: string; chunks?: number[] } | null;
}

export interface InitiateBody {
  fileName: string;
  fileSize: number;
  chunkSize?: number;
  sha256?: string;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface InitiateAnswer {
  uploadId: string;
  chunkSize: number;
  totalChunks: number;
}

/** An upload's webhook event not delivered yet: being retried (`pending`), or given up on (`dead`). */
export interface UndeliveredEvent {
  id: string;
  type: 'upload.completed' | 'upload.failed';
  state: 'pending' | 'dead';
  attempts: number;
  occurredAt: string;
  nextAttemptAt: string | null;
  lastError: string | null;
}

/** A chunk answer: accepted, or refused because the session already moved on to assembling. */
export type ChunkOutcome = 'stored' | 'not-accepting';

type RequestBody = string | Uint8Array;

interface Answer<T> {
  status: number;
  body: T;
  retryAfterMs: number | null;
}

/**
 * The contract's routes, each retried on network errors, 5xx, 408, 429 and `409
 * CHUNK_IN_PROGRESS` with full-jitter backoff that honours `Retry-After`. Every other error
 * answer becomes an UploadFailedError.
 */
export class UploadApi {
  private readonly endpoint: string;

  constructor(private readonly config: ApiConfig) {
    this.endpoint = config.endpoint.replace(/\/+$/, '');
  }

  async initiate(body: InitiateBody, idempotencyKey: string, signal?: AbortSignal): Promise<InitiateAnswer> {
    const answer = await this.request<InitiateAnswer>('initiate', 'POST', '/initiate', signal, {
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
    });
    return this.expectOk(answer, 'initiate');
  }

  /** The session, or null when the server does not know it (404). */
  async status(uploadId: string, signal?: AbortSignal): Promise<UploadStatus | null> {
    const answer = await this.request<UploadStatus>('the status request', 'GET', `/uploads/${encodeURIComponent(uploadId)}`, signal);
    if (answer.status === 404) return null;
    return this.expectOk(answer, 'the status request');
  }

  async putChunk(uploadId: string, range: string, digest: string, bytes: Uint8Array, signal?: AbortSignal): Promise<ChunkOutcome> {
    const answer = await this.request<ApiErrorBody>(`chunk ${range}`, 'PUT', `/chunk?uploadId=${encodeURIComponent(uploadId)}`, signal, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': range, 'content-digest': digest },
      body: bytes,
    });
    // A retry of a chunk whose answer was lost, after it completed the set: it counted.
    if (answer.status === 409 && answer.body?.code === 'UPLOAD_NOT_ACCEPTING') return 'not-accepting';
    this.expectOk(answer, `chunk ${range}`);
    return 'stored';
  }

  /** Asks for assembly; answers the status body and how long to wait before polling. */
  async complete(uploadId: string, sha256: string | undefined, signal?: AbortSignal): Promise<{ incomplete: boolean; status: UploadStatus | null; retryAfterMs: number | null }> {
    const answer = await this.request<UploadStatus & ApiErrorBody>('complete', 'POST', `/uploads/${encodeURIComponent(uploadId)}/complete`, signal, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sha256 ? { sha256 } : {}),
    });
    if (answer.status === 409 && answer.body?.code === 'UPLOAD_INCOMPLETE') return { incomplete: true, status: null, retryAfterMs: null };
    // A failed session refuses complete: its status says why.
    if (answer.status === 409 && answer.body?.code === 'UPLOAD_NOT_ACCEPTING') return { incomplete: false, status: null, retryAfterMs: null };
    return { incomplete: false, status: this.expectOk(answer, 'complete'), retryAfterMs: answer.retryAfterMs };
  }

  /** Ends the session and removes its stored bytes (`DELETE`); one already gone counts as done. */
  async abort(uploadId: string, signal?: AbortSignal): Promise<void> {
    const answer = await this.request<ApiErrorBody>('the abort request', 'DELETE', `/uploads/${encodeURIComponent(uploadId)}`, signal);
    if (answer.status !== 404 && answer.status !== 410) this.expectOk(answer, 'the abort request');
  }

  /** The upload's webhook events not delivered yet (none when every one was, or webhooks are off). */
  async events(uploadId: string, signal?: AbortSignal): Promise<UndeliveredEvent[]> {
    const answer = await this.request<{ events: UndeliveredEvent[] }>('the events request', 'GET', `/uploads/${encodeURIComponent(uploadId)}/events`, signal);
    return this.expectOk(answer, 'the events request').events;
  }

  /** Sends the upload's dead webhook events again; answers the events that are pending again. */
  async redeliverEvents(uploadId: string, signal?: AbortSignal): Promise<UndeliveredEvent[]> {
    const answer = await this.request<{ events: UndeliveredEvent[] }>('the redeliver request', 'POST', `/uploads/${encodeURIComponent(uploadId)}/events/redeliver`, signal);
    return this.expectOk(answer, 'the redeliver request').events;
  }

  private expectOk<T>(answer: Answer<T>, what: string): T {
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw UploadFailedError.fromAnswer(answer.status, answer.body as ApiErrorBody, what);
  }

  /** One route, retried per the policy; resolves with the last answer (retryable or not). */
  private async request<T>(what: string, method: string, path: string, signal: AbortSignal | undefined, init: { headers?: Record<string, string>; body?: RequestBody } = {}): Promise<Answer<T>> {
    const { attempts } = this.config.retry;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      let answer: Answer<T>;
      try {
        answer = await this.send<T>(method, path, signal, init);
      } catch (error) {
        if (signal?.aborted) throw new UploadAbortedError(signal.reason);
        if (attempt >= attempts) throw new NetworkError(what, attempt, error);
        await sleep(retryDelay(attempt - 1, this.config.retry, null, this.config.random), signal);
        continue;
      }
      const code = (answer.body as ApiErrorBody | undefined)?.code;
      if (!isRetryableAnswer(answer.status, code) || attempt >= attempts) return answer;
      await sleep(retryDelay(attempt - 1, this.config.retry, answer.retryAfterMs, this.config.random), signal);
    }
  }

  private async send<T>(method: string, path: string, signal: AbortSignal | undefined, init: { headers?: Record<string, string>; body?: RequestBody }): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    const request: RequestInit & { duplex?: 'half' } = { method, headers, body: init.body as RequestInit['body'], signal };
    if (this.config.streamChunkBodies && init.body instanceof Uint8Array) {
      // A new stream for every attempt: a stream is read once.
      headers['content-length'] = String(init.body.byteLength);
      request.body = oneChunkStream(init.body);
      request.duplex = 'half';
    }
    // Called unbound: browsers refuse fetch invoked as a method of another object.
    const fetchImpl = this.config.fetch;
    const response = await fetchImpl(`${this.endpoint}${BASE_PATH}${path}`, request);
    // Reading the body can fail too (a cut connection): that is a network error like any other.
    const text = await response.text();
    return { status: response.status, body: parseJson(text) as T, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }
}

function oneChunkStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // A proxy's HTML error page: the status still says what happened.
    return undefined;
  }
}
