import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { WebAssets } from './web-assets';
import { serveWebPage } from './web-page';

/**
 * Serves the upload page (index.html, page.js, styles.css) at `/`. Middleware rather than a
 * controller: these are static files, not API operations, so they stay out of the OpenAPI
 * document and the API-key guard (a browser must load the page before it can send a key).
 */
@Injectable()
export class WebPageMiddleware implements NestMiddleware {
  private readonly assets = new WebAssets();

  use(request: Request, response: Response, next: NextFunction): Promise<void> {
    return serveWebPage(this.assets, request, response, next);
  }
}
