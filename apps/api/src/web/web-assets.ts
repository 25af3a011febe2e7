import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where `npm run build` puts the bundled page (scripts/build-web.js): dist/web, from dist/apps/api/src/web. */
export const WEB_DIR = join(__dirname, '..', '..', '..', '..', 'web');

/** The files of the page, by URL path, with their content type. Nothing else is served. */
export const WEB_FILES: Record<string, { file: string; contentType: string }> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/page.js': { file: 'page.js', contentType: 'text/javascript; charset=utf-8' },
  '/page.js.map': { file: 'page.js.map', contentType: 'application/json; charset=utf-8' },
  '/styles.css': { file: 'styles.css', contentType: 'text/css; charset=utf-8' },
};

export interface WebAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * Reads each file once and keeps it: the build replaces dist/web as a whole, and a restart
 * picks up a new one. A file that is missing is not remembered, so building later works.
 */
export class WebAssets {
  private readonly loaded = new Map<string, WebAsset>();

  constructor(private readonly dir: string = WEB_DIR) {}

  async get(path: string): Promise<WebAsset | null> {
    const known = this.loaded.get(path);
    if (known) return known;
    if (!Object.hasOwn(WEB_FILES, path)) return null;
    const spec = WEB_FILES[path];
    const body = await readFile(join(this.dir, spec.file)).catch(() => null);
    if (!body) return null;
    const asset = { body, contentType: spec.contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    this.loaded.set(path, asset);
    return asset;
  }
}
