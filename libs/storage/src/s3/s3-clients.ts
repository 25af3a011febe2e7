import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Logger } from '@nestjs/common';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { S3Settings } from '@app/config';
import { s3 } from './s3-sdk';

/** Tries of a request whose body can be sent again (everything but a part's stream). */
const REQUEST_ATTEMPTS = 4;

/** The two clients the adapter talks through; they share their connections. */
export interface S3Clients {
  /** For requests the SDK may retry on throttling, 5xx and lost connections. */
  requests: S3Client;
  /**
   * For part uploads: a streamed chunk cannot be replayed, so these are tried once and a
   * failure reaches the uploader, whose retry sends the chunk again.
   */
  parts: S3Client;
}

/** `overrides` replace the standard AWS chain's answers (credentials, region), for tests and tools. */
const logger = new Logger('S3');
/**
 * The SDK's warnings only, but for the one about a failed part request: it would log every
 * failed command (a missing key, a refused completion) that the adapter expects and handles.
 */
const sdkLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => {
    if (!String(content[0]).includes('non-retryable streaming request')) logger.warn(content.map(String).join(' '));
  },
  error: () => undefined,
};

export function createS3Clients(settings: S3Settings, overrides: Pick<S3ClientConfig, 'credentials' | 'region'> = {}): S3Clients {
  const keepAlive = { keepAlive: true, maxSockets: 256 };
  const base: S3ClientConfig = {
    ...(settings.endpoint === null ? {} : { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle,
    // Checksums only when asked for (S3_CHECKSUMS): many S3-compatible stores refuse the
    // trailing CRC the SDK would otherwise add to every upload, or fail to verify it.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    retryMode: 'standard',
    logger: sdkLogger,
    requestHandler: {
      httpAgent: new HttpAgent(keepAlive),
      httpsAgent: new HttpsAgent(keepAlive),
      connectionTimeout: 5_000,
      // Idle time on the socket, not the request's length: a part streams as fast as its uploader sends.
      requestTimeout: 60_000,
    },
    ...overrides,
  };
  return {
    requests: new s3.S3Client({ ...base, maxAttempts: REQUEST_ATTEMPTS }),
    parts: new s3.S3Client({ ...base, maxAttempts: 1 }),
  };
}
