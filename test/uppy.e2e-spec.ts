import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { freePort, sleep } from './support/processes';
import { Stack } from './support/stack';
import { UploadClient, randomFile, recordedChunks, sha256 } from './support/upload-client';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CHUNK = 256 * 1024;
// 24 chunks, the last one short; Uppy sends one chunk per PATCH.
const FILE_SIZE = 23 * CHUNK + 12_345;
const TOTAL_CHUNKS = 24;
const BUILD = join(__dirname, 'support', 'uppy-page', 'build.js');

// `npm test` installs it (scripts/test-prerequisites.js); a missing browser fails, never skips.
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm test\`, which installs Debian's chromium, or apt-get install chromium.`);

/** Serves the bundled Uppy page from `dir` on loopback: another origin than the API's, as on a real site. */
async function servePage(dir: string): Promise<{ server: Server; origin: string }> {
  const types: Record<string, string> = { '/': 'text/html', '/page.js': 'text/javascript' };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    if (!(path in types)) return void response.writeHead(404).end();
    readFile(join(dir, path === '/' ? 'index.html' : path)).then(
      (body) => response.writeHead(200, { 'content-type': types[path], 'cache-control': 'no-store' }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${port}` };
}

/**
 * Holds every PATCH back a little, so a reload lands mid-upload. Keeps the Upload-Offset of each
 * PATCH the page sends and of each HEAD answer it gets, in order.
 */
async function slowPatches(page: Page, delayMs: number): Promise<{ patched: number[]; heads: number[] }> {
  const seen = { patched: [] as number[], heads: [] as number[] };
  page.on('request', (request) => {
    if (request.method() === 'PATCH') seen.patched.push(Number(request.headers()['upload-offset']));
  });
  page.on('response', (response) => {
    if (response.request().method() === 'HEAD' && response.status() === 200) seen.heads.push(Number(response.headers()['upload-offset']));
  });
  await page.route('**/files/**', async (route) => {
    if (route.request().method() === 'PATCH') await sleep(delayMs);
    // The page may have been reloaded meanwhile: the request is gone, which is the point.
    await route.continue().catch(() => undefined);
  });
  return seen;
}

describe('Uppy (@uppy/core + @uppy/tus) in headless Chromium against /files/', () => {
  let dir: string;
  let page: { server: Server; origin: string };
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ru-uppy-'));
    const built = spawnSync(process.execPath, [BUILD, join(dir, 'page')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`the Uppy page did not build:\n${built.stdout}${built.stderr}`);
    page = await servePage(join(dir, 'page'));
    stack = await Stack.start({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK), CORS_ORIGINS: page.origin } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    page?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes after a reload from the offset the server reports when the same file is picked again, and completes byte-exact', async () => {
    const file = randomFile(FILE_SIZE);
    // A file on disk: its mtime stays the same across picks, so Uppy's tus fingerprint does too.
    const path = join(dir, 'movie.bin');
    await writeFile(path, file);
    const context = await browser.newContext();
    const tab = await context.newPage();
    const seen = await slowPatches(tab, 150);
    const url = `${page.origin}/?endpoint=${encodeURIComponent(stack.url('/files/'))}&chunkSize=${CHUNK}`;

    await tab.goto(url);
    await tab.waitForSelector('#status[data-state="ready"]', { state: 'attached' });
    await tab.setInputFiles('#file-input', path);
    await tab.waitForFunction((least) => Number((globalThis as any).document.getElementById('status').dataset.bytesUploaded ?? 0) >= least, 6 * CHUNK, { timeout: 60_000 });
    const resumeKeys = await tab.evaluate(() => Object.keys((globalThis as any).localStorage).filter((key) => key.startsWith('tus::')));
    expect(resumeKeys).toHaveLength(1);
    const uploadId = (JSON.parse((await tab.evaluate((key) => (globalThis as any).localStorage.getItem(key), resumeKeys[0])) as string).uploadUrl as string).split('/').pop()!;

    await tab.reload();
    await tab.waitForSelector('#status[data-state="ready"]', { state: 'attached' });
    const patchesBefore = seen.patched.length;
    expect(seen.heads).toEqual([]);
    await tab.setInputFiles('#file-input', path);
    await tab.waitForSelector('#status[data-state="done"]', { state: 'attached', timeout: 90_000 });

    // The same upload, continued: Uppy asked the server for its offset (HEAD), and the first PATCH
    // after the reload starts there (some chunks in, not at 0); no chunk is sent twice (a
    // retried PATCH, after a 423 while the server let go of the one cut by the reload, repeats its offset).
    expect((await tab.getAttribute('#status', 'data-upload-url'))?.split('/').pop()).toBe(uploadId);
    const resumedAt = seen.patched[patchesBefore];
    expect(seen.heads[0]).toBe(resumedAt);
    expect(resumedAt).toBeGreaterThanOrEqual(6 * CHUNK);
    expect(resumedAt % CHUNK).toBe(0);
    expect([...new Set(seen.patched.slice(patchesBefore))]).toEqual(Array.from({ length: TOTAL_CHUNKS - resumedAt / CHUNK }, (_, i) => resumedAt + i * CHUNK));
    expect(await recordedChunks(stack, uploadId)).toHaveLength(TOTAL_CHUNKS);

    const client = new UploadClient(stack);
    expect((await client.status(uploadId)).body).toMatchObject({ status: 'completed', fileName: 'movie.bin', fileSize: FILE_SIZE, sha256: sha256(file) });
    expect((await client.download(uploadId)).data.equals(file)).toBe(true);
    await context.close();
  });
});
