import { SourceChangedError } from '../../../libs/client/src/node';
import { describeFailure } from './failures';

describe('describeFailure', () => {
  it('names a file written to during its upload, and says to stop the writer first', () => {
    const failure = describeFailure(new SourceChangedError('/data/a.bin changed while being uploaded.'));
    expect(failure).toEqual({ code: 'FILE_CHANGED', message: '/data/a.bin changed while being uploaded.', advice: expect.stringMatching(/nothing writes to the file/) });
  });
});
