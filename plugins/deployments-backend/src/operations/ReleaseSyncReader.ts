import { ReleaseSyncState } from '@kubedeploy/plugin-deployments-common';
import { ChartService } from '../charts/ChartService';
import { HelmRunner } from '../helm';
import { StoredPlan } from '../plans/DatabasePlanStore';
import { ProfileService } from '../profiles/ProfileService';
import { TargetService } from '../targets/TargetService';
import { DatabaseOperationStore } from './DatabaseOperationStore';
import { upstream } from './ReleaseInspector';
import { compareRelease, DeclaredRelease } from './releaseSync';

/**
 * Reads a plan's sync state: helm's live history of the release (through
 * the target's credentials) against what the plan declares now and the
 * portal's record of what each revision was made from. Nothing secret is
 * read: profile values enter only as their stored hash.
 */
export class ReleaseSyncReader {
  private constructor(
    private readonly targets: TargetService,
    private readonly helm: () => Promise<HelmRunner>,
    private readonly store: DatabaseOperationStore,
    private readonly charts: ChartService,
    private readonly profiles: ProfileService,
  ) {}

  static create(options: {
    targets: TargetService;
    helm: () => Promise<HelmRunner>;
    store: DatabaseOperationStore;
    charts: ChartService;
    profiles: ProfileService;
  }): ReleaseSyncReader {
    return new ReleaseSyncReader(
      options.targets,
      options.helm,
      options.store,
      options.charts,
      options.profiles,
    );
  }

  /** The plan's sync state now; 502/503 when the cluster cannot answer. */
  async read(plan: StoredPlan): Promise<ReleaseSyncState> {
    const target = await this.targets.getStored(plan.targetName);
    const [declared, history, records] = await Promise.all([
      this.declared(plan),
      upstream(async () =>
        (
          await this.helm()
        ).history({
          access: await this.targets.clusterAccess(target),
          namespace: plan.namespace,
          releaseName: plan.releaseName,
        }),
      ),
      this.store.listReleases({
        targetId: target.id,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
      }),
    ]);
    return compareRelease(declared, history, records);
  }

  private async declared(plan: StoredPlan): Promise<DeclaredRelease> {
    const chart = await this.charts.get(plan.chartId);
    let valuesHash: string | undefined;
    if (plan.profileId) {
      valuesHash =
        plan.profileRevision === undefined
          ? (await this.profiles.get(plan.profileId)).valuesHash
          : (
              await this.profiles.getRevision(
                plan.profileId,
                plan.profileRevision,
              )
            ).valuesHash;
    }
    return {
      planRevision: plan.revision,
      chartName: chart.name,
      chartVersion: chart.version,
      chartDigest: chart.chartDigest,
      valuesHash,
      where: `${plan.targetName}/${plan.namespace}`,
      releaseName: plan.releaseName,
    };
  }
}
