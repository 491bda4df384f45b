import { InputError, NotFoundError } from '@backstage/errors';
import {
  DryRunValuesChange,
  ReleaseHistoryEntry,
  ReleaseRevisionDiff,
  ReleaseRevisionInputs,
} from '@kubedeploy/plugin-deployments-common';
import { ChartService } from '../charts/ChartService';
import { StoredChart } from '../charts/DatabaseChartStore';
import { ClusterAccess } from '../cluster/ClusterConnection';
import { HelmRunner, HelmTarget } from '../helm';
import { HelmRevision } from '../helm/helmOutput';
import { createRedactor } from '../lib/redaction';
import {
  DatabaseOperationStore,
  ReleaseRecord,
} from '../operations/DatabaseOperationStore';
import { diffManifests } from '../operations/manifest';
import { upstream } from '../operations/ReleaseInspector';
import { DatabasePlanStore, StoredPlan } from '../plans/DatabasePlanStore';
import {
  ProfileService,
  ResolvedProfileValues,
} from '../profiles/ProfileService';
import { TargetService } from '../targets/TargetService';
import { unifiedDiff, valuesDiff, ValuesWithSecrets } from './valuesDiff';

const ROLLBACK = /^Rollback to (\d+)$/;

/** A revision as the portal can describe it, with what is needed to read its values. */
interface DescribedRevision extends ReleaseRevisionInputs {
  chartRecord?: StoredChart;
  /** The plan applied no profile: its values are empty, not unknown. */
  noProfile?: boolean;
}

/**
 * Says what each Helm revision of a plan's release was made from (chart
 * version, values profile revision, who applied it) from the portal's
 * release records and plan revision snapshots, and compares two of them or
 * what is deployed with what a dry-run rendered. Secrets never leave it:
 * profile secrets become keyed markers in the values, and are redacted
 * wherever a chart copied them into the rendered objects; Secret data is
 * replaced by markers.
 */
export class ReleaseRevisionReader {
  private constructor(
    private readonly targets: TargetService,
    private readonly helm: () => Promise<HelmRunner>,
    private readonly store: DatabaseOperationStore,
    private readonly plans: DatabasePlanStore,
    private readonly charts: ChartService,
    private readonly profiles: ProfileService,
  ) {}

  static create(options: {
    targets: TargetService;
    helm: () => Promise<HelmRunner>;
    store: DatabaseOperationStore;
    plans: DatabasePlanStore;
    charts: ChartService;
    profiles: ProfileService;
  }): ReleaseRevisionReader {
    return new ReleaseRevisionReader(
      options.targets,
      options.helm,
      options.store,
      options.plans,
      options.charts,
      options.profiles,
    );
  }

  /** Helm history, newest first, each revision with its chart version, values revision and actor. */
  async history(plan: StoredPlan): Promise<ReleaseHistoryEntry[]> {
    const { history, records } = await this.read(plan);
    const described = await this.describeAll(history, records);
    return history
      .map(revision => {
        const record = records.find(r => r.helmRevision === revision.revision);
        const inputs = described.get(revision.revision);
        return {
          revision: revision.revision,
          updated: revision.updated,
          status: revision.status,
          chart: revision.chart,
          appVersion: revision.appVersion,
          description: revision.description,
          planRevision: record?.planRevision,
          actor: record?.actor,
          operationId: record?.operationId,
          chartVersion: inputs?.chartVersion,
          profileRevision: inputs?.profileRevision,
          rollbackOf: inputs?.rollbackOf,
        };
      })
      .sort((a, b) => b.revision - a.revision);
  }

