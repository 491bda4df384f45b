import { LoggerService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  Operation,
  OperationKind,
  OperationLine,
  OperationStatus,
  RenderedObjects,
} from '@kubedeploy/plugin-deployments-common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  DatabaseOperationStore,
  ReleaseKey,
  StoredOperation,
} from './DatabaseOperationStore';
import { redactOperationOutput } from './redactOperationOutput';

/** What an executor gets while it runs. */
export interface OperationContext {
  operationId: string;
  /** Aborted on cancel (from any replica) and on backend shutdown. */
  signal: AbortSignal;
  /** A progress line; the runner redacts the operation's secrets in it before storing it. */
  line(text: string): void;
  setInputsHash(inputsHash: string): Promise<void>;
}

/** How an executor ended. A thrown error means 'failed' with its message. */
export interface OperationOutcome {
  status: Extract<OperationStatus, 'succeeded' | 'failed' | 'cancelled'>;
  result?: Operation['result'];
  error?: string;
}

export interface StartOperation extends ReleaseKey {
  planId: string;
  planRevision: number;
  kind: OperationKind;
  actor: string;
  targetName: string;
  inputsHash?: string;
  /**
   * Secret values the operation works with (a profile's). They are redacted,
   * in every encoded form, from the result, the error and every progress
   * line before anything is stored, so no reader of the operation sees them.
   */
  secretStrings?: string[];
  execute(context: OperationContext): Promise<OperationOutcome>;
  /** Called once with the final record, e.g. to update the plan's status. */
  onFinished?(operation: StoredOperation): Promise<void>;
}

/** Called on every change an observer may want to follow live. */
export type OperationListener = (operation: {
  id: string;
  planId: string;
  status: OperationStatus;
  lineCount: number;
}) => void;

const MAX_LINE_LENGTH = 4000;
const MAX_LINES = 20_000;

/**
 * Runs operations in the background as durable records: one per release at
 * a time (a database lock shared by every replica), progress lines flushed
 * as they come, a heartbeat that carries cancel requests between replicas,
 * and a sweep that marks operations of dead processes as interrupted.
 */
export class OperationRunner {
  readonly runnerId = `${hostname()}-${process.pid}-${randomUUID().slice(
    0,
    8,
  )}`;
  private readonly active = new Map<string, AbortController>();
  private readonly pending = new Map<string, Promise<void>>();
  private stopping = false;

  private constructor(
    private readonly store: DatabaseOperationStore,
    private readonly logger: LoggerService,
    private readonly heartbeatMs: number,
    private readonly staleAfterMs: number,
    private readonly listener: OperationListener,
    private readonly onRefused: (kind: OperationKind) => void,
  ) {}

  static create(options: {
    store: DatabaseOperationStore;
    logger: LoggerService;
    heartbeatMs?: number;
    staleAfterMs?: number;
    listener?: OperationListener;
    /** Called when an operation is refused because its release is busy (409), e.g. to count it. */
    onRefused?: (kind: OperationKind) => void;
  }): OperationRunner {
    const heartbeatMs = options.heartbeatMs ?? 5_000;
    return new OperationRunner(
      options.store,
      options.logger,
      heartbeatMs,
      Math.max(options.staleAfterMs ?? 30_000, heartbeatMs * 2),
      options.listener ?? (() => {}),
      options.onRefused ?? (() => {}),
    );
  }

