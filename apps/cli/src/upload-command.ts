import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { JsonFileFingerprintStore, upload } from '../../../libs/client/src/node';
import { Command, UsageError } from './args';
import { EXIT } from './exit-codes';
import { describeFailure } from './failures';
import { chooseReporter, Output } from './reporters';
import { stateFile } from './state-dir';

type UploadCommand = Extract<Command, { name: 'upload' }>;

/**
 * Uploads one file, resuming the session an earlier run of the same command started (the
 * state file maps its absolute path, size and mtime to the session).
 */
export async function runUpload(command: UploadCommand, env: NodeJS.ProcessEnv, output: Output, signal: AbortSignal): Promise<number> {
  const path = resolve(command.file);
  const size = await regularFileSize(path);
  const reporter = chooseReporter(command.json, output);
  reporter.preparing(basename(path), size);
  try {
    const result = await upload(path, {
      endpoint: command.connection.endpoint,
      apiKey: command.connection.apiKey,
      chunkSize: command.chunkSize,
      parallel: command.parallel,
      ...(command.connection.retries !== undefined && { retry: { attempts: command.connection.retries } }),
      fingerprintStore: new JsonFileFingerprintStore(stateFile(env)),
      signal,
      onSession: (session) => reporter.started(session),
      onProgress: (progress) => reporter.progress(progress),
    });
    reporter.completed(result);
    return EXIT.done;
  } catch (error) {
    if (signal.aborted) {
      reporter.interrupted();
      return EXIT.interrupted;
    }
    reporter.failed(describeFailure(error));
    return EXIT.failed;
  }
}

/** A missing or odd file is a mistake on the command line, caught before anything is sent. */
async function regularFileSize(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new UsageError(`${path} does not exist or cannot be read.`);
  if (!info.isFile()) throw new UsageError(`${path} is not a regular file.`);
  return info.size;
}
