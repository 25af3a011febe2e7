export * from './s3-upload.storage';
export * from './s3-clients';
