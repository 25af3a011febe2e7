import { UploadProgress, UploadSession } from '@app/core';

export const ROUTE_PREFIX = 'resumable-upload';

export function uploadUrls(baseUrl: string, uploadId: string) {
  return {
    uploadUrl: `${baseUrl}/${ROUTE_PREFIX}/chunk?uploadId=${uploadId}`,
    statusUrl: `${baseUrl}/${ROUTE_PREFIX}/uploads/${uploadId}`,
    downloadUrl: `${baseUrl}/${ROUTE_PREFIX}/uploads/${uploadId}/file`,
  };
}

export function initiateView(session: UploadSession, baseUrl: string) {
  const { uploadUrl, statusUrl } = uploadUrls(baseUrl, session.id);
  return { uploadId: session.id, uploadUrl, statusUrl, chunkSize: session.chunkSize, totalChunks: session.totalChunks, expiresAt: session.expiresAt.toISOString() };
}

export function statusView(session: UploadSession, progress: UploadProgress, baseUrl: string) {
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

export function chunkView(session: UploadSession, chunkIndex: number) {
  return {
    uploadId: session.id,
    chunkIndex,
    receivedChunks: session.receivedChunks,
    totalChunks: session.totalChunks,
    receivedBytes: session.receivedBytes,
    status: session.status,
  };
}
