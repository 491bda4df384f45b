import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  ChangeWindowSettings,
  describeInvalidNamespace,
  NamespaceOwnership,
  Target,
  TargetAuthKind,
  TargetConnectionTestResult,
  TargetCredentialsInput,
} from '@kubedeploy/plugin-deployments-common';
import { randomUUID } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { ClusterAccess, ClusterConnection } from '../cluster/ClusterConnection';
import { testConnection } from '../cluster/connectionTest';
import { SecretIntegrityError } from '../keyring/errors';
import { stableHash } from '../lib/stableHash';
import { EnvelopeCipher } from '../secrets/EnvelopeCipher';
import { describeInvalidChangeWindows } from '../changeWindows/changeWindowSchedule';
import { SecretsService } from '../secrets/SecretsService';
import { DatabaseTargetStore, StoredTarget } from './DatabaseTargetStore';
import { pinServerAddress } from './pinServerAddress';
import {
  CredentialFields,
  SealedTargetPayload,
  TargetAuthStrategies,
} from './auth';
import {
  NamespaceBoundary,
  validateAllowlistPattern,
  validateClusterScopedKind,
} from './namespaceBoundary';

/** Everything about a target except its credentials. */
export interface TargetSettingsInput {
  displayName?: string;
  description?: string;
  owner?: string;
  apiServerUrl?: string;
  caData?: string;
  allowedNamespaces?: string[];
  allowedClusterScopedKinds?: string[];
  allowObjectsInOtherAllowedNamespaces?: boolean;
  impersonate?: { user?: string; groups?: string[] };
  allowInsecureTls?: boolean;
  production?: boolean;
  namespaceOwners?: NamespaceOwnership[];
  requireApproval?: boolean;
  /** `null` removes the windows (changes allowed at any time). */
  changeWindows?: ChangeWindowSettings | null;
}

export interface CreateTargetInput extends TargetSettingsInput {
  name: string;
  credentials: TargetCredentialsInput;
}

/**
 * A change of settings. Changing where the credential goes or as whom
 * (API server, CA, insecure TLS, impersonation) needs `credentials` too.
 */
export interface UpdateTargetInput extends TargetSettingsInput {
  expectedRevision?: number;
  credentials?: TargetCredentialsInput;
}

/**
 * Answers which release plans use a target. The plans domain provides it;
 * until it exists nothing uses a target.
 */
export type TargetUsageLookup = (targetId: string) => Promise<string[]>;

/**
 * A target's credential did not open with the target's stored connection
 * settings: they, or the credential, changed behind the portal's back. It
 * conflicts with the stored state (409); nothing is sent anywhere.
 */
class CredentialBindingError extends SecretIntegrityError {
  statusCode = 409;
}

const ENTITY_REF = /^[a-z]+:[a-z0-9-_.]+\/[a-zA-Z0-9-_.]+$/;

/** A target opened for one operation. */
export interface TargetConnection {
  access: ClusterAccess;
  cluster: ClusterConnection;
}

/** The rules of targets: validation, sealed credentials, the boundary. */
export class TargetService {
  private constructor(
    private readonly store: DatabaseTargetStore,
    private readonly secrets: SecretsService,
    private readonly usage: TargetUsageLookup,
    private readonly auth: TargetAuthStrategies,
    private readonly checkUrl: (url: URL) => Promise<void>,
    private readonly checkUrlOnWrite: (url: URL) => Promise<void>,
    private readonly connectLookup?: (port: number) => LookupFunction,
  ) {}

  static create(options: {
    store: DatabaseTargetStore;
    secrets: SecretsService;
    usage?: TargetUsageLookup;
    inClusterServiceAccountDir?: string;
    /**
     * The outbound policy for API server URLs, checked before every use:
     * link-local and cloud-metadata addresses are never a cluster.
     */
    checkUrl?: (url: URL) => Promise<void>;
    /**
     * The same policy when an API server URL is stored, so a refused address
     * is refused with its reason at once rather than at first use. Defaults
     * to `checkUrl`.
     */
    checkUrlOnWrite?: (url: URL) => Promise<void>;
    /**
     * Resolves API server names for each connection the backend makes to a
     * cluster, refusing what the policy refuses (DNS rebinding between the
     * check and the connection). helm makes its own connections.
     */
    connectLookup?: (port: number) => LookupFunction;
  }): TargetService {
    return new TargetService(
      options.store,
      options.secrets,
      options.usage ?? (async () => []),
      new TargetAuthStrategies({
        inClusterServiceAccountDir: options.inClusterServiceAccountDir,
      }),
      options.checkUrl ?? (async () => {}),
      options.checkUrlOnWrite ?? options.checkUrl ?? (async () => {}),
      options.connectLookup,
    );
  }

