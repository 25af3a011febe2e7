import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { CHUNK_STORAGE } from '@app/core';
import { LocalDiskStorage } from './local-disk.storage';

/** Picks the storage backend once, here; everything else sees only the `ChunkStorage` port. */
@Global()
@Module({
  providers: [{ provide: CHUNK_STORAGE, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new LocalDiskStorage(config.storageDir).init() }],
  exports: [CHUNK_STORAGE],
})
export class StorageModule {}
