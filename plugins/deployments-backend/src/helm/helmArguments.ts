/*
 * The argument lists for every helm command this adapter runs, for helm 3
 * and helm 4. Pure, so the helm 3 flavour is tested without a helm 3 binary.
 *
 * Defences: release names and namespaces are DNS-1123 labels, paths are
 * absolute, numbers are checked, and every value that comes from a user goes
 * into a `--flag=value` form, so nothing a caller supplies can become a flag.
 */
import { InputError } from '@backstage/errors';
import {
  describeInvalidNamespace,
  describeInvalidReleaseName,
} from '@kubedeploy/plugin-deployments-common';
import { HelmVersion } from './helmVersion';

/** Who runs the command against which release. */
export interface HelmReleaseArguments {
  releaseName: string;
  namespace: string;
  /** Passed as --kube-as-user / --kube-as-group, never through the kubeconfig. */
  impersonate?: { user?: string; groups?: string[] };
}

export interface HelmUpgradeArguments extends HelmReleaseArguments {
  chartPath: string;
  valuesPath: string;
  timeoutSeconds: number;
  historyMax: number;
  createNamespace: boolean;
  /**
   * `dry-run` renders without changing anything and without reading the
   * cluster's objects (`lookup` finds nothing): the objects are validated on
   * the API server separately.
   */
  mode: 'dry-run' | 'apply';
  /** The post-renderer every rendered document must pass (see PostRenderGuard). */
  postRendererFlags: string[];
  rollbackOnFailure: boolean;
  wait: boolean;
}

// A day: longer than any sane rollout, short enough to catch unit mistakes (ms for s).
const MAX_TIMEOUT_SECONDS = 86_400;

/** `helm upgrade --install`, as a server-side dry-run or for real. */
export function upgradeArguments(
  version: HelmVersion,
  input: HelmUpgradeArguments,
): string[] {
  checkRelease(input);
  const args = [
    'upgrade',
    '--install',
    input.releaseName,
    checkPath(input.chartPath, 'chart path'),
    `--values=${checkPath(input.valuesPath, 'values path')}`,
    ...releaseFlags(input),
    `--history-max=${checkCount(input.historyMax, 'historyMax', 0)}`,
    `--timeout=${checkTimeout(input.timeoutSeconds)}s`,
    '--output=json',
    // helm would create a chart's crds/ files verbatim, unchecked: never.
    '--skip-crds',
    ...checkPostRendererFlags(input.postRendererFlags),
  ];
  if (input.createNamespace) {
    args.push('--create-namespace');
  }
  if (input.mode === 'dry-run') {
    args.push('--dry-run=client');
  } else if (version.major === 4) {
    if (input.rollbackOnFailure) {
      args.push('--rollback-on-failure');
    }
    // helm 4 waits with kstatus ("watcher"); rollback implies it, said explicitly for clarity.
    if (input.rollbackOnFailure || input.wait) {
      args.push('--wait=watcher');
    }
  } else if (input.rollbackOnFailure) {
    // helm 3: --atomic rolls back on failure and implies --wait.
    args.push('--atomic');
  } else if (input.wait) {
    args.push('--wait');
  }
  // Progress comes only from debug output; stdout stays JSON with --output=json.
  args.push('--debug');
  return args;
}

/** `helm rollback` to one revision. */
export function rollbackArguments(
  version: HelmVersion,
  input: HelmReleaseArguments & {
    revision: number;
    timeoutSeconds: number;
    wait: boolean;
    historyMax?: number;
  },
): string[] {
  checkRelease(input);
  const args = [
    'rollback',
    input.releaseName,
    String(checkCount(input.revision, 'revision', 1)),
    ...releaseFlags(input),
    `--timeout=${checkTimeout(input.timeoutSeconds)}s`,
  ];
  if (input.historyMax !== undefined) {
    args.push(`--history-max=${checkCount(input.historyMax, 'historyMax', 0)}`);
  }
  args.push(...waitFlags(version, input.wait), '--debug');
  return args;
}

/** `helm uninstall`. */
export function uninstallArguments(
  version: HelmVersion,
  input: HelmReleaseArguments & { timeoutSeconds: number; wait: boolean },
): string[] {
  checkRelease(input);
  return [
    'uninstall',
    input.releaseName,
    ...releaseFlags(input),
    `--timeout=${checkTimeout(input.timeoutSeconds)}s`,
    ...waitFlags(version, input.wait),
    '--debug',
  ];
}

/**
 * `helm test`. Without --debug: with it helm prints the release's values,
 * which may hold secrets. Without --logs: helm fetches logs from a pod named
 * like each test hook, so a chart whose tests are Jobs would always fail.
 */
export function testArguments(
  _version: HelmVersion,
  input: HelmReleaseArguments & { timeoutSeconds: number },
): string[] {
  checkRelease(input);
  return [
    'test',
    input.releaseName,
    ...releaseFlags(input),
    `--timeout=${checkTimeout(input.timeoutSeconds)}s`,
  ];
}

