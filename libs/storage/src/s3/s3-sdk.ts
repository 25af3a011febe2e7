import { createRequire } from 'node:module';
import type * as S3Sdk from '@aws-sdk/client-s3';

let loaded: typeof S3Sdk | null = null;

/**
 * The AWS SDK, loaded on first use rather than with this module: its code and heap (about
 * 15 MiB of RSS) would otherwise sit in every process that stores on local disk.
 */
export const s3: typeof S3Sdk = new Proxy({} as typeof S3Sdk, {
  get: (_target, name) => (loaded ??= createRequire(__filename)('@aws-sdk/client-s3') as typeof S3Sdk)[name as keyof typeof S3Sdk],
});
