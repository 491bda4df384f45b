import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { createHash } from 'node:crypto';
import { ClusterAccess, ClusterConnection } from '../cluster/ClusterConnection';
import { credentialSecrets } from '../cluster/credentials';
import { createRedactor, Redactor } from '../lib/redaction';
import {
  getManifestArguments,
  getStoredObjectsArguments,
  historyArguments,
  templateArguments,
  HelmReleaseArguments,
  processDeadlineSeconds,
  rollbackArguments,
  testArguments,
  uninstallArguments,
  upgradeArguments,
} from './helmArguments';
import { HelmCommandError } from './HelmCommandError';
import {
  classifyHelmFailure,
  formatProgressLine,
  HelmReleaseStatus,
  HelmRenderedRelease,
  HelmRevision,
  parseHistory,
  parseReleaseStatus,
  parseRenderedRelease,
  summarizeHelmError,
} from './helmOutput';
import { HelmVersion, parseHelmVersion } from './helmVersion';
import { HelmSlots } from './HelmSlots';
import {
  defaultWorkRoot,
  HelmWorkspace,
  removeLeftoverWorkspaces,
} from './HelmWorkspace';
import { isProcessAlive } from './processGroups';
import { HelmProcessResult, runHelmProcess } from './runHelmProcess';
import { PostRenderCheck, PostRenderGuard } from './PostRenderGuard';

/** Where a release lives and whose credentials act on it. */
export interface HelmTarget {
  /** Decrypted for this operation only; impersonation is passed as helm flags. */
  access: ClusterAccess;
  namespace: string;
  releaseName: string;
}

/** A pinned chart: the archive and the digest it was registered with. */
export interface HelmChart {
  archive: Buffer;
  /** `sha256:<hex>` of the archive; checked again before every use. */
  digest: string;
}

export interface HelmRunOptions {
  /** helm's --timeout: for each wait (resources, hooks, rollback). */
  timeoutSeconds: number;
  /** Cancels the run: SIGTERM, then SIGKILL after the grace period. */
  signal?: AbortSignal;
  /** Progress lines from helm, already redacted. */
  onLine?: (line: string) => void;
  /** Value strings to redact from helm's output (secret values of the profile). */
  secretValues?: string[];
}

export interface HelmDryRunOptions extends HelmRunOptions {
  createNamespace: boolean;
  historyMax: number;
  /**
   * Every document helm renders passes through this check before helm goes
   * on (helm 4: manifest and hooks; helm 3: the manifest only); what it
   * returns is what helm uses. Required: helm never writes unchecked.
   */
  guard: PostRenderCheck;
}

export interface HelmUpgradeOptions extends HelmDryRunOptions {
  /** helm 4 --rollback-on-failure, helm 3 --atomic; both wait for readiness. */
  rollbackOnFailure: boolean;
  /** Wait until the resources are ready (helm 4 --wait=watcher, helm 3 --wait). */
  wait: boolean;
}

export interface HelmRollbackOptions extends HelmRunOptions {
  wait: boolean;
  historyMax?: number;
}

export interface HelmUninstallOptions extends HelmRunOptions {
  /** Wait until the release's resources are deleted. */
  wait?: boolean;
}

export interface HelmTestResult {
  passed: boolean;
  /** helm's report of each test suite (phase, start, end), redacted. */
  output: string;
}

export interface HelmReadOptions {
  signal?: AbortSignal;
}

// helm exits promptly on SIGTERM unless it is rolling back, which needs the API server a while longer.
const DEFAULT_TERMINATION_GRACE_SECONDS = 60;
const READ_DEADLINE_SECONDS = 60;
const DEFAULT_MAX_CONCURRENT = 4;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

interface RunSpec {
  command: string;
  target: HelmTarget;
  buildArgs: (files: RunFiles) => string[];
  chart?: HelmChart;
  values?: Record<string, unknown>;
  timeoutSeconds?: number;
  deadlineSeconds: number;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  secretValues?: string[];
  /** Forward stdout lines as progress; off where stdout is JSON that holds the values. */
  streamStdout: boolean;
  /** Runs helm with the post-render guard calling this check. */
  guard?: PostRenderCheck;
  /** Changes the release: refused while an earlier helm on it may still run. */
  writes?: boolean;
}

