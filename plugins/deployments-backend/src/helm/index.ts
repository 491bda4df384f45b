export { HelmRunner } from './HelmRunner';
export type {
  HelmChart,
  HelmDryRunOptions,
  HelmReadOptions,
  HelmRollbackOptions,
  HelmRunOptions,
  HelmTarget,
  HelmTestResult,
  HelmUninstallOptions,
  HelmUpgradeOptions,
} from './HelmRunner';
export { HelmCommandError } from './HelmCommandError';
export type {
  HelmFailureReason,
  HelmHook,
  HelmReleaseStatus,
  HelmRenderedRelease,
  HelmRevision,
} from './helmOutput';
