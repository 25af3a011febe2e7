import { sha256 } from '@noble/hashes/sha2.js';
import { Sha256Provider } from './hashing';

/**
 * Browsers: Web Crypto has no incremental hashing, so the whole file goes through
 * @noble/hashes; single chunks use Web Crypto when present (it needs a secure context).
 */
export const webSha256: Sha256Provider = {
  incremental: () => sha256.create(),
  digest: async (bytes) => {
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) return sha256(bytes);
    return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  },
};
