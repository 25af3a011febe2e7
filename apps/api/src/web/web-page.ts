import type { NextFunction, Request, Response } from 'express';
import { WEB_FILES, WebAsset, WebAssets } from './web-assets';

// The page talks only to its own origin; nothing else may load scripts or frame it.
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Answers a GET or HEAD of one of the page's files; passes anything else on to the API's
 * routes untouched. Plain Express (no Nest import) so a unit test can drive it.
 */
export async function serveWebPage(assets: WebAssets, request: Request, response: Response, next: NextFunction): Promise<void> {
  const path = request.path;
  if ((request.method !== 'GET' && request.method !== 'HEAD') || !Object.hasOwn(WEB_FILES, path)) return next();
  const asset = await assets.get(path);
  if (asset) return send(request, response, asset);
  if (path === '/' || path === '/index.html') return notBuilt(response);
  next();
}

function send(request: Request, response: Response, asset: WebAsset): void {
  response.setHeader('Content-Type', asset.contentType);
  // The names carry no hash: the browser may keep a copy but must revalidate it (a cheap 304).
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('ETag', asset.etag);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  if (asset.contentType.startsWith('text/html')) response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  if (request.headers['if-none-match'] === asset.etag) {
    response.status(304).end();
    return;
  }
  response.setHeader('Content-Length', asset.body.length);
  response.status(200).end(request.method === 'HEAD' ? undefined : asset.body);
}

function notBuilt(response: Response): void {
  response.status(404).json({ statusCode: 404, code: 'NOT_FOUND', message: 'The web page is not built: run `npm run build` (it writes dist/web).' });
}
