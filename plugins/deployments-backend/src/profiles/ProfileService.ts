import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  formatViolation,
  ValuesProfile,
  ValuesProfileInput,
  ValuesProfileRevision,
  ValuesProfileUpgrade,
  ValuesProfileUpgradeInput,
  ValuesProfileUpgradeReport,
  ValuesViolation,
} from '@kubedeploy/plugin-deployments-common';
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ChartService } from '../charts/ChartService';
import { StoredChart } from '../charts/DatabaseChartStore';
import { stableHash } from '../lib/stableHash';
import { SecretsService } from '../secrets/SecretsService';
import {
  DatabaseProfileStore,
  ProfileFilterTree,
  StoredProfile,
  StoredProfileRevision,
} from './DatabaseProfileStore';
import {
  getAtPointer,
  removeAtPointer,
  secretPathsFromSchema,
  setAtPointer,
} from './values/jsonPointer';
import { chartKeys, missingKeys, valueKeys } from './values/chartKeys';
import { checkValues, parseValuesYaml, Values } from './values/parseValuesYaml';
import { validateValues } from './values/validateValues';

/** Values of one profile revision, decrypted for one Helm run. */
export interface ResolvedProfileValues {
  profileId: string;
  revision: number;
  chartId: string;
  values: Values;
  /** Secret values as strings, so Helm's output can be redacted. */
  secretStrings: string[];
  valuesHash: string;
}

/** Which release plans use a profile; the plans domain provides it. */
export type ProfileUsageLookup = (profileId: string) => Promise<string[]>;

const SECRET_RECORD = 'profile-secrets';
const MAX_NAME_LENGTH = 100;
const MAX_DESCRIPTION_LENGTH = 2000;
const MAX_SECRET_PATHS = 100;
/** A full entity ref, as target owners are written. */
const ENTITY_REF = /^[a-z]+:[a-z0-9-_.]+\/[a-zA-Z0-9-_.]+$/;

/**
 * The rules of values profiles: values validated against the chart's schema
 * merged over its defaults, secrets sealed per revision, revisions immutable.
 */
export class ProfileService {
  private constructor(
    private readonly store: DatabaseProfileStore,
    private readonly charts: ChartService,
    private readonly secrets: SecretsService,
    private readonly usage: ProfileUsageLookup,
  ) {}

  static create(options: {
    store: DatabaseProfileStore;
    charts: ChartService;
    secrets: SecretsService;
    usage?: ProfileUsageLookup;
  }): ProfileService {
    return new ProfileService(
      options.store,
      options.charts,
      options.secrets,
      options.usage ?? (async () => []),
    );
  }

  async list(options: {
    limit?: number;
    offset?: number;
    chartId?: string;
    /** The caller's read conditions as a query; undefined allows every profile. */
    filter?: ProfileFilterTree;
  }): Promise<{ items: ValuesProfile[]; totalCount: number }> {
    const page = await this.store.list({
      limit: Math.min(Math.max(options.limit ?? 100, 1), 500),
      offset: Math.max(options.offset ?? 0, 0),
      chartId: options.chartId,
      filter: options.filter,
    });
    const items = await Promise.all(
      page.items.map(async profile =>
        toApiProfile(profile, await this.requireRevision(profile)),
      ),
    );
    return { items, totalCount: page.totalCount };
  }

  async get(id: string): Promise<ValuesProfile> {
    const profile = await this.getStored(id);
    return toApiProfile(profile, await this.requireRevision(profile));
  }

  /** The stored profile, or undefined, for permission decisions on it. */
  async findStored(id: string): Promise<StoredProfile | undefined> {
    return this.store.get(id);
  }

  /** Profiles by id for the permission framework; undefined where none exists. */
  async getStoredByIds(
    ids: string[],
  ): Promise<Array<StoredProfile | undefined>> {
    return this.store.getByIds(ids);
  }

  async listRevisions(id: string): Promise<ValuesProfileRevision[]> {
    await this.getStored(id);
    return (await this.store.listRevisions(id)).map(toApiRevision);
  }

  async getRevision(
    id: string,
    revision: number,
  ): Promise<ValuesProfileRevision> {
    const found = await this.store.getRevision(id, revision);
    if (!found) {
      throw new NotFoundError(
        `Values profile ${id} has no revision ${revision}`,
      );
    }
    return toApiRevision(found);
  }

  /** Checks values against a chart without storing anything, for forms. */
  async validate(
    chartId: string,
    input: Pick<ValuesProfileInput, 'values' | 'valuesYaml'>,
  ): Promise<ValuesViolation[]> {
    const chart = await this.chartFor(chartId);
    return violationsOf(chart, readValues(input) ?? {});
  }

