import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command, AbortMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { eventually, freePort, portOpen, sleep } from './processes';

const run = promisify(execFile);

/** What a test needs to reach an S3 store: pass these to the service or to an S3 client. */
export interface S3Access {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** The settings of the service (S3_*, AWS_*) that point it at `bucket` in `access`. */
export function s3Environment(access: S3Access, bucket: string, prefix = ''): Record<string, string> {
  return {
    STORAGE_BACKEND: 's3',
    S3_BUCKET: bucket,
    S3_ENDPOINT: access.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: prefix,
    AWS_ACCESS_KEY_ID: access.accessKeyId,
    AWS_SECRET_ACCESS_KEY: access.secretAccessKey,
    AWS_REGION: access.region,
  };
}

export function s3ClientFor(access: S3Access): S3Client {
  return new S3Client({
    endpoint: access.endpoint,
    region: access.region,
    forcePathStyle: true,
    credentials: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** What another process needs to use, and finally stop, a server it did not start. */
interface ServerRecord {
  dir: string;
  port: number;
  pids: Record<string, number>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A throwaway Ceph cluster serving S3: one monitor, one OSD on a sparse file, one radosgw, all
 * on loopback, in a temporary directory that `stop` deletes. The daemons run in their own
 * session so they outlive the Jest worker that started them (a run may share one store).
 */
export class TestS3Server implements S3Access {
  readonly region = 'us-east-1';
  readonly accessKeyId = 'rutestaccesskey00000';
  readonly secretAccessKey = 'rutestsecretkey000000000000000000000000000';
  private readonly pids = new Map<string, number>();
  private buckets = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get access(): S3Access {
    return { endpoint: this.endpoint, region: this.region, accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey };
  }

  private get conf(): string {
    return join(this.dir, 'ceph.conf');
  }

  /** A server another process started, from its record. */
  static attach(record: ServerRecord): TestS3Server {
    const server = new TestS3Server(record.dir, record.port);
    for (const [name, pid] of Object.entries(record.pids)) server.pids.set(name, pid);
    return server;
  }

  toRecord(): ServerRecord {
    return { dir: this.dir, port: this.port, pids: Object.fromEntries(this.pids) };
  }

  /** Boots the cluster; throws with the daemons' log tails when it does not come up. */
  static async start(): Promise<TestS3Server> {
    const server = new TestS3Server(mkdtempSync(join(tmpdir(), 'ru-s3-')), await freePort());
    try {
      await server.boot();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  private async boot(): Promise<void> {
    const monitorPort = await freePort();
    // The OSD binds any free port of this window; a random one keeps parallel clusters apart.
    const osdPorts = 20_000 + Math.floor(Math.random() * 400) * 100;
    for (const sub of ['run', 'log', 'mon', 'osd']) mkdirSync(join(this.dir, sub));
    writeFileSync(this.conf, cephConf(this.dir, this.port, monitorPort, osdPorts));

    const keyring = join(this.dir, 'keyring');
    const key = (name: string, ...caps: string[]) => run('ceph-authtool', [keyring, ...(name === 'mon.' ? ['--create-keyring'] : []), '--gen-key', '-n', name, ...caps]);
    await key('mon.', '--cap', 'mon', 'allow *');
    await key('client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *');
    await key('osd.0', '--cap', 'mon', 'allow profile osd', '--cap', 'mgr', 'allow profile osd', '--cap', 'osd', 'allow *');
    await key('client.rgw', '--cap', 'mon', 'allow rw', '--cap', 'osd', 'allow rwx', '--cap', 'mgr', 'allow rw');

    const fsid = readFileSync(this.conf, 'utf8').match(/fsid = (\S+)/)?.[1] as string;
    const monmap = join(this.dir, 'monmap');
    await run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monitorPort}]`, '--fsid', fsid, monmap]);
    await run('ceph-mon', ['-c', this.conf, '--mkfs', '-i', 'a', '--monmap', monmap, '--keyring', keyring]);
    this.daemon('mon', 'ceph-mon', ['-c', this.conf, '-i', 'a', '-f']);
    await eventually(async () => ((await portOpen(monitorPort)) ? true : undefined), 'the Ceph monitor to listen', 30_000, 100).catch((error) => this.explain(error));

    const osdUuid = randomUUID();
    const { stdout } = await run('ceph', ['-c', this.conf, '--connect-timeout', '20', 'osd', 'new', osdUuid]);
    const osdId = stdout.trim();
    await run('ceph-osd', ['-c', this.conf, '-i', osdId, '--mkfs', '--osd-uuid', osdUuid]).catch((error) => this.explain(error));
    this.daemon('osd', 'ceph-osd', ['-c', this.conf, '-i', osdId, '-f']);
    await eventually(
      async () => {
        const { stdout: stat } = await run('ceph', ['-c', this.conf, '--connect-timeout', '5', 'osd', 'stat', '-f', 'json']);
        return JSON.parse(stat).num_up_osds === 1 ? true : undefined;
      },
      'the Ceph OSD to come up',
      60_000,
      300,
    ).catch((error) => this.explain(error));

    await this.startGateway();
    await run('radosgw-admin', ['-c', this.conf, 'user', 'create', '--uid=test', '--display-name=test', `--access-key=${this.accessKeyId}`, `--secret-key=${this.secretAccessKey}`]);
  }

  /** Starts radosgw (again, after `stopGateway`) and waits until it answers. */
  async startGateway(): Promise<void> {
    this.daemon('rgw', 'radosgw', ['-c', this.conf, '-n', 'client.rgw', '-f']);
    await eventually(async () => ((await portOpen(this.port)) ? true : undefined), 'radosgw to listen', 120_000, 100).catch((error) => this.explain(error));
  }

  /** Kills radosgw (as a crash would); the cluster behind it keeps its data. */
  async stopGateway(): Promise<void> {
    await this.kill('rgw', 'SIGKILL');
  }

  /** Runs `radosgw-admin` on this cluster (quotas, users); returns what it printed. */
  async admin(...args: string[]): Promise<string> {
    return (await run('radosgw-admin', ['-c', this.conf, ...args])).stdout;
  }

  /** A new empty bucket of its own for a test file. */
  async newBucket(): Promise<string> {
    const bucket = `ru-test-${process.pid}-${Date.now().toString(36)}-${this.buckets++}`;
    const client = s3ClientFor(this.access);
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
    return bucket;
  }

  /** Empties and deletes a bucket, aborting its open multipart uploads. */
  async removeBucket(bucket: string): Promise<void> {
    const client = s3ClientFor(this.access);
    try {
      for (;;) {
        const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        for (const upload of uploads.Uploads ?? []) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
        const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
        const keys = (objects.Contents ?? []).map((object) => ({ Key: object.Key as string }));
        if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
        if (!uploads.IsTruncated && !objects.IsTruncated) break;
      }
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
  }

  /** Stops every daemon this server started and deletes its state (killed outright: nothing is kept). */
  async stop(): Promise<void> {
    for (const name of [...this.pids.keys()].reverse()) await this.kill(name, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private daemon(name: string, command: string, args: string[]): void {
    const log = openSync(join(this.dir, 'log', `${name}.out`), 'a');
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    this.pids.set(name, child.pid);
  }

  private async kill(name: string, signal: NodeJS.Signals): Promise<void> {
    const pid = this.pids.get(name);
    if (pid === undefined) return;
    this.pids.delete(name);
    // Only a daemon of this server: its command line names this server's configuration (guards against a reused pid).
    if (!readCommandLine(pid).includes(this.conf)) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + 10_000;
    while (processAlive(pid) && Date.now() < deadline) await sleep(50);
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    while (processAlive(pid)) await sleep(20);
  }

  private explain(error: unknown): never {
    let tails = '';
    for (const name of ['mon', 'osd', 'rgw']) {
      try {
        tails += `\n--- ${name}\n${readFileSync(join(this.dir, 'log', `${name}.out`), 'utf8').slice(-2000)}`;
      } catch {
        // that daemon never started
      }
    }
    throw new Error(`the test S3 store did not start: ${(error as Error).message}${tails}`, { cause: error });
  }
}

function readCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

const sharedDir = (runId: string) => join(tmpdir(), `ru-s3-run-${runId}`);

/**
 * The test run's one S3 store, started by the first test file that asks (booting one takes
 * a while) and stopped by the global teardown. Give each file its own bucket (`newBucket`);
 * a file that stops radosgw needs a server of its own (`TestS3Server.start`).
 */
export async function sharedTestS3Server(): Promise<TestS3Server> {
  const runId = process.env.E2E_RUN_ID;
  if (!runId) throw new Error('sharedTestS3Server needs the e2e global setup (E2E_RUN_ID)');
  const dir = sharedDir(runId);
  const record = join(dir, 'server.json');
  const failure = join(dir, 'failed.txt');
  let starter = true;
  try {
    mkdirSync(dir);
  } catch {
    starter = false;
  }
  if (starter) {
    try {
      const server = await TestS3Server.start();
      writeFileSync(record, JSON.stringify(server.toRecord()));
      return server;
    } catch (error) {
      writeFileSync(failure, (error as Error).message);
      throw error;
    }
  }
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (existsSync(failure)) throw new Error(`the shared test S3 store failed to start: ${readFileSync(failure, 'utf8')}`);
    if (existsSync(record)) return TestS3Server.attach(JSON.parse(readFileSync(record, 'utf8')) as ServerRecord);
    if (Date.now() > deadline) throw new Error('the shared test S3 store did not start within 240 s');
    await sleep(200);
  }
}

/** Stops the run's shared S3 store, if a test file started one. */
export async function stopSharedTestS3Server(runId: string): Promise<void> {
  const dir = sharedDir(runId);
  const record = join(dir, 'server.json');
  if (existsSync(record)) await TestS3Server.attach(JSON.parse(readFileSync(record, 'utf8')) as ServerRecord).stop();
  rmSync(dir, { recursive: true, force: true });
}

/** A one-monitor, one-OSD cluster: pool size 1, cephx on, loopback only, small caches. */
function cephConf(dir: string, gatewayPort: number, monitorPort: number, osdPorts: number): string {
  return `[global]
fsid = ${randomUUID()}
mon host = [v2:127.0.0.1:${monitorPort}]
ms bind msgr1 = false
ms bind port min = ${osdPorts}
ms bind port max = ${osdPorts + 99}
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = ${dir}/keyring
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
log to stderr = false
err to stderr = true
pid file =
mon data avail warn = 2
mon data avail crit = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
[mon]
mon data = ${dir}/mon
mon cluster log file = ${dir}/log/cluster.log
[osd]
osd data = ${dir}/osd
osd objectstore = bluestore
bluestore block path = ${dir}/osd-block.img
bluestore block create = true
bluestore block size = ${20 * 1024 ** 3}
bluestore block db create = false
bluestore block wal create = false
osd memory target = ${1024 ** 3}
osd op num shards = 2
osd op num threads per shard = 1
[client]
rgw frontends = beast endpoint=127.0.0.1:${gatewayPort}
rgw data = ${dir}/rgw
rgw dns name = 127.0.0.1
rgw enable usage log = false
`;
}
