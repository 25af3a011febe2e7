import { SessionShape, SessionShapes } from './session-shapes';

const shape = (id: string): SessionShape => ({ id, ownerKeyHash: null, fileSize: 100, chunkSize: 10, totalChunks: 10 });

describe('SessionShapes', () => {
  it('keeps only the shape, not the rest of the session', () => {
    const shapes = new SessionShapes();
    shapes.remember({ ...shape('a'), status: 'uploading', receivedChunks: 3 } as SessionShape);
    expect(shapes.get('a')).toEqual(shape('a'));
  });

  it('forgets the session remembered longest ago once full, counting a repeat as recent', () => {
    const shapes = new SessionShapes(2);
    shapes.remember(shape('a'));
    shapes.remember(shape('b'));
    shapes.remember(shape('a'));
    shapes.remember(shape('c'));
    expect(shapes.get('b')).toBeUndefined();
    expect(shapes.get('a')).toEqual(shape('a'));
    expect(shapes.get('c')).toEqual(shape('c'));
  });
});
