import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestProcess, eventually, freePort, portOpen } from './processes';

/** Fault tests stop services: they get private instances on free ports and never touch the shared ones. */
export class PrivateRedis {
  private process?: TestProcess;

  private constructor(
    readonly port: number,
    private readonly settings: string[],
  ) {}

  /** `settings`: more redis-server arguments, as `['--requirepass', 'secret']`. */
  static async start(settings: string[] = []): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), settings);
    await redis.resume();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    this.process = new TestProcess('redis', 'redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.settings], process.env);
    await eventually(async () => ((await portOpen(this.port)) ? true : undefined), 'the private Redis to listen', 10_000);
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGKILL');
  }
}

function postgresBin(tool: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const path = join(base, version, 'bin', tool);
    if (existsSync(path)) return path;
  }
  return tool;
}

/** A throwaway Postgres cluster (initdb + pg_ctl); as root it runs as the postgres user, as Postgres insists. */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dataDir: string,
    private readonly socketDir: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const root = mkdtempSync(join(tmpdir(), 'ru-pg-'));
    const postgres = new PrivatePostgres(await freePort(), join(root, 'data'), root);
    if (process.getuid?.() === 0) chownSync(root, postgresUid(), postgresGid());
    postgres.run('initdb', ['-D', postgres.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
    await postgres.resume();
    return postgres;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  private run(tool: string, args: string[]): void {
    const command = postgresBin(tool);
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe' });
    else execFileSync(command, args, { stdio: 'pipe' });
  }

  async resume(): Promise<void> {
    this.run('pg_ctl', ['-D', this.dataDir, '-w', '-l', join(this.socketDir, 'postgres.log'), '-o', `-p ${this.port} -k ${this.socketDir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  }

  async stop(): Promise<void> {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.socketDir, { recursive: true, force: true });
  }
}

function postgresUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
}

function postgresGid(): number {
  return Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
}

/** A small tmpfs to fill up, for storage-full tests; throws when this user cannot mount one. */
export function mountSmallTmpfs(sizeBytes: number): { path: string; unmount: () => void } {
  if (process.getuid?.() !== 0) throw new Error('the storage-full test mounts a small tmpfs, which needs root: run the fault suite as root');
  const path = mkdtempSync(join(tmpdir(), 'ru-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    throw new Error(`could not mount a ${sizeBytes}-byte tmpfs for the storage-full test: ${(error as Error).message}`, { cause: error });
  }
  return {
    path,
    unmount: () => {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
