import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { CHUNK_STORAGE, UPLOAD_STORAGE, UploadStorage } from '@app/core';
import { LocalDiskStorage } from './local-disk.storage';
import { S3UploadStorage } from './s3';

async function openStorage(config: AppConfig): Promise<LocalDiskStorage> {
  const storage = await new LocalDiskStorage(config.storageDir, { directIo: config.storageDirectIo }).init();
  new Logger('Storage').log(
    storage.usesDirectIo
      ? `Part files in ${config.storageDir} use direct I/O`
      : `Part files in ${config.storageDir} go through the page cache (${config.storageDirectIo ? 'the filesystem refuses direct I/O' : 'STORAGE_DIRECT_IO=false'})`,
  );
  return storage;
}

/** The `UploadStorage` of the configured backend; the disk backend's comes with the disk adapter on that port. */
async function openUploadStorage(config: AppConfig): Promise<UploadStorage | null> {
  if (config.storageBackend !== 's3' || config.s3 === null) return null;
  const storage = await S3UploadStorage.open(config.s3);
  new Logger('Storage').log(`Uploads go to bucket ${config.s3.bucket}${config.s3.prefix ? ` under ${config.s3.prefix}` : ''} at ${config.s3.endpoint ?? 'AWS S3'}`);
  return storage;
}

/** Picks the storage backend once, here; everything else sees only the storage ports. */
@Global()
@Module({
  providers: [
    { provide: CHUNK_STORAGE, inject: [APP_CONFIG], useFactory: openStorage },
    { provide: UPLOAD_STORAGE, inject: [APP_CONFIG], useFactory: openUploadStorage },
  ],
  exports: [CHUNK_STORAGE, UPLOAD_STORAGE],
})
export class StorageModule {}
