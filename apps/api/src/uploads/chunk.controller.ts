import { Controller, HttpCode, Put, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Caller, ChunkReceiver } from '@app/core';
import { CurrentCaller } from '../http/caller';
import { ROUTE_PREFIX, chunkView } from './upload-views';

@Controller(ROUTE_PREFIX)
export class ChunkController {
  constructor(private readonly receiver: ChunkReceiver) {}

  /** One chunk, streamed straight from the socket to its offset (no body parser runs here). */
  @Put('chunk')
  @HttpCode(200)
  async putChunk(@Req() request: Request, @CurrentCaller() caller: Caller) {
    const declaredLength = request.headers['content-length'];
    const receipt = await this.receiver.receive({
      uploadId: request.query.uploadId ?? request.headers['upload-id'],
      contentRange: request.headers['content-range'],
      contentLength: declaredLength === undefined ? null : Number(declaredLength),
      contentDigest: request.headers['content-digest'],
      // Keep the socket open when we stop reading early, so the error answer still reaches the client.
      body: request.iterator({ destroyOnReturn: false }),
      caller,
    });
    return chunkView(receipt.session, receipt.chunkIndex);
  }
}
