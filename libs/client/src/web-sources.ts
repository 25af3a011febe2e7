import { InvalidUploadError } from './errors';
import { blobSource, bytesSource, isUploadSource, UploadSource } from './source';

/** What upload() takes everywhere: a Blob or File, bytes in memory, or a ready source adapter. */
export type WebInput = Blob | Uint8Array | UploadSource;

export async function toWebSource(input: WebInput): Promise<UploadSource> {
  if (typeof Blob !== 'undefined' && input instanceof Blob) return blobSource(input);
  if (input instanceof Uint8Array) return bytesSource(input);
  if (isUploadSource(input)) return input;
  throw new InvalidUploadError('The source must be a Blob or File, a Uint8Array (or Buffer), or an UploadSource.');
}
