export * from './local-disk.storage';
export * from './s3';
export * from './storage.module';
export * from './body-garbage';