/** The paths #execute fills in for a run's arguments. */
interface RunFiles {
  chart?: string;
  values?: string;
  postRendererFlags: string[];
}

/**
 * The only place that runs the helm CLI. Every run gets a private directory
 * with a 0600 kubeconfig built from the target's decrypted credentials, the
 * values and the digest-checked chart archive, isolated helm directories and
 * a minimal environment; the directory is removed when helm has exited,
 * whatever happened. helm's output is redacted before it reaches progress
 * lines or errors. Differences between helm 3 and helm 4 stay in here.
 */
export class HelmRunner {
  readonly version: { major: 3 | 4; full: string };
  readonly #helmVersion: HelmVersion;
  readonly #logger: LoggerService;
  readonly #binary: string;
  readonly #workRoot: string;
  readonly #killGraceMs: number;
  readonly #slots: HelmSlots;
  readonly #memoryLimitMiB: number | undefined;
  readonly #onSlotWait: ((waitedMs: number) => void) | undefined;
  /**
   * The helm process of each release's latest writing run on this replica,
   * kept past the run while it may still be alive (a launcher that died
   * with it running), so no second one writes the release meanwhile.
   */
  readonly #writers = new Map<string, number>();

  private constructor(options: {
    version: HelmVersion;
    logger: LoggerService;
    binary: string;
    workRoot: string;
    killGraceMs: number;
    slots: HelmSlots;
    memoryLimitMiB?: number;
    onSlotWait?: (waitedMs: number) => void;
  }) {
    this.#helmVersion = options.version;
    this.version = { major: options.version.major, full: options.version.full };
    this.#logger = options.logger;
    this.#binary = options.binary;
    this.#workRoot = options.workRoot;
    this.#killGraceMs = options.killGraceMs;
    this.#slots = options.slots;
    this.#memoryLimitMiB = options.memoryLimitMiB;
    this.#onSlotWait = options.onSlotWait;
  }

  /** helm processes of this replica: how many run now, and how many wait for a slot. */
  get usage(): { running: number; waiting: number } {
    return this.#slots.usage;
  }

  /**
   * Removes the run directories (decrypted kubeconfigs and values) that a
   * crashed backend left in the work root, killing any helm still running
   * in one. {@link HelmRunner.create} does this too; the plugin also calls
   * it at start-up, before helm is first used.
   */
  static async removeLeftovers(options: {
    logger: LoggerService;
    workRoot?: string;
  }): Promise<void> {
    const workRoot = options.workRoot ?? (await defaultWorkRoot());
    const removed = await removeLeftoverWorkspaces(workRoot);
    if (removed.length > 0) {
      options.logger.warn(
        `Removed ${removed.length} helm run director${
          removed.length === 1 ? 'y' : 'ies'
        } a crashed backend left in ${workRoot}: ${removed.join(', ')}`,
      );
    }
  }

