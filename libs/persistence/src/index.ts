export * from './data-source';
export * from './migrator';
export * from './persistence.module';
export * from './upload.repository';
export * from './upload-event.outbox';
