export { PlanTab } from './PlanTab';
export type { PlanTabProps } from './PlanTab';
export { PlanPicker } from './PlanPicker';
export { usePlanSelection } from './usePlanSelection';
export {
  PlanStatusChip,
  OperationStatusChip,
  PassChip,
} from './PlanStatusChip';
export {
  EntityDryRunContent,
  EntityLogsContent,
  EntityPlanContent,
} from './EntityTabs';
