import { parseCommandLine, UsageError } from './args';
import { stateFile } from './state-dir';

const ENDPOINT = ['--endpoint', 'http://uploads.test'];

describe('parseCommandLine', () => {
  it('reads an upload with its numbers, and the key from the environment', () => {
    const command = parseCommandLine(['upload', 'a.bin', ...ENDPOINT, '--chunk-size', '262144', '--parallel', '2', '--retries', '9', '--json'], { RESUMABLE_UPLOAD_API_KEY: 'k' });
    expect(command).toEqual({ name: 'upload', file: 'a.bin', json: true, chunkSize: 262144, parallel: 2, connection: { endpoint: 'http://uploads.test', apiKey: 'k', retries: 9 } });
  });

  it('takes the endpoint from RESUMABLE_UPLOAD_ENDPOINT, and --api-key over the environment', () => {
    const command = parseCommandLine(['status', 'id', '--api-key', 'flag'], { RESUMABLE_UPLOAD_ENDPOINT: 'https://u.test', RESUMABLE_UPLOAD_API_KEY: 'env' });
    expect(command).toMatchObject({ name: 'status', uploadId: 'id', connection: { endpoint: 'https://u.test', apiKey: 'flag' } });
  });

  it.each([
    [['upload', 'a.bin', ...ENDPOINT, '--chunk-size', '1.5'], /--chunk-size must be a whole number/],
    [['upload', 'a.bin', ...ENDPOINT, '--parallel', '0'], /--parallel must be a whole number of at least 1/],
    [['upload', 'a.bin', '--endpoint', 'ftp://x'], /must be an http\(s\) URL/],
    [['wait', 'id', ...ENDPOINT, '--parallel', '2'], /--parallel applies to upload only/],
    [['status', ...ENDPOINT], /status takes <uploadId>/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandLine(argv, {})).toThrow(UsageError);
    expect(() => parseCommandLine(argv, {})).toThrow(message);
  });

  it.each(['events', 'redeliver'])('reads %s with the upload id', (name) => {
    expect(parseCommandLine([name, 'id', ...ENDPOINT, '--json'], {})).toEqual({ name, uploadId: 'id', json: true, connection: { endpoint: 'http://uploads.test', retries: undefined } });
    expect(() => parseCommandLine([name, ...ENDPOINT], {})).toThrow(new RegExp(`${name} takes <uploadId>`));
  });

  it('takes an upload id that starts with a dash after --', () => {
    expect(parseCommandLine(['status', ...ENDPOINT, '--', '-AbCdEfGhIjKlMnOpQrStU'], {})).toMatchObject({ name: 'status', uploadId: '-AbCdEfGhIjKlMnOpQrStU' });
  });

  it('answers help without needing an endpoint', () => {
    expect(parseCommandLine(['--help'], {})).toEqual({ name: 'help' });
    expect(parseCommandLine(['upload', '-h'], {})).toEqual({ name: 'help' });
  });
});

describe('stateFile', () => {
  it('lives in RESUMABLE_UPLOAD_STATE_DIR, else the XDG cache, else ~/.cache', () => {
    expect(stateFile({ RESUMABLE_UPLOAD_STATE_DIR: '/state' }, '/home/u')).toBe('/state/sessions.json');
    expect(stateFile({ XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe('/xdg/resumable-upload/sessions.json');
    expect(stateFile({}, '/home/u')).toBe('/home/u/.cache/resumable-upload/sessions.json');
  });
});
