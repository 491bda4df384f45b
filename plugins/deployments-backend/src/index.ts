/**
 * Backstage backend plugin that deploys Helm charts to Kubernetes through
 * audited release plans.
 *
 * @packageDocumentation
 */

export { deploymentsPlugin as default } from './plugin';
export {
  planConditions,
  createPlanConditionalDecision,
  planPermissionRules,
} from './permissions/planPermissionRules';
export {
  targetConditions,
  createTargetConditionalDecision,
} from './permissions/targetPermissionRules';
export {
  placementConditions,
  createPlacementConditionalDecision,
  placementPermissionRules,
} from './permissions/placementPermissionRules';
export {
  profileConditions,
  createProfileConditionalDecision,
  profilePermissionRules,
} from './permissions/profilePermissionRules';
export type {
  Placement,
  PlacementFilter,
} from './permissions/placementPermissionRules';
export type { StoredPlan, PlanFilter } from './plans/DatabasePlanStore';
export type { StoredTarget, TargetFilter } from './targets/DatabaseTargetStore';
export type {
  StoredProfile,
  ProfileFilter,
} from './profiles/DatabaseProfileStore';
