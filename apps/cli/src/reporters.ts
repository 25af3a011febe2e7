import { Presets, SingleBar } from 'cli-progress';
import { UploadProgress, UploadResult, UploadSessionInfo } from '../../../libs/client/src/node';
import { Failure } from './failures';
import { formatBytes, formatRate } from './format';

/** How an upload tells the user what happens: a bar on a terminal, plain lines in a log, or JSON lines. */
export interface UploadReporter {
  preparing(fileName: string, size: number): void;
  started(session: UploadSessionInfo): void;
  progress(progress: UploadProgress): void;
  completed(result: UploadResult): void;
  failed(failure: Failure): void;
  interrupted(): void;
}

export interface Output {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function chooseReporter(json: boolean, output: Output): UploadReporter {
  if (json) return new JsonReporter(output);
  return output.stderr.isTTY ? new BarReporter(output) : new PlainReporter(output);
}

const INTERRUPTED = 'Interrupted. Run the same command again to resume the upload where it stopped.';

export function failureLines(failure: Failure): string {
  return `Error: ${failure.message}\n${failure.advice}\n`;
}

/** One JSON object per line on stdout, for scripts; human messages still go to stderr. */
class JsonReporter implements UploadReporter {
  private uploadId: string | undefined;

  constructor(private readonly output: Output) {}

  preparing(): void {}

  started({ uploadId, resumed }: UploadSessionInfo): void {
    this.uploadId = uploadId;
    this.emit({ event: 'started', uploadId, resumed });
  }

  progress(progress: UploadProgress): void {
    this.emit({ event: 'progress', uploadId: this.uploadId, ...progress });
  }

  completed({ uploadId, sha256 }: UploadResult): void {
    this.emit({ event: 'completed', uploadId, sha256 });
  }

  failed(failure: Failure): void {
    this.emit({ event: 'failed', uploadId: this.uploadId, code: failure.code, message: failure.message, advice: failure.advice });
    this.output.stderr.write(failureLines(failure));
  }

  interrupted(): void {
    this.emit({ event: 'interrupted', uploadId: this.uploadId });
    this.output.stderr.write(`${INTERRUPTED}\n`);
  }

  private emit(event: Record<string, unknown>): void {
    this.output.stdout.write(`${JSON.stringify(event)}\n`);
  }
}

/** Lines a log file can hold: the session, every tenth of the way, the result. */
class PlainReporter implements UploadReporter {
  private fileName = '';
  private lastTenth = -1;
  private startedAt = Date.now();
  private bytesAtStart: number | null = null;

  constructor(private readonly output: Output) {}

  preparing(fileName: string, size: number): void {
    this.fileName = fileName;
    this.output.stderr.write(`Hashing ${fileName} (${formatBytes(size)})…\n`);
  }

  started({ uploadId, resumed }: UploadSessionInfo): void {
    this.startedAt = Date.now();
    this.output.stderr.write(`${resumed ? 'Resuming' : 'Starting'} upload ${uploadId} of ${this.fileName}\n`);
  }

  progress({ bytesSent, bytesTotal, chunksDone, totalChunks }: UploadProgress): void {
    this.bytesAtStart ??= bytesSent;
    const tenth = bytesTotal === 0 ? 10 : Math.floor((bytesSent / bytesTotal) * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    const rate = formatRate(bytesSent - this.bytesAtStart, this.startedAt);
    this.output.stderr.write(`${tenth * 10}%  ${formatBytes(bytesSent)} of ${formatBytes(bytesTotal)}  (${chunksDone}/${totalChunks} chunks, ${rate})\n`);
  }

  completed({ uploadId, sha256 }: UploadResult): void {
    this.output.stdout.write(`Completed upload ${uploadId}\nsha256 ${sha256}\n`);
  }

  failed(failure: Failure): void {
    this.output.stderr.write(failureLines(failure));
  }

  interrupted(): void {
    this.output.stderr.write(`${INTERRUPTED}\n`);
  }
}

/** A progress bar on the terminal (cli-progress): bytes, rate and ETA. */
class BarReporter implements UploadReporter {
  private readonly plain: PlainReporter;
  private bar: SingleBar | null = null;
  private startedAt = Date.now();
  private bytesAtStart = 0;

  constructor(private readonly output: Output) {
    this.plain = new PlainReporter(output);
  }

  preparing(fileName: string, size: number): void {
    this.plain.preparing(fileName, size);
  }

  started(session: UploadSessionInfo): void {
    this.plain.started(session);
    this.startedAt = Date.now();
  }

  progress({ bytesSent, bytesTotal }: UploadProgress): void {
    if (bytesTotal === 0) return;
    if (!this.bar) this.startBar(bytesSent, bytesTotal);
    this.bar!.update(bytesSent, this.payload(bytesSent, bytesTotal));
  }

  completed(result: UploadResult): void {
    this.stopBar();
    this.plain.completed(result);
  }

  failed(failure: Failure): void {
    this.stopBar();
    this.plain.failed(failure);
  }

  interrupted(): void {
    this.stopBar();
    this.plain.interrupted();
  }

  private startBar(bytesSent: number, bytesTotal: number): void {
    this.bytesAtStart = bytesSent;
    this.bar = new SingleBar(
      { format: '{bar} {percentage}% | {sent} of {size} | {rate} | ETA {eta_formatted}', stream: this.output.stderr, hideCursor: true, etaBuffer: 50 },
      Presets.shades_classic,
    );
    this.bar.start(bytesTotal, bytesSent, this.payload(bytesSent, bytesTotal));
  }

  private payload(bytesSent: number, bytesTotal: number) {
    return { sent: formatBytes(bytesSent), size: formatBytes(bytesTotal), rate: formatRate(bytesSent - this.bytesAtStart, this.startedAt) };
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
