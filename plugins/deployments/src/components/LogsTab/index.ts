export { LogsTab } from './LogsTab';
export type { LogsTabProps } from './LogsTab';