  /** A request's credential part, checked for the fields its kind needs. */
  credentialsInput(body: CredentialFields): TargetCredentialsInput {
    return this.auth.readInput(body);
  }

  /** Every target, for filtering by permission conditions; targets are few. */
  async listStored(): Promise<StoredTarget[]> {
    return this.store.listAll();
  }

  toApi(target: StoredTarget): Target {
    return toApiTarget(target);
  }

  async get(name: string): Promise<Target> {
    return toApiTarget(await this.getStored(name));
  }

  async getStored(name: string): Promise<StoredTarget> {
    const target = await this.store.getByName(name);
    if (!target) {
      throw new NotFoundError(`Target "${name}" not found`);
    }
    return target;
  }

  /** For the permission framework: targets by resource ref (their names). */
  async getStoredByNames(
    names: string[],
  ): Promise<Array<StoredTarget | undefined>> {
    const found = await this.store.getByNames(names);
    return names.map(n => found.find(t => t.name === n));
  }

  async create(input: CreateTargetInput, actor: string): Promise<Target> {
    const problem = describeInvalidNamespace(input.name);
    if (problem) {
      throw new InputError(
        `Invalid target name: ${problem.replace('namespace', 'name')}`,
      );
    }
    const now = new Date().toISOString();
    const draft: StoredTarget = {
      id: randomUUID(),
      name: input.name,
      displayName: input.displayName?.trim() || input.name,
      apiServerUrl: '',
      authKind: input.credentials.authKind,
      credentialsVersion: 0,
      allowedNamespaces: [],
      allowedClusterScopedKinds: [],
      allowObjectsInOtherAllowedNamespaces: false,
      allowInsecureTls: false,
      production: false,
      namespaceOwners: [],
      requireApproval: false,
      revision: 1,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
      updatedBy: actor,
    };
    const settled = applySettings(draft, input);
    const withCredentials = await this.sealCredentials(
      settled,
      input.credentials,
      now,
    );
    this.validateComplete(withCredentials);
    await this.checkServerUrl(withCredentials);
    await this.store.insert(withCredentials);
    return toApiTarget(withCredentials);
  }

  async update(
    name: string,
    input: UpdateTargetInput,
    actor: string,
  ): Promise<Target> {
    const { expectedRevision, credentials, ...settings } = input;
    const current = await this.getStored(name);
    if (
      expectedRevision !== undefined &&
      expectedRevision !== current.revision
    ) {
      throw new ConflictError(
        `Target "${name}" is at revision ${current.revision}, not ${expectedRevision}; reload and try again`,
      );
    }
    const now = new Date().toISOString();
    let next = applySettings(
      {
        ...current,
        revision: current.revision + 1,
        updatedAt: now,
        updatedBy: actor,
      },
      settings,
    );
    if (
      this.auth.for(credentials?.authKind ?? current.authKind)
        .settingsFromCredential &&
      (next.apiServerUrl !== current.apiServerUrl ||
        next.caData !== current.caData)
    ) {
      throw new InputError(
        `The API server and CA of a ${current.authKind} target come from its credential (a kubeconfig target never loses its CA); replace the credential to change them`,
      );
    }
    const changed = changedConnectionSettings(current, next);
    if (credentials) {
      next = await this.sealCredentials(next, credentials, now);
    } else if (changed.length > 0) {
      throw new InputError(
        `Changing ${changed.join(
          ', ',
        )} of target "${name}" changes where its credential is sent or as whom; ` +
          're-enter the credential in the same request (credentials) to change it',
      );
    }
    this.validateComplete(next);
    await this.checkServerUrl(next, current);
    await this.store.replace(next, current.revision);
    return toApiTarget(next);
  }

