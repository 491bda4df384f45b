import { HelmSlots } from './HelmSlots';

describe('HelmSlots', () => {
  it('runs at most max at a time and lets the rest in first come, first served', async () => {
    const slots = HelmSlots.create({ max: 2 });
    const first = await slots.acquire();
    const second = await slots.acquire();
    const order: string[] = [];
    const positions: Record<string, number[]> = { a: [], b: [] };
    const a = slots
      .acquire({ onPosition: p => positions.a.push(p) })
      .then(release => {
        order.push('a');
        return release;
      });
    const b = slots
      .acquire({ onPosition: p => positions.b.push(p) })
      .then(release => {
        order.push('b');
        return release;
      });
    expect(slots.usage).toEqual({ running: 2, waiting: 2 });
    expect(positions).toEqual({ a: [1], b: [2] });

    first!();
    const releaseA = await a;
    expect(order).toEqual(['a']);
    expect(positions.b).toEqual([2, 1]);
    expect(slots.usage).toEqual({ running: 2, waiting: 1 });

    // Releasing twice frees one slot only.
    first!();
    expect(slots.usage).toEqual({ running: 2, waiting: 1 });

    second!();
    const releaseB = await b;
    expect(order).toEqual(['a', 'b']);
    releaseA!();
    releaseB!();
    expect(slots.usage).toEqual({ running: 0, waiting: 0 });
  });

  it('gives up the place in the queue when cancelled, and moves the others up', async () => {
    const slots = HelmSlots.create({ max: 1 });
    const held = await slots.acquire();
    const controller = new AbortController();
    const cancelled = slots.acquire({ signal: controller.signal });
    const positions: number[] = [];
    const waiting = slots.acquire({ onPosition: p => positions.push(p) });
    expect(positions).toEqual([2]);

    controller.abort();
    await expect(cancelled).resolves.toBeUndefined();
    expect(positions).toEqual([2, 1]);
    expect(slots.usage).toEqual({ running: 1, waiting: 1 });

    held!();
    const release = await waiting;
    expect(release).toBeInstanceOf(Function);
    release!();
    // An already aborted signal never queues.
    await expect(
      slots.acquire({ signal: AbortSignal.abort() }),
    ).resolves.toBeUndefined();
    expect(slots.usage).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a cap that is not a positive integer', () => {
    for (const max of [0, -1, 1.5, NaN]) {
      expect(() => HelmSlots.create({ max })).toThrow(
        expect.objectContaining({ name: 'InputError' }),
      );
    }
  });
});