  async create(
    input: ValuesProfileInput,
    actor: string,
  ): Promise<ValuesProfile> {
    if (!input.chartId) throw new InputError('chartId is required');
    const name = checkName(input.name);
    const chart = await this.chartFor(input.chartId);
    const id = randomUUID();
    const now = new Date().toISOString();
    const revision = await this.buildRevision({
      chart,
      profileId: id,
      revision: 1,
      values: readValues(input) ?? {},
      secretPaths: input.secretPaths ?? [],
      actor,
      now,
    });
    const profile: StoredProfile = {
      id,
      chartId: chart.id,
      chartName: chart.name,
      name,
      description: checkDescription(input.description),
      owner: checkOwner(input.owner),
      revision: 1,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
      updatedBy: actor,
    };
    await this.store.insert(profile, revision);
    return toApiProfile(profile, revision);
  }

  /**
   * Writes a new revision. Values not sent are kept; a listed secret path
   * without a value keeps the previous revision's secret.
   */
  async update(
    id: string,
    input: ValuesProfileInput,
    actor: string,
  ): Promise<ValuesProfile> {
    const current = await this.getStored(id);
    if (
      input.expectedRevision !== undefined &&
      input.expectedRevision !== current.revision
    ) {
      throw new ConflictError(
        `Values profile "${current.name}" is at revision ${current.revision}, not ${input.expectedRevision}; reload and try again`,
      );
    }
    if (input.chartId !== undefined && input.chartId !== current.chartId) {
      throw new InputError(
        'A values profile belongs to one chart; create a new profile for another chart',
      );
    }
    const previous = await this.requireRevision(current);
    const chart = await this.chartFor(current.chartId);
    const secretPaths = input.secretPaths ?? previous.secretPaths;
    const now = new Date().toISOString();
    const nextRevision = current.revision + 1;
    const revision = await this.buildRevision({
      chart,
      profileId: id,
      revision: nextRevision,
      values: readValues(input) ?? structuredClone(previous.values),
      secretPaths,
      previousSecrets: await this.openSecrets(previous),
      actor,
      now,
    });
    const next: StoredProfile = {
      ...current,
      name: input.name === undefined ? current.name : checkName(input.name),
      description:
        input.description === undefined
          ? current.description
          : checkDescription(input.description),
      owner:
        input.owner === undefined ? current.owner : checkOwner(input.owner),
      revision: nextRevision,
      updatedAt: now,
      updatedBy: actor,
    };
    await this.store.addRevision(next, revision, current.revision);
    return toApiProfile(next, revision);
  }

  /**
   * Moves a profile to another version of its chart: its values (secrets
   * included) are validated against the new chart's schema, the keys the
   * new chart dropped or added are reported, and the secrets are sealed
   * again for the new revision without anyone typing them. Refused with
   * every violation when the values do not fit; a dry run only reports.
   */
  async upgrade(
    id: string,
    input: ValuesProfileUpgradeInput,
    actor: string,
  ): Promise<ValuesProfileUpgrade> {
    if (!input || typeof input.chartId !== 'string' || !input.chartId) {
      throw new InputError('chartId is required');
    }
    const current = await this.getStored(id);
    if (
      input.expectedRevision !== undefined &&
      input.expectedRevision !== current.revision
    ) {
      throw new ConflictError(
        `Values profile "${current.name}" is at revision ${current.revision}, not ${input.expectedRevision}; reload and try again`,
      );
    }
    const [from, to] = await Promise.all([
      this.chartFor(current.chartId),
      this.chartFor(input.chartId),
    ]);
    if (to.name !== from.name) {
      throw new InputError(
        `Chart ${to.name} ${to.version} is not a version of ${from.name}; a values profile follows one chart`,
      );
    }
    if (to.id === from.id) {
      throw new InputError(
        `Values profile "${current.name}" is already on ${from.name} ${from.version}`,
      );
    }
    const previous = await this.requireRevision(current);
    const previousSecrets = await this.openSecrets(previous);
    const merged = structuredClone(previous.values);
    for (const [path, value] of previousSecrets) {
      setAtPointer(merged, path, value);
    }
    const fromKeys = chartKeys(chartDefaults(from), from.valuesSchema);
    const toKeys = chartKeys(chartDefaults(to), to.valuesSchema);
    const droppedKeys = missingKeys(fromKeys, toKeys);
    const setByProfile = valueKeys(previous.values, previous.secretPaths);
    const report: ValuesProfileUpgradeReport = {
      fromChartId: from.id,
      fromVersion: from.version,
      toChartId: to.id,
      toVersion: to.version,
      droppedKeys,
      droppedProfileKeys: droppedKeys.filter(key => setByProfile.has(key)),
      addedKeys: missingKeys(toKeys, fromKeys),
      violations: violationsOf(to, merged),
      secretPaths: previous.secretPaths,
    };
    if (report.violations.length > 0 && !input.dryRun) {
      throw new InputError(
        `The values of profile "${current.name}" do not match ${to.name} ${
          to.version
        }'s values.schema.json: ${report.violations
          .map(formatViolation)
          .join('; ')}`,
      );
    }
    if (input.dryRun) return { report };

    const now = new Date().toISOString();
    const nextRevision = current.revision + 1;
    const revision = await this.buildRevision({
      chart: to,
      profileId: id,
      revision: nextRevision,
      values: structuredClone(previous.values),
      secretPaths: previous.secretPaths,
      previousSecrets,
      actor,
      now,
    });
    const next: StoredProfile = {
      ...current,
      chartId: to.id,
      revision: nextRevision,
      updatedAt: now,
      updatedBy: actor,
    };
    await this.store.addRevision(next, revision, current.revision);
    return { report, profile: toApiProfile(next, revision) };
  }

