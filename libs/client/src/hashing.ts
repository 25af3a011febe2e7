/** A SHA-256 fed piece by piece, as the file is read. */
export interface IncrementalSha256 {
  update(bytes: Uint8Array): void;
  /** The digest; call once. */
  digest(): Uint8Array;
}

/** SHA-256 as each platform does it best: node:crypto in Node, Web Crypto + @noble/hashes in browsers. */
export interface Sha256Provider {
  incremental(): IncrementalSha256;
  /** One chunk's digest, for its Content-Digest. */
  digest(bytes: Uint8Array): Promise<Uint8Array>;
}

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** RFC 9530: `sha-256=:<base64>:`. */
export function contentDigestHeader(digest: Uint8Array): string {
  return `sha-256=:${toBase64(digest)}:`;
}