  /** Credentials are replaced only through this call, never by update. */
  async replaceCredentials(
    name: string,
    credentials: TargetCredentialsInput,
    actor: string,
  ): Promise<Target> {
    const current = await this.getStored(name);
    const now = new Date().toISOString();
    const next = await this.sealCredentials(
      {
        ...current,
        revision: current.revision + 1,
        updatedAt: now,
        updatedBy: actor,
      },
      credentials,
      now,
    );
    this.validateComplete(next);
    await this.checkServerUrl(next, current);
    await this.store.replace(next, current.revision);
    return toApiTarget(next);
  }

  /**
   * The outbound policy on a new or changed API server URL, when the target
   * connects to the URL it stores (not in-cluster ones).
   */
  private async checkServerUrl(target: StoredTarget, before?: StoredTarget) {
    if (
      this.auth.for(target.authKind).checksServerUrl &&
      target.apiServerUrl !== before?.apiServerUrl
    ) {
      await this.checkUrlOnWrite(new URL(target.apiServerUrl));
    }
  }

  async delete(name: string): Promise<void> {
    const target = await this.getStored(name);
    const plans = await this.usage(target.id);
    if (plans.length > 0) {
      throw new ConflictError(
        `Target "${name}" is used by ${plans.length} release plan(s) (${plans
          .slice(0, 5)
          .join(', ')}); delete or move them first`,
      );
    }
    await this.store.delete(name);
  }

  /** The target's authorization boundary, for every later check on manifests. */
  boundaryOf(target: StoredTarget): NamespaceBoundary {
    return {
      allowedNamespaces: target.allowedNamespaces,
      allowedClusterScopedKinds: target.allowedClusterScopedKinds,
      allowObjectsInOtherAllowedNamespaces:
        target.allowObjectsInOtherAllowedNamespaces,
    };
  }

  /**
   * Decrypts the credentials into an in-memory access description, for one
   * operation. In-cluster credentials are read from the pod at this moment.
   */
  async clusterAccess(target: StoredTarget): Promise<ClusterAccess> {
    const auth = this.auth.for(target.authKind);
    if (auth.checksServerUrl) {
      await this.checkUrl(new URL(target.apiServerUrl));
    }
    const opened = await this.openCredentials(target);
    const payload = JSON.parse(opened.toString('utf8')) as SealedTargetPayload;
    opened.fill(0);
    const impersonate =
      target.impersonateUser || target.impersonateGroups?.length
        ? { user: target.impersonateUser, groups: target.impersonateGroups }
        : undefined;
    const access = { ...auth.access(target, payload), impersonate };
    // Processes such as helm resolve names themselves: they get the address checked.
    return auth.checksServerUrl && this.connectLookup
      ? pinServerAddress(access, this.connectLookup)
      : access;
  }

  /**
   * Opens a target's credential with its stored connection settings bound
   * in. A credential whose settings were changed without re-entering it
   * (e.g. directly in the database) does not open, so it is never sent.
   */
  private async openCredentials(target: StoredTarget): Promise<Buffer> {
    const sealed = target.credentialsSealed;
    if (!sealed) {
      if (!this.auth.for(target.authKind).storesSecret) {
        return this.bindUnsealedTarget(target);
      }
      throw new ConflictError(`Target "${target.name}" has no credentials`);
    }
    if (!EnvelopeCipher.isBound(sealed)) {
      return this.openAndBindLegacyCredentials(target, sealed);
    }
    try {
      return await this.secrets.open(credentialIdentity(target), sealed);
    } catch (error) {
      if ((error as Error)?.name === 'SecretIntegrityError') {
        throw new CredentialBindingError(
          `The credential of target "${target.name}" does not open with the target's stored connection settings ` +
            '(API server URL, CA, insecure TLS, impersonation): they or the credential were changed without re-entering it. ' +
            'Nothing was sent; re-enter the credential to use this target',
        );
      }
      throw error;
    }
  }

