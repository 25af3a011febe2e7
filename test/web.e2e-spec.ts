import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, BrowserContext, Page, Request, chromium } from 'playwright-core';
import { sleep } from './support/processes';
import { Stack } from './support/stack';
import { randomFile, recordedChunks, sha256, useStack } from './support/upload-client';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CHUNK = 256 * 1024;
// 24 chunks, the last one short.
const FILE_SIZE = 23 * CHUNK + 12_345;
const TOTAL_CHUNKS = 24;
const PARALLEL = 2;
const VIEWPORT = { width: 1024, height: 768 };
const SCREENSHOT = join(__dirname, '..', 'test-results', 'web-finished.png');
const API_KEY = 'web-test-key-0123456789abcdef';

// `npm test` installs it (scripts/test-prerequisites.js); a missing browser fails, never skips.
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm test\`, which installs Debian's chromium, or apt-get install chromium.`);

/** One headless Chromium for the file, a fresh context (storage, downloads) per test. */
function useBrowser(): { context: () => BrowserContext } {
  let browser: Browser;
  let context: BrowserContext;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, acceptDownloads: true });
  });
  afterEach(() => context?.close());
  afterAll(() => browser?.close());
  return { context: () => context };
}

/** Holds every chunk PUT back a little, so a reload lands mid-upload; counts the PUTs sent. */
async function slowChunks(page: Page, delayMs: number): Promise<Request[]> {
  const puts: Request[] = [];
  page.on('request', (request) => {
    if (request.method() === 'PUT' && request.url().includes('/resumable-upload/chunk')) puts.push(request);
  });
  await page.route('**/resumable-upload/chunk?**', async (route) => {
    await sleep(delayMs);
    // The page may have been reloaded meanwhile: the request is gone, which is the point.
    await route.continue().catch(() => undefined);
  });
  return puts;
}

function pageUrl(stack: Stack): string {
  return stack.url(`/?chunkSize=${CHUNK}&parallel=${PARALLEL}`);
}

/** Waits until the first row reports at least `count` chunks stored (a function, not a string: the page's CSP forbids eval). */
function waitForChunksDone(page: Page, count: number, timeout = 30_000) {
  return page.waitForFunction((least) => Number((globalThis as any).document.querySelector('.upload')?.dataset.chunksDone ?? 0) >= least, count, { timeout });
}

async function chunksDone(page: Page): Promise<number> {
  return Number(await page.getAttribute('.upload', 'data-chunks-done'));
}

