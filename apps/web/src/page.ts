import { LocalStorageFingerprintStore } from './local-storage-store';
import { UploadItem, UploadSettings } from './upload-item';

const API_KEY_ITEM = 'resumable-upload.apiKey';

/** `?chunkSize=262144&parallel=1`: for tests and slow links; the server's defaults otherwise. */
function positiveIntegerParam(name: string): number | undefined {
  const value = Number(new URLSearchParams(location.search).get(name));
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

function element<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** The API key lives in sessionStorage: it survives a reload but not the tab. */
function setUpApiKeyField(): () => string | undefined {
  const field = element<HTMLInputElement>('api-key');
  field.value = sessionStorage.getItem(API_KEY_ITEM) ?? '';
  field.addEventListener('input', () => sessionStorage.setItem(API_KEY_ITEM, field.value.trim()));
  return () => field.value.trim() || undefined;
}

/**
 * After a reload, says which uploads can resume (the browser cannot re-open a file by itself),
 * leaving out files that already have a row on the page.
 */
function showUnfinished(store: LocalStorageFingerprintStore): void {
  const onPage = new Set([...document.querySelectorAll('.upload .name')].map((name) => name.textContent));
  const names = store.unfinishedFileNames().filter((name) => !onPage.has(name));
  const notice = element('unfinished');
  notice.textContent = `Unfinished: ${names.join(', ')}. Pick the same file again to resume where it stopped.`;
  notice.hidden = names.length === 0;
}

function fileKey(file: File): string {
  return `${file.name}\n${file.size}\n${file.lastModified}`;
}

function setUpPicking(settings: UploadSettings): void {
  const items = new Map<string, UploadItem>();
  const template = element<HTMLTemplateElement>('upload-item');
  const list = element('uploads');

  const add = (files: Iterable<File>) => {
    for (const file of files) {
      const existing = items.get(fileKey(file));
      // The same file again: let its row resume rather than race it with a second upload.
      if (existing && !existing.finished) {
        if (!existing.busy) existing.start();
        continue;
      }
      const item = new UploadItem(file, settings, template);
      items.set(fileKey(file), item);
      list.prepend(item.element);
      item.start();
    }
  };

  const input = element<HTMLInputElement>('file-input');
  input.addEventListener('change', () => {
    add(input.files ?? []);
    // Lets the same file be picked again, e.g. to resume after a failure.
    input.value = '';
  });

  const zone = element('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    add(event.dataTransfer?.files ?? []);
  });
}

function main(): void {
  const store = new LocalStorageFingerprintStore();
  const settings: UploadSettings = {
    endpoint: location.origin,
    apiKey: setUpApiKeyField(),
    chunkSize: positiveIntegerParam('chunkSize'),
    parallel: positiveIntegerParam('parallel'),
    store,
  };
  showUnfinished(store);
  element('uploads').addEventListener('upload-state', () => showUnfinished(store));
  setUpPicking(settings);
}

main();