  /**
   * Credentials sealed before the connection settings were bound (format
   * kd1) open as before, once: they are re-sealed at once, bound to the
   * settings they are used with and under the next credentials version, so
   * the unbound ciphertext no longer opens and later changes fail closed.
   */
  private async openAndBindLegacyCredentials(
    target: StoredTarget,
    sealed: string,
  ): Promise<Buffer> {
    const opened = await this.secrets.open(
      unboundCredentialIdentity(target),
      sealed,
    );
    const version = target.credentialsVersion + 1;
    const rebound = await this.secrets.seal(
      credentialIdentity({ ...target, credentialsVersion: version }),
      opened,
    );
    // Nothing to do if someone else changed or re-bound it meanwhile.
    await this.store.replaceSealedCredentials(target, {
      credentialsSealed: rebound.sealed,
      credentialsVersion: version,
    });
    return opened;
  }

  /**
   * The one decrypt-and-connect step of an operation: the access (for helm)
   * and the connection built from it (for the API server), both in memory.
   */
  async connect(target: StoredTarget): Promise<TargetConnection> {
    const access = await this.clusterAccess(target);
    return {
      access,
      cluster: ClusterConnection.fromAccess(access, {
        // In-cluster targets reach the API server the pod is given.
        connectLookup: this.auth.for(target.authKind).checksServerUrl
          ? this.connectLookup
          : undefined,
      }),
    };
  }

  async testConnection(name: string): Promise<TargetConnectionTestResult> {
    const target = await this.getStored(name);
    const { cluster } = await this.connect(target);
    return testConnection(cluster, {
      allowedNamespaces: target.allowedNamespaces,
    });
  }

  private async sealCredentials(
    target: StoredTarget,
    input: TargetCredentialsInput,
    now: string,
  ): Promise<StoredTarget> {
    const auth = this.auth.for(input.authKind);
    const entered = auth.enter(
      {
        ...target,
        authKind: input.authKind,
        credentialsVersion: target.credentialsVersion + 1,
        credentialsUpdatedAt: now,
      },
      input,
    );
    const { sealed, fingerprint } = await this.secrets.seal(
      credentialIdentity(entered.target),
      JSON.stringify(entered.payload),
    );
    return {
      ...entered.target,
      credentialsSealed: sealed,
      credentialsFingerprint: auth.storesSecret ? fingerprint : undefined,
    };
  }

  /**
   * In-cluster targets made before their marker was sealed get it on first
   * use, bound to the settings they are used with, so a later change of
   * their impersonation fails closed like any credential's.
   */
  private async bindUnsealedTarget(target: StoredTarget): Promise<Buffer> {
    const version = target.credentialsVersion + 1;
    const payload = Buffer.from(JSON.stringify({ kind: target.authKind }));
    const { sealed } = await this.secrets.seal(
      credentialIdentity({ ...target, credentialsVersion: version }),
      payload,
    );
    await this.store.replaceSealedCredentials(target, {
      credentialsSealed: sealed,
      credentialsVersion: version,
    });
    return payload;
  }

  private validateComplete(target: StoredTarget) {
    validateComplete(target, this.auth.for(target.authKind).needsCa);
  }
}

type ConnectionSettings = Pick<
  StoredTarget,
  | 'authKind'
  | 'apiServerUrl'
  | 'caData'
  | 'allowInsecureTls'
  | 'impersonateUser'
  | 'impersonateGroups'
>;

/**
 * What a target's credential ciphertext is bound to: the record, the
 * credentials version, and where the credential may go and as whom.
 */
export function credentialIdentity(
  target: Pick<StoredTarget, 'id' | 'credentialsVersion'> & ConnectionSettings,
) {
  return {
    ...unboundCredentialIdentity(target),
    binding: connectionDigest(target),
  };
}

/** The identity credentials were sealed with before the settings were bound. */
function unboundCredentialIdentity(
  target: Pick<StoredTarget, 'id' | 'credentialsVersion'>,
) {
  return {
    type: 'target-credentials',
    id: target.id,
    version: target.credentialsVersion,
  };
}