  async delete(id: string): Promise<void> {
    const profile = await this.getStored(id);
    const plans = await this.usage(id);
    if (plans.length > 0) {
      throw new ConflictError(
        `Values profile "${profile.name}" is used by ${
          plans.length
        } release plan(s) (${plans.slice(0, 5).join(', ')}); change them first`,
      );
    }
    await this.store.delete(id);
  }

  /** The full values of one revision, secrets decrypted, for a Helm run. */
  async resolve(id: string, revision: number): Promise<ResolvedProfileValues> {
    const stored = await this.store.getRevision(id, revision);
    if (!stored) {
      throw new NotFoundError(
        `Values profile ${id} has no revision ${revision}`,
      );
    }
    const secrets = await this.openSecrets(stored);
    const values = structuredClone(stored.values);
    const secretStrings: string[] = [];
    for (const [path, value] of secrets) {
      setAtPointer(values, path, value);
      collectStrings(value, secretStrings);
    }
    return {
      profileId: id,
      revision,
      chartId: stored.chartId,
      values,
      secretStrings,
      valuesHash: stored.valuesHash,
    };
  }

  private async getStored(id: string): Promise<StoredProfile> {
    const profile = await this.store.get(id);
    if (!profile) throw new NotFoundError(`Values profile ${id} not found`);
    return profile;
  }

  private async requireRevision(
    profile: StoredProfile,
  ): Promise<StoredProfileRevision> {
    const revision = await this.store.getRevision(profile.id, profile.revision);
    if (!revision) {
      throw new Error(
        `Values profile ${profile.id} is missing its revision ${profile.revision}`,
      );
    }
    return revision;
  }

  private async chartFor(chartId: string): Promise<StoredChart> {
    try {
      return await this.charts.get(chartId);
    } catch (error) {
      if ((error as Error).name === 'NotFoundError') {
        throw new InputError(`Chart ${chartId} is not registered`);
      }
      throw error;
    }
  }

  private async openSecrets(
    revision: StoredProfileRevision,
  ): Promise<Map<string, unknown>> {
    if (!revision.secretsSealed) return new Map();
    const opened = await this.secrets.open(
      {
        type: SECRET_RECORD,
        id: revision.profileId,
        version: revision.revision,
      },
      revision.secretsSealed,
    );
    return new Map(Object.entries(JSON.parse(opened.toString('utf8'))));
  }

