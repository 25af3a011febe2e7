// In-memory fakes of the core's ports, for unit tests of the services. Not part of the build.
export * from './in-memory-upload.repository';
export * from './in-memory-upload.storage';
export * from './in-memory-chunk-lease';
export * from './in-memory-assembly.queue';
export * from './test-config';
export * from './core-services';
