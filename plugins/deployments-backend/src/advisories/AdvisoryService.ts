import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  Advisory,
  AdvisoryOverview,
  PlanAdvisories,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import { parse as parseYaml } from 'yaml';
import { ChartService } from '../charts/ChartService';
import { StoredChart } from '../charts/DatabaseChartStore';
import { RunningImage } from '../cluster/ReleaseImages';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';
import { ReleaseRecord } from '../operations/DatabaseOperationStore';
import { PlanFilterTree, StoredPlan } from '../plans/DatabasePlanStore';
import { PlanService } from '../plans/PlanService';
import { ProfileService } from '../profiles/ProfileService';
import {
  AdvisoryFinding,
  CheckResult,
  DatabaseAdvisoryStore,
} from './DatabaseAdvisoryStore';
import {
  imageRemedy,
  imageWithTag,
  mergeValues,
  setImageCommand,
} from './imageRemedy';
import {
  imageName,
  ImageReference,
  parseImageReference,
  registryReference,
} from './parseImageReference';
import { findNewerVersions, parseSemanticVersion } from './semanticVersion';

/**
 * A new advisory of a patch, minor or major version, to tell the entity's
 * owners about once. Shaped as the notifications domain takes it.
 */
export interface AdvisoryAnnouncement {
  /** Stable id of the advisory: repeats of it update one notification. */
  advisoryId: string;
  plan: Pick<
    StoredPlan,
    | 'id'
    | 'entityRef'
    | 'entityOwner'
    | 'releaseName'
    | 'namespace'
    | 'targetName'
  >;
  subject: 'image' | 'chart';
  /** The image repository or the chart's name. */
  name: string;
  running: string;
  available: string;
  level: 'patch' | 'minor' | 'major';
}

export interface AdvisoryServiceOptions {
  store: DatabaseAdvisoryStore;
  plans: PlanService;
  charts: ChartService;
  profiles: ProfileService;
  /** The images the release's live workloads run; undefined when not installed. */
  images: (plan: StoredPlan) => Promise<RunningImage[] | undefined>;
  /** Records of the release's applies, newest first. */
  releaseRecords: (plan: StoredPlan) => Promise<ReleaseRecord[]>;
  logger: LoggerService;
  includePrereleases?: boolean;
  /** Registry of images named without a host (Docker's convention); none: reported as unknown. */
  defaultRegistry?: string;
  /** Called once per new patch, minor or major advisory (e.g. a notification to the owners). */
  announce?: (announcement: AdvisoryAnnouncement) => Promise<void>;
}

const MAX_REASON_LENGTH = 2000;
const CHECK_CONCURRENCY = 2;
const KINDS = ['patch', 'minor', 'major'] as const;

/** What one source said: newer versions, or why it could not be read. */
type Lookup<T> = { ok: T } | { problem: string };

