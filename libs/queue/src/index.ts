export * from './jobs';
export * from './redis-connection';
export * from './redis-chunk-lease';
export * from './replica-liveness';
export * from './bull-assembly-queue';
export * from './queue.module';
export * from './queue-depth';
