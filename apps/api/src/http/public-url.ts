import type { Request } from 'express';

/**
 * The base URL clients should use: PUBLIC_BASE_URL when set, else the request's own scheme and host.
 * Express reads X-Forwarded-Proto and X-Forwarded-Host into `protocol` and `host` only when the
 * `trust proxy` setting (TRUST_PROXY) trusts the sender; otherwise they are the socket's and the Host header's.
 */
export function publicBaseUrl(configured: string | null, request: Request): string {
  if (configured !== null) return configured;
  // A proxy may forward any token as the scheme; only these two make a URL a client can use.
  const protocol = request.protocol === 'https' ? 'https' : 'http';
  return `${protocol}://${request.host ?? 'localhost'}`;
}
