import { LogStreamLimiter, TooManyLogStreamsError } from './LogStreamLimiter';

describe('LogStreamLimiter', () => {
  const alice = 'user:default/alice';
  const bob = 'user:default/bob';

  it('refuses the sixth stream of one user and frees a slot on release', () => {
    const limiter = LogStreamLimiter.create();
    const releases = Array.from({ length: 5 }, () => limiter.acquire(alice));
    expect(limiter.activeStreams(alice)).toBe(5);

    let refusal: unknown;
    try {
      limiter.acquire(alice);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(TooManyLogStreamsError);
    expect(refusal).toMatchObject({
      name: 'TooManyLogStreamsError',
      statusCode: 429,
      message: expect.stringContaining('at most 5 at a time'),
    });

    // Other users have their own allowance.
    const bobs = limiter.acquire(bob);
    expect(limiter.activeStreams()).toBe(6);

    releases[0]();
    expect(limiter.activeStreams(alice)).toBe(4);
    const another = limiter.acquire(alice);
    expect(limiter.activeStreams(alice)).toBe(5);

    another();
    bobs();
    for (const release of releases) release();
    expect(limiter.activeStreams()).toBe(0);
    expect(limiter.activeStreams(alice)).toBe(0);
  });

  it('frees a slot only once however often release is called', () => {
    const limiter = LogStreamLimiter.create({ maxPerUser: 2 });
    const first = limiter.acquire(alice);
    const second = limiter.acquire(alice);
    first();
    first();
    first();
    expect(limiter.activeStreams(alice)).toBe(1);
    const third = limiter.acquire(alice);
    expect(() => limiter.acquire(alice)).toThrow(TooManyLogStreamsError);
    second();
    third();
  });

  it('caps all users together', () => {
    const limiter = LogStreamLimiter.create({ maxPerUser: 5, maxTotal: 3 });
    limiter.acquire(alice);
    limiter.acquire(bob);
    limiter.acquire('user:default/carol');
    expect(() => limiter.acquire('user:default/dave')).toThrow(
      expect.objectContaining({ name: 'TooManyLogStreamsError' }),
    );
  });

  it('refuses limits that are not positive whole numbers', () => {
    for (const options of [
      { maxPerUser: 0 },
      { maxPerUser: 1.5 },
      { maxTotal: -1 },
      { maxPerUser: Number.NaN },
    ]) {
      expect(() => LogStreamLimiter.create(options)).toThrow(
        expect.objectContaining({ name: 'InputError' }),
      );
    }
  });
});
