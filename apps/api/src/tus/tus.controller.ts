import { Controller, Delete, Head, HttpCode, Inject, Options, Param, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Caller, TusService, UploadSession, assertTusResumable, formatUploadMetadata } from '@app/core';
import { PublicRoute } from '../http/api-key.guard';
import { CurrentCaller } from '../http/caller';
import { InitiateRateLimitGuard } from '../http/initiate-rate-limit.guard';
import { publicBaseUrl } from '../http/public-url';
import { TUS_ROUTE } from './tus-headers.middleware';

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
@ApiExcludeController()
export class TusController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tus: TusService,
  ) {}

  /** Discovery: the headers come from the tus middleware, which also answers CORS preflights. */
  @Options()
  @PublicRoute()
  @HttpCode(204)
  discover(): void {}

  @Post()
  @UseGuards(InitiateRateLimitGuard)
  async create(@Req() request: Request, @Res() response: Response, @CurrentCaller() caller: Caller): Promise<void> {
    assertTusResumable(header(request, 'tus-resumable'));
    const session = await this.tus.create({
      uploadLength: header(request, 'upload-length'),
      uploadDeferLength: header(request, 'upload-defer-length'),
      uploadMetadata: header(request, 'upload-metadata'),
      uploadConcat: header(request, 'upload-concat'),
      caller,
    });
    // Set first, so that an error in the body below still tells the client where its upload is.
    response.setHeader('Location', `${publicBaseUrl(this.config.publicBaseUrl, request)}/${TUS_ROUTE}/${session.id}`);
    let upload = { session, offset: session.status === 'uploading' ? 0 : session.fileSize };
    const length = declaredLength(request);
    if (length !== null ? length > 0 : request.headers['transfer-encoding'] !== undefined) {
      // creation-with-upload: the body is the upload's first PATCH.
      upload = await this.tus.patch({ ...this.patchOf(request, caller), uploadId: session.id, uploadOffset: '0' });
    }
    this.describe(response, upload.session, upload.offset);
    response.status(201).end();
  }

  @Head(':uploadId')
  async head(@Param('uploadId') uploadId: string, @Req() request: Request, @Res() response: Response, @CurrentCaller() caller: Caller): Promise<void> {
    assertTusResumable(header(request, 'tus-resumable'));
    const { session, offset } = await this.tus.head(uploadId, caller);
    this.describe(response, session, offset);
    response.setHeader('Upload-Length', String(session.fileSize));
    response.setHeader('Upload-Metadata', formatUploadMetadata(session));
    response.setHeader('Cache-Control', 'no-store');
    response.status(200).end();
  }

  @Patch(':uploadId')
  async patch(@Param('uploadId') uploadId: string, @Req() request: Request, @Res() response: Response, @CurrentCaller() caller: Caller): Promise<void> {
    assertTusResumable(header(request, 'tus-resumable'));
    const { session, offset } = await this.tus.patch({ ...this.patchOf(request, caller), uploadId, uploadOffset: header(request, 'upload-offset') });
    this.describe(response, session, offset);
    response.status(204).end();
  }

  @Delete(':uploadId')
  @HttpCode(204)
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

  /** Upload-Offset, and Upload-Expires while the upload still takes bytes. */
  private describe(response: Response, session: UploadSession, offset: number): void {
    response.setHeader('Upload-Offset', String(offset));
    if (session.status === 'uploading') response.setHeader('Upload-Expires', session.expiresAt.toUTCString());
  }
}
