/**
 * The deployments frontend plugin. Apps on the new frontend system import
 * `@kubedeploy/plugin-deployments/alpha`; these exports serve legacy apps
 * and components other plugins reuse.
 *
 * @packageDocumentation
 */

export { deploymentsPlugin, DeploymentsPage } from './plugin';
export {
  deploymentsApiRef,
  type CreateTargetRequest,
  type DeploymentsApi,
  type DeploymentsAuditEntry,
  type DeploymentsAuditQuery,
  type DeploymentsLiveness,
  type KeyringBackupUpload,
  type OperationListQuery,
  type PlanChangeOptions,
  type TargetSettingsInput,
  type UpdateTargetRequest,
} from './api/DeploymentsApi';
export { DeploymentsClient } from './api/DeploymentsClient';
export {
  AdvisoriesOverviewCard,
  EntityAdvisoriesCard,
  type AdvisoriesOverviewCardProps,
} from './components/Advisories';
export {
  DeploymentsStatusBanner,
  type DeploymentsStatusBannerProps,
} from './components/StatusBanner';
export {
  EntityDeploymentsCard,
  EntityDeploymentsDryRunContent,
  EntityDeploymentsLogsContent,
  EntityDeploymentsPlanContent,
} from './plugin';
export {
  type PlanLogsQuery,
  type PlanPod,
  type PlanPodContainer,
  type PlanResourceCondition,
  type PlanResourceEvent,
  type PlanResourceHealth,
  type PlanResourceObject,
  type PlanResources,
} from './api/DeploymentsApi';
export {
  ValuesForm,
  ProfileEditorDialog,
  type ValuesDraft,
  type ValuesFormProps,
  type ProfileEditorDialogProps,
} from './components/ValuesForm';
