import { Injectable } from '@nestjs/common';
import { AssemblyReconciler, ExpiryService } from '@app/core';

/** Runs the scheduled housekeeping jobs. */
@Injectable()
export class MaintenanceProcessor {
  constructor(
    private readonly expiry: ExpiryService,
    private readonly reconciler: AssemblyReconciler,
  ) {}

  async expireSessions() {
    return { expired: await this.expiry.sweep() };
  }

  async requeueStuckAssemblies() {
    return { checked: await this.reconciler.requeueStuck() };
  }
}