  /**
   * Splits secrets out of the values, validates everything merged over the
   * chart defaults, and seals the secrets bound to this exact revision.
   */
  private async buildRevision(options: {
    chart: StoredChart;
    profileId: string;
    revision: number;
    values: Values;
    secretPaths: string[];
    previousSecrets?: Map<string, unknown>;
    actor: string;
    now: string;
  }): Promise<StoredProfileRevision> {
    const { chart, values } = options;
    if (!Array.isArray(options.secretPaths)) {
      throw new InputError('secretPaths must be a list of JSON pointers');
    }
    const candidatePaths = [
      ...new Set([
        ...options.secretPaths,
        ...secretPathsFromSchema(chart.valuesSchema),
      ]),
    ];
    if (candidatePaths.length > MAX_SECRET_PATHS) {
      throw new InputError(
        `A profile may hold at most ${MAX_SECRET_PATHS} secret values`,
      );
    }
    const secrets = new Map<string, unknown>();
    for (const path of candidatePaths) {
      const value = getAtPointer(values, path);
      if (value !== undefined && value !== null && value !== '') {
        secrets.set(path, value);
        removeAtPointer(values, path);
      } else if (options.previousSecrets?.has(path)) {
        // A listed secret sent without a value keeps its previous value.
        secrets.set(path, options.previousSecrets.get(path));
        removeAtPointer(values, path);
      }
    }

    const merged = structuredClone(values);
    for (const [path, value] of secrets) setAtPointer(merged, path, value);
    const violations = violationsOf(chart, merged);
    if (violations.length > 0) {
      throw new InputError(
        `The values do not match the chart's values.schema.json: ${violations
          .map(formatViolation)
          .join('; ')}`,
      );
    }

    const secretPaths = [...secrets.keys()].sort();
    let secretsSealed: string | undefined;
    let secretsFingerprint: string | undefined;
    if (secrets.size > 0) {
      const sealed = await this.secrets.seal(
        {
          type: SECRET_RECORD,
          id: options.profileId,
          version: options.revision,
        },
        JSON.stringify(Object.fromEntries(secrets)),
      );
      secretsSealed = sealed.sealed;
      secretsFingerprint = sealed.fingerprint;
    }
    return {
      profileId: options.profileId,
      revision: options.revision,
      chartId: chart.id,
      values,
      secretPaths,
      secretsSealed,
      // A keyed fingerprint stands in for the secrets: a plain hash of a
      // weak secret could be brute-forced from the database.
      valuesHash: stableHash({ values, secrets: secretsFingerprint ?? null }),
      createdAt: options.now,
      createdBy: options.actor,
    };
  }
}

function readValues(
  input: Pick<ValuesProfileInput, 'values' | 'valuesYaml'>,
): Values | undefined {
  if (input.values !== undefined && input.valuesYaml !== undefined) {
    throw new InputError('Send values either as JSON or as YAML, not both');
  }
  if (input.valuesYaml !== undefined) return parseValuesYaml(input.valuesYaml);
  if (input.values !== undefined) return checkValues(input.values);
  return undefined;
}

function violationsOf(chart: StoredChart, values: Values): ValuesViolation[] {
  if (!chart.valuesSchema) return [];
  return validateValues(chart.valuesSchema, chartDefaults(chart), values);
}

function chartDefaults(chart: StoredChart): Values {
  if (!chart.defaultValues) return {};
  // The chart's own values.yaml was read with the archive's limits at registration.
  const parsed: unknown = parseYaml(chart.defaultValues, {
    maxAliasCount: 100,
  });
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Values)
    : {};
}

function checkName(name: string | undefined): string {
  const trimmed = name?.trim() ?? '';
  if (!trimmed || trimmed.length > MAX_NAME_LENGTH) {
    throw new InputError(
      `A values profile needs a name of 1 to ${MAX_NAME_LENGTH} characters`,
    );
  }
  return trimmed;
}

function checkDescription(description: string | undefined): string | undefined {
  if (description === undefined) return undefined;
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw new InputError(
      `The description is longer than ${MAX_DESCRIPTION_LENGTH} characters`,
    );
  }
  return description.trim() || undefined;
}

/** A full entity ref or nothing; an empty string clears the owner. */
function checkOwner(owner: string | undefined): string | undefined {
  const trimmed = owner?.trim();
  if (!trimmed) return undefined;
  if (!ENTITY_REF.test(trimmed)) {
    throw new InputError(
      `owner must be a full entity ref like group:default/team-a, got "${owner}"`,
    );
  }
  return trimmed;
}

function collectStrings(value: unknown, into: string[]) {
  if (typeof value === 'string' || typeof value === 'number') {
    const text = String(value);
    if (text.length >= 4) into.push(text);
  } else if (value && typeof value === 'object') {
    for (const child of Object.values(value)) collectStrings(child, into);
  }
}

function toApiRevision(revision: StoredProfileRevision): ValuesProfileRevision {
  return {
    profileId: revision.profileId,
    revision: revision.revision,
    chartId: revision.chartId,
    values: revision.values,
    secretPaths: revision.secretPaths,
    valuesHash: revision.valuesHash,
    createdAt: revision.createdAt,
    createdBy: revision.createdBy,
  };
}

function toApiProfile(
  profile: StoredProfile,
  revision: StoredProfileRevision,
): ValuesProfile {
  return {
    id: profile.id,
    chartId: profile.chartId,
    name: profile.name,
    description: profile.description,
    owner: profile.owner,
    revision: profile.revision,
    values: revision.values,
    secretPaths: revision.secretPaths,
    valuesHash: revision.valuesHash,
    createdAt: profile.createdAt,
    createdBy: profile.createdBy,
    updatedAt: profile.updatedAt,
    updatedBy: profile.updatedBy,
  };
}
