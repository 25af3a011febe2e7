import type { NextFunction, Request, Response } from 'express';
import { TUS_CHECKSUM_ALGORITHMS, TUS_VERSION } from '@app/core';

export const TUS_ROUTE = 'files';
/** The tus extensions this server implements. */
export const TUS_EXTENSIONS = ['creation', 'creation-with-upload', 'termination', 'expiration', 'checksum', 'concatenation'];

/**
 * Tus-Resumable on every answer under /files, errors included, and the discovery headers on
 * OPTIONS. Registered before CORS: the CORS middleware answers an OPTIONS request itself (a
 * browser's preflight is one), and that answer must still tell what this tus server offers.
 */
export function tusHeaders(maxFileSize: number) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (request.path === `/${TUS_ROUTE}` || request.path.startsWith(`/${TUS_ROUTE}/`)) {
      response.setHeader('Tus-Resumable', TUS_VERSION);
      response.setHeader('Tus-Version', TUS_VERSION);
      if (request.method === 'OPTIONS') {
        response.setHeader('Tus-Max-Size', String(maxFileSize));
        response.setHeader('Tus-Extension', TUS_EXTENSIONS.join(','));
        response.setHeader('Tus-Checksum-Algorithm', TUS_CHECKSUM_ALGORITHMS.join(','));
      }
    }
    next();
  };
}
