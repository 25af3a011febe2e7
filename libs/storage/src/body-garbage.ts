import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'major'; execution: 'async' }) => void;

/**
 * Under many concurrent chunks, request bodies sit in socket Buffers long enough (waiting for
 * the disk and the thread pool) to be promoted to V8's old generation, where they are freed
 * only by a full collection. V8 starts one for external memory only once about 64 MiB of it
 * has piled up since the last, and that garbage was the largest part of the API's peak RSS.
 * This starts a concurrent full collection once `slackBytes` more external memory is held
 * than the least seen since the previous one; checked every `intervalMs`. Returns a stop function.
 */
export function collectBodyGarbage(slackBytes = 16 * 1024 * 1024, intervalMs = 50): () => void {
  const collect = exposedCollector();
  if (!collect) return () => undefined;
  let floor = getHeapStatistics().external_memory;
  const timer = setInterval(() => {
    const external = getHeapStatistics().external_memory;
    if (external < floor) floor = external;
    else if (external > floor + slackBytes) {
      // The next one waits for as much growth again: memory that is live is not chased.
      floor = external;
      collect({ type: 'major', execution: 'async' });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** V8's `gc`, exposed for this process without a command-line flag; null if V8 refuses. */
function exposedCollector(): Collect | null {
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as Collect | undefined;
  return typeof collect === 'function' ? collect : null;
}
