import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UPLOAD_STORAGE } from '@app/core';
import { LocalDiskStorage } from './local-disk.storage';

async function openStorage(config: AppConfig): Promise<LocalDiskStorage> {
  const storage = await new LocalDiskStorage(config.storageDir, { directIo: config.storageDirectIo }).init();
  new Logger('Storage').log(
    storage.usesDirectIo
      ? `Part files in ${config.storageDir} use direct I/O`
      : `Part files in ${config.storageDir} go through the page cache (${config.storageDirectIo ? 'the filesystem refuses direct I/O' : 'STORAGE_DIRECT_IO=false'})`,
  );
  return storage;
}

/** Picks the storage backend once, here; everything else sees only the `UploadStorage` port. */
@Global()
@Module({
  providers: [{ provide: UPLOAD_STORAGE, inject: [APP_CONFIG], useFactory: openStorage }],
  exports: [UPLOAD_STORAGE],
})
export class StorageModule {}