  /** Values and rendered objects of two revisions of the plan's release, compared. */
  async diff(
    plan: StoredPlan,
    fromRevision: number,
    toRevision: number,
  ): Promise<ReleaseRevisionDiff> {
    for (const [name, value] of [
      ['from', fromRevision],
      ['to', toRevision],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new InputError(`${name}Revision must be a Helm revision number`);
      }
    }
    const { history, records, helmTarget } = await this.read(plan);
    for (const revision of [fromRevision, toRevision]) {
      if (!history.some(h => h.revision === revision)) {
        throw new NotFoundError(
          `Release ${plan.releaseName} has no revision ${revision}`,
        );
      }
    }
    const described = await this.describeAll(history, records);
    const from = described.get(fromRevision)!;
    const to = described.get(toRevision)!;
    const notes: string[] = [];
    const [fromValues, toValues] = await Promise.all([
      this.valuesOf(from),
      this.valuesOf(to),
    ]);
    for (const side of [from, to]) {
      if (!side.recorded) {
        notes.push(
          `Revision ${side.revision} was not made through the portal: its values are not known.`,
        );
      }
    }
    const helm = await this.helm();
    const [fromManifest, toManifest] = await upstream(() =>
      Promise.all([
        helm.getManifest(helmTarget, fromRevision),
        helm.getManifest(helmTarget, toRevision),
      ]),
    );
    // A chart may copy a profile secret into any object (a ConfigMap, an
    // annotation): every form of either revision's secrets is redacted.
    const redact = createRedactor([
      ...(fromValues?.secretStrings ?? []),
      ...(toValues?.secretStrings ?? []),
    ]);
    // Compared as they are (a changed secret is a change; Secret data shows
    // as keyed markers), then redacted in what is shown.
    const objects = diffManifests(fromManifest, toManifest ?? '').map(
      change => ({
        ...change,
        ...(change.diff !== undefined && { diff: redact(change.diff) }),
      }),
    );
    return {
      from: publicInputs(from),
      to: publicInputs(to),
      valuesDiff:
        fromValues && toValues
          ? valuesDiff(fromValues, toValues, [
              `revision ${fromRevision}`,
              `revision ${toRevision}`,
            ])
          : undefined,
      defaultValuesDiff: defaultValuesDiff(from.chartRecord, to.chartRecord),
      objects,
      notes,
    };
  }

  /**
   * For a dry-run: how the values change from the deployed revision to
   * what was rendered (no change when nothing is deployed), and the deployed
   * revision's secrets, for redacting the objects it is compared with.
   */
  async dryRunValuesChange(inputs: {
    plan: StoredPlan;
    access: ClusterAccess;
    chart: StoredChart;
    profile?: ResolvedProfileValues;
  }): Promise<{ change?: DryRunValuesChange; deployedSecrets: string[] }> {
    const { plan } = inputs;
    const { history, records } = await this.read(plan, inputs.access);
    const deployedEntry = [...history]
      .sort((a, b) => b.revision - a.revision)
      .find(h => h.status === 'deployed');
    if (!deployedEntry) return { deployedSecrets: [] };
    const described = await this.describeAll(history, records);
    const deployed = described.get(deployedEntry.revision)!;
    const notes: string[] = [];
    let chartMove: DryRunValuesChange['chartMove'];
    const deployedChart = deployed.chartRecord;
    if (deployedChart && deployedChart.id !== inputs.chart.id) {
      chartMove = {
        fromVersion: deployedChart.version,
        toVersion: inputs.chart.version,
        defaultValuesDiff: defaultValuesDiff(deployedChart, inputs.chart),
      };
    } else if (!deployedChart) {
      const label = `${inputs.chart.name}-${inputs.chart.version}`;
      if (deployedEntry.chart !== label) {
        chartMove = {
          fromVersion: deployedEntry.chart,
          toVersion: inputs.chart.version,
        };
        notes.push(
          `The deployed chart (${deployedEntry.chart}) is not registered: its default values cannot be compared.`,
        );
      }
    }
    const before = await this.valuesOf(deployed);
    if (!before) {
      notes.push(
        `Revision ${deployed.revision} was not made through the portal: its values are not known.`,
      );
    }
    const after: ValuesWithSecrets = await this.withSecretPaths(inputs.profile);
    return {
      change: {
        deployed: publicInputs(deployed),
        ...(chartMove && { chartMove }),
        valuesDiff: before
          ? valuesDiff(before, after, [
              `deployed (revision ${deployed.revision})`,
              'this dry-run',
            ])
          : undefined,
        notes,
      },
      deployedSecrets: before?.secretStrings ?? [],
    };
  }

  private async read(plan: StoredPlan, access?: ClusterAccess) {
    const target = await this.targets.getStored(plan.targetName);
    const helmTarget: HelmTarget = {
      access: access ?? (await this.targets.clusterAccess(target)),
      namespace: plan.namespace,
      releaseName: plan.releaseName,
    };
    const [history, records] = await Promise.all([
      upstream(async () => (await this.helm()).history(helmTarget)),
      this.store.listReleases({
        targetId: target.id,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
      }),
    ]);
    return { history, records, helmTarget };
  }

