import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ApiErrorBody, DEFAULT_RETRY, UndeliveredEvent, UploadApi, UploadFailedError, UploadStatus } from '../../../libs/client/src/node';
import { Command, Connection, UsageError } from './args';
import { EXIT } from './exit-codes';
import { describeFailure } from './failures';
import { formatBytes } from './format';
import { failureLines, Output } from './reporters';

type SessionCommand = Extract<Command, { name: 'status' | 'wait' | 'download' | 'events' | 'redeliver' }>;

const WAIT_POLL_MS = 1000;
const FINISHED = ['completed', 'failed', 'aborted', 'expired'];

/** status, wait, download, events and redeliver: they act on one session by id. */
export async function runSessionCommand(command: SessionCommand, output: Output, signal: AbortSignal): Promise<number> {
  try {
    if (command.name === 'download') return await download(command, output, signal);
    if (command.name === 'events') return showEvents(command.json, command.uploadId, await api(command.connection).events(command.uploadId, signal), output, 'not delivered');
    if (command.name === 'redeliver') return showEvents(command.json, command.uploadId, await api(command.connection).redeliverEvents(command.uploadId, signal), output, 'sent again');
    if (command.name === 'wait') return showFinished(command.json, await waitUntilFinished(command.connection, command.uploadId, signal), output);
    return showStatus(command.json, await currentStatus(command.connection, command.uploadId, signal), output);
  } catch (error) {
    if (signal.aborted) return EXIT.interrupted;
    if (error instanceof UsageError) throw error;
    output.stderr.write(failureLines(describeFailure(error)));
    return EXIT.failed;
  }
}

function api(connection: Connection): UploadApi {
  const retry = { ...DEFAULT_RETRY, ...(connection.retries !== undefined && { attempts: connection.retries }) };
  return new UploadApi({ endpoint: connection.endpoint, apiKey: connection.apiKey, fetch: globalThis.fetch, retry });
}

async function currentStatus(connection: Connection, uploadId: string, signal: AbortSignal): Promise<UploadStatus> {
  const status = await api(connection).status(uploadId, signal);
  if (!status) throw new UploadFailedError('UPLOAD_NOT_FOUND', 404, `The server does not know upload ${uploadId}.`);
  return status;
}

async function waitUntilFinished(connection: Connection, uploadId: string, signal: AbortSignal): Promise<UploadStatus> {
  for (;;) {
    const status = await currentStatus(connection, uploadId, signal);
    if (FINISHED.includes(status.status)) return status;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    signal.throwIfAborted();
  }
}

/** The status body as JSON for scripts and pipes, a short summary for a person at a terminal. */
function showStatus(json: boolean, status: UploadStatus, output: Output): number {
  const humanReader = !json && (output.stdout as { isTTY?: boolean }).isTTY;
  output.stdout.write(humanReader ? summary(status) : `${JSON.stringify(status)}\n`);
  return EXIT.done;
}

/** One JSON line per event for scripts, one readable line per event for a person. */
function showEvents(json: boolean, uploadId: string, events: UndeliveredEvent[], output: Output, what: string): number {
  const humanReader = !json && (output.stdout as { isTTY?: boolean }).isTTY;
  if (!humanReader) {
    for (const event of events) output.stdout.write(`${JSON.stringify({ uploadId, ...event })}
`);
    return EXIT.done;
  }
  if (events.length === 0) output.stdout.write(`Upload ${uploadId}: no webhook event ${what}.
`);
  for (const event of events) {
    const next = event.state === 'dead' ? 'dead' : `pending, next try ${event.nextAttemptAt}`;
    output.stdout.write(`${event.id} ${event.type}: ${next}, ${event.attempts} attempt(s)${event.lastError ? `, last: ${event.lastError}` : ''}
`);
  }
  return EXIT.done;
}

function showFinished(json: boolean, status: UploadStatus, output: Output): number {
  showStatus(json, status, output);
  if (status.status === 'completed') return EXIT.done;
  const reason = status.error ? `${status.error.code}: ${status.error.message}` : status.status;
  output.stderr.write(`Upload ${status.uploadId} ended ${status.status} (${reason}). Upload the file again to start a new session.\n`);
  return EXIT.failed;
}

function summary(status: UploadStatus & { fileName?: string }): string {
  const lines = [
    `Upload ${status.uploadId}${status.fileName ? ` (${status.fileName})` : ''}: ${status.status}`,
    `  ${formatBytes(status.receivedBytes)} of ${formatBytes(status.fileSize)} received, ${status.receivedChunks}/${status.totalChunks} chunks`,
  ];
  if (status.sha256) lines.push(`  sha256 ${status.sha256}`);
  if (status.error) lines.push(`  error ${status.error.code}: ${status.error.message}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Streams the assembled file into a temporary file beside `out`, hashing it on the way, and
 * renames it into place only when its SHA-256 is the one the server verified.
 */
async function download(command: Extract<SessionCommand, { name: 'download' }>, output: Output, signal: AbortSignal): Promise<number> {
  const out = resolve(command.out);
  if ((await stat(out).catch(() => null))?.isDirectory()) throw new UsageError(`${out} is a directory: give the path of the file to write.`);
  const status = await currentStatus(command.connection, command.uploadId, signal);
  if (status.status !== 'completed') throw new UploadFailedError('UPLOAD_NOT_COMPLETED', 409, `Upload ${command.uploadId} is ${status.status}, not completed.`);
  const temporary = `${out}.${randomBytes(6).toString('hex')}.part`;
  try {
    const { bytes, sha256 } = await fetchInto(temporary, command.connection, command.uploadId, signal);
    if (sha256 !== status.sha256) throw new Error(`The downloaded bytes hash to ${sha256}, not the ${status.sha256} the server verified; download again.`);
    await rename(temporary, out);
    const done = command.json ? JSON.stringify({ event: 'downloaded', uploadId: command.uploadId, path: out, bytes, sha256 }) : `Downloaded ${formatBytes(bytes)} to ${out}\nsha256 ${sha256} (verified)`;
    output.stdout.write(`${done}\n`);
    return EXIT.done;
  } finally {
    await rm(temporary, { force: true });
  }
}

async function fetchInto(path: string, connection: Connection, uploadId: string, signal: AbortSignal): Promise<{ bytes: number; sha256: string }> {
  const url = `${connection.endpoint.replace(/\/+$/, '')}/resumable-upload/uploads/${encodeURIComponent(uploadId)}/file`;
  const headers: Record<string, string> = connection.apiKey ? { authorization: `Bearer ${connection.apiKey}` } : {};
  const response = await fetch(url, { headers, signal });
  if (!response.ok || !response.body) throw UploadFailedError.fromAnswer(response.status, (await response.json().catch(() => undefined)) as ApiErrorBody | undefined, 'the download');
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  let bytes = 0;
  try {
    for await (const part of response.body) {
      hash.update(part);
      bytes += part.byteLength;
      await file.write(part);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}
