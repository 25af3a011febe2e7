import { createHash } from 'node:crypto';
import { Sha256Provider } from './hashing';

/** Node: native hashing for both the whole file and each chunk. */
export const nodeSha256: Sha256Provider = {
  incremental: () => {
    const hash = createHash('sha256');
    return {
      update: (bytes) => void hash.update(bytes),
      digest: () => new Uint8Array(hash.digest()),
    };
  },
  digest: async (bytes) => new Uint8Array(createHash('sha256').update(bytes).digest()),
};
