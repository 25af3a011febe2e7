import { Controller, Delete, Get, HttpCode, Inject, Options, Param, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiHeaders, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Caller, TusService, UploadSession, assertTusResumable, assertUploadId, formatUploadMetadata } from '@app/core';
import { PublicRoute } from '../http/api-key.guard';
import { CurrentCaller } from '../http/caller';
import { InitiateRateLimitGuard } from '../http/initiate-rate-limit.guard';
import { publicBaseUrl } from '../http/public-url';
import { ApiAnswersHead, ApiErrors, ApiUploadIdParam } from '../openapi/decorators';
import { ROUTE_PREFIX } from '../uploads/upload-views';
import { TUS_ROUTE } from './tus-headers.middleware';
import { CREATED_HEADERS, DISCOVERY_HEADERS, HEAD_HEADERS, PATCHED_HEADERS, TUS_RESUMABLE, UPLOAD_CHECKSUM, UPLOAD_CONCAT, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_OFFSET } from './tus-openapi';

/** What every tus route but OPTIONS (public, and version-free as tus says) may answer. */
const TUS_ERRORS = ['UNAUTHORIZED', 'SERVICE_UNAVAILABLE', 'TUS_VERSION_UNSUPPORTED'] as const;
const PATCH_BODY = { description: 'The bytes from Upload-Offset on, streamed.', schema: { type: 'string', format: 'binary' } };

/** The declared Content-Length, or null for a chunked body. */
function declaredLength(request: Request): number | null {
  const value = request.headers['content-length'];
  return value === undefined ? null : Number(value);
}

