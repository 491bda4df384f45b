export { DryRunTab } from './DryRunTab';
export type { DryRunTabProps } from './DryRunTab';
export { DryRunResultView } from './DryRunResultView';
export { UnifiedDiff } from './UnifiedDiff';