  /** Records the operation and takes the release lock (409 when busy), then runs it in the background. */
  async start(request: StartOperation): Promise<StoredOperation> {
    const now = new Date().toISOString();
    const operation: StoredOperation = {
      id: randomUUID(),
      planId: request.planId,
      planRevision: request.planRevision,
      kind: request.kind,
      status: 'running',
      actor: request.actor,
      inputsHash: request.inputsHash,
      targetId: request.targetId,
      targetName: request.targetName,
      namespace: request.namespace,
      releaseName: request.releaseName,
      lineCount: 0,
      runnerId: this.runnerId,
      heartbeatAt: now,
      cancelRequested: false,
      createdAt: now,
    };
    try {
      await this.store.insertWithLock(operation);
    } catch (error) {
      if ((error as Error)?.name === 'ConflictError') {
        try {
          this.onRefused(request.kind);
        } catch {
          // Counting a refusal never changes the answer.
        }
      }
      throw error;
    }
    const controller = new AbortController();
    this.active.set(operation.id, controller);
    const run = this.run(operation, request, controller).finally(() => {
      this.active.delete(operation.id);
      this.pending.delete(operation.id);
    });
    this.pending.set(operation.id, run);
    return operation;
  }

  async get(id: string): Promise<StoredOperation> {
    const operation = await this.store.get(id);
    if (!operation) throw new NotFoundError(`Operation ${id} not found`);
    return operation;
  }

  /** Asks the operation to stop; the replica running it sends helm SIGTERM. */
  async cancel(id: string): Promise<StoredOperation> {
    const operation = await this.get(id);
    if (operation.status === 'running') {
      await this.store.requestCancel(id);
      this.active.get(id)?.abort();
    }
    return this.get(id);
  }

  /** Resolves when a local operation has finished (tests, shutdown). */
  async settled(id: string): Promise<void> {
    await this.pending.get(id);
  }

  /** Marks operations of processes that stopped heart-beating as interrupted. */
  async sweep(): Promise<StoredOperation[]> {
    // Measured by the database's clock, which every replica shares.
    const swept = await this.store.sweepStale(this.staleAfterMs);
    for (const operation of swept) {
      this.logger.warn(
        'Operation interrupted: the runner holding it stopped renewing its lease',
        { ...logFields(operation), runnerId: operation.runnerId },
      );
      this.listener({
        id: operation.id,
        planId: operation.planId,
        status: 'interrupted',
        lineCount: operation.lineCount,
      });
    }
    return swept;
  }