  /** Every revision described; a rollback is described as the revision it went back to. */
  private async describeAll(
    history: HelmRevision[],
    records: ReleaseRecord[],
  ): Promise<Map<number, DescribedRevision>> {
    const own = new Map<number, DescribedRevision>();
    for (const entry of history) {
      own.set(entry.revision, await this.describe(entry, records));
    }
    const result = new Map<number, DescribedRevision>();
    for (const entry of history) {
      const self = own.get(entry.revision)!;
      let source = self;
      const seen = new Set<number>();
      while (source.rollbackOf !== undefined && !seen.has(source.revision)) {
        seen.add(source.revision);
        const next = own.get(source.rollbackOf);
        if (!next) break;
        source = next;
      }
      result.set(
        entry.revision,
        source === self
          ? self
          : {
              ...source,
              revision: self.revision,
              chart: self.chart,
              actor: self.actor ?? source.actor,
              planRevision: self.planRevision ?? source.planRevision,
              rollbackOf: self.rollbackOf,
            },
      );
    }
    return result;
  }

  private async describe(
    entry: HelmRevision,
    records: ReleaseRecord[],
  ): Promise<DescribedRevision> {
    const rollback = ROLLBACK.exec(entry.description ?? '');
    const record = records.find(r => r.helmRevision === entry.revision);
    const base: DescribedRevision = {
      revision: entry.revision,
      chart: entry.chart,
      actor: record?.actor,
      planRevision: record?.planRevision,
      recorded: false,
      ...(rollback && { rollbackOf: Number(rollback[1]) }),
    };
    if (rollback || !record) return base;
    const snapshot = await this.plans.getRevisionSnapshot(
      record.planId,
      record.planRevision,
    );
    if (!snapshot) return base;
    const chart = await this.charts
      .get(snapshot.chartId)
      .catch(() => undefined);
    const described: DescribedRevision = {
      ...base,
      recorded: true,
      chartId: snapshot.chartId,
      chartVersion: chart?.version,
      chartRecord: chart,
    };
    if (!snapshot.profileId) return { ...described, noProfile: true };
    const profileRevision =
      snapshot.profileRevision ??
      (await this.profileRevisionByHash(
        snapshot.profileId,
        snapshot.chartId,
        record,
      ));
    return {
      ...described,
      profileId: snapshot.profileId,
      profileRevision,
      recorded: profileRevision !== undefined,
    };
  }

  /**
   * A plan following the profile's newest revision recorded only the values
   * hash it applied: the revision with that hash, for the chart applied,
   * written before the apply (an upgrade to another chart version keeps the
   * hash of the same values).
   */
  private async profileRevisionByHash(
    profileId: string,
    chartId: string,
    record: ReleaseRecord,
  ): Promise<number | undefined> {
    if (!record.valuesHash) return undefined;
    const revisions = await this.profiles
      .listRevisions(profileId)
      .catch(() => []);
    return revisions.find(
      r =>
        r.valuesHash === record.valuesHash &&
        r.chartId === chartId &&
        r.createdAt <= record.createdAt,
    )?.revision;
  }

  /** A revision's values with secrets, or undefined when unknown. */
  private async valuesOf(
    revision: DescribedRevision,
  ): Promise<(ValuesWithSecrets & { secretStrings: string[] }) | undefined> {
    if (revision.noProfile) {
      return { values: {}, secretPaths: [], secretStrings: [] };
    }
    if (!revision.profileId || revision.profileRevision === undefined) {
      return undefined;
    }
    const resolved = await this.profiles
      .resolve(revision.profileId, revision.profileRevision)
      .catch(error => {
        if ((error as Error).name === 'NotFoundError') return undefined;
        throw error;
      });
    if (!resolved) return undefined;
    return { ...(await this.withSecretPaths(resolved)), ...resolved };
  }

  private async withSecretPaths(
    resolved: ResolvedProfileValues | undefined,
  ): Promise<ValuesWithSecrets> {
    if (!resolved) return { values: {}, secretPaths: [] };
    const revision = await this.profiles.getRevision(
      resolved.profileId,
      resolved.revision,
    );
    return { values: resolved.values, secretPaths: revision.secretPaths };
  }
}

function publicInputs(revision: DescribedRevision): ReleaseRevisionInputs {
  const { chartRecord: _chart, noProfile: _none, ...inputs } = revision;
  return inputs;
}

function defaultValuesDiff(
  from: StoredChart | undefined,
  to: StoredChart | undefined,
): string | undefined {
  if (!from || !to || from.id === to.id) return undefined;
  return unifiedDiff(
    'values.yaml',
    from.defaultValues ?? '',
    to.defaultValues ?? '',
    [`${from.name} ${from.version}`, `${to.name} ${to.version}`],
  );
}
