/**
 * The Node entry: everything `index.ts` offers, hashed with node:crypto, plus file paths as
 * sources and a fingerprint store kept in a JSON file.
 */
import { fileSource } from './node-file-source';
import { nodeSha256 } from './node-hashing';
import { UploadSource } from './source';
import { uploadWith, UploadOptions, UploadResult } from './upload';
import { toWebSource, WebInput } from './web-sources';

export * from './shared';
export { fileSource } from './node-file-source';
export { FingerprintStoreError, JsonFileFingerprintStore } from './json-file-store';

/** A file path, or anything the browser entry takes. */
export type NodeInput = string | WebInput;

function toNodeSource(input: NodeInput): Promise<UploadSource> {
  return typeof input === 'string' ? fileSource(input) : toWebSource(input);
}

/** Uploads a file path, Blob/File or bytes, resuming through `fingerprintStore`; see UploadOptions. */
export function upload(source: NodeInput, options: UploadOptions): Promise<UploadResult> {
  return uploadWith({ sha256: nodeSha256, toSource: toNodeSource, streamChunkBodies: true }, source, options);
}
