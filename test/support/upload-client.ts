import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Stack, StackOptions } from './stack';
import { eventually } from './processes';

export interface JsonResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  body: T;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function contentDigest(data: Buffer): string {
  return `sha-256=:${createHash('sha256').update(data).digest('base64')}:`;
}

export function randomFile(size: number): Buffer {
  return randomBytes(size);
}

/** A thin HTTP client for the contract, used by the e2e tests; it hides nothing the tests assert on. */
export class UploadClient {
  constructor(
    /** The stack, or any one of its API replicas. */
    private readonly stack: Pick<Stack, 'url'>,
    private readonly headers: Record<string, string> = {},
  ) {}

  async call<T = Record<string, any>>(method: string, path: string, init: { body?: unknown; raw?: Buffer | string; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    let body: Buffer | string | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(this.stack.url(path), { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  initiate(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    return this.call('POST', '/resumable-upload/initiate', { body, headers });
  }

  /** Initiates and insists on success. */
  async create(file: Buffer, options: { chunkSize?: number; sha256?: string; fileName?: string; contentType?: string } = {}) {
    const response = await this.initiate({ fileName: options.fileName ?? 'file.bin', fileSize: file.length, chunkSize: options.chunkSize ?? 256 * 1024, ...(options.sha256 ? { sha256: options.sha256 } : {}), ...(options.contentType ? { contentType: options.contentType } : {}) });
    if (response.status !== 201) throw new Error(`initiate failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as { uploadId: string; chunkSize: number; totalChunks: number; uploadUrl: string; statusUrl: string; expiresAt: string };
  }

  putChunk(uploadId: string, file: Buffer, index: number, chunkSize: number, headers: Record<string, string> = {}) {
    const start = index * chunkSize;
    const end = Math.min(start + chunkSize, file.length) - 1;
    const data = file.subarray(start, end + 1);
    return this.call('PUT', `/resumable-upload/chunk?uploadId=${uploadId}`, {
      raw: data,
      headers: { 'content-range': `bytes ${start}-${end}/${file.length}`, 'content-type': 'application/octet-stream', ...headers },
    });
  }

  status(uploadId: string) {
    return this.call('GET', `/resumable-upload/uploads/${uploadId}`);
  }

  complete(uploadId: string, body?: unknown) {
    return this.call('POST', `/resumable-upload/uploads/${uploadId}/complete`, body === undefined ? {} : { body });
  }

  abort(uploadId: string) {
    return this.call('DELETE', `/resumable-upload/uploads/${uploadId}`);
  }

  async download(uploadId: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; data: Buffer }> {
    const response = await fetch(this.stack.url(`/resumable-upload/uploads/${uploadId}/file`), { headers: { ...this.headers, ...headers } });
    return { status: response.status, headers: response.headers, data: Buffer.from(await response.arrayBuffer()) };
  }

  /** Polls the status until it is one of `statuses`. */
  waitForStatus(uploadId: string, statuses: string[], timeoutMs = 60_000) {
    return eventually(
      async () => {
        const response = await this.status(uploadId);
        return statuses.includes(response.body.status) ? response.body : undefined;
      },
      `upload ${uploadId} to become ${statuses.join(' or ')}`,
      timeoutMs,
    );
  }

  /** Uploads every chunk (in the given order, `parallel` at a time) and waits for `completed`. */
  async uploadAll(file: Buffer, options: { chunkSize?: number; parallel?: number; order?: number[] } = {}) {
    const { uploadId, chunkSize, totalChunks } = await this.create(file, { chunkSize: options.chunkSize });
    const order = options.order ?? [...Array(totalChunks).keys()];
    const queue = [...order];
    await Promise.all(
      Array.from({ length: options.parallel ?? 1 }, async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
          const response = await this.putChunk(uploadId, file, index, chunkSize);
          if (response.status !== 200) throw new Error(`chunk ${index}: ${response.status} ${JSON.stringify(response.body)}`);
        }
      }),
    );
    return { uploadId, chunkSize, totalChunks };
  }
}

/**
 * Sends a chunk over a raw socket so a test controls the body: it can stream part of it,
 * pause, send it chunked, or cut the connection. Resolves with the answer, or null if none came.
 */
export function rawPut(
  stack: Pick<Stack, 'url'>,
  uploadId: string,
  headers: Record<string, string>,
): { write: (data: Buffer) => void; finish: (data?: Buffer) => Promise<JsonResponse | null>; cut: () => void } {
  const url = new URL(stack.url(`/resumable-upload/chunk?uploadId=${uploadId}`));
  let settle: (value: JsonResponse | null) => void = () => undefined;
  const answered = new Promise<JsonResponse | null>((resolve) => (settle = resolve));
  const request = httpRequest({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'PUT', headers }, (response) => {
    const parts: Buffer[] = [];
    response.on('data', (part: Buffer) => parts.push(part));
    response.on('end', () => {
      const text = Buffer.concat(parts).toString();
      settle({ status: response.statusCode ?? 0, headers: new Headers(response.headers as Record<string, string>), body: text ? JSON.parse(text) : undefined });
    });
  });
  request.on('error', () => settle(null));
  request.flushHeaders();
  return {
    write: (data) => request.write(data),
    finish: (data) => {
      request.end(data);
      return answered;
    },
    cut: () => request.destroy(),
  };
}

export interface RawResponse extends JsonResponse {
  /** The body as sent, to show what came back when it is not JSON. */
  text: string;
}

/**
 * Sends one request exactly as written, for input fetch would tidy up: the path is not
 * normalised (`..`, `%2e%2e` and broken percent-encoding reach the server as given), and a
 * header given as a list goes out as that many header lines. Resolves with the answer; the
 * body is parsed as JSON when it is JSON, else left undefined.
 */
export function rawRequest(
  stack: Stack,
  method: string,
  path: string,
  init: { headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  const url = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, method, headers: init.headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let body: Record<string, any> | undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        // The server may answer before it read the whole body: stop sending the rest.
        request.destroy();
        resolve({ status: response.statusCode ?? 0, headers: new Headers(response.headers as Record<string, string>), body: body as Record<string, any>, text });
      });
    });
    request.on('error', reject);
    request.end(init.body);
  });
}

/** Counts what Postgres really recorded for an upload. */
export async function recordedChunks(stack: Stack, uploadId: string): Promise<number[]> {
  const { rows } = await stack.db.query<{ chunk_index: number }>('SELECT chunk_index FROM upload_chunks WHERE upload_id = $1 ORDER BY chunk_index', [uploadId]);
  return rows.map((row) => row.chunk_index);
}

/** Starts a stack (and a client for it) before the tests of the enclosing describe, and stops it after. */
export function useStack(options: StackOptions = {}): { stack: Stack; client: UploadClient } {
  const context = {} as { stack: Stack; client: UploadClient };
  beforeAll(async () => {
    context.stack = await Stack.start(options);
    context.client = new UploadClient(context.stack);
  });
  afterAll(() => context.stack?.stop());
  return context;
}
