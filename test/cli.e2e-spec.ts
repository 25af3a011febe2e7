import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectDelivered } from './support/faults';
import { sleep } from './support/processes';
import { randomFile, recordedChunks, sha256, useStack } from './support/upload-client';

const CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
const CHUNK = 256 * 1024;

type CliEvent = Record<string, any>;

/** The built CLI as a child process, its stdout and stderr kept apart (stdout holds the JSON events). */
class CliRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (data: Buffer) => (this.stdout += data.toString()));
    this.child.stderr!.on('data', (data: Buffer) => (this.stderr += data.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  events(): CliEvent[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line));
  }

  /** Resolves with the first event `matches` accepts, failing if the CLI exits first. */
  async waitForEvent(matches: (event: CliEvent) => boolean, timeoutMs = 30_000): Promise<CliEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events().find(matches);
      if (found) return found;
      if (!this.running || Date.now() > deadline) throw new Error(`no such event; the CLI printed:\n${this.stdout}\n${this.stderr}`);
      await sleep(5);
    }
  }
}

async function runToEnd(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; events: CliEvent[] }> {
  const run = new CliRun(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr, events: code === 0 && args.includes('--json') ? run.events() : [] };
}

/** Every chunk PUT the API answered, whatever the outcome, from its own metrics. */
async function chunkRequestsServed(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return [...text.matchAll(/^resumable_upload_chunk_requests_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('the resumable-upload CLI', () => {
  // A killed client's chunk lease must lapse quickly for its re-run to take that chunk.
  const ctx = useStack({ env: { CHUNK_LEASE_TTL: '1s', BODY_IDLE_TIMEOUT: '500ms' } });
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ru-cli-'));
    env = { PATH: process.env.PATH, HOME: dir, RESUMABLE_UPLOAD_STATE_DIR: join(dir, 'state') };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function fileOnDisk(name: string, size: number): Promise<{ path: string; bytes: Buffer }> {
    const bytes = randomFile(size);
    const path = join(dir, name);
    await writeFile(path, bytes);
    return { path, bytes };
  }

  function uploadArgs(path: string, ...extra: string[]): string[] {
    return ['upload', path, '--endpoint', ctx.stack.baseUrl, '--chunk-size', String(CHUNK), '--json', ...extra];
  }

  it('uploads with --json events, then status, wait and download work on the upload', async () => {
    const { path, bytes } = await fileOnDisk('plain.bin', 3 * CHUNK + 11);
    const uploaded = await runToEnd(uploadArgs(path), env);
    expect(uploaded.stderr).toBe('');
    expect(uploaded.code).toBe(0);
    const [started, ...rest] = uploaded.events;
    expect(started).toEqual({ event: 'started', uploadId: expect.any(String), resumed: false });
    const completed = rest.pop();
    expect(completed).toEqual({ event: 'completed', uploadId: started.uploadId, sha256: sha256(bytes) });
    expect(rest.every((event) => event.event === 'progress' && event.uploadId === started.uploadId)).toBe(true);
    expect(rest.at(-1)).toMatchObject({ bytesSent: bytes.length, bytesTotal: bytes.length, chunksDone: 4, totalChunks: 4 });
    await expectDelivered(ctx.stack, ctx.client, started.uploadId, bytes, CHUNK);
    // Done: the state file no longer points the file at that session.
    expect(await readFile(join(dir, 'state', 'sessions.json'), 'utf8')).not.toContain(started.uploadId);

    const connection = ['--endpoint', ctx.stack.baseUrl];
    const status = await runToEnd(['status', started.uploadId, ...connection], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ uploadId: started.uploadId, status: 'completed', sha256: sha256(bytes) });
    const waited = await runToEnd(['wait', started.uploadId, ...connection], env);
    expect(waited.code).toBe(0);

    const out = join(dir, 'downloaded.bin');
    const downloaded = await runToEnd(['download', started.uploadId, out, ...connection, '--json'], env);
    expect(downloaded.code).toBe(0);
    expect(downloaded.events).toEqual([{ event: 'downloaded', uploadId: started.uploadId, path: out, bytes: bytes.length, sha256: sha256(bytes) }]);
    expect((await readFile(out)).equals(bytes)).toBe(true);
  });

  it('resumes the same session after being killed with SIGKILL, sending only the missing chunks', async () => {
    const { path, bytes } = await fileOnDisk('killed.bin', 24 * CHUNK);
    const first = new CliRun(uploadArgs(path, '--parallel', '1'), env);
    await first.waitForEvent((event) => event.event === 'progress' && event.chunksDone >= 1);
    first.child.kill('SIGKILL');
    await first.exited;
    const { uploadId } = first.events()[0];
    // Let a chunk cut off mid-body be dropped and its lease lapse before counting.
    await sleep(1_500);
    const recordedBefore = await recordedChunks(ctx.stack, uploadId);
    expect(recordedBefore.length).toBeGreaterThan(0);
    expect(recordedBefore.length).toBeLessThan(24);
    const putsBefore = await chunkRequestsServed(ctx.stack.url('/metrics'));

    const second = await runToEnd(uploadArgs(path, '--parallel', '1'), env);
    expect(second.code).toBe(0);
    expect(second.events[0]).toEqual({ event: 'started', uploadId, resumed: true });
    expect(second.events[1]).toMatchObject({ event: 'progress', chunksDone: recordedBefore.length });
    expect(second.events.at(-1)).toEqual({ event: 'completed', uploadId, sha256: sha256(bytes) });
    expect((await chunkRequestsServed(ctx.stack.url('/metrics'))) - putsBefore).toBe(24 - recordedBefore.length);
    await expectDelivered(ctx.stack, ctx.client, uploadId, bytes, CHUNK);
  });

  it('stops on Ctrl-C with exit 130, saying how to resume, and the same command resumes', async () => {
    const { path, bytes } = await fileOnDisk('interrupted.bin', 24 * CHUNK);
    const first = new CliRun(uploadArgs(path, '--parallel', '1'), env);
    await first.waitForEvent((event) => event.event === 'progress' && event.chunksDone >= 1);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    const { uploadId } = first.events()[0];
    expect(first.events().at(-1)).toEqual({ event: 'interrupted', uploadId });
    expect(first.stderr).toMatch(/Run the same command again to resume/);

    const second = await runToEnd(uploadArgs(path, '--parallel', '1'), env);
    expect(second.code).toBe(0);
    expect(second.events[0]).toEqual({ event: 'started', uploadId, resumed: true });
    await expectDelivered(ctx.stack, ctx.client, uploadId, bytes, CHUNK);
  });

  it('retries while the API is down and completes once it is back on the same port', async () => {
    const { path, bytes } = await fileOnDisk('outage.bin', 24 * CHUNK);
    const run = new CliRun(uploadArgs(path, '--parallel', '1', '--retries', '30'), env);
    await run.waitForEvent((event) => event.event === 'progress' && event.chunksDone >= 1);
    await ctx.stack.api.stop();
    // The upload is not over: the CLI is retrying against a port nobody listens on.
    await sleep(1_000);
    expect(run.running).toBe(true);
    const receivedWhileDown = (await recordedChunks(ctx.stack, run.events()[0].uploadId)).length;
    expect(receivedWhileDown).toBeLessThan(24);
    await ctx.stack.startApi();

    expect(await run.exited).toBe(0);
    const events = run.events();
    expect(events.at(-1)).toEqual({ event: 'completed', uploadId: events[0].uploadId, sha256: sha256(bytes) });
    await expectDelivered(ctx.stack, ctx.client, events[0].uploadId, bytes, CHUNK);
  });

  it('exits 2 with the reason and the usage on a usage error', async () => {
    const { path } = await fileOnDisk('usage.bin', 10);
    const endpoint = ['--endpoint', ctx.stack.baseUrl];
    const cases: [string[], RegExp][] = [
      [['frobnicate', ...endpoint], /Unknown command "frobnicate"/],
      [['upload', path, '--colour', ...endpoint], /Unknown option '--colour'/],
      [['upload', join(dir, 'absent.bin'), ...endpoint], /absent\.bin does not exist/],
      [['upload', path, '--parallel', 'two', ...endpoint], /--parallel must be a whole number of at least 1, not "two"/],
      [['upload', path], /No endpoint: pass --endpoint <url> or set RESUMABLE_UPLOAD_ENDPOINT/],
      [['download', 'only-an-id', ...endpoint], /download takes <uploadId> <out>/],
      [[], /No command given/],
    ];
    for (const [args, message] of cases) {
      const result = await runToEnd(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('Usage:');
    }
  });

  it('exits 1 on a failed upload, with the contract code and what to do', async () => {
    const { path } = await fileOnDisk('tiny-chunks.bin', 5000);
    const result = await runToEnd(['upload', path, '--endpoint', ctx.stack.baseUrl, '--chunk-size', '1000', '--json'], env);
    expect(result.code).toBe(1);
    const failed = JSON.parse(result.stdout.trim().split('\n').at(-1) as string);
    expect(failed).toMatchObject({ event: 'failed', code: 'VALIDATION_FAILED' });
    expect(result.stderr).toMatch(/--chunk-size must be between/);
  });

  it('exits 1 from status and download of an upload the server does not know', async () => {
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAA';
    const status = await runToEnd(['status', unknown, '--endpoint', ctx.stack.baseUrl], env);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/UPLOAD_NOT_FOUND[\s\S]*Check the upload id/);
    const out = join(dir, 'never.bin');
    const download = await runToEnd(['download', unknown, out, '--endpoint', ctx.stack.baseUrl], env);
    expect(download.code).toBe(1);
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
