import { sleep } from '../support/processes';
import { ApiReplica, Stack } from '../support/stack';
import { UploadClient, randomFile, rawPut, recordedChunks } from '../support/upload-client';
import { between, expectDelivered, injections, putUntilAccepted } from '../support/faults';

const MiB = 1024 * 1024;
const CHUNK = MiB;
const CHUNKS_PER_FILE = 10;
const KILLS = injections(50);

/**
 * SIGKILL an API replica at a random point of a chunk request: part-way through the body, or
 * just after it while the server hashes, syncs and records. The chunk must count only if its
 * record was written; the retry goes through another replica once the dead one's lease lapses.
 */
describe(`an API replica killed while it receives a chunk (${KILLS} kills)`, () => {
  let stack: Stack;
  let replicas: ApiReplica[];

  beforeAll(async () => {
    stack = await Stack.start({ env: { CHUNK_LEASE_TTL: '1s' } });
    replicas = [await stack.startReplica(), await stack.startReplica()];
  });
  afterAll(() => stack?.stop());

  it('never counts a cut chunk, lets another replica take the retry, and delivers every file byte-exact', async () => {
    const outcomes = { cutMidBody: 0, killedAfterBody: 0, countedBeforeKill: 0 };
    let killed = 0;
    while (killed < KILLS) {
      const file = randomFile(CHUNKS_PER_FILE * CHUNK - between(1, CHUNK - 1));
      const { uploadId, totalChunks } = await new UploadClient(stack).create(file, { chunkSize: CHUNK });

      for (let index = 0; index < totalChunks; index++) {
        const [victim, survivor] = replicas;
        const start = index * CHUNK;
        const data = file.subarray(start, start + CHUNK);
        const put = rawPut(victim, uploadId, { 'content-range': `bytes ${start}-${start + data.length - 1}/${file.length}`, 'content-length': String(data.length) });

        const midBody = Math.random() < 0.5;
        let answered: Promise<unknown>;
        if (midBody) {
          put.write(data.subarray(0, between(1, data.length - 1)));
          answered = put.finish(undefined).catch(() => null);
          // Nothing more is sent: the kill lands while the server waits for the rest.
          await sleep(between(0, 40));
        } else {
          answered = put.finish(data);
          await sleep(between(0, 25));
        }
        await victim.process.stop('SIGKILL');
        await answered.catch(() => null);
        killed++;

        const counted = (await recordedChunks(stack, uploadId)).includes(index);
        if (midBody) {
          outcomes.cutMidBody++;
          expect(counted).toBe(false);
        } else {
          outcomes.killedAfterBody++;
          if (counted) outcomes.countedBeforeKill++;
        }

        // Bring the victim back while the survivor takes the retry, then swap roles.
        const [restarted] = await Promise.all([stack.startReplica(), putUntilAccepted(new UploadClient(survivor), uploadId, file, index, CHUNK)]);
        replicas = [survivor, restarted];
      }
      await expectDelivered(stack, new UploadClient(replicas[0]), uploadId, file, CHUNK);
    }
    expect(outcomes.cutMidBody + outcomes.killedAfterBody).toBe(killed);
    console.log(`API kills: ${killed} (${outcomes.cutMidBody} mid-body, ${outcomes.killedAfterBody} after the body, ${outcomes.countedBeforeKill} of those recorded before the kill); losses: 0`);
  }, 60_000 + KILLS * 6_000);
});