async function lookup<T>(work: () => Promise<T>): Promise<Lookup<T>> {
  try {
    return { ok: await work() };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** What an image's check found, before it is stored per container. */
type ImageFinding = Omit<
  AdvisoryFinding,
  'subjectKind' | 'subject' | 'workload' | 'container' | 'initContainer'
> & {
  /** The way to act differs per container (its workload and name). */
  remedyFor?: (container: RunningImage) => AdvisoryFinding['remedy'];
};

/** A chart version as an OCI tag spells it back ('+' becomes '_' in tags). */
function versionOfTag(tag: string): string {
  return tag.replace(/_/g, '+');
}

/**
 * Patch advisories: for every deployed release, the images its live
 * workloads run and the chart version it was applied with, compared with
 * what their registries and repositories offer now.
 */
export class AdvisoryService {
  // One check per release at a time in this process; a second waits for the first.
  private readonly checking = new Map<string, Promise<unknown>>();

  private constructor(private readonly options: AdvisoryServiceOptions) {}

  static create(options: AdvisoryServiceOptions): AdvisoryService {
    return new AdvisoryService(options);
  }

  /**
   * Checks every deployed release. A release whose cluster or registry
   * cannot be read records that as its problem; the others go on.
   */
  async checkAll(): Promise<{ checked: number; opened: number }> {
    const { plans, logger } = this.options;
    let after: string | undefined;
    let checked = 0;
    let opened = 0;
    do {
      const page = await plans.list({ limit: 500, after });
      after = page.nextCursor;
      const stored = await plans.getStoredByIds(page.items.map(p => p.id));
      const candidates = stored.filter(
        (p): p is StoredPlan => p !== undefined && p.status !== 'uninstalled',
      );
      const results = await mapWithConcurrency(
        candidates,
        CHECK_CONCURRENCY,
        async plan => {
          try {
            return await this.checkStored(plan);
          } catch (error) {
            logger.warn('Advisory check of a release failed', {
              planId: plan.id,
              error: (error as Error).message,
            });
            return undefined;
          }
        },
      );
      for (const result of results) {
        if (result) {
          checked++;
          opened += result.opened;
        }
      }
    } while (after);
    return { checked, opened };
  }

  /** Checks one release now (the page's "check now"). */
  async checkPlan(planId: string): Promise<PlanAdvisories> {
    const plan = await this.options.plans.getStored(planId);
    const result = await this.checkStored(plan);
    if (!result) {
      throw new ConflictError(
        'This plan has no successful apply: there is nothing running to check',
      );
    }
    return this.forPlan(planId, { includeResolved: false });
  }

  async forPlan(
    planId: string,
    options: { includeResolved?: boolean },
  ): Promise<PlanAdvisories> {
    const [items, checks] = await Promise.all([
      this.options.store.listForPlans([planId], options),
      this.options.store.getChecks([planId]),
    ]);
    return { items, check: checks[0] };
  }

  /** Advisories of the plans a filter (the caller's read permission) lets through. */
  async overview(options: {
    /** Undefined: every plan. */
    filter?: PlanFilterTree;
    entityRef?: string;
    includeResolved?: boolean;
  }): Promise<AdvisoryOverview> {
    const readable: ReleasePlan[] = [];
    let after: string | undefined;
    do {
      const page = await this.options.plans.list({
        limit: 500,
        after,
        filter: options.filter,
        entityRef: options.entityRef,
      });
      readable.push(...page.items);
      after = page.nextCursor;
    } while (after && readable.length < 5000);
    const byId = new Map(readable.map(p => [p.id, p]));
    const ids = [...byId.keys()];
    const [advisories, checks] = await Promise.all([
      this.options.store.listForPlans(ids, {
        includeResolved: options.includeResolved,
      }),
      this.options.store.getChecks(ids),
    ]);
    const releaseOf = (planId: string) => {
      const plan = byId.get(planId)!;
      return {
        entityRef: plan.entityRef,
        target: plan.target,
        namespace: plan.namespace,
        releaseName: plan.releaseName,
      };
    };
    return {
      items: advisories.map(a => ({ ...a, release: releaseOf(a.planId) })),
      problems: checks
        .filter(c => c.problems.length > 0)
        .map(c => ({
          planId: c.planId,
          releaseName: byId.get(c.planId)!.releaseName,
          checkedAt: c.checkedAt,
          problems: c.problems,
        })),
    };
  }

  /** The advisory, which must belong to the plan (else: not found). */
  async get(planId: string, advisoryId: string): Promise<Advisory> {
    const advisory = await this.options.store.get(advisoryId);
    if (!advisory || advisory.planId !== planId) {
      throw new NotFoundError(
        `Release plan ${planId} has no advisory ${advisoryId}`,
      );
    }
    return advisory;
  }

  async dismiss(
    planId: string,
    advisoryId: string,
    input: { reason: string; until?: string },
    actor: string,
  ): Promise<Advisory> {
    const reason = input.reason?.trim() ?? '';
    if (!reason || reason.length > MAX_REASON_LENGTH) {
      throw new InputError(
        `A dismissal needs a reason of 1 to ${MAX_REASON_LENGTH} characters`,
      );
    }
    const now = new Date();
    let until: string | undefined;
    if (input.until !== undefined) {
      const parsed = new Date(input.until);
      if (Number.isNaN(parsed.getTime()) || parsed <= now) {
        throw new InputError('until must be a date and time in the future');
      }
      until = parsed.toISOString();
    }
    const advisory = await this.get(planId, advisoryId);
    if (advisory.state === 'resolved') {
      throw new ConflictError(
        `This advisory was resolved (${advisory.resolvedReason}); there is nothing to dismiss`,
      );
    }
    await this.options.store.dismiss(advisoryId, {
      by: actor,
      at: now.toISOString(),
      reason,
      until,
    });
    return this.get(planId, advisoryId);
  }

  /**
   * Acts on a chart advisory: registers the newer version from the same
   * source (pinned by digest like any registration) and makes it a new
   * revision of the plan, which then goes through dry-run, preflight and
   * apply like any change.
   */
  async createChartRevision(
    planId: string,
    advisoryId: string,
    caller: { actor: string; credentials: BackstageCredentials },
  ): Promise<ReleasePlan> {
    const advisory = await this.get(planId, advisoryId);
    const remedy = advisory.remedy;
    if (remedy?.type !== 'chart-version') {
      throw new InputError(
        'Only a chart advisory creates a plan revision; an image advisory shows its values change or command',
      );
    }
    if (advisory.state === 'resolved') {
      throw new ConflictError(
        `This advisory was resolved (${advisory.resolvedReason})`,
      );
    }
    const { plans, charts, profiles } = this.options;
    const plan = await plans.getStored(planId);
    const { chart } = await charts.register(
      { reference: remedy.reference, version: remedy.version },
      caller.actor,
    );
    if (plan.chartId === chart.id) {
      throw new ConflictError(
        `The plan already uses ${chart.name} ${chart.version}; run its dry-run`,
      );
    }
    // The plan's values follow only a profile already upgraded to the new
    // version; a pinned revision moves to the profile's newest, which is it.
    let profileRevision = plan.profileRevision;
    if (plan.profileId) {
      const profile = await profiles.get(plan.profileId);
      if (profile.chartId !== chart.id) {
        throw new ConflictError(
          `The plan's values profile "${profile.name}" is for another version of the chart; upgrade the profile to ${chart.name} ${chart.version} first (Profiles: Upgrade), then create the plan revision`,
        );
      }
      if (profileRevision !== undefined) profileRevision = profile.revision;
    }
    return plans.update(
      planId,
      {
        chartId: chart.id,
        expectedRevision: plan.revision,
        ...(profileRevision !== plan.profileRevision
          ? { profileId: plan.profileId, profileRevision }
          : {}),
      },
      caller.actor,
      caller.credentials,
    );
  }

  /** One release's check, stored; undefined when the plan never applied. */
  private async checkStored(
    plan: StoredPlan,
  ): Promise<{ opened: number } | undefined> {
    const previous = this.checking.get(plan.id);
    const run = (async () => {
      await previous?.catch(() => undefined);
      const records = await this.options.releaseRecords(plan);
      const applied = records.find(r => r.outcome === 'deployed');
      if (!applied) return undefined;
      const result = await this.inspect(plan, applied);
      const opened = await this.options.store.recordCheck(result);
      await this.announce(opened, plan, result.running.chart?.name);
      return { opened: opened.length };
    })();
    this.checking.set(plan.id, run);
    try {
      return await run;
    } finally {
      if (this.checking.get(plan.id) === run) this.checking.delete(plan.id);
    }
  }

  private async announce(
    opened: Advisory[],
    plan: StoredPlan,
    chart: string | undefined,
  ) {
    const { announce, store, logger } = this.options;
    if (!announce) return;
    for (const advisory of opened) {
      const level = advisory.kind;
      if (
        (level !== 'patch' && level !== 'minor' && level !== 'major') ||
        !advisory.available
      ) {
        continue;
      }
      try {
        await announce({
          advisoryId: advisory.id,
          plan,
          subject: advisory.subjectKind,
          name:
            advisory.subjectKind === 'chart'
              ? chart ?? advisory.source
              : advisory.source,
          running: advisory.running,
          available: advisory.available,
          level,
        });
        await store.markNotified(advisory.id, new Date().toISOString());
      } catch (error) {
        logger.warn('Could not announce an advisory', {
          advisoryId: advisory.id,
          error: (error as Error).message,
        });
      }
    }
  }

  private async inspect(
    plan: StoredPlan,
    applied: ReleaseRecord,
  ): Promise<CheckResult> {
    const result: CheckResult = {
      planId: plan.id,
      checkedAt: new Date().toISOString(),
      running: { images: [] },
      problems: [],
      findings: [],
      runningSubjects: new Map(),
      uncheckedSubjects: new Set(),
    };
    const chart = await this.appliedChart(plan, applied);
    if (chart) {
      result.running.chart = {
        name: chart.name,
        version: chart.version,
        reference: chart.reference,
      };
      result.runningSubjects.set('chart', chart.version);
      await this.checkChart(chart, result);
    }

    const images = await lookup(() => this.options.images(plan));
    if ('problem' in images) {
      // Nothing is known of the workloads: their advisories stay as they were.
      result.problems.push({
        source: `target ${plan.targetName}`,
        message: images.problem,
      });
      return this.keepImageAdvisories(result);
    }
    if (!images.ok) {
      result.problems.push({
        source: `release ${plan.releaseName}`,
        message: 'The release is not installed in the cluster',
      });
      return result;
    }
    result.running.images = images.ok.map(i => ({
      workload: i.workload,
      container: i.container,
      init: i.init,
      image: i.image,
    }));
    const values = await this.effectiveValues(plan, chart);
    const byImage = new Map<string, RunningImage[]>();
    for (const running of images.ok) {
      result.runningSubjects.set(
        `${running.workload}/${running.container}`,
        running.image,
      );
      byImage.set(running.image, [
        ...(byImage.get(running.image) ?? []),
        running,
      ]);
    }
    await mapWithConcurrency([...byImage], 4, async ([image, containers]) =>
      this.checkImage(image, containers, plan, chart, values, result),
    );
    return result;
  }

  /** With the workloads unreadable, every image subject counts as unchecked. */
  private async keepImageAdvisories(result: CheckResult) {
    const open = await this.options.store.listForPlans([result.planId]);
    for (const advisory of open) {
      if (advisory.subjectKind === 'image') {
        result.uncheckedSubjects.add(advisory.subject);
        result.runningSubjects.set(advisory.subject, advisory.running);
      }
    }
    return result;
  }

  /** The chart the last successful apply used: the plan's, or the registered one with its digest. */
  private async appliedChart(
    plan: StoredPlan,
    applied: ReleaseRecord,
  ): Promise<StoredChart | undefined> {
    const { charts } = this.options;
    const current = await charts.get(plan.chartId).catch(() => undefined);
    if (!applied.chartDigest || current?.chartDigest === applied.chartDigest) {
      return current;
    }
    if (current) {
      const sameName = await charts.list({ name: current.name, limit: 500 });
      const found = sameName.items.find(
        c => c.chartDigest === applied.chartDigest,
      );
      if (found) return found;
    }
    return undefined;
  }

  private async checkChart(chart: StoredChart, result: CheckResult) {
    const subject = 'chart';
    const base = {
      subjectKind: 'chart' as const,
      subject,
      running: chart.version,
      source: chart.reference,
    };
    const version = parseSemanticVersion(chart.version);
    if (!version) {
      result.findings.push({
        ...base,
        kind: 'unknown',
        detail: `Chart version ${chart.version} is not a semantic version; newer versions are not guessed`,
      });
      return;
    }
    const versions = await lookup(() =>
      this.options.charts.listVersions(chart.reference),
    );
    if ('problem' in versions) {
      result.problems.push({
        source: chart.reference,
        message: versions.problem,
      });
      result.uncheckedSubjects.add(subject);
      return;
    }
    const newer = findNewerVersions(version, versions.ok.map(versionOfTag), {
      includePrereleases: this.options.includePrereleases ?? false,
    });
    for (const kind of KINDS) {
      const available = newer[kind];
      if (available) {
        result.findings.push({
          ...base,
          kind,
          available,
          remedy: {
            type: 'chart-version',
            reference: chart.reference,
            version: available,
          },
        });
      }
    }
  }

  private async checkImage(
    image: string,
    containers: RunningImage[],
    plan: StoredPlan,
    chart: StoredChart | undefined,
    values: Record<string, unknown>,
    result: CheckResult,
  ) {
    const findings: ImageFinding[] = [];
    const parsed = parseImageReference(image, {
      defaultRegistry: this.options.defaultRegistry,
    });
    const unknown = (source: string, detail: string) =>
      findings.push({ running: image, source, kind: 'unknown', detail });
    const check = async () => {
      if ('problem' in parsed) {
        unknown(image, parsed.problem);
        return;
      }
      const source = imageName(parsed);
      if (parsed.tag === undefined) {
        unknown(
          source,
          `${image} is pinned by digest without a tag: there is no tag to compare`,
        );
        return;
      }
      const client = await this.options.charts.registryClient(parsed.registry);
      if (parsed.digest) {
        const now = await client.resolveDigest(
          registryReference(parsed, parsed.tag),
        );
        if (now !== parsed.digest) {
          findings.push({
            running: image,
            runningDigest: parsed.digest,
            source,
            kind: 'digest',
            available: parsed.tag,
            availableDigest: now,
            detail: `Tag ${parsed.tag} now points to ${now}, not the pinned ${parsed.digest}`,
            remedyFor: c => ({
              type: 'command',
              command: setImageCommand(
                plan.namespace,
                c,
                `${imageWithTag(image, parsed.tag!)}@${now}`,
              ),
            }),
          });
        }
      }
      const version = parseSemanticVersion(parsed.tag);
      if (!version) {
        unknown(
          source,
          `Tag ${parsed.tag} is not a semantic version; newer versions are not guessed`,
        );
        return;
      }
      const tags = await client.listTags(registryReference(parsed));
      const newer = findNewerVersions(version, tags, {
        includePrereleases: this.options.includePrereleases ?? false,
      });
      for (const kind of KINDS) {
        const available = newer[kind];
        if (!available) continue;
        findings.push({
          running: image,
          runningDigest: parsed.digest,
          source,
          kind,
          available,
          remedyFor: c =>
            imageRemedy({
              running: c,
              tag: (parsed as ImageReference).tag,
              newTag: available,
              namespace: plan.namespace,
              values,
              valuesSchema: chart?.valuesSchema,
            }),
        });
      }
    };
    const outcome = await lookup(check);
    for (const container of containers) {
      const subject = `${container.workload}/${container.container}`;
      if ('problem' in outcome) {
        result.uncheckedSubjects.add(subject);
        continue;
      }
      for (const { remedyFor, ...finding } of findings) {
        result.findings.push({
          ...finding,
          subjectKind: 'image',
          subject,
          workload: container.workload,
          container: container.container,
          initContainer: container.init,
          remedy: remedyFor?.(container),
        });
      }
    }
    if ('problem' in outcome) {
      result.problems.push({
        source: 'problem' in parsed ? image : imageName(parsed),
        message: outcome.problem,
      });
    }
  }

  /** The chart's defaults with the plan's profile values over them (secrets are not read). */
  private async effectiveValues(
    plan: StoredPlan,
    chart: StoredChart | undefined,
  ): Promise<Record<string, unknown>> {
    let defaults: Record<string, unknown> = {};
    try {
      const parsed = chart?.defaultValues
        ? parseYaml(chart.defaultValues)
        : undefined;
      if (parsed && typeof parsed === 'object') defaults = parsed;
    } catch {
      // Unreadable defaults only mean no values change is offered.
    }
    if (!plan.profileId) return defaults;
    const { profiles } = this.options;
    const profileValues = await (plan.profileRevision === undefined
      ? profiles.get(plan.profileId)
      : profiles.getRevision(plan.profileId, plan.profileRevision)
    )
      .then(p => p.values)
      .catch(() => ({}));
    return mergeValues(defaults, profileValues);
  }
}
