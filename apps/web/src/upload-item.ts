import { upload, UploadProgress, UploadResult, UploadSessionInfo } from '../../../libs/client/src/index';
import { describeError, errorCode } from './error-messages';
import type { LocalStorageFingerprintStore } from './local-storage-store';

/** What every upload on the page shares: where to send, how, and where sessions are remembered. */
export interface UploadSettings {
  endpoint: string;
  apiKey: () => string | undefined;
  chunkSize?: number;
  parallel?: number;
  store: LocalStorageFingerprintStore;
}

type State = 'uploading' | 'paused' | 'assembling' | 'completed' | 'failed';

const STATE_LABELS: Record<State, string> = {
  uploading: 'Uploading',
  paused: 'Paused',
  assembling: 'Assembling…',
  completed: 'Completed',
  failed: 'Failed',
};

/** One file's row: its progress bar, state, pause/resume, and the result or the error. */
export class UploadItem {
  readonly element: HTMLLIElement;
  private controller: AbortController | null = null;
  private resumedFrom: number | null = null;
  private state: State = 'uploading';

  constructor(
    readonly file: File,
    private readonly settings: UploadSettings,
    template: HTMLTemplateElement,
  ) {
    this.element = (template.content.firstElementChild as HTMLLIElement).cloneNode(true) as HTMLLIElement;
    this.part('.name').textContent = file.name;
    this.part('.pause').addEventListener('click', () => this.pause());
    this.part('.resume').addEventListener('click', () => this.start());
  }

  /** Whether picking the same file again should be left to this row (it is still working on it). */
  get busy(): boolean {
    return this.state === 'uploading' || this.state === 'assembling';
  }

  get finished(): boolean {
    return this.state === 'completed';
  }

  /** Starts, or resumes: the SDK finds the session through the store and sends only what is missing. */
  start(): void {
    if (this.busy && this.controller) return;
    this.controller = new AbortController();
    this.resumedFrom = null;
    this.part('.error').hidden = true;
    this.setState('uploading');
    this.part('.detail').textContent = 'Starting…';
    void this.run(this.controller.signal);
  }

  /** Aborts the requests in flight; the fingerprint stays in the store, so Resume picks up from here. */
  pause(): void {
    this.controller?.abort();
  }

  private async run(signal: AbortSignal): Promise<void> {
    try {
      const result = await upload(this.file, {
        endpoint: this.settings.endpoint,
        apiKey: this.settings.apiKey(),
        chunkSize: this.settings.chunkSize,
        parallel: this.settings.parallel,
        fingerprintStore: this.settings.store,
        signal,
        onSession: (session) => this.showSession(session),
        onProgress: (progress) => this.showProgress(progress),
      });
      this.showCompleted(result);
    } catch (error) {
      if (signal.aborted) this.showPaused();
      else this.showFailed(error);
    } finally {
      if (this.controller?.signal === signal) this.controller = null;
    }
  }

  private showSession(session: UploadSessionInfo): void {
    this.element.dataset.uploadId = session.uploadId;
    this.element.dataset.resumed = String(session.resumed);
    this.resumedFrom = session.resumed ? -1 : null;
  }

  private showProgress(progress: UploadProgress): void {
    // The first report of a resumed session is what the server already had.
    if (this.resumedFrom === -1) this.resumedFrom = progress.chunksDone;
    const percent = progress.bytesTotal === 0 ? 100 : Math.floor((progress.bytesSent / progress.bytesTotal) * 100);
    const bar = this.part<HTMLProgressElement>('progress');
    bar.value = percent;
    bar.setAttribute('aria-valuetext', `${percent}%`);
    this.element.dataset.chunksDone = String(progress.chunksDone);
    this.element.dataset.totalChunks = String(progress.totalChunks);
    const resumedNote = this.resumedFrom === null ? '' : ` (resumed: ${this.resumedFrom} already on the server)`;
    this.part('.detail').textContent = `${percent}% · ${progress.chunksDone} of ${progress.totalChunks} chunks${resumedNote}`;
    if (progress.chunksDone === progress.totalChunks && progress.bytesSent === progress.bytesTotal) this.setState('assembling');
  }

  private showCompleted(result: UploadResult): void {
    this.setState('completed');
    this.part<HTMLProgressElement>('progress').value = 100;
    this.part('.detail').textContent = `${formatBytes(this.file.size)} uploaded and verified.`;
    this.part('.sha256').textContent = result.sha256;
    const link = this.part<HTMLAnchorElement>('.download');
    link.href = `${this.settings.endpoint}/resumable-upload/uploads/${encodeURIComponent(result.uploadId)}/file`;
    link.download = this.file.name;
    link.setAttribute('aria-label', `Download ${this.file.name}`);
    link.addEventListener('click', (event) => this.downloadWithKey(event, link));
    this.part('.result').hidden = false;
  }

  private showPaused(): void {
    this.setState('paused');
    this.part('.detail').textContent += ' — paused';
  }

  private showFailed(error: unknown): void {
    this.setState('failed');
    const message = this.part('.error');
    message.textContent = describeError(error);
    message.dataset.code = errorCode(error);
    message.hidden = false;
    this.part('.resume').textContent = 'Try again';
  }

  /** A plain link carries no Authorization header: with a key, fetch the file and save it from memory. */
  private async downloadWithKey(event: MouseEvent, link: HTMLAnchorElement): Promise<void> {
    const apiKey = this.settings.apiKey();
    if (!apiKey || link.href.startsWith('blob:')) return;
    event.preventDefault();
    try {
      const response = await fetch(link.href, { headers: { authorization: `Bearer ${apiKey}` } });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      link.href = URL.createObjectURL(await response.blob());
      link.click();
    } catch (error) {
      this.showDownloadError(error);
    }
  }

  private showDownloadError(error: unknown): void {
    const message = this.part('.error');
    message.textContent = `The download failed: ${error instanceof Error ? error.message : String(error)}`;
    message.hidden = false;
  }

  private setState(state: State): void {
    this.state = state;
    this.element.dataset.state = state;
    // The page refreshes its list of unfinished uploads on this.
    this.element.dispatchEvent(new CustomEvent('upload-state', { bubbles: true }));
    this.part('.state').textContent = STATE_LABELS[state];
    const canResume = state === 'paused' || state === 'failed';
    this.part('.pause').hidden = state !== 'uploading';
    this.part('.resume').hidden = !canResume;
    if (state === 'paused') this.part('.resume').textContent = 'Resume';
  }

  private part<T extends HTMLElement = HTMLElement>(selector: string): T {
    return this.element.querySelector(selector) as T;
  }
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
