import { LoggerService } from '@backstage/backend-plugin-api';
import {
  DryRunValuesChange,
  ReleasePlanGate,
  ReleasePlanStatus,
} from '@kubedeploy/plugin-deployments-common';
import { DeploymentPreflightCheck } from '@kubedeploy/plugin-deployments-node';
import { StoredChart } from '../../charts/DatabaseChartStore';
import {
  ClusterAccess,
  ClusterConnection,
} from '../../cluster/ClusterConnection';
import { HelmChart, HelmRunner, HelmTarget } from '../../helm';
import { StoredPlan } from '../../plans/DatabasePlanStore';
import { ResolvedProfileValues } from '../../profiles/ProfileService';
import { StoredTarget } from '../../targets/DatabaseTargetStore';
import { TargetService } from '../../targets/TargetService';
import { DatabaseOperationStore } from '../DatabaseOperationStore';

/** Everything one operation needs, decrypted for it alone. */
export interface PlanInputs {
  plan: StoredPlan;
  target: StoredTarget;
  chart: StoredChart;
  access: ClusterAccess;
  /** The connection to the target's API server, built once per operation. */
  cluster: ClusterConnection;
  profile?: ResolvedProfileValues;
  inputsHash: string;
}

/**
 * Reads how a dry-run's values differ from what is deployed (no change when
 * nothing is), and the deployed revision's secrets, which a chart may have
 * copied into the objects the dry-run compares with.
 */
export type ValuesChangeReader = (inputs: {
  plan: StoredPlan;
  access: ClusterAccess;
  chart: StoredChart;
  profile?: ResolvedProfileValues;
}) => Promise<{ change?: DryRunValuesChange; deployedSecrets: string[] }>;

/**
 * What the execution of each operation kind (one module each, beside this
 * one) works with; PlanOperationService provides it and decides whether an
 * operation may start at all.
 */
export interface ExecutionKit {
  helm(): Promise<HelmRunner>;
  targets: TargetService;
  store: DatabaseOperationStore;
  logger: LoggerService;
  /** Checks other backend modules added through the preflight extension point. */
  extraChecks: DeploymentPreflightCheck[];
  valuesChangeOf: ValuesChangeReader;
  /** The plan's chart archive, verified against its pinned digest. */
  chartFor(inputs: PlanInputs): Promise<HelmChart>;
  /** Records the plan's new state (its message redacted of the profile's secrets). */
  finishPlan(
    inputs: PlanInputs,
    actor: string,
    status: ReleasePlanStatus,
    statusMessage: string | undefined,
    gates?: { lastDryRun?: ReleasePlanGate; lastPreflight?: ReleasePlanGate },
  ): Promise<void>;
}

/** The plan's release as helm addresses it. */
export function helmTargetOf(inputs: PlanInputs): HelmTarget {
  return {
    access: inputs.access,
    namespace: inputs.plan.namespace,
    releaseName: inputs.plan.releaseName,
  };
}
