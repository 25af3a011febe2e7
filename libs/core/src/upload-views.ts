import { UploadSession } from './upload-session';

export const ROUTE_PREFIX = 'resumable-upload';

/** What is still missing of an upload (only an `uploading` one misses anything). */
export interface MissingParts {
  missingChunks: number[];
  missingRanges: string[];
}

export const NOTHING_MISSING: MissingParts = { missingChunks: [], missingRanges: [] };

export function uploadUrls(baseUrl: string, uploadId: string) {
  return {
    uploadUrl: `${baseUrl}/${ROUTE_PREFIX}/chunk?uploadId=${uploadId}`,
    statusUrl: `${baseUrl}/${ROUTE_PREFIX}/uploads/${uploadId}`,
    downloadUrl: `${baseUrl}/${ROUTE_PREFIX}/uploads/${uploadId}/file`,
  };
}

/** The status body of the contract: what the status route answers and what events carry as `data`. */
export function statusView(session: UploadSession, progress: MissingParts, baseUrl: string) {
  return {
    uploadId: session.id,
    fileName: session.fileName,
    fileSize: session.fileSize,
    chunkSize: session.chunkSize,
    totalChunks: session.totalChunks,
    contentType: session.contentType,
    metadata: session.metadata,
    status: session.status,
    receivedChunks: session.receivedChunks,
    receivedBytes: session.receivedBytes,
    missingChunks: progress.missingChunks,
    missingRanges: progress.missingRanges,
    sha256: session.sha256,
    error: session.error,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    completedAt: session.completedAt?.toISOString() ?? null,
    downloadUrl: session.status === 'completed' ? uploadUrls(baseUrl, session.id).downloadUrl : null,
  };
}