  /** On shutdown: cancel local work and wait briefly so helm gets its SIGTERM. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const controller of this.active.values()) controller.abort();
    await Promise.race([
      Promise.allSettled([...this.pending.values()]),
      new Promise(resolve => setTimeout(resolve, graceMs).unref()),
    ]);
  }

  private async run(
    operation: StoredOperation,
    request: StartOperation,
    controller: AbortController,
  ): Promise<void> {
    const started = Date.now();
    const redact = redactOperationOutput(request.secretStrings);
    // Ids as fields, so logs can be searched by operation, plan or release.
    const log = this.logger.child(logFields(operation));
    let seq = 0;
    let buffer: OperationLine[] = [];
    let flushing: Promise<void> = Promise.resolve();
    const flush = () => {
      const lines = buffer;
      buffer = [];
      flushing = flushing
        .then(() => this.store.appendLines(operation.id, lines))
        .catch(error =>
          log.warn(`Could not store the operation's progress: ${error}`),
        );
      if (lines.length > 0) {
        this.listener({
          id: operation.id,
          planId: operation.planId,
          status: 'running',
          lineCount: lines[lines.length - 1].seq,
        });
      }
      return flushing;
    };
    let leaseLost = false;
    const flushTimer = setInterval(() => {
      if (buffer.length > 0) void flush();
    }, 250);
    // Measured on this process's monotonic clock: how long since the lease
    // was last renewed. A runner that cannot renew it for longer than the
    // sweep would wait stops on its own before another replica frees the
    // release (self-fencing when the database is out of reach).
    let renewedAt = performance.now();
    const heartbeat = setInterval(() => {
      if (
        performance.now() - renewedAt > this.staleAfterMs - this.heartbeatMs &&
        !controller.signal.aborted
      ) {
        log.warn(
          'Operation could not renew its lease; stopping it before another replica takes the release',
          {
            secondsSinceRenewal: Math.round(
              (performance.now() - renewedAt) / 1000,
            ),
          },
        );
        leaseLost = true;
        controller.abort();
      }
      this.store
        .heartbeat(operation.id, this.runnerId)
        .then(({ held, cancelRequested }) => {
          if (held) renewedAt = performance.now();
          if (!held && !controller.signal.aborted) {
            // Fenced: another replica declared this runner dead and freed
            // the release. Stop helm now; the outcome is not recorded over
            // the interruption (finish only touches running operations).
            log.warn(
              'Operation lost its lease (swept as interrupted); stopping it',
            );
            leaseLost = true;
            controller.abort();
          } else if (cancelRequested) {
            controller.abort();
          }
        })
        .catch(error => log.warn(`Heartbeat failed: ${error}`));
    }, this.heartbeatMs);

    const context: OperationContext = {
      operationId: operation.id,
      signal: controller.signal,
      line: text => {
        if (seq >= MAX_LINES) return;
        seq += 1;
        buffer.push({
          seq,
          at: new Date().toISOString(),
          // Redacted before it is cut, so no part of a secret is left over.
          text:
            seq === MAX_LINES
              ? `(output truncated after ${MAX_LINES} lines)`
              : redact.text(text).slice(0, MAX_LINE_LENGTH),
        });
      },
      setInputsHash: inputsHash =>
        this.store.setInputsHash(operation.id, inputsHash),
    };

    let outcome: OperationOutcome;
    try {
      outcome = await request.execute(context);
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      let why = '';
      if (leaseLost) why = "This replica lost the operation's lease: ";
      else if (this.stopping) why = 'Backend shut down: ';
      outcome = controller.signal.aborted
        ? { status: 'cancelled', error: `${why}${message}` }
        : { status: 'failed', error: message };
    } finally {
      clearInterval(flushTimer);
      clearInterval(heartbeat);
    }
    if (outcome.status === 'cancelled') {
      context.line('Cancelled');
    }
    await flush();
    await this.store.finish(operation.id, {
      status: outcome.status,
      result: redact.value(outcome.result),
      error:
        outcome.error === undefined ? undefined : redact.text(outcome.error),
      finishedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
    });
    const finished = await this.get(operation.id);
    try {
      await request.onFinished?.(finished);
    } catch (error) {
      log.error(`Recording the operation's outcome failed: ${error}`);
    }
    this.listener({
      id: finished.id,
      planId: finished.planId,
      status: finished.status,
      lineCount: finished.lineCount,
    });
  }
}

/**
 * A result without the digests of what the render guard checked: they are
 * of content that may hold the profile's secrets, so a reader could test
 * guesses against them. The identities stay.
 */
function withoutContentDigests(
  result: NonNullable<StoredOperation['result']>,
): NonNullable<StoredOperation['result']> {
  const rendered = (result as { rendered?: RenderedObjects }).rendered;
  if (!rendered) {
    return result;
  }
  return {
    ...result,
    rendered: {
      includesHooks: rendered.includesHooks,
      objects: rendered.objects.map(({ identity, hook }) => ({
        identity,
        hook,
      })),
    },
  } as NonNullable<StoredOperation['result']>;
}

/** The API shape of an operation. */
export function toApiOperation(operation: StoredOperation): Operation {
  return {
    id: operation.id,
    planId: operation.planId,
    planRevision: operation.planRevision,
    kind: operation.kind,
    status: operation.status,
    actor: operation.actor,
    inputsHash: operation.inputsHash,
    target: operation.targetName,
    namespace: operation.namespace,
    releaseName: operation.releaseName,
    lineCount: operation.lineCount,
    error: operation.error,
    result: operation.result && withoutContentDigests(operation.result),
    createdAt: operation.createdAt,
    finishedAt: operation.finishedAt,
    durationMs: operation.durationMs,
    cancelRequested: operation.cancelRequested,
  };
}

/** The fields every log line about an operation carries. */
function logFields(operation: StoredOperation) {
  return {
    operationId: operation.id,
    planId: operation.planId,
    kind: operation.kind,
    target: operation.targetName,
    namespace: operation.namespace,
    releaseName: operation.releaseName,
  };
}
