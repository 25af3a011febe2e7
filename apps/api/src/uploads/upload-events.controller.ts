import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller, UploadEvent, UploadEventsService, assertUploadId } from '@app/core';
import { CurrentCaller } from '../http/caller';
import { ApiErrors, ApiUploadIdParam } from '../openapi/decorators';
import { schemaRef } from '../openapi/schemas';
import { ROUTE_PREFIX } from './upload-views';

function eventView(event: UploadEvent) {
  return {
    id: event.id,
    type: event.type,
    state: event.state,
    attempts: event.attempts,
    occurredAt: event.occurredAt.toISOString(),
    nextAttemptAt: event.state === 'pending' ? event.nextAttemptAt.toISOString() : null,
    lastError: event.lastError,
  };
}

/** An upload's undelivered webhook events: what is stuck and why, and a way to send dead ones again. */
@Controller(ROUTE_PREFIX)
@ApiTags('events')
@ApiErrors('UNAUTHORIZED', 'SERVICE_UNAVAILABLE', 'INVALID_UPLOAD_ID', 'UPLOAD_NOT_FOUND')
export class UploadEventsController {
  constructor(private readonly events: UploadEventsService) {}

  @Get('uploads/:uploadId/events')
  @ApiOperation({ summary: 'Undelivered events', description: 'The upload’s webhook events still being retried (`pending`) or given up on (`dead`); delivered events are not kept.' })
  @ApiUploadIdParam()
  @ApiOkResponse({ description: 'The undelivered events, oldest first (none when all were delivered or webhooks are off).', schema: schemaRef('UploadEvents') })
  async list(@Param('uploadId') uploadId: string, @CurrentCaller() caller: Caller) {
    const id = assertUploadId(uploadId);
    return { uploadId: id, events: (await this.events.list(id, caller)).map(eventView) };
  }

  @Post('uploads/:uploadId/events/redeliver')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-send dead events', description: 'Makes the upload’s dead events pending again, due now, with a new WEBHOOK_RETRY_FOR window; the same `webhook-id`s are sent. Idempotent.' })
  @ApiUploadIdParam()
  @ApiOkResponse({ description: 'The events now pending again (none if nothing was dead).', schema: schemaRef('UploadEvents') })
  async redeliver(@Param('uploadId') uploadId: string, @CurrentCaller() caller: Caller) {
    const id = assertUploadId(uploadId);
    return { uploadId: id, events: (await this.events.redeliver(id, caller)).map(eventView) };
  }
}
