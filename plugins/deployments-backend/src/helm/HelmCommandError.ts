import { CustomErrorBase } from '@backstage/errors';
import { HelmFailureReason } from './helmOutput';

/** The facts about one failed helm run; every text in it is already redacted. */
export interface HelmCommandFailure {
  /** The helm subcommand, e.g. `upgrade`. */
  command: string;
  releaseName: string;
  namespace: string;
  reason: HelmFailureReason;
  exitCode?: number;
  /** Set when the process ended by a signal (SIGTERM/SIGKILL from this adapter). */
  signal?: NodeJS.Signals;
  /** helm undid a failed upgrade by rolling back (--rollback-on-failure / --atomic). */
  rolledBack: boolean;
  /** helm undid a failed first install by uninstalling it. */
  uninstalled: boolean;
  /** helm's own error text, redacted. */
  summary: string;
  /** The last part of helm's stderr, redacted, for diagnosis. */
  stderrTail: string;
  timeoutSeconds?: number;
}

/**
 * A helm command that did not succeed, with a message a person can act on.
 * Neither the message nor any field contains credentials or values marked
 * secret: helm's output passed through the redactor first.
 */
export class HelmCommandError extends CustomErrorBase {
  name = 'HelmCommandError' as const;
  readonly command: string;
  readonly reason: HelmFailureReason;
  readonly exitCode?: number;
  readonly signal?: NodeJS.Signals;
  readonly rolledBack: boolean;
  readonly uninstalled: boolean;
  readonly stderrTail: string;

  constructor(failure: HelmCommandFailure) {
    super(describeFailure(failure));
    this.command = failure.command;
    this.reason = failure.reason;
    if (failure.exitCode !== undefined) {
      this.exitCode = failure.exitCode;
    }
    if (failure.signal !== undefined) {
      this.signal = failure.signal;
    }
    this.rolledBack = failure.rolledBack;
    this.uninstalled = failure.uninstalled;
    this.stderrTail = failure.stderrTail;
  }

  /** Stopped on request, through the AbortSignal. */
  get cancelled(): boolean {
    return this.reason === 'cancelled';
  }

  /** helm's --timeout expired, or the adapter stopped a run that outlived its deadline. */
  get timedOut(): boolean {
    return this.reason === 'timeout';
  }
}

function describeFailure(failure: HelmCommandFailure): string {
  const subject = `helm ${failure.command} of release "${failure.releaseName}" in namespace "${failure.namespace}"`;
  let undone = '';
  if (failure.rolledBack) {
    undone = '; helm rolled the release back to its last deployed revision';
  } else if (failure.uninstalled) {
    undone = '; helm uninstalled the failed first installation';
  }
  const said = failure.summary ? `. helm said: ${failure.summary}` : '';
  switch (failure.reason) {
    case 'cancelled':
      return `${subject} was cancelled${undone}${said}`;
    case 'timeout':
      return `${subject} timed out${
        failure.timeoutSeconds !== undefined
          ? ` after ${failure.timeoutSeconds} s`
          : ''
      }: the release's resources did not become ready in time${undone}. Check the pods and events of the release, or allow a longer timeout${said}`;
    case 'forbidden':
      return `${subject} was refused by the cluster (forbidden): check that the target's credentials may manage releases in namespace "${failure.namespace}" (RBAC), and any quota or admission policy${said}`;
    case 'unauthorized':
      return `${subject} failed: the cluster did not accept the target's credentials; renew them in the target settings${said}`;
    case 'unreachable':
      return `${subject} failed: the cluster could not be reached; check the target's API server address, CA and network${said}`;
    case 'not-found':
      return `${subject} failed: the release (or that revision) does not exist${said}`;
    case 'another-operation':
      return `${subject} failed: another operation on the release is in progress or was interrupted (a pending-* state); wait for it, or roll the release back${said}`;
    default:
      return `${subject} failed${undone}${said}`;
  }
}
