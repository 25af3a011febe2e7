import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The file that maps file fingerprints (absolute path, size, mtime) to upload sessions, so the
 * same command run again resumes: RESUMABLE_UPLOAD_STATE_DIR, else the XDG cache directory.
 */
export function stateFile(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  const dir = env.RESUMABLE_UPLOAD_STATE_DIR || join(env.XDG_CACHE_HOME || join(home, '.cache'), 'resumable-upload');
  return join(resolve(dir), 'sessions.json');
}