  /**
   * Detects the helm version once.
   *
   * @throws ServiceUnavailableError when helm is missing or unsupported
   */
  static async create(options: {
    logger: LoggerService;
    /** Defaults to `helm` on PATH. */
    helmBinary?: string;
    /**
     * Where the private run directories are created; defaults to /dev/shm
     * when writable (memory-backed), else the OS temp dir.
     */
    workRoot?: string;
    /** How long helm may clean up after SIGTERM before SIGKILL (default 60 s). */
    terminationGraceSeconds?: number;
    /** At most this many helm processes at a time; the rest queue (default 4). */
    maxConcurrent?: number;
    /** helm's soft memory limit (Go's GOMEMLIMIT), in MiB; none by default. */
    memoryLimitMiB?: number;
    /** Told how long each run waited for a slot (0 when one was free), e.g. for a metric. */
    onSlotWait?: (waitedMs: number) => void;
  }): Promise<HelmRunner> {
    const binary = options.helmBinary ?? 'helm';
    const workRoot = options.workRoot ?? (await defaultWorkRoot());
    const killGraceMs =
      (options.terminationGraceSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS) *
      1000;
    const slots = HelmSlots.create({
      max: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
    });
    const memoryLimitMiB = options.memoryLimitMiB;
    if (
      memoryLimitMiB !== undefined &&
      (!Number.isInteger(memoryLimitMiB) || memoryLimitMiB < 1)
    ) {
      throw new InputError(
        `deployments.helm.memoryLimitMiB must be a positive integer, not ${memoryLimitMiB}`,
      );
    }
    await HelmRunner.removeLeftovers({ logger: options.logger, workRoot });
    const workspace = await HelmWorkspace.create(workRoot);
    let result: HelmProcessResult;
    try {
      result = await runHelmProcess({
        binary,
        args: ['version', '--template={{.Version}}'],
        env: workspace.environment(),
        cwd: workspace.path,
        deadlineMs: 30_000,
        killGraceMs,
      });
    } catch (error) {
      throw helmNotStarted(binary, error);
    } finally {
      await workspace.dispose();
    }
    if (result.exitCode !== 0) {
      throw new ServiceUnavailableError(
        `\`${binary} version\` failed: ${summarizeHelmError(
          result.stderr,
          300,
        )}`,
      );
    }
    const version = parseHelmVersion(result.stdout);
    options.logger.info('Using helm', { version: version.full, binary });
    return new HelmRunner({
      version,
      logger: options.logger,
      binary,
      workRoot,
      killGraceMs,
      slots,
      memoryLimitMiB,
      onSlotWait: options.onSlotWait,
    });
  }

