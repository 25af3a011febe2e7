// A test page for Uppy with its tus plugin, as a site using this service would set it up. It
// reports its state in data attributes of #status, which the browser test reads.
import Uppy from '@uppy/core';
import Tus from '@uppy/tus';

const params = new URLSearchParams(location.search);
const status = document.getElementById('status') as HTMLElement;
const input = document.getElementById('file-input') as HTMLInputElement;

const uppy = new Uppy({ autoProceed: true });
uppy.use(Tus, { endpoint: params.get('endpoint') ?? '', chunkSize: Number(params.get('chunkSize')), retryDelays: [0, 500, 1000, 2000] });

input.addEventListener('change', () => {
  for (const file of Array.from(input.files ?? [])) uppy.addFile({ name: file.name, type: file.type, data: file, source: 'file input' });
  input.value = '';
});
uppy.on('upload-progress', (_file, progress) => {
  status.dataset.bytesUploaded = String(progress.bytesUploaded);
});
uppy.on('upload-success', (_file, response) => {
  status.dataset.uploadUrl = response.uploadURL ?? '';
  status.dataset.state = 'done';
});
uppy.on('upload-error', (_file, error) => {
  status.dataset.state = 'error';
  status.textContent = error.message;
});
status.dataset.state = 'ready';
