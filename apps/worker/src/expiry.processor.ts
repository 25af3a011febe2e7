import { Injectable } from '@nestjs/common';
import { ExpiryService } from '@app/core';

/** Runs the repeatable `expire-sessions` job. */
@Injectable()
export class ExpiryProcessor {
  constructor(private readonly expiry: ExpiryService) {}

  async process() {
    return { expired: await this.expiry.sweep() };
  }
}