function header(request: Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** tus 1.0 at /files/: the same uploads as the chunk API, through the tus protocol (TusService). */
@Controller(TUS_ROUTE)
@ApiTags('tus')
export class TusController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tus: TusService,
  ) {}

  /** Discovery: the headers come from the tus middleware, which also answers CORS preflights. */
  @Options()
  @PublicRoute()
  @HttpCode(204)
  @ApiOperation({ summary: 'tus: what this server offers', description: 'No API key needed.' })
  @ApiNoContentResponse({ description: 'The tus version, extensions, maximum size and checksum algorithms.', headers: DISCOVERY_HEADERS })
  discover(): void {}

  @Post()
  @UseGuards(InitiateRateLimitGuard)
  @ApiOperation({
    summary: 'tus: create an upload',
    description:
      'The upload is a session of this API: the last segment of Location is its uploadId. With a body (Content-Type application/offset+octet-stream) the bytes are taken as a first PATCH. With `Upload-Concat: final;<urls>` (and no Upload-Length) the new upload is the named completed uploads end to end; the answer waits up to COMPLETE_WAIT for its verification.',
  })
  @ApiHeaders([TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_CHECKSUM, UPLOAD_CONCAT])
  @ApiConsumes('application/offset+octet-stream')
  @ApiBody({ ...PATCH_BODY, required: false })
  @ApiCreatedResponse({ description: 'Created; Upload-Offset counts the durable bytes of a body sent with it.', headers: CREATED_HEADERS })
  // With a body, the errors of its first PATCH too.
  @ApiErrors(
    ...TUS_ERRORS,
    'VALIDATION_FAILED',
    'FILE_TOO_LARGE',
    'CHUNK_TOO_LARGE',
    'RATE_LIMITED',
    'INSUFFICIENT_STORAGE',
    'UPLOAD_CHECKSUM_MISMATCH',
    'UNSUPPORTED_MEDIA_TYPE',
    'UPLOAD_OFFSET_MISMATCH',
    'UPLOAD_FAILED',
    'UPLOAD_IS_FINAL',
    'REQUEST_TIMEOUT',
  )
  async create(@Req() request: Request, @Res() response: Response, @CurrentCaller() caller: Caller): Promise<void> {
    assertTusResumable(header(request, 'tus-resumable'));
    const length = declaredLength(request);
    const withBody = length !== null ? length > 0 : request.headers['transfer-encoding'] !== undefined;
    const session = await this.tus.create({
      uploadLength: header(request, 'upload-length'),
      uploadDeferLength: header(request, 'upload-defer-length'),
      uploadMetadata: header(request, 'upload-metadata'),
      uploadConcat: header(request, 'upload-concat'),
      withBody,
      caller,
    });
    // Set first, so that an error in the body below still tells the client where its upload is.
    response.setHeader('Location', `${publicBaseUrl(this.config.publicBaseUrl, request)}/${TUS_ROUTE}/${session.id}`);
    let upload = { session, offset: session.status === 'uploading' ? 0 : session.fileSize };
    if (withBody) {
      // creation-with-upload: the body is the upload's first PATCH.
      upload = await this.tus.patch({ ...this.patchOf(request, caller), uploadId: session.id, uploadOffset: '0' });
    }
    this.describe(response, upload.session, upload.offset);
    response.status(201).end();
  }

  /**
   * HEAD is tus's offset query. Express routes HEAD to GET routes, and a GET of an upload's URL
   * is sent to its download, as tusd does.
   */
  @Get(':uploadId')
  @ApiAnswersHead()
  @ApiOperation({
    summary: 'tus: the durable offset (HEAD); the file (GET)',
    description: 'HEAD answers Upload-Offset (the durable bytes from 0 on: resume from there; for a final upload only once completed), Upload-Length, Upload-Metadata, Upload-Concat for a partial or final upload and, while unfinished, Upload-Expires. GET redirects to the download of a completed upload.',
  })
  @ApiUploadIdParam()
  @ApiHeaders([TUS_RESUMABLE])
  @ApiOkResponse({ description: 'HEAD: the upload’s offset and length.', headers: HEAD_HEADERS })
  @ApiResponse({ status: 307, description: 'GET: the download route of this upload.', headers: { Location: { schema: { type: 'string', format: 'uri' } } } })
  @ApiErrors(...TUS_ERRORS, 'INVALID_UPLOAD_ID', 'UPLOAD_NOT_FOUND', 'UPLOAD_EXPIRED', 'UPLOAD_ABORTED', 'UPLOAD_FAILED')
  async head(@Param('uploadId') uploadId: string, @Req() request: Request, @Res() response: Response, @CurrentCaller() caller: Caller): Promise<void> {
    if (request.method !== 'HEAD') {
      response.redirect(307, `${publicBaseUrl(this.config.publicBaseUrl, request)}/${ROUTE_PREFIX}/uploads/${assertUploadId(uploadId)}/file`);
      return;
    }
    assertTusResumable(header(request, 'tus-resumable'));
    const { session, offset } = await this.tus.head(uploadId, caller);
    this.describe(response, session, offset);
    if (session.tusConcat !== null) response.setHeader('Upload-Concat', session.tusConcat);
    response.setHeader('Upload-Length', String(session.fileSize));
    response.setHeader('Upload-Metadata', formatUploadMetadata(session));
    response.setHeader('Cache-Control', 'no-store');
    response.status(200).end();
  }

  @Patch(':uploadId')
  @ApiOperation({
    summary: 'tus: append bytes',
    description:
      'Any length; the body is cut at the upload’s chunk grid and each chunk counts once durable and recorded. The answer’s Upload-Offset counts durable bytes only (bytes of an unfinished chunk count where the storage keeps them): continue from there. The PATCH that completes the upload waits up to COMPLETE_WAIT for its verification. A final upload (Upload-Concat: final) takes no PATCH: 403.',
  })
  @ApiUploadIdParam()
  @ApiHeaders([TUS_RESUMABLE, UPLOAD_OFFSET, UPLOAD_CHECKSUM])
  @ApiConsumes('application/offset+octet-stream')
  @ApiBody(PATCH_BODY)
  @ApiNoContentResponse({ description: 'Stored; Upload-Offset is the new durable offset.', headers: PATCHED_HEADERS })
  @ApiErrors(
    ...TUS_ERRORS,
    'VALIDATION_FAILED',
    'INVALID_UPLOAD_ID',
    'UNSUPPORTED_MEDIA_TYPE',
    'UPLOAD_OFFSET_MISMATCH',
    'UPLOAD_IN_PROGRESS',
    'UPLOAD_CHECKSUM_MISMATCH',
    'CHUNK_TOO_LARGE',
    'CHUNK_IN_PROGRESS',
    'CHUNK_CONFLICT',
    'UPLOAD_NOT_FOUND',
    'UPLOAD_NOT_ACCEPTING',
    'UPLOAD_EXPIRED',
    'UPLOAD_ABORTED',
    'UPLOAD_FAILED',
    'UPLOAD_IS_FINAL',
    'REQUEST_TIMEOUT',
    'INSUFFICIENT_STORAGE',
  )
  async patch(@Param('uploadId') uploadId: string, @Req() request: Request, @Res() response: Response, @CurrentCaller() caller: Caller): Promise<void> {
    assertTusResumable(header(request, 'tus-resumable'));
    const { session, offset } = await this.tus.patch({ ...this.patchOf(request, caller), uploadId, uploadOffset: header(request, 'upload-offset') });
    this.describe(response, session, offset);
    response.status(204).end();
  }

  @Delete(':uploadId')
  @HttpCode(204)
  @ApiOperation({ summary: 'tus: terminate', description: 'The same as aborting the upload: its bytes are removed; later requests get 410.' })
  @ApiUploadIdParam()
  @ApiHeaders([TUS_RESUMABLE])
  @ApiNoContentResponse({ description: 'Terminated.' })
  @ApiErrors(...TUS_ERRORS, 'INVALID_UPLOAD_ID', 'UPLOAD_NOT_FOUND', 'UPLOAD_EXPIRED')
  async terminate(@Param('uploadId') uploadId: string, @Req() request: Request, @CurrentCaller() caller: Caller): Promise<void> {
    assertTusResumable(header(request, 'tus-resumable'));
    await this.tus.terminate(uploadId, caller);
  }

  private patchOf(request: Request, caller: Caller) {
    return {
      contentType: header(request, 'content-type'),
      uploadChecksum: header(request, 'upload-checksum'),
      contentLength: declaredLength(request),
      // Keep the socket open when we stop reading early: the error answer still has to reach
      // the client once the rest of the body is discarded (see ErrorFilter).
      body: request.iterator({ destroyOnReturn: false }),
      caller,
    };
  }

  /** Upload-Offset (when there is one), and Upload-Expires while the upload still takes bytes. */
  private describe(response: Response, session: UploadSession, offset: number | null): void {
    if (offset !== null) response.setHeader('Upload-Offset', String(offset));
    if (session.status === 'uploading') response.setHeader('Upload-Expires', session.expiresAt.toUTCString());
  }
}
