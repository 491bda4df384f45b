/*
 * What helm prints, turned into data: the release JSON of `upgrade -o json`,
 * the history JSON, debug lines as progress, and errors as a reason a
 * program can act on. Pure; helm 3 and helm 4 print the same JSON.
 */

/** A hook of a rendered release, as helm stores it. */
export interface HelmHook {
  name: string;
  kind: string;
  /** The template it came from, e.g. `hello/templates/tests/job.yaml`. */
  path: string;
  manifest: string;
  /** pre-install, post-upgrade, test, … */
  events: string[];
}

/** What a server-side dry-run of `helm upgrade --install` rendered. */
export interface HelmRenderedRelease {
  /** Every non-hook object, as one multi-document YAML. It can contain Secrets. */
  manifest: string;
  hooks: HelmHook[];
  notes?: string;
  chartName: string;
  chartVersion: string;
  appVersion?: string;
  /** The revision an apply would create. */
  revision: number;
}

/** A release's state after a command, or its latest revision. */
export interface HelmReleaseStatus {
  revision: number;
  /** deployed, failed, pending-install, pending-upgrade, pending-rollback, superseded, uninstalling, … */
  status: string;
  description: string;
}

/** One entry of `helm history`. */
export interface HelmRevision extends HelmReleaseStatus {
  /** ISO timestamp. */
  updated: string;
  /** name-version, e.g. `hello-0.1.0`. */
  chart: string;
  appVersion?: string;
}

/** Why a helm command failed, for callers that react to it. */
export type HelmFailureReason =
  | 'cancelled'
  | 'timeout'
  | 'forbidden'
  | 'unauthorized'
  | 'unreachable'
  | 'not-found'
  | 'another-operation'
  | 'failed';

/** Parses the release JSON of `helm upgrade --install --dry-run=server -o json`. */
export function parseRenderedRelease(stdout: string): HelmRenderedRelease {
  const release = parseJsonObject(stdout, 'release');
  const info = asRecord(release.info);
  const metadata = asRecord(asRecord(release.chart).metadata);
  const hooks = Array.isArray(release.hooks) ? release.hooks : [];
  return {
    manifest: asString(release.manifest),
    hooks: hooks.map(item => {
      const hook = asRecord(item);
      return {
        name: asString(hook.name),
        kind: asString(hook.kind),
        path: asString(hook.path),
        manifest: asString(hook.manifest),
        events: Array.isArray(hook.events) ? hook.events.map(String) : [],
      };
    }),
    ...(typeof info.notes === 'string' &&
      info.notes.length > 0 && { notes: info.notes }),
    chartName: asString(metadata.name),
    chartVersion: asString(metadata.version),
    ...(typeof metadata.appVersion === 'string' && {
      appVersion: metadata.appVersion,
    }),
    revision: asNumber(release.version),
  };
}

/** The status part of a release JSON, e.g. of `helm upgrade -o json`. */
export function parseReleaseStatus(stdout: string): HelmReleaseStatus {
  const release = parseJsonObject(stdout, 'release');
  const info = asRecord(release.info);
  return {
    revision: asNumber(release.version),
    status: asString(info.status),
    description: asString(info.description),
  };
}

/** Parses `helm history -o json`, oldest first. */
export function parseHistory(stdout: string): HelmRevision[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error('helm printed a history that is not JSON');
  }
  if (!Array.isArray(parsed)) {
    throw new Error('helm printed a history that is not a list');
  }
  return parsed.map(item => {
    const entry = asRecord(item);
    return {
      revision: asNumber(entry.revision),
      updated: asString(entry.updated),
      status: asString(entry.status),
      chart: asString(entry.chart),
      ...(typeof entry.app_version === 'string' &&
        entry.app_version !== '' && { appVersion: entry.app_version }),
      description: asString(entry.description),
    };
  });
}

// Debug messages that only add noise to progress (the chart's whole schema).
const NOISE = new Set(['unmarshalled JSON schema']);
const MAX_LINE_LENGTH = 1000;
const LEVEL_PREFIXES = new Map([
  ['WARN', 'warning: '],
  ['ERROR', 'error: '],
]);

/**
 * Turns one line helm wrote to stderr into a progress line, or undefined
 * when it is noise. helm 4 logs `level=DEBUG msg="…" key=value`, helm 3
 * `upgrade.go:142: [debug] …`. Give it redacted text: the line may be cut.
 */
