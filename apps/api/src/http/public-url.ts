import type { Request } from 'express';

/** The base URL clients should use: PUBLIC_BASE_URL when set (behind a proxy), else the request's own host. */
export function publicBaseUrl(configured: string | null, request: Request): string {
  return configured ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
}
