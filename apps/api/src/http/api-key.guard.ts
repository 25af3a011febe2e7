import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UploadError } from '@app/core';
import { RequestWithCaller } from './caller';

const PUBLIC_ROUTE = 'publicRoute';
/** Marks a route that needs no API key (health checks). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * When API_KEYS is set, every route but the public ones needs `Authorization: Bearer <key>`.
 * Keys are compared as SHA-256 digests in constant time, and only the digest is kept:
 * it identifies the owner of the sessions the key creates.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keyDigests: Buffer[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.keyDigests = config.apiKeys.map(sha256);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestWithCaller>();
    request.caller = { keyHash: null };
    if (this.keyDigests.length === 0) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;

    // The scheme is case-insensitive (RFC 9110 §11.1); the key is one run of visible ASCII.
    const match = /^Bearer +([\x21-\x7e]+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw new UploadError('UNAUTHORIZED', 'An API key is required: send Authorization: Bearer <key>.');
    const digest = sha256(match[1]);
    // Check every key, so the time taken does not tell which one came close.
    let valid = false;
    for (const known of this.keyDigests) valid = timingSafeEqual(known, digest) || valid;
    if (!valid) throw new UploadError('UNAUTHORIZED', 'The API key is not valid: check the key you send in Authorization: Bearer <key>.');
    request.caller = { keyHash: digest.toString('hex') };
    return true;
  }
}
