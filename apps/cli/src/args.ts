import { parseArgs } from 'node:util';

/** Where the service is and how to talk to it; shared by every command. */
export interface Connection {
  endpoint: string;
  apiKey?: string;
  /** Tries per request before giving up (the SDK's retry.attempts). */
  retries?: number;
}

export type Command =
  | { name: 'help' }
  | { name: 'upload'; file: string; connection: Connection; chunkSize?: number; parallel?: number; json: boolean }
  | { name: 'status' | 'wait' | 'events' | 'redeliver'; uploadId: string; connection: Connection; json: boolean }
  | { name: 'download'; uploadId: string; out: string; connection: Connection; json: boolean };

/** The command line cannot be understood: say why, show the usage, exit 2. */
export class UsageError extends Error {}

export const USAGE = `Usage:
  resumable-upload upload <file> --endpoint <url> [--chunk-size N] [--parallel N] [--retries N] [--api-key K] [--json]
  resumable-upload status <uploadId> --endpoint <url> [--json]
  resumable-upload wait <uploadId> --endpoint <url> [--json]
  resumable-upload download <uploadId> <out> --endpoint <url> [--json]
  resumable-upload events <uploadId> --endpoint <url> [--json]
  resumable-upload redeliver <uploadId> --endpoint <url> [--json]`;

export const HELP = `${USAGE}

  upload    sends a file; run the same command again after an interruption to resume it
  status    prints an upload's status (JSON unless stdout is a terminal)
  wait      polls until the upload is completed (exit 0) or failed, aborted or expired (exit 1)
  download  writes the assembled file to <out>, checking its SHA-256 first
  events    lists the upload's webhook events not delivered yet (pending or dead) and why
  redeliver sends the upload's dead webhook events again

Options:
  --endpoint <url>   The service's base URL (or RESUMABLE_UPLOAD_ENDPOINT).
  --api-key <key>    Sent as a bearer token (or RESUMABLE_UPLOAD_API_KEY, which is safer:
                     other users can read a key on the command line in \`ps\`).
  --chunk-size <N>   Bytes per chunk of a new upload (the server allows 256 KiB to 64 MiB).
  --parallel <N>     Chunks sent at once (default 4).
  --retries <N>      Tries per request before giving up (default 8).
  --json             One JSON object per line on stdout.
  -h, --help         This text.

An interrupted upload (Ctrl-C, a crash, a reboot) resumes when the same command is run again;
sessions are remembered in RESUMABLE_UPLOAD_STATE_DIR (default ~/.cache/resumable-upload).
An upload id that starts with '-' goes last, after \`--\`: status --endpoint <url> -- <uploadId>.
Exit codes: 0 done, 1 failed, 2 usage error, 130 interrupted.`;

const OPTIONS = {
  endpoint: { type: 'string' },
  'api-key': { type: 'string' },
  'chunk-size': { type: 'string' },
  parallel: { type: 'string' },
  retries: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

// How many positionals each command takes after its name, and what they are called.
const POSITIONALS: Record<string, string[]> = { upload: ['file'], status: ['uploadId'], wait: ['uploadId'], download: ['uploadId', 'out'], events: ['uploadId'], redeliver: ['uploadId'] };

type Values = ReturnType<typeof parseOptions>['values'];

function parseOptions(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs names the bad flag ("Unknown option '--x'"); that is the message to show.
    throw new UsageError((error as Error).message);
  }
}

/** Reads argv (without `node` and the script) and the environment into a command, or throws UsageError. */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): Command {
  const { values, positionals } = parseOptions(argv);
  const [name, ...rest] = positionals;
  if (values.help || name === 'help') return { name: 'help' };
  if (name === undefined) throw new UsageError('No command given.');
  const expected = POSITIONALS[name];
  if (!expected) throw new UsageError(`Unknown command "${name}".`);
  if (rest.length !== expected.length) throw new UsageError(`${name} takes ${expected.map((part) => `<${part}>`).join(' ')}, but got ${rest.length} argument(s).`);
  const connection = connectionFrom(values, env);
  const json = values.json;
  if (name === 'upload') {
    return { name, file: rest[0], connection, json, chunkSize: positiveInteger(values['chunk-size'], '--chunk-size'), parallel: positiveInteger(values.parallel, '--parallel') };
  }
  rejectUploadOnlyOptions(values, name);
  if (name === 'download') return { name, uploadId: rest[0], out: rest[1], connection, json };
  return { name: name as 'status' | 'wait' | 'events' | 'redeliver', uploadId: rest[0], connection, json };
}

function connectionFrom(values: Values, env: NodeJS.ProcessEnv): Connection {
  const endpoint = values.endpoint ?? env.RESUMABLE_UPLOAD_ENDPOINT;
  if (!endpoint) throw new UsageError('No endpoint: pass --endpoint <url> or set RESUMABLE_UPLOAD_ENDPOINT.');
  if (!isHttpUrl(endpoint)) throw new UsageError(`The endpoint must be an http(s) URL such as https://uploads.example.com, not "${endpoint}".`);
  const apiKey = values['api-key'] ?? (env.RESUMABLE_UPLOAD_API_KEY || undefined);
  return { endpoint, apiKey, retries: positiveInteger(values.retries, '--retries') };
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** --chunk-size and --parallel mean nothing to the other commands: say so rather than ignore them. */
function rejectUploadOnlyOptions(values: Values, command: string): void {
  const given = (['chunk-size', 'parallel'] as const).filter((option) => values[option] !== undefined);
  if (given.length > 0) throw new UsageError(`--${given[0]} applies to upload only, not to ${command}.`);
}

function positiveInteger(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`${flag} must be a whole number of at least 1, not "${text}".`);
  return value;
}
