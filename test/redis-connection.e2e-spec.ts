import Redis from 'ioredis';
import { RedisConnection } from '../libs/queue/src/replica-liveness.thread';
import { PrivateRedis } from './support/private-services';
import { eventually, sleep } from './support/processes';

// The replica liveness thread's own Redis connection, against real servers: one started with a
// password to check the URL's credentials and database, stopped and started again to check
// that it reconnects.
describe('the liveness thread\'s Redis connection', () => {
  let server: PrivateRedis;
  const opened: RedisConnection[] = [];
  const errors: string[] = [];

  function connect(url: string, timeoutMs = 2_000): RedisConnection {
    const connection = new RedisConnection(url, 'liveness-test', timeoutMs, (error) => errors.push(error.message));
    opened.push(connection);
    return connection;
  }

  beforeAll(async () => {
    server = await PrivateRedis.start(['--requirepass', 'p@ss:word']);
  });
  afterEach(() => {
    for (const connection of opened.splice(0)) connection.close();
    errors.splice(0);
  });
  afterAll(async () => {
    await server.stop();
  });

  const urlOf = (database = 3) => `redis://:${encodeURIComponent('p@ss:word')}@127.0.0.1:${server.port}/${database}`;

  it('signs in, selects the URL\'s database, names itself, and reads status, null, integer and string replies', async () => {
    const redis = connect(urlOf());
    expect(await redis.send('SET', 'key', 'value', 'PX', 10_000, 'NX')).toBe('OK');
    expect(await redis.send('SET', 'key', 'again', 'PX', 10_000, 'NX')).toBeNull();
    expect(await redis.send('GET', 'key')).toBe('value');
    expect(await redis.send('GET', 'key with ünïcode')).toBeNull();
    expect(await redis.send('SET', 'key with ünïcode', 'välue\r\nwith a line break')).toBe('OK');
    expect(await redis.send('GET', 'key with ünïcode')).toBe('välue\r\nwith a line break');

    const observer = new Redis(urlOf(), { maxRetriesPerRequest: 1 });
    try {
      expect(await observer.get('key')).toBe('value');
      expect(await observer.client('LIST')).toContain('name=liveness-test');
      await observer.select(0);
      expect(await observer.get('key')).toBeNull();
    } finally {
      observer.disconnect();
    }
    expect(await redis.send('DEL', 'key', 'key with ünïcode')).toBe(2);
    expect(errors).toEqual([]);
  });

  it('rejects a command Redis refuses with Redis\'s message, and goes on', async () => {
    const redis = connect(urlOf());
    await expect(redis.send('INCR', 'no-such-command-takes-this', 'extra')).rejects.toThrow(/wrong number of arguments/);
    expect(await redis.send('SET', 'after', '1', 'PX', 10_000)).toBe('OK');
  });

  it('says why when the password is wrong, and its commands time out', async () => {
    const redis = connect(`redis://:wrong@127.0.0.1:${server.port}/3`, 300);
    await expect(redis.send('SET', 'key', '1')).rejects.toThrow('Command timed out');
    expect(errors.some((message) => /WRONGPASS|invalid password/i.test(message))).toBe(true);
  });

  it('reconnects after Redis restarts; a command sent meanwhile waits for it within its timeout', async () => {
    const redis = connect(urlOf(), 8_000);
    expect(await redis.send('SET', 'key', '1')).toBe('OK');
    await server.stop();
    await eventually(async () => (errors.length > 0 ? true : undefined), 'the connection to notice', 5_000);
    const sent = redis.send('SET', 'key', '2');
    await sleep(300);
    await server.resume();
    expect(await sent).toBe('OK');
    expect(await redis.send('GET', 'key')).toBe('2');
  });

  it('fails what it still holds once closed', async () => {
    const redis = connect(`redis://127.0.0.1:1/0`, 5_000);
    const sent = redis.send('SET', 'key', '1');
    redis.close();
    await expect(sent).rejects.toThrow('Connection is closed');
    await expect(redis.send('SET', 'key', '1')).rejects.toThrow('Connection is closed');
  });
});
