import { withDeadline } from './deadline';

describe(withDeadline.name, () => {
  it('passes an answer that comes in time through', async () => {
    await expect(withDeadline(Promise.resolve('answer'), 1000)).resolves.toBe('answer');
  });

  it('passes a failure that comes in time through', async () => {
    await expect(withDeadline(Promise.reject(new Error('refused')), 1000)).rejects.toThrow('refused');
  });

  it('gives up once the time passes without an answer', async () => {
    await expect(withDeadline(new Promise(() => undefined), 50)).rejects.toThrow('no answer within 50 ms');
  });
});
