import { ChecksumMismatchError, FingerprintStoreError, NetworkError, SourceChangedError, UploadFailedError, UploadSessionError } from '../../../libs/client/src/node';

/** What went wrong, in the contract's terms, and what the user can do about it. */
export interface Failure {
  code: string;
  message: string;
  advice: string;
}

const RUN_AGAIN = 'Run the same command again to resume where it stopped.';

// Codes whose cure is on the user's side, with the cure.
const ADVICE_BY_CODE: Record<string, string> = {
  UNAUTHORIZED: 'Set RESUMABLE_UPLOAD_API_KEY (or pass --api-key) to a key the server accepts.',
  VALIDATION_FAILED: 'Fix what the server named (--chunk-size must be between 262144 and 67108864 bytes) and run the command again.',
  FILE_TOO_LARGE: 'The server refuses files this large; ask its operator to raise MAX_FILE_SIZE.',
  UPLOAD_NOT_FOUND: 'Check the upload id, --endpoint and the API key: the server does not know this upload.',
  UPLOAD_NOT_COMPLETED: 'The upload is not completed yet: run `resumable-upload wait <uploadId>` first.',
  INSUFFICIENT_STORAGE: `The server is out of storage. ${RUN_AGAIN} once space is freed.`,
  SERVICE_UNAVAILABLE: `The server is unavailable. ${RUN_AGAIN}`,
};

/** Turns whatever an upload or a request threw into a code, a message and advice. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof UploadFailedError) return { code: error.code, message: error.message, advice: ADVICE_BY_CODE[error.code] ?? RUN_AGAIN };
  if (error instanceof UploadSessionError) return { code: error.code, message: error.message, advice: 'Run the same command again to start a new upload of the file.' };
  if (error instanceof ChecksumMismatchError) return { code: 'CHECKSUM_MISMATCH', message: error.message, advice: 'Make sure nothing writes to the file, then run the command again.' };
  if (error instanceof SourceChangedError) return { code: 'FILE_CHANGED', message: error.message, advice: 'Make sure nothing writes to the file, then run the command again.' };
  if (error instanceof NetworkError) return { code: 'NETWORK_ERROR', message: error.message, advice: `Check --endpoint and the network (is the server up?). ${RUN_AGAIN}` };
  if (error instanceof FingerprintStoreError) return { code: 'STATE_UNREADABLE', message: error.message, advice: 'Delete that file or point RESUMABLE_UPLOAD_STATE_DIR elsewhere (unfinished uploads then start over).' };
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error), advice: RUN_AGAIN };
}
