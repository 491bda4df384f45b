import { CustomErrorBase, InputError } from '@backstage/errors';

/** A user (or everyone together) already follows as many logs as allowed. Answers 429. */
export class TooManyLogStreamsError extends CustomErrorBase {
  name = 'TooManyLogStreamsError' as const;
  statusCode = 429;
}

export interface LogStreamLimiterOptions {
  /** Concurrent follow streams per user; 5 by default. */
  maxPerUser?: number;
  /** Concurrent follow streams of this backend instance; 100 by default. */
  maxTotal?: number;
}

const DEFAULT_MAX_PER_USER = 5;
const DEFAULT_MAX_TOTAL = 100;

/**
 * Caps how many log streams each user may follow at once, since every one
 * holds a request to an API server open. Counts are per backend instance.
 */
export class LogStreamLimiter {
  readonly #maxPerUser: number;
  readonly #maxTotal: number;
  readonly #active = new Map<string, number>();
  #total = 0;

  private constructor(maxPerUser: number, maxTotal: number) {
    this.#maxPerUser = maxPerUser;
    this.#maxTotal = maxTotal;
  }

  /** @throws InputError when a limit is not a positive whole number */
  static create(options: LogStreamLimiterOptions = {}): LogStreamLimiter {
    const maxPerUser = options.maxPerUser ?? DEFAULT_MAX_PER_USER;
    const maxTotal = options.maxTotal ?? DEFAULT_MAX_TOTAL;
    for (const [name, value] of [
      ['maxPerUser', maxPerUser],
      ['maxTotal', maxTotal],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new InputError(`${name} must be a positive whole number`);
      }
    }
    return new LogStreamLimiter(maxPerUser, maxTotal);
  }

  /**
   * Takes one stream slot for the user. Call the returned function when the
   * stream ends; calling it more than once frees the slot only once.
   *
   * @throws TooManyLogStreamsError when the user or the instance is at its limit
   */
  acquire(userRef: string): () => void {
    const count = this.#active.get(userRef) ?? 0;
    if (count >= this.#maxPerUser) {
      throw new TooManyLogStreamsError(
        `You are already following ${count} logs; close one to follow another (at most ${
          this.#maxPerUser
        } at a time)`,
      );
    }
    if (this.#total >= this.#maxTotal) {
      throw new TooManyLogStreamsError(
        'Too many logs are being followed right now; try again later',
      );
    }
    this.#active.set(userRef, count + 1);
    this.#total += 1;

    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      this.#total -= 1;
      const remaining = (this.#active.get(userRef) ?? 1) - 1;
      if (remaining > 0) {
        this.#active.set(userRef, remaining);
      } else {
        this.#active.delete(userRef);
      }
    };
  }

  /** Streams open now, for one user or in total. */
  activeStreams(userRef?: string): number {
    return userRef === undefined ? this.#total : this.#active.get(userRef) ?? 0;
  }
}
