import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UPLOAD_STORAGE, UploadStorage } from '@app/core';
import { LocalDiskStorage } from './local-disk.storage';
import { S3UploadStorage } from './s3';

async function openStorage(config: AppConfig): Promise<UploadStorage> {
  const logger = new Logger('Storage');
  if (config.storageBackend === 's3' && config.s3 !== null) {
    const storage = await S3UploadStorage.open(config.s3);
    logger.log(`Uploads go to bucket ${config.s3.bucket}${config.s3.prefix ? ` under ${config.s3.prefix}` : ''} at ${config.s3.endpoint ?? 'AWS S3'}`);
    return storage;
  }
  const storage = await new LocalDiskStorage(config.storageDir, { directIo: config.storageDirectIo }).init();
  logger.log(
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