/** Checks the PNG signature and reads the size from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('the web page is served at /', () => {
  const ctx = useStack({ workers: 0, env: { API_KEYS: API_KEY } });

  it.each([
    ['/', /^text\/html/],
    ['/page.js', /^text\/javascript/],
    ['/styles.css', /^text\/css/],
  ])('serves %s without an API key, with its type and a revalidating cache policy', async (path, type) => {
    const response = await fetch(ctx.stack.url(path));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(type);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = response.headers.get('etag') as string;
    expect((await response.text()).length).toBeGreaterThan(0);
    expect((await fetch(ctx.stack.url(path), { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('leaves every other route to the API', async () => {
    expect((await fetch(ctx.stack.url('/health/live'))).status).toBe(200);
    expect((await fetch(ctx.stack.url('/docs-json'))).status).toBe(200);
    expect((await fetch(ctx.stack.url('/metrics'))).status).toBe(200);
    const unknown = await fetch(ctx.stack.url('/nothing-here'));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await fetch(ctx.stack.url('/'), { method: 'POST' })).status).toBe(404);
    // The API's own routes still want the key.
    expect((await fetch(ctx.stack.url('/resumable-upload/uploads/0'))).status).toBe(401);
  });
});

describe('the web page in Chromium', () => {
  const ctx = useStack();
  const browser = useBrowser();
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'ru-web-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('resumes after a reload, completes, and downloads the same bytes; then keeps a screenshot', async () => {
    const file = randomFile(FILE_SIZE);
    // A file on disk: its mtime stays the same across picks, so its fingerprint does too.
    const path = join(dir, 'reload.bin');
    await writeFile(path, file);
    const page = await browser.context().newPage();
    const puts = await slowChunks(page, 150);

    await page.goto(pageUrl(ctx.stack));
    await page.setInputFiles('#file-input', path);
    await waitForChunksDone(page, 6);
    expect(await page.textContent('.upload .detail')).toMatch(/of 24 chunks/);
    const uploadId = (await page.getAttribute('.upload', 'data-upload-id')) as string;

    await page.reload();
    await page.waitForSelector('#unfinished:not([hidden])');
    expect(await page.textContent('#unfinished')).toContain('reload.bin');
    const recordedBefore = await recordedChunks(ctx.stack, uploadId);
    expect(recordedBefore.length).toBeGreaterThanOrEqual(6);
    expect(recordedBefore.length).toBeLessThan(TOTAL_CHUNKS);
    const putsBeforeResume = puts.length;

    await page.setInputFiles('#file-input', path);
    await page.waitForSelector('#unfinished', { state: 'hidden' });
    await page.waitForSelector('.upload[data-state="completed"]', { timeout: 60_000 });

    // The same session, picked up where it stopped: only the missing chunks went out (a chunk
    // cut by the reload may have landed on the server just after the count above).
    expect(await page.getAttribute('.upload', 'data-upload-id')).toBe(uploadId);
    expect(await page.getAttribute('.upload', 'data-resumed')).toBe('true');
    const resumedPuts = puts.length - putsBeforeResume;
    expect(resumedPuts).toBeLessThanOrEqual(TOTAL_CHUNKS - recordedBefore.length);
    expect(resumedPuts).toBeGreaterThanOrEqual(TOTAL_CHUNKS - recordedBefore.length - PARALLEL);
    expect(await chunksDone(page)).toBe(TOTAL_CHUNKS);
    expect(await recordedChunks(ctx.stack, uploadId)).toHaveLength(TOTAL_CHUNKS);

    expect(await page.textContent('.upload .state')).toBe('Completed');
    expect(await page.isVisible('.upload .pause')).toBe(false);
    expect(await page.isVisible('.upload .resume')).toBe(false);
    expect(await page.textContent('.upload .sha256')).toBe(sha256(file));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.upload .download')]);
    expect(download.suggestedFilename()).toBe('reload.bin');
    expect((await readFile(await download.path())).equals(file)).toBe(true);
    // The session is over: nothing is left to resume.
    expect(await page.evaluate(() => Object.keys((globalThis as any).localStorage).filter((key) => key.startsWith('resumable-upload:')).length)).toBe(0);

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT });
    expect(pngSize(png)).toEqual(VIEWPORT);
    expect(png.length).toBeGreaterThan(1_000);
  });

  it('pauses and resumes without starting over', async () => {
    const file = randomFile(8 * CHUNK);
    const path = join(dir, 'pause.bin');
    await writeFile(path, file);
    const page = await browser.context().newPage();
    await slowChunks(page, 150);
    await page.goto(pageUrl(ctx.stack));
    await page.setInputFiles('#file-input', path);
    await waitForChunksDone(page, 2);

    await page.click('.upload .pause');
    await page.waitForSelector('.upload[data-state="paused"]');
    await page.click('.upload .resume');
    await page.waitForSelector('.upload[data-state="completed"]', { timeout: 60_000 });
    expect(await page.getAttribute('.upload', 'data-resumed')).toBe('true');
    expect(await page.textContent('.upload .sha256')).toBe(sha256(file));
  });
});

describe('the web page against a server with API keys', () => {
  const ctx = useStack({ workers: 0, env: { API_KEYS: API_KEY } });
  const browser = useBrowser();
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'ru-web-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('says clearly when the key is wrong, and goes on once it is right', async () => {
    const path = join(dir, 'keyed.bin');
    await writeFile(path, randomFile(2 * CHUNK));
    const page = await browser.context().newPage();
    await page.goto(pageUrl(ctx.stack));

    await page.fill('#api-key', 'not-the-right-key-at-all');
    await page.setInputFiles('#file-input', path);
    await page.waitForSelector('.upload[data-state="failed"]');
    expect(await page.getAttribute('.upload .error', 'data-code')).toBe('UNAUTHORIZED');
    expect(await page.textContent('.upload .error')).toBe('The API key is missing or not valid: enter a valid key above and try again.');

    await page.fill('#api-key', API_KEY);
    await page.click('.upload .resume');
    // No worker here: every chunk is in, and the page shows the server assembling.
    await page.waitForSelector('.upload[data-state="assembling"]', { timeout: 30_000 });
    expect(await page.textContent('.upload .state')).toBe('Assembling…');
  });
});