/** A canonical digest of where a credential goes and as whom. */
function connectionDigest(target: ConnectionSettings): string {
  return stableHash({
    authKind: target.authKind,
    apiServerUrl: target.apiServerUrl,
    caData: target.caData,
    allowInsecureTls: target.allowInsecureTls,
    impersonateUser: target.impersonateUser,
    impersonateGroups: target.impersonateGroups,
  });
}

/** The connection settings that differ, by their API names. */
function changedConnectionSettings(
  before: ConnectionSettings,
  after: ConnectionSettings,
): string[] {
  const changed: string[] = [];
  if (before.apiServerUrl !== after.apiServerUrl) changed.push('apiServerUrl');
  if (before.caData !== after.caData) changed.push('caData');
  if (before.allowInsecureTls !== after.allowInsecureTls) {
    changed.push('allowInsecureTls');
  }
  if (
    stableHash([before.impersonateUser, before.impersonateGroups ?? []]) !==
    stableHash([after.impersonateUser, after.impersonateGroups ?? []])
  ) {
    changed.push('impersonate');
  }
  return changed;
}

function applySettings(
  target: StoredTarget,
  input: TargetSettingsInput,
): StoredTarget {
  const next = { ...target };
  if (input.displayName !== undefined) {
    const displayName = input.displayName.trim();
    if (!displayName || displayName.length > 255) {
      throw new InputError('displayName must be 1 to 255 characters');
    }
    next.displayName = displayName;
  }
  if (input.description !== undefined)
    next.description = input.description || undefined;
  if (input.owner !== undefined) {
    if (input.owner && !ENTITY_REF.test(input.owner)) {
      throw new InputError(
        `owner must be a full entity ref like group:default/platform, got "${input.owner}"`,
      );
    }
    next.owner = input.owner || undefined;
  }
  if (input.allowInsecureTls !== undefined)
    next.allowInsecureTls = input.allowInsecureTls;
  if (input.apiServerUrl !== undefined) next.apiServerUrl = input.apiServerUrl;
  // The same CA written with other surrounding whitespace is no change.
  if (
    input.caData !== undefined &&
    input.caData.trim() !== (target.caData ?? '').trim()
  ) {
    next.caData = input.caData || undefined;
  }
  if (input.allowedNamespaces !== undefined) {
    const problems = input.allowedNamespaces
      .map(p => [p, validateAllowlistPattern(p)] as const)
      .filter(([, problem]) => problem);
    if (problems.length) {
      throw new InputError(
        `Invalid namespace allowlist: ${problems
          .map(([p, problem]) => `"${p}": ${problem}`)
          .join('; ')}`,
      );
    }
    next.allowedNamespaces = [...new Set(input.allowedNamespaces)];
  }
  if (input.allowedClusterScopedKinds !== undefined) {
    const problems = input.allowedClusterScopedKinds
      .map(entry => validateClusterScopedKind(entry))
      .filter((problem): problem is string => problem !== undefined);
    if (problems.length) {
      throw new InputError(
        `Invalid allowed cluster-scoped kinds: ${problems.join('; ')}`,
      );
    }
    next.allowedClusterScopedKinds = [
      ...new Set(input.allowedClusterScopedKinds),
    ];
  }
  if (input.allowObjectsInOtherAllowedNamespaces !== undefined) {
    next.allowObjectsInOtherAllowedNamespaces =
      input.allowObjectsInOtherAllowedNamespaces;
  }
  if (input.production !== undefined) next.production = input.production;
  if (input.requireApproval !== undefined) {
    next.requireApproval = input.requireApproval;
  }
  if (input.namespaceOwners !== undefined) {
    next.namespaceOwners = validatedNamespaceOwners(input.namespaceOwners);
  }
  if (input.changeWindows !== undefined) {
    if (input.changeWindows === null) {
      next.changeWindows = undefined;
    } else {
      const problems = describeInvalidChangeWindows(input.changeWindows);
      if (problems.length) {
        throw new InputError(`Invalid change windows: ${problems.join('; ')}`);
      }
      next.changeWindows = input.changeWindows;
    }
  }
  if (input.impersonate !== undefined) {
    const user = input.impersonate.user?.trim() || undefined;
    const groups = input.impersonate.groups?.filter(g => g.trim()) ?? [];
    if (groups.length && !user) {
      throw new InputError(
        'Impersonating groups requires a user to impersonate',
      );
    }
    next.impersonateUser = user;
    next.impersonateGroups = groups.length ? groups : undefined;
  }
  return next;
}

