import { Stack } from './stack';
import { rawRequest, recordedChunks } from './upload-client';

/**
 * HEAD's offset once the server has let go of an aborted PATCH (a chunk whose bytes had all
 * arrived may still be recorded just after the client left), with the chunks recorded then.
 */
export async function settledOffset(stack: Stack, id: string, headers: Record<string, string> = {}): Promise<{ offset: number; recorded: number[] }> {
  for (let attempt = 0; ; attempt++) {
    const before = await recordedChunks(stack, id);
    const head = await rawRequest(stack, 'HEAD', `/files/${id}`, { headers: { 'tus-resumable': '1.0.0', ...headers } });
    const after = await recordedChunks(stack, id);
    if (before.length === after.length || attempt === 50) return { offset: Number(head.headers.get('upload-offset')), recorded: after };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
