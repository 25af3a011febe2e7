import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import { WebAssets } from './web-assets';
import { serveWebPage } from './web-page';

/** Just enough of Express's response to see what the middleware answered. */
function fakeResponse() {
  const answer = { status: 0, headers: {} as Record<string, unknown>, body: undefined as unknown };
  const response = {
    setHeader: (name: string, value: unknown) => (answer.headers[name.toLowerCase()] = value),
    status: (code: number) => ((answer.status = code), response),
    json: (body: unknown) => (answer.body = body),
    end: (body?: unknown) => (answer.body = body),
  };
  return { answer, response: response as unknown as Response };
}

async function call(assets: WebAssets, method: string, path: string, headers: Record<string, string> = {}) {
  const { answer, response } = fakeResponse();
  const next = jest.fn();
  await serveWebPage(assets, { method, path, headers } as unknown as Request, response, next);
  return { answer, passedOn: next.mock.calls.length === 1 };
}

describe('serveWebPage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ru-web-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serves index.html at / with its type, a revalidating cache policy and a CSP', async () => {
    const { answer } = await call(new WebAssets(dir), 'GET', '/');
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
    expect(String(answer.body)).toContain('<title>t</title>');
  });

  it('answers 304 when the browser has the same version', async () => {
    const assets = new WebAssets(dir);
    const first = await call(assets, 'GET', '/');
    const again = await call(assets, 'GET', '/', { 'if-none-match': String(first.answer.headers.etag) });
    expect(again.answer.status).toBe(304);
  });

  it('says to build when the page is missing', async () => {
    const { answer } = await call(new WebAssets(join(dir, 'missing')), 'GET', '/');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', message: expect.stringContaining('npm run build') });
  });

  it.each([
    ['GET', '/health/live'],
    ['GET', '/docs'],
    ['GET', '/page.js'],
    ['POST', '/'],
  ])('passes %s %s on when it has nothing to serve', async (method, path) => {
    expect((await call(new WebAssets(dir), method, path)).passedOn).toBe(true);
  });
});