  /**
   * Renders the release on the server (`upgrade --install --dry-run=server`)
   * without changing anything: the manifest, the hooks and the notes.
   * The manifest can contain Secrets: redact before showing it to anyone.
   */
  async dryRun(
    target: HelmTarget,
    chart: HelmChart,
    values: Record<string, unknown>,
    options: HelmDryRunOptions,
  ): Promise<HelmRenderedRelease> {
    const result = await this.#run({
      command: 'upgrade --dry-run',
      target,
      chart,
      values,
      buildArgs: files =>
        upgradeArguments(this.#helmVersion, {
          ...releaseArguments(target),
          chartPath: files.chart!,
          valuesPath: files.values!,
          timeoutSeconds: options.timeoutSeconds,
          historyMax: options.historyMax,
          createNamespace: options.createNamespace,
          mode: 'dry-run',
          postRendererFlags: files.postRendererFlags,
          rollbackOnFailure: false,
          wait: false,
        }),
      timeoutSeconds: options.timeoutSeconds,
      deadlineSeconds: processDeadlineSeconds(options.timeoutSeconds),
      signal: options.signal,
      onLine: options.onLine,
      secretValues: options.secretValues,
      streamStdout: false,
      guard: options.guard,
    });
    return parseRenderedRelease(result.stdout);
  }

  /**
   * `helm upgrade --install`: installs or upgrades the release with the
   * pinned chart and the values.
   *
   * @throws HelmCommandError with `rolledBack` set when helm rolled back
   */
  async upgrade(
    target: HelmTarget,
    chart: HelmChart,
    values: Record<string, unknown>,
    options: HelmUpgradeOptions,
  ): Promise<HelmReleaseStatus> {
    const result = await this.#run({
      command: 'upgrade',
      writes: true,
      target,
      chart,
      values,
      buildArgs: files =>
        upgradeArguments(this.#helmVersion, {
          ...releaseArguments(target),
          chartPath: files.chart!,
          valuesPath: files.values!,
          timeoutSeconds: options.timeoutSeconds,
          historyMax: options.historyMax,
          createNamespace: options.createNamespace,
          mode: 'apply',
          postRendererFlags: files.postRendererFlags,
          rollbackOnFailure: options.rollbackOnFailure,
          wait: options.wait,
        }),
      timeoutSeconds: options.timeoutSeconds,
      deadlineSeconds: processDeadlineSeconds(options.timeoutSeconds, {
        rollbackOnFailure: options.rollbackOnFailure,
      }),
      signal: options.signal,
      onLine: options.onLine,
      secretValues: options.secretValues,
      streamStdout: false,
      guard: options.guard,
    });
    return parseReleaseStatus(result.stdout);
  }

  /**
   * `helm test`. A failing or unfinished test is a result, not an error.
   * Test pods' logs are not included (helm's --logs only works for Pod hooks);
   * read them through the cluster while the hook's pods still exist.
   *
   * @throws HelmCommandError when the tests could not run at all
   */
  async test(
    target: HelmTarget,
    options: HelmRunOptions,
  ): Promise<HelmTestResult> {
    const spec: RunSpec = {
      command: 'test',
      target,
      buildArgs: () =>
        testArguments(this.#helmVersion, {
          ...releaseArguments(target),
          timeoutSeconds: options.timeoutSeconds,
        }),
      timeoutSeconds: options.timeoutSeconds,
      deadlineSeconds: processDeadlineSeconds(options.timeoutSeconds),
      signal: options.signal,
      onLine: options.onLine,
      secretValues: options.secretValues,
      streamStdout: true,
    };
    const { result, redact } = await this.#execute(spec);
    const stdout = redact(result.stdout).trim();
    if (succeeded(result)) {
      return { passed: true, output: stdout };
    }
    const failure = this.#failure(spec, redact, result);
    // A failing or unfinished test pod is the answer; anything else means the tests never ran.
    if (
      result.signal === undefined &&
      (failure.reason === 'failed' || failure.reason === 'timeout')
    ) {
      return {
        passed: false,
        output: [stdout, summarizeHelmError(redact(result.stderr))]
          .filter(Boolean)
          .join('\n'),
      };
    }
    throw failure;
  }

  /** `helm rollback` to a revision. */
  async rollback(
    target: HelmTarget,
    revision: number,
    options: HelmRollbackOptions,
  ): Promise<HelmReleaseStatus> {
    await this.#run({
      command: 'rollback',
      writes: true,
      target,
      buildArgs: () =>
        rollbackArguments(this.#helmVersion, {
          ...releaseArguments(target),
          revision,
          timeoutSeconds: options.timeoutSeconds,
          wait: options.wait,
          ...(options.historyMax !== undefined && {
            historyMax: options.historyMax,
          }),
        }),
      timeoutSeconds: options.timeoutSeconds,
      deadlineSeconds: processDeadlineSeconds(options.timeoutSeconds),
      signal: options.signal,
      onLine: options.onLine,
      secretValues: options.secretValues,
      streamStdout: true,
    });
    // helm rollback has no JSON output; the new revision is the latest one.
    const status = await this.status(target, { signal: options.signal });
    if (!status) {
      throw new ConflictError(
        `release "${target.releaseName}" in namespace "${target.namespace}" disappeared after the rollback`,
      );
    }
    return status;
  }

  /** `helm uninstall`. */
  async uninstall(
    target: HelmTarget,
    options: HelmUninstallOptions,
  ): Promise<void> {
    await this.#run({
      command: 'uninstall',
      writes: true,
      target,
      buildArgs: () =>
        uninstallArguments(this.#helmVersion, {
          ...releaseArguments(target),
          timeoutSeconds: options.timeoutSeconds,
          wait: options.wait ?? false,
        }),
      timeoutSeconds: options.timeoutSeconds,
      deadlineSeconds: processDeadlineSeconds(options.timeoutSeconds),
      signal: options.signal,
      onLine: options.onLine,
      secretValues: options.secretValues,
      streamStdout: true,
    });
  }

  /**
   * Renders the chart locally (`helm template`): every object, hooks
   * included, as one manifest. Needs no cluster access; may hold Secrets.
   */
  async template(
    target: HelmTarget,
    chart: HelmChart,
    values: Record<string, unknown>,
    options: HelmRunOptions,
  ): Promise<{ manifest: string; hooks: [] }> {
    const result = await this.#run({
      command: 'template',
      target,
      chart,
      values,
      buildArgs: files =>
        templateArguments(this.#helmVersion, {
          ...releaseArguments(target),
          chartPath: files.chart!,
          valuesPath: files.values!,
        }),
      deadlineSeconds: processDeadlineSeconds(options.timeoutSeconds),
      signal: options.signal,
      onLine: options.onLine,
      secretValues: options.secretValues,
      streamStdout: false,
    });
    return { manifest: result.stdout, hooks: [] };
  }

  /** The release's revisions, oldest first; [] when the release does not exist. */
  async history(
    target: HelmTarget,
    options: HelmReadOptions & { max?: number } = {},
  ): Promise<HelmRevision[]> {
    try {
      const result = await this.#run({
        command: 'history',
        target,
        buildArgs: () =>
          historyArguments(this.#helmVersion, {
            ...releaseArguments(target),
            ...(options.max !== undefined && { max: options.max }),
          }),
        deadlineSeconds: READ_DEADLINE_SECONDS,
        signal: options.signal,
        streamStdout: false,
      });
      return parseHistory(result.stdout);
    } catch (error) {
      if (error instanceof HelmCommandError && error.reason === 'not-found') {
        return [];
      }
      throw error;
    }
  }

  /** The latest revision's state, or undefined when the release does not exist. */
  async status(
    target: HelmTarget,
    options: HelmReadOptions = {},
  ): Promise<HelmReleaseStatus | undefined> {
    // The last history entry is what `helm status` reports, without the
    // values and live resources `status -o json` would fetch and print.
    const [latest] = await this.history(target, { ...options, max: 1 });
    return latest
      ? {
          revision: latest.revision,
          status: latest.status,
          description: latest.description,
        }
      : undefined;
  }

  /** The manifest of the latest or of one revision; undefined when there is none. */
  async getManifest(
    target: HelmTarget,
    revision?: number,
    options: HelmReadOptions = {},
  ): Promise<string | undefined> {
    return this.#readRelease('get manifest', target, options, () =>
      getManifestArguments(this.#helmVersion, {
        ...releaseArguments(target),
        ...(revision !== undefined && { revision }),
      }),
    );
  }

  /**
   * Everything a stored revision would make helm act on, manifest and hooks,
   * as one stream of documents, read in one helm run; undefined when there
   * is no such release or revision.
   */
  async getStoredObjects(
    target: HelmTarget,
    revision?: number,
    options: HelmReadOptions = {},
  ): Promise<string | undefined> {
    return this.#readRelease('get all', target, options, () =>
      getStoredObjectsArguments(this.#helmVersion, {
        ...releaseArguments(target),
        ...(revision !== undefined && { revision }),
      }),
    );
  }

  /** A read of a release's stored record: helm's stdout, or undefined when it does not exist. */
  async #readRelease(
    command: string,
    target: HelmTarget,
    options: HelmReadOptions,
    buildArgs: () => string[],
  ): Promise<string | undefined> {
    try {
      const result = await this.#run({
        command,
        target,
        buildArgs,
        deadlineSeconds: READ_DEADLINE_SECONDS,
        signal: options.signal,
        streamStdout: false,
      });
      return result.stdout;
    } catch (error) {
      if (error instanceof HelmCommandError && error.reason === 'not-found') {
        return undefined;
      }
      throw error;
    }
  }

  #redactor(target: HelmTarget, secretValues: string[] = []): Redactor {
    return createRedactor([
      ...credentialSecrets(target.access.credentials),
      ...secretValues,
    ]);
  }

  async #run(spec: RunSpec): Promise<HelmProcessResult> {
    const { result, redact, guard } = await this.#execute(spec);
    if (guard?.failure) {
      // helm only saw its post-renderer fail; the check's own reason is the answer.
      throw guard.failure;
    }
    if (succeeded(result)) {
      if (guard && guard.calls === 0) {
        throw new HelmCommandError({
          command: spec.command,
          releaseName: spec.target.releaseName,
          namespace: spec.target.namespace,
          reason: 'failed',
          rolledBack: false,
          uninstalled: false,
          summary:
            'helm finished without passing its rendered objects through the post-render guard',
          stderrTail: '',
        });
      }
      return result;
    }
    throw this.#failure(spec, redact, result);
  }

  /** Runs helm once in a fresh private workspace; settles with helm's outcome, whatever it was. */
  async #execute(spec: RunSpec): Promise<{
    result: HelmProcessResult;
    redact: Redactor;
    guard?: PostRenderGuard;
  }> {
    const { target } = spec;
    // Everything that can be refused is refused before anything touches the
    // disk: names and flags (paths are only placeholders here), the digest, the access.
    spec.buildArgs({
      chart: '/chart.tgz',
      values: '/values.json',
      postRendererFlags: ['--post-renderer=/guard'],
    });
    const archive = spec.chart ? verifiedArchive(spec.chart) : undefined;
    const kubeconfig = ClusterConnection.fromAccess({
      ...target.access,
      impersonate: undefined,
    }).toKubeconfigYaml();
    const redact = this.#redactor(target, spec.secretValues);
    const cancelled = (): { result: HelmProcessResult; redact: Redactor } => ({
      result: {
        stdout: '',
        stderr: '',
        cancelled: true,
        timedOut: false,
        outputTooLarge: false,
      },
      redact,
    });
    if (spec.signal?.aborted) {
      return cancelled();
    }
    const writer = `${target.namespace}/${target.releaseName}`;
    if (spec.writes) {
      this.#refuseWhileWriterAlive(writer);
    }

    // Nothing is decrypted to disk while waiting for a slot.
    const waitingSince = performance.now();
    const release = await this.#slots.acquire({
      signal: spec.signal,
      onPosition: position =>
        spec.onLine?.(`waiting for a helm slot (position ${position})`),
    });
    if (!release) {
      return cancelled();
    }
    this.#onSlotWait?.(performance.now() - waitingSince);
    if (spec.writes) {
      // Another run on the release may have started while this one waited.
      try {
        this.#refuseWhileWriterAlive(writer);
      } catch (error) {
        release();
        throw error;
      }
    }
    let workspace: HelmWorkspace;
    try {
      workspace = await HelmWorkspace.create(this.#workRoot);
    } catch (error) {
      release();
      throw error;
    }
    const started = Date.now();
    let guard: PostRenderGuard | undefined;
    let pid: number | undefined;
    try {
      if (spec.guard) {
        guard = await PostRenderGuard.open(workspace.path, spec.guard);
      }
      const kubeconfigPath = await workspace.writeFile(
        'kubeconfig',
        kubeconfig,
      );
      const files: RunFiles = {
        postRendererFlags: guard?.flags(this.#helmVersion) ?? [],
      };
      if (archive) {
        files.chart = await workspace.writeFile('chart.tgz', archive);
      }
      if (spec.values) {
        // JSON is YAML, and cannot be misread the way hand-built YAML can.
        files.values = await workspace.writeFile(
          'values.json',
          JSON.stringify(spec.values),
        );
      }
      const onLine = spec.onLine;
      const forward = (line: string, fromStderr: boolean) => {
        if (!onLine) {
          return;
        }
        const text = fromStderr
          ? formatProgressLine(redact(line))
          : redact(line).trimEnd();
        if (text) {
          try {
            onLine(text);
          } catch (error) {
            this.#logger.warn('A helm progress listener failed', {
              error: String(error),
            });
          }
        }
      };

      let result: HelmProcessResult;
      try {
        result = await runHelmProcess({
          binary: this.#binary,
          args: spec.buildArgs(files),
          env: {
            ...workspace.environment(kubeconfigPath),
            ...guard?.environment(this.#helmVersion),
            // A soft limit the Go runtime honours by collecting harder.
            ...(this.#memoryLimitMiB !== undefined && {
              GOMEMLIMIT: `${this.#memoryLimitMiB}MiB`,
            }),
          },
          onSpawn: spawned => {
            pid = spawned;
            if (spec.writes) {
              this.#writers.set(writer, spawned);
            }
          },
          cwd: workspace.path,
          signal: spec.signal,
          deadlineMs: spec.deadlineSeconds * 1000,
          killGraceMs: this.#killGraceMs,
          onStderrLine: line => forward(line, true),
          ...(spec.streamStdout && {
            onStdoutLine: (line: string) => forward(line, false),
          }),
        });
      } catch (error) {
        throw helmNotStarted(this.#binary, error);
      }
      this.#logger.debug(
        `helm ${spec.command} of ${target.releaseName} in ${
          target.namespace
        } (pid ${pid ?? 'none'}) ended after ${Date.now() - started} ms: ${
          result.exitCode !== undefined
            ? `exit code ${result.exitCode}`
            : `signal ${result.signal}`
        }`,
      );
      return { result, redact, guard };
    } finally {
      if (spec.writes && pid !== undefined) {
        if (isProcessAlive(pid)) {
          this.#logger.error(
            `helm ${spec.command} of ${target.releaseName} in ${target.namespace} (pid ${pid}) could not be stopped; no other helm may write the release on this backend while it runs`,
          );
        } else if (this.#writers.get(writer) === pid) {
          this.#writers.delete(writer);
        }
      }
      release();
      await guard?.close();
      await workspace.dispose();
    }
  }

  /** @throws ConflictError while an earlier writing helm on the release still runs here */
  #refuseWhileWriterAlive(writer: string) {
    const pid = this.#writers.get(writer);
    if (pid === undefined) {
      return;
    }
    if (!isProcessAlive(pid)) {
      this.#writers.delete(writer);
      return;
    }
    throw new ConflictError(
      `an earlier helm process (pid ${pid}) still runs on release ${writer} on this backend; refusing to start another until it has ended`,
    );
  }

  #failure(
    spec: RunSpec,
    redact: Redactor,
    result: HelmProcessResult,
  ): HelmCommandError {
    const stderr = redact(result.stderr);
    const classified = classifyHelmFailure(stderr);
    let reason = classified.reason;
    if (result.cancelled) {
      reason = 'cancelled';
    } else if (result.timedOut) {
      reason = 'timeout';
    }
    let summary = summarizeHelmError(stderr);
    if (result.outputTooLarge) {
      summary = 'helm printed more output than the backend accepts';
    }
    return new HelmCommandError({
      command: spec.command,
      releaseName: spec.target.releaseName,
      namespace: spec.target.namespace,
      reason,
      ...(result.exitCode !== undefined && { exitCode: result.exitCode }),
      ...(result.signal !== undefined && { signal: result.signal }),
      rolledBack: classified.rolledBack,
      uninstalled: classified.uninstalled,
      summary,
      stderrTail: stderr.slice(-4000),
      ...(spec.timeoutSeconds !== undefined && {
        timeoutSeconds: spec.timeoutSeconds,
      }),
    });
  }
}

