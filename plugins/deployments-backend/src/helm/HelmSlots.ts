import { InputError } from '@backstage/errors';

/** A waiter's place in the queue: 1 is next. */
export type QueuePositionListener = (position: number) => void;

interface Waiter {
  grant: (release: () => void) => void;
  onPosition?: QueuePositionListener;
}

/**
 * At most `max` helm processes at a time on this replica; the rest wait
 * first come, first served. Each waiter hears its position when it starts
 * waiting and whenever it moves up.
 */
export class HelmSlots {
  readonly #max: number;
  #running = 0;
  readonly #queue: Waiter[] = [];

  private constructor(max: number) {
    this.#max = max;
  }

  /** @throws InputError unless `max` is a positive integer */
  static create(options: { max: number }): HelmSlots {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new InputError(
        `deployments.helm.maxConcurrent must be a positive integer, not ${options.max}`,
      );
    }
    return new HelmSlots(options.max);
  }

  /** How many run now, and how many wait. */
  get usage(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#queue.length };
  }

  /**
   * Resolves with a release function once a slot is free, or undefined when
   * the signal aborts first (the place in the queue is given up). Call the
   * release function exactly once, when helm has exited.
   */
  acquire(
    options: { signal?: AbortSignal; onPosition?: QueuePositionListener } = {},
  ): Promise<(() => void) | undefined> {
    const { signal, onPosition } = options;
    if (signal?.aborted) {
      return Promise.resolve(undefined);
    }
    if (this.#running < this.#max && this.#queue.length === 0) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise(resolve => {
      const waiter: Waiter = { grant: resolve, onPosition };
      const onAbort = () => {
        this.#leave(waiter);
        resolve(undefined);
      };
      waiter.grant = release => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      };
      this.#queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      notify(waiter, this.#queue.length);
    });
  }

  #leave(waiter: Waiter) {
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) {
      this.#queue.splice(index, 1);
      this.#announce(index);
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#next();
    };
  }

  #next() {
    let granted = false;
    while (this.#running < this.#max && this.#queue.length > 0) {
      const waiter = this.#queue.shift()!;
      this.#running++;
      waiter.grant(this.#releaser());
      granted = true;
    }
    if (granted) {
      this.#announce(0);
    }
  }

  /** Tells the waiters from `index` on their new positions. */
  #announce(index: number) {
    for (let i = index; i < this.#queue.length; i++) {
      notify(this.#queue[i], i + 1);
    }
  }
}

function notify(waiter: Waiter, position: number) {
  try {
    waiter.onPosition?.(position);
  } catch {
    // A listener's failure is not the queue's.
  }
}
