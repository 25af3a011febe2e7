/**
 * The browser-safe entry: nothing here imports a node: module. Node programs that upload
 * file paths use `node.ts` instead.
 */
import { uploadWith, UploadOptions, UploadResult } from './upload';
import { webSha256 } from './web-hashing';
import { toWebSource, WebInput } from './web-sources';

export * from './shared';
export type { WebInput };

/** Uploads a Blob/File or bytes, resuming through `fingerprintStore`; see UploadOptions. */
export function upload(source: WebInput, options: UploadOptions): Promise<UploadResult> {
  return uploadWith({ sha256: webSha256, toSource: toWebSource }, source, options);
}
