import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { RedisChunkLease, ReplicaLiveness } from '@app/queue';
import { sleep } from './support/processes';

/** One replica's view of the lease store: its own liveness key and leases under it. */
function replica(redis: Redis, prefix: string, livenessTtlMs = 2_000) {
  const liveness = new ReplicaLiveness(process.env.E2E_REDIS_URL as string, prefix, livenessTtlMs);
  return { liveness, leases: new RedisChunkLease(redis, prefix, liveness) };
}

describe('chunk leases on Redis, with replica liveness', () => {
  let redis: Redis;
  let prefix: string;
  const started: ReplicaLiveness[] = [];

  beforeAll(() => {
    redis = new Redis(process.env.E2E_REDIS_URL as string, { maxRetriesPerRequest: 1 });
  });
  beforeEach(() => {
    prefix = `ru-e2e-${process.env.E2E_RUN_ID}-lease-${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((liveness) => liveness.stop()));
  });
  afterAll(() => redis.quit());

  function live(livenessTtlMs?: number) {
    const one = replica(redis, prefix, livenessTtlMs);
    one.liveness.start();
    started.push(one.liveness);
    return one;
  }

  it('keeps a live holder\'s lease from everyone else, however long they ask', async () => {
    const [a, b] = [live(), live()];
    const held = await a.leases.acquire('upload', 0, 30_000);
    expect(held).not.toBeNull();
    for (let i = 0; i < 5; i++) expect(await b.leases.acquire('upload', 0, 30_000)).toBeNull();
    expect(held!.holderAlive()).toBe(true);
    expect(await held!.renew()).toBe(true);
  });

  it('keeps the key and the leases of a replica whose main thread is blocked for several TTLs', async () => {
    const [busy, other] = [live(300), live()];
    const holder = await busy.liveness.currentHolder();
    const held = await busy.leases.acquire('upload', 4, 30_000);
    expect(held).not.toBeNull();

    // Nothing on this thread runs meanwhile: no timer, no Redis reply.
    const blockedUntil = Date.now() + 3 * busy.liveness.ttlMs;
    while (Date.now() < blockedUntil);

    expect(busy.liveness.isAlive(holder)).toBe(true);
    expect(held!.holderAlive()).toBe(true);
    expect(await redis.pttl(busy.liveness.keyOf(holder))).toBeGreaterThan(0);
    expect(await other.leases.acquire('upload', 4, 30_000)).toBeNull();
    expect(await held!.renew()).toBe(true);
    expect(await busy.liveness.currentHolder()).toBe(holder);
  });

  it('hands a dead holder\'s lease to the next asker as soon as its liveness key lapses', async () => {
    // The survivor is up first: the dead replica's short-lived key is not to lapse while it starts.
    const survivor = live();
    await survivor.liveness.currentHolder();
    const dead = replica(redis, prefix, 300);
    started.push(dead.liveness);
    const held = await dead.leases.acquire('upload', 0, 30_000);
    expect(held).not.toBeNull();
    expect(await survivor.leases.acquire('upload', 0, 30_000)).toBeNull();

    // The dead replica never refreshes its key again (it was never started).
    await sleep(400);
    expect(held!.holderAlive()).toBe(false);
    const taken = await survivor.leases.acquire('upload', 0, 30_000);
    expect(taken).not.toBeNull();
    // The old holder can neither extend nor drop what is no longer its lease.
    expect(await held!.renew()).toBe(false);
    await held!.release();
    expect(await live().leases.acquire('upload', 0, 30_000)).toBeNull();
  });

  it('comes back under a new holder id after its key lapsed, never answering for the old one', async () => {
    const paused = replica(redis, prefix, 300);
    started.push(paused.liveness);
    const before = await paused.liveness.currentHolder();
    const held = await paused.leases.acquire('upload', 1, 30_000);
    await sleep(400);
    const after = await paused.liveness.currentHolder();
    expect(after).not.toBe(before);
    expect(held!.holderAlive()).toBe(false);
    expect(paused.liveness.isAlive(after)).toBe(true);
    await paused.liveness.stop();
  });

  it('frees every lease of a replica that stops gracefully', async () => {
    const stopping = replica(redis, prefix);
    stopping.liveness.start();
    expect(await stopping.leases.acquire('upload', 2, 30_000)).not.toBeNull();
    await stopping.liveness.stop();
    expect(await live().leases.acquire('upload', 2, 30_000)).not.toBeNull();
  });

  it('never takes over a lease whose value names no holder', async () => {
    await redis.set(`${prefix}:lease:upload:3`, 'a-bare-token', 'PX', 30_000);
    expect(await live().leases.acquire('upload', 3, 30_000)).toBeNull();
  });
});
