import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiCreatedResponse, ApiHeader, ApiHeaders, ApiNoContentResponse, ApiNotModifiedResponse, ApiOkResponse, ApiOperation, ApiPartialContentResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Caller, UPLOAD_STORAGE, UploadError, UploadService, UploadStorage, assertUploadId, contentDisposition, parseRangeHeader } from '@app/core';
import { CurrentCaller } from '../http/caller';
import { InitiateRateLimitGuard } from '../http/initiate-rate-limit.guard';
import { readJsonBody } from '../http/json-body';
import { publicBaseUrl } from '../http/public-url';
import { ApiAnswersHead, ApiErrors, ApiUploadIdParam } from '../openapi/decorators';
import { CONTENT_RANGE_SERVED, CONTENT_RANGE_UNSATISFIED, ETAG, FILE_HEADERS, IDEMPOTENCY_KEY, IF_NONE_MATCH, IF_RANGE, LOCATION, RANGE, RETRY_AFTER } from '../openapi/headers';
import { schemaRef } from '../openapi/schemas';
import { ROUTE_PREFIX, initiateView, statusView } from './upload-views';

/** How long clients should wait between polls while a file is assembling. */
const ASSEMBLY_POLL_SECONDS = 2;

const BINARY_FILE = { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } };

@Controller(ROUTE_PREFIX)
@ApiTags('uploads')
@ApiErrors('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
export class UploadController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
    private readonly uploads: UploadService,
  ) {}

  @Post('initiate')
  @UseGuards(InitiateRateLimitGuard)
  @ApiOperation({ summary: 'Start an upload', description: 'Declares the file; the answer says where to send its chunks and how many there are.' })
  @ApiHeader(IDEMPOTENCY_KEY)
  @ApiBody({ schema: schemaRef('InitiateRequest') })
  @ApiCreatedResponse({ description: 'A new upload session.', schema: schemaRef('InitiateResponse'), headers: { Location: LOCATION } })
  @ApiOkResponse({ description: 'A repeat with the same Idempotency-Key and body: the session the first one created.', schema: schemaRef('InitiateResponse'), headers: { Location: LOCATION } })
  @ApiErrors('VALIDATION_FAILED', 'FILE_TOO_LARGE', 'IDEMPOTENCY_KEY_REUSED', 'RATE_LIMITED', 'INSUFFICIENT_STORAGE')
  async initiate(@Req() request: Request, @Res({ passthrough: true }) response: Response, @CurrentCaller() caller: Caller) {
    const body = await readJsonBody(request);
    const idempotencyKey = request.headers['idempotency-key'];
    const { session, created } = await this.uploads.initiate(body, caller, typeof idempotencyKey === 'string' ? idempotencyKey : null);
    const view = initiateView(session, publicBaseUrl(this.config.publicBaseUrl, request));
    response.status(created ? 201 : 200).setHeader('Location', view.statusUrl);
    return view;
  }

  @Get('uploads/:uploadId')
  @ApiOperation({ summary: 'Status and what is missing', description: 'Poll it until `status` is `completed` or `failed`; after an interruption, send the chunks it lists as missing.' })
  @ApiUploadIdParam()
  @ApiOkResponse({ description: 'The upload, whatever its status (an expired or aborted one included).', schema: schemaRef('UploadStatus') })
  @ApiErrors('INVALID_UPLOAD_ID', 'UPLOAD_NOT_FOUND')
  async status(@Param('uploadId') uploadId: string, @Req() request: Request, @CurrentCaller() caller: Caller) {
    const session = await this.uploads.get(assertUploadId(uploadId), caller);
    return statusView(session, await this.uploads.progress(session), publicBaseUrl(this.config.publicBaseUrl, request));
  }

  @Post('uploads/:uploadId/complete')
  @ApiOperation({
    summary: 'Ask for assembly (idempotent)',
    description:
      'Assembly starts by itself when the last chunk arrives; this confirms it, and may declare the SHA-256 if initiate did not. While the file is being assembled, the answer waits up to COMPLETE_WAIT (3 s by default) for it to be completed.',
  })
  @ApiUploadIdParam()
  @ApiBody({ schema: schemaRef('CompleteRequest'), required: false })
  @ApiOkResponse({ description: 'The upload is completed.', schema: schemaRef('UploadStatus') })
  @ApiAcceptedResponse({ description: 'The file is being assembled: poll the status after Retry-After seconds.', schema: schemaRef('UploadStatus'), headers: { 'Retry-After': RETRY_AFTER } })
  @ApiErrors('VALIDATION_FAILED', 'INVALID_UPLOAD_ID', 'UPLOAD_NOT_FOUND', 'UPLOAD_EXPIRED', 'UPLOAD_ABORTED', 'UPLOAD_INCOMPLETE', 'UPLOAD_NOT_ACCEPTING', 'CHECKSUM_MISMATCH')
  async complete(@Param('uploadId') uploadId: string, @Req() request: Request, @Res({ passthrough: true }) response: Response, @CurrentCaller() caller: Caller) {
    const id = assertUploadId(uploadId);
    const { session, state } = await this.uploads.complete(id, caller, await readJsonBody(request));
    if (state === 'assembling') response.status(202).setHeader('Retry-After', String(ASSEMBLY_POLL_SECONDS));
    else response.status(200);
    return statusView(session, { missingChunks: [], missingRanges: [] }, publicBaseUrl(this.config.publicBaseUrl, request));
  }

  @Delete('uploads/:uploadId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Abort and delete', description: 'Removes the stored bytes (the assembled file too) and marks the upload `aborted`; aborting twice is fine.' })
  @ApiUploadIdParam()
  @ApiNoContentResponse({ description: 'Aborted; later chunks get 410 UPLOAD_ABORTED.' })
  @ApiErrors('INVALID_UPLOAD_ID', 'UPLOAD_NOT_FOUND', 'UPLOAD_EXPIRED')
  async abort(@Param('uploadId') uploadId: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.uploads.abort(assertUploadId(uploadId), caller);
  }

  /** The assembled file: streamed, with a strong ETag (its SHA-256) and single-range support. */
  @Get('uploads/:uploadId/file')
  @ApiAnswersHead()
  @ApiOperation({ summary: 'Download the file', description: 'Streams the assembled file, with a strong ETag (its SHA-256) and single-range support.' })
  @ApiUploadIdParam()
  @ApiHeaders([RANGE, IF_RANGE, IF_NONE_MATCH])
  @ApiOkResponse({ description: 'The whole file.', content: BINARY_FILE, headers: FILE_HEADERS })
  @ApiPartialContentResponse({ description: 'The one range asked for.', content: BINARY_FILE, headers: { ...FILE_HEADERS, 'Content-Range': CONTENT_RANGE_SERVED } })
  @ApiNotModifiedResponse({ description: 'If-None-Match names the file’s ETag: the client’s copy is current.', headers: { ETag: ETAG } })
  @ApiErrors('INVALID_UPLOAD_ID', 'UPLOAD_NOT_FOUND', 'UPLOAD_EXPIRED', 'UPLOAD_ABORTED', 'UPLOAD_NOT_COMPLETED', 'RANGE_NOT_SATISFIABLE')
  @ApiResponse({ status: 416, headers: { 'Content-Range': CONTENT_RANGE_UNSATISFIED } })
  async download(@Param('uploadId') uploadId: string, @Req() request: Request, @Res() response: Response, @CurrentCaller() caller: Caller): Promise<void> {
    const session = await this.uploads.getDownloadable(assertUploadId(uploadId), caller);
    const etag = `"${session.sha256}"`;
    // If-Range with another validator means the client's copy is stale: send the whole file.
    const ifRange = request.headers['if-range'];
    const range = ifRange === undefined || ifRange === etag ? parseRangeHeader(request.headers.range, session.fileSize) : ({ kind: 'full' } as const);
    if (range.kind === 'unsatisfiable') {
      // Before any file header is set: this answer is a JSON error, not part of the file.
      response.setHeader('Content-Range', `bytes */${session.fileSize}`);
      throw new UploadError('RANGE_NOT_SATISFIABLE', `The requested range is outside the ${session.fileSize}-byte file.`, { fileSize: session.fileSize });
    }

    const notModified = request.headers['if-none-match']?.split(/\s*,\s*/).includes(etag) ?? false;
    const bodyless = notModified || request.method === 'HEAD' || session.fileSize === 0;
    // Opened before any file header is set: a file the store lost, or a store that is down,
    // is then answered as a JSON error instead of a connection cut after the headers.
    const stream = bodyless ? null : await this.storage.readPublished(session.id, range.kind === 'partial' ? range.range : undefined);

    response.setHeader('ETag', etag);
    response.setHeader('Accept-Ranges', 'bytes');
    response.setHeader('Last-Modified', (session.completedAt ?? session.updatedAt).toUTCString());
    response.setHeader('Cache-Control', 'private, no-transform');
    if (notModified) {
      response.status(304).end();
      return;
    }
    response.setHeader('Content-Type', session.contentType ?? 'application/octet-stream');
    response.setHeader('Content-Disposition', contentDisposition(session.fileName));

    if (range.kind === 'partial') {
      const { start, end } = range.range;
      response.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${session.fileSize}`);
      response.setHeader('Content-Length', String(end - start + 1));
    } else {
      response.status(200).setHeader('Content-Length', String(session.fileSize));
    }
    if (stream === null) {
      response.end();
      return;
    }
    await pipeline(stream, response).catch((error: Error) => {
      // Headers are out: all we can do is cut the connection so the client sees a short body.
      response.destroy(error);
    });
  }
}