function validatedNamespaceOwners(
  entries: NamespaceOwnership[],
): NamespaceOwnership[] {
  const problems = entries.flatMap(entry => {
    const pattern = validateAllowlistPattern(entry.namespace);
    const badOwners = entry.owners.filter(owner => !ENTITY_REF.test(owner));
    return [
      ...(pattern ? [`"${entry.namespace}": ${pattern}`] : []),
      ...(entry.owners.length === 0
        ? [`"${entry.namespace}": at least one owner is required`]
        : []),
      ...badOwners.map(
        owner =>
          `"${entry.namespace}": owner must be a full entity ref like group:default/team-a, got "${owner}"`,
      ),
    ];
  });
  if (problems.length) {
    throw new InputError(`Invalid namespace owners: ${problems.join('; ')}`);
  }
  return entries.map(entry => ({
    namespace: entry.namespace,
    owners: [...new Set(entry.owners)],
  }));
}

function validateComplete(target: StoredTarget, needsCa: boolean) {
  let url: URL;
  try {
    url = new URL(target.apiServerUrl);
  } catch {
    throw new InputError('apiServerUrl must be an absolute https URL');
  }
  if (url.username || url.password) {
    throw new InputError('apiServerUrl must not contain credentials');
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && target.allowInsecureTls)
  ) {
    throw new InputError(
      'apiServerUrl must use https (http only when the target allows insecure TLS)',
    );
  }
  if (target.caData && !target.caData.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InputError('caData must be a PEM certificate bundle');
  }
  if (needsCa && !target.caData && !target.allowInsecureTls) {
    throw new InputError(
      'A CA bundle is required to verify the API server (or explicitly allow insecure TLS on the target)',
    );
  }
}

function toApiTarget(target: StoredTarget): Target {
  const warnings = describeTargetSettingProblems(target);
  return {
    name: target.name,
    displayName: target.displayName,
    description: target.description,
    owner: target.owner,
    apiServerUrl: target.apiServerUrl,
    caData: target.caData,
    authKind: target.authKind as TargetAuthKind,
    credentials: {
      // In-cluster targets read their ServiceAccount at use: always set.
      set: target.authKind === 'inCluster' || Boolean(target.credentialsSealed),
      fingerprint: target.credentialsFingerprint,
      updatedAt: target.credentialsUpdatedAt,
    },
    allowedNamespaces: target.allowedNamespaces,
    allowedClusterScopedKinds: target.allowedClusterScopedKinds,
    allowObjectsInOtherAllowedNamespaces:
      target.allowObjectsInOtherAllowedNamespaces,
    impersonate:
      target.impersonateUser || target.impersonateGroups
        ? { user: target.impersonateUser, groups: target.impersonateGroups }
        : undefined,
    allowInsecureTls: target.allowInsecureTls,
    production: target.production,
    namespaceOwners: target.namespaceOwners,
    requireApproval: target.requireApproval,
    changeWindows: target.changeWindows,
    revision: target.revision,
    createdAt: target.createdAt,
    createdBy: target.createdBy,
    updatedAt: target.updatedAt,
    updatedBy: target.updatedBy,
    ...(warnings.length ? { warnings } : {}),
  };
}

/**
 * What is wrong with a target's stored settings by today's rules. Rows
 * written before the allowed cluster-scoped kinds were validated may hold an
 * entry such as a bare 'ClusterRole': it matches no object (the boundary
 * fails closed), and the API says so until an update replaces the list, which
 * is then validated like any other.
 */
export function describeTargetSettingProblems(
  target: Pick<StoredTarget, 'allowedClusterScopedKinds'>,
): string[] {
  return target.allowedClusterScopedKinds.flatMap(entry => {
    const problem = validateClusterScopedKind(entry);
    return problem
      ? [`allowed cluster-scoped kinds: ${problem}; it matches nothing`]
      : [];
  });
}
