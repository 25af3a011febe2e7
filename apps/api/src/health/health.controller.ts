import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CHUNK_LEASE, ChunkLease, UPLOAD_REPOSITORY, UPLOAD_STORAGE, UploadRepository, UploadStorage } from '@app/core';
import { PublicRoute } from '../http/api-key.guard';
import { errorSchema, schemaRef } from '../openapi/schemas';

const CHECK_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<void>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

@Controller('health')
@PublicRoute()
@ApiTags('health')
export class HealthController {
  constructor(
    @Inject(UPLOAD_REPOSITORY) private readonly uploads: UploadRepository,
    @Inject(CHUNK_LEASE) private readonly leases: ChunkLease,
    @Inject(UPLOAD_STORAGE) private readonly storage: UploadStorage,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness' })
  @ApiOkResponse({ description: 'The process is up.', schema: schemaRef('HealthLive') })
  live() {
    return { status: 'ok' };
  }

  /** Postgres, Redis and the storage (directory or bucket) all answer: this replica can take uploads. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness', description: 'Checks Postgres, Redis and the storage (the directory, or the S3 bucket), each within 2 s.' })
  @ApiOkResponse({ description: 'Every dependency answers: this replica can take uploads.', schema: schemaRef('HealthReady') })
  @ApiServiceUnavailableResponse({
    description: 'At least one dependency is down; `checks` says which.',
    schema: { allOf: [errorSchema(['SERVICE_UNAVAILABLE']), schemaRef('HealthReady')] },
  })
  async ready(@Res({ passthrough: true }) response: Response) {
    const [postgres, redis, storage] = await Promise.all([check(() => this.uploads.ping()), check(() => this.leases.ping()), check(() => this.storage.ping())]);
    const checks = { postgres, redis, storage };
    if (Object.values(checks).every((state) => state === 'up')) return { status: 'ok', checks };
    const down = Object.entries(checks)
      .filter(([, state]) => state === 'down')
      .map(([name]) => name);
    response.status(503);
    return { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: `Not ready: ${down.join(', ')} unavailable.`, status: 'unavailable', checks };
  }
}
