import { Controller, HttpCode, Put, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeaders, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Caller, ChunkReceiver, pickChunkUploadId } from '@app/core';
import { CurrentCaller } from '../http/caller';
import { ApiErrors } from '../openapi/decorators';
import { CONTENT_DIGEST, CONTENT_LENGTH, CONTENT_RANGE, UPLOAD_ID } from '../openapi/headers';
import { UPLOAD_ID_SCHEMA, schemaRef } from '../openapi/schemas';
import { ROUTE_PREFIX, chunkView } from './upload-views';

@Controller(ROUTE_PREFIX)
@ApiTags('uploads')
@ApiErrors('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
export class ChunkController {
  constructor(private readonly receiver: ChunkReceiver) {}

  /** One chunk, streamed straight from the socket to its offset (no body parser runs here). */
  @Put('chunk')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send one chunk',
    description:
      'Chunks may arrive in any order, in parallel, from any replica, and may be retried: the same bytes again are a no-op 200. A chunk counts only once all its bytes are stored and recorded; a request cut off mid-body leaves it missing.',
  })
  @ApiQuery({ name: 'uploadId', required: false, description: 'The upload id (or send the Upload-Id header).', schema: UPLOAD_ID_SCHEMA })
  @ApiHeaders([UPLOAD_ID, CONTENT_RANGE, CONTENT_LENGTH, CONTENT_DIGEST])
  @ApiConsumes('application/octet-stream')
  @ApiBody({ description: 'The raw bytes of the chunk, streamed.', schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ description: 'The chunk is stored and recorded (or was already, with the same bytes).', schema: schemaRef('ChunkReceipt') })
  @ApiErrors(
    'INVALID_UPLOAD_ID',
    'INVALID_CONTENT_RANGE',
    'LENGTH_MISMATCH',
    'INVALID_DIGEST',
    'UPLOAD_NOT_FOUND',
    'REQUEST_TIMEOUT',
    'UPLOAD_NOT_ACCEPTING',
    'CHUNK_CONFLICT',
    'CHUNK_IN_PROGRESS',
    'UPLOAD_EXPIRED',
    'UPLOAD_ABORTED',
    'CHUNK_TOO_LARGE',
    'RANGE_NOT_SATISFIABLE',
    'CHECKSUM_MISMATCH',
    'INSUFFICIENT_STORAGE',
  )
  async putChunk(@Req() request: Request, @CurrentCaller() caller: Caller) {
    const declaredLength = request.headers['content-length'];
    const receipt = await this.receiver.receive({
      uploadId: pickChunkUploadId(request.query.uploadId, request.headers['upload-id']),
      contentRange: request.headers['content-range'],
      contentLength: declaredLength === undefined ? null : Number(declaredLength),
      contentDigest: request.headers['content-digest'],
      // Keep the socket open when we stop reading early: the error answer still has to reach
      // the client once the rest of the body is discarded (see ErrorFilter).
      body: request.iterator({ destroyOnReturn: false }),
      caller,
    });
    return chunkView(receipt.session, receipt.chunkIndex);
  }
}