function succeeded(result: HelmProcessResult): boolean {
  return result.exitCode === 0 && !result.outputTooLarge;
}

function releaseArguments(target: HelmTarget): HelmReleaseArguments {
  return {
    releaseName: target.releaseName,
    namespace: target.namespace,
    ...(target.access.impersonate && {
      impersonate: target.access.impersonate,
    }),
  };
}

/** A private copy of the archive whose digest is the pinned one. */
function verifiedArchive(chart: HelmChart): Buffer {
  if (typeof chart.digest !== 'string' || !DIGEST.test(chart.digest)) {
    throw new InputError('the chart digest must be sha256:<64 hex digits>');
  }
  if (!Buffer.isBuffer(chart.archive)) {
    throw new InputError('the chart archive must be a Buffer');
  }
  // Copied first, so the bytes checked are the bytes helm gets.
  const archive = Buffer.from(chart.archive);
  const actual = `sha256:${createHash('sha256').update(archive).digest('hex')}`;
  if (actual !== chart.digest) {
    throw new ConflictError(
      `the chart archive does not match its pinned digest ${chart.digest} (it is ${actual}); refusing to run helm with it`,
    );
  }
  return archive;
}

function helmNotStarted(binary: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException)?.code;
  return new ServiceUnavailableError(
    code === 'ENOENT'
      ? `the helm CLI (${binary}) was not found on this backend; install helm 4 (or helm 3.13+)`
      : `the helm CLI (${binary}) could not be started (${code ?? 'error'})`,
  );
}