export function formatProgressLine(line: string): string | undefined {
  let text = line.trimEnd();
  const structured = /^level=(\w+) msg=("(?:[^"\\]|\\.)*"|\S+)(.*)$/.exec(text);
  if (structured) {
    const [, level, rawMessage, rest] = structured;
    const message = unquote(rawMessage);
    if (NOISE.has(message)) {
      return undefined;
    }
    const prefix = LEVEL_PREFIXES.get(level) ?? '';
    text = `${prefix}${message}${rest}`;
  } else {
    text = text.replace(/^[\w.-]+\.go:\d+: \[debug\] /, '');
  }
  if (text.trim() === '') {
    return undefined;
  }
  return text.length > MAX_LINE_LENGTH
    ? `${text.slice(0, MAX_LINE_LENGTH)}…`
    : text;
}

/**
 * helm's own account of a failure: from its last `Error:` line to the end,
 * without debug lines. Falls back to the last lines of stderr.
 */
export function summarizeHelmError(stderr: string, maxLength = 2000): string {
  const lines = stderr.split(/\r?\n/);
  let start = -1;
  for (let index = lines.length - 1; index >= 0; index--) {
    if (lines[index].startsWith('Error: ')) {
      start = index;
      break;
    }
  }
  const picked =
    start >= 0
      ? untilStackTrace(lines.slice(start)).filter(
          line => !isDebugLine(line) && !isCancelNotice(line),
        )
      : lines
          .filter(line => line.trim() !== '' && !isDebugLine(line))
          .slice(-5);
  const text = picked
    .join('\n')
    .replace(/^Error: /, '')
    .trim();
  return text.length > maxLength ? `…${text.slice(-maxLength)}` : text;
}

/** Sorts a failed command's stderr into a reason, and whether helm undid it. */
export function classifyHelmFailure(stderr: string): {
  reason: HelmFailureReason;
  rolledBack: boolean;
  uninstalled: boolean;
} {
  const summary = summarizeHelmError(stderr, 100_000);
  const rolledBack =
    /has been rolled back due to (?:rollback-on-failure|atomic)/.test(summary);
  const uninstalled =
    /has been uninstalled due to (?:rollback-on-failure|atomic)/.test(summary);
  return { reason: failureReason(summary), rolledBack, uninstalled };
}

function failureReason(summary: string): HelmFailureReason {
  if (
    /another operation \(install\/upgrade\/rollback\) is in progress/.test(
      summary,
    )
  ) {
    return 'another-operation';
  }
  if (/\bis forbidden\b|\bforbidden:/i.test(summary)) {
    return 'forbidden';
  }
  if (
    /\bUnauthorized\b|must be logged in to the server|provide credentials/i.test(
      summary,
    )
  ) {
    return 'unauthorized';
  }
  if (
    /(?:^|: )release: not found|Release not loaded: .*not found|has no deployed releases/.test(
      summary,
    )
  ) {
    return 'not-found';
  }
  if (
    /context deadline exceeded|timed out waiting for the condition/.test(
      summary,
    )
  ) {
    return 'timeout';
  }
  if (
    /Kubernetes cluster unreachable|connection refused|no such host|i\/o timeout|x509: |tls: |network is unreachable/.test(
      summary,
    )
  ) {
    return 'unreachable';
  }
  return 'failed';
}

const HELM3_DEBUG_LINE = /^[\w.-]+\.go:\d+: .*\[debug\] /;

function isDebugLine(line: string): boolean {
  // helm 4: `level=DEBUG msg=...`; helm 3: `file.go:86: [debug] ...`, since
  // 3.1x with a timestamp before `[debug]`.
  return /^level=\w+ msg=/.test(line) || HELM3_DEBUG_LINE.test(line);
}

/**
 * The error's own lines: with --debug, helm 3 follows its `Error:` line with
 * the error again as a debug line, then a Go stack trace.
 */
function untilStackTrace(lines: string[]): string[] {
  const end = lines.findIndex(line => HELM3_DEBUG_LINE.test(line));
  return end === -1 ? lines : lines.slice(0, end);
}

function isCancelNotice(line: string): boolean {
  return /^Release \S+ has been cancelled\.$/.test(line.trim());
}

function unquote(value: string): string {
  if (!value.startsWith('"')) {
    return value;
  }
  try {
    return JSON.parse(value);
  } catch {
    return value.slice(1, -1);
  }
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`helm printed a ${what} that is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`helm printed a ${what} that is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function asNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
