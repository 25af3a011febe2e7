import { UploadSession, uploadUrls } from '@app/core';

export { ROUTE_PREFIX, statusView, uploadUrls } from '@app/core';

export function initiateView(session: UploadSession, baseUrl: string) {
  const { uploadUrl, statusUrl } = uploadUrls(baseUrl, session.id);
  return { uploadId: session.id, uploadUrl, statusUrl, chunkSize: session.chunkSize, totalChunks: session.totalChunks, expiresAt: session.expiresAt.toISOString() };
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
