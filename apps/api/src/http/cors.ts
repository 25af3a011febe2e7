import type { CorsOptions } from '@nestjs/common/internal';

/** tus request headers (tus-js-client and Uppy send these). */
const TUS_REQUEST_HEADERS = ['Tus-Resumable', 'Upload-Length', 'Upload-Offset', 'Upload-Metadata', 'Upload-Checksum', 'Upload-Concat', 'Upload-Defer-Length', 'X-HTTP-Method-Override'];
/** tus response headers a tus client in a browser must read. */
const TUS_RESPONSE_HEADERS = ['Tus-Resumable', 'Tus-Version', 'Tus-Max-Size', 'Tus-Extension', 'Tus-Checksum-Algorithm', 'Upload-Offset', 'Upload-Length', 'Upload-Metadata', 'Upload-Expires', 'Upload-Concat'];
/** Every request header the contract lets a client send, downloads' conditional and range headers included. */
const ALLOWED_HEADERS = ['Content-Type', 'Content-Range', 'Content-Digest', 'Upload-Id', 'Idempotency-Key', 'Authorization', 'X-Request-Id', 'Range', 'If-Range', 'If-None-Match', ...TUS_REQUEST_HEADERS];
/** Response headers a browser script needs to read: where the session is, when to retry, what the download is. */
const EXPOSED_HEADERS = ['Location', 'Retry-After', 'ETag', 'Content-Range', 'Content-Disposition', 'Content-Length', 'Accept-Ranges', ...TUS_RESPONSE_HEADERS];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Browsers may cache a preflight this long (seconds), so parallel chunk PUTs do not each pay for one. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for browser clients, or null when no origin is configured (no CORS headers at all).
 * Preflights are answered by the CORS middleware itself, before routing, so they need no API key.
 * Keys travel in the Authorization header, never in cookies: credentials stay off.
 */
export function corsOptions(origins: string[]): CorsOptions | null {
  if (origins.length === 0) return null;
  return {
    origin: origins.includes('*') ? '*' : origins,
    methods: METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    preflightContinue: false,
    optionsSuccessStatus: 204,
  };
}
