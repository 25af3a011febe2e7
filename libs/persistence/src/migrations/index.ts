import { CreateUploads1795557684384 } from './1795557684384-CreateUploads';

// Every migration, in order. Listed by hand: globs break in bundled builds.
export const migrations = [CreateUploads1795557684384];