/** `helm history` as JSON, oldest first. */
export function historyArguments(
  _version: HelmVersion,
  input: HelmReleaseArguments & { max?: number },
): string[] {
  checkRelease(input);
  const args = [
    'history',
    input.releaseName,
    ...releaseFlags(input),
    '--output=json',
  ];
  if (input.max !== undefined) {
    args.push(`--max=${checkCount(input.max, 'max', 1)}`);
  }
  return args;
}

/** `helm get manifest`, of the latest or of one revision. */
export function getManifestArguments(
  _version: HelmVersion,
  input: HelmReleaseArguments & { revision?: number },
): string[] {
  checkRelease(input);
  const args = ['get', 'manifest', input.releaseName, ...releaseFlags(input)];
  if (input.revision !== undefined) {
    args.push(`--revision=${checkCount(input.revision, 'revision', 1)}`);
  }
  return args;
}

// Manifest and hooks of a stored revision as one stream of documents.
const STORED_OBJECTS_TEMPLATE =
  '{{ .Release.Manifest }}{{ range .Release.Hooks }}\n---\n{{ .Manifest }}\n{{ end }}';

/** `helm get all` printing only a revision's objects: its manifest, then each hook. */
export function getStoredObjectsArguments(
  _version: HelmVersion,
  input: HelmReleaseArguments & { revision?: number },
): string[] {
  checkRelease(input);
  const args = [
    'get',
    'all',
    input.releaseName,
    ...releaseFlags(input),
    `--template=${STORED_OBJECTS_TEMPLATE}`,
  ];
  if (input.revision !== undefined) {
    args.push(`--revision=${checkCount(input.revision, 'revision', 1)}`);
  }
  return args;
}

/**
 * `helm template`: renders locally without contacting the cluster, so a
 * preflight can learn what access a release needs from credentials that
 * could not even run a server-side dry-run.
 */
export function templateArguments(
  _version: HelmVersion,
  input: HelmReleaseArguments & { chartPath: string; valuesPath: string },
): string[] {
  checkRelease(input);
  return [
    'template',
    input.releaseName,
    checkPath(input.chartPath, 'chart path'),
    `--values=${checkPath(input.valuesPath, 'values path')}`,
    `--namespace=${input.namespace}`,
    '--skip-crds',
  ];
}

/** How long to let helm run in all before stopping it, for a command given helm's own --timeout. */
export function processDeadlineSeconds(
  timeoutSeconds: number,
  options: { rollbackOnFailure?: boolean } = {},
): number {
  // helm applies --timeout to each wait (hooks, resources, and again to the
  // rollback), so the whole command may legitimately take a multiple of it.
  return (
    checkTimeout(timeoutSeconds) * (options.rollbackOnFailure ? 3 : 2) + 60
  );
}

function waitFlags(version: HelmVersion, wait: boolean): string[] {
  if (!wait) {
    return [];
  }
  return version.major === 4 ? ['--wait=watcher'] : ['--wait'];
}

function releaseFlags(input: HelmReleaseArguments): string[] {
  const flags = [`--namespace=${input.namespace}`];
  const user = input.impersonate?.user;
  const groups = input.impersonate?.groups ?? [];
  if (user !== undefined) {
    flags.push(`--kube-as-user=${checkPrintable(user, 'impersonate.user')}`);
    for (const group of groups) {
      // --kube-as-group is a stringArray: commas stay inside one group name.
      flags.push(
        `--kube-as-group=${checkPrintable(group, 'impersonate.groups')}`,
      );
    }
  } else if (groups.length > 0) {
    throw new InputError('impersonate.groups requires impersonate.user');
  }
  return flags;
}

function checkRelease(input: HelmReleaseArguments): void {
  const problem =
    describeInvalidReleaseName(input.releaseName) ??
    describeInvalidNamespace(input.namespace);
  if (problem) {
    throw new InputError(problem);
  }
}

function checkPath(path: string, what: string): string {
  // Absolute and free of control characters: it cannot be mistaken for a flag.
  if (!path.startsWith('/') || [...path].some(c => c.charCodeAt(0) < 0x20)) {
    throw new InputError(`${what} must be an absolute path`);
  }
  return path;
}

function checkPostRendererFlags(flags: string[]): string[] {
  // Writing without the guard would send unchecked objects: there is no such mode.
  if (
    flags.length !== 1 ||
    // eslint-disable-next-line no-control-regex
    !/^--post-renderer=(\/[^\0-\x1f]*|[a-z][-a-z0-9]*)$/.test(flags[0])
  ) {
    throw new InputError('helm must run with the post-render guard');
  }
  return flags;
}

function checkTimeout(seconds: number): number {
  if (
    !Number.isInteger(seconds) ||
    seconds < 1 ||
    seconds > MAX_TIMEOUT_SECONDS
  ) {
    throw new InputError(
      `timeoutSeconds must be a whole number from 1 to ${MAX_TIMEOUT_SECONDS}`,
    );
  }
  return seconds;
}

function checkCount(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InputError(`${what} must be a whole number of at least ${min}`);
  }
  return value;
}

function checkPrintable(value: string, what: string): string {
  if (typeof value !== 'string' || !/^[\x20-\x7e]+$/.test(value)) {
    throw new InputError(`${what} must be non-empty printable text`);
  }
  return value;
}
