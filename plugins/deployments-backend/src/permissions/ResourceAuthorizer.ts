import {
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
  PermissionCondition,
  PermissionCriteria,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  isAndCriteria,
  isNotCriteria,
  isOrCriteria,
  PermissionRule,
} from '@backstage/plugin-permission-node';

/**
 * Every authorization decision of the plugin. Fails closed: an error from the
 * permission service, or no answer within `timeoutMs`, is a denial, logged
 * without the request's secrets.
 */
export class ResourceAuthorizer {
  private constructor(
    private readonly permissions: PermissionsService,
    private readonly logger: LoggerService,
    private readonly timeoutMs: number,
  ) {}

  static create(options: {
    permissions: PermissionsService;
    logger: LoggerService;
    /** How long a decision may take before it counts as a denial. Default 5000. */
    timeoutMs?: number;
  }): ResourceAuthorizer {
    return new ResourceAuthorizer(
      options.permissions,
      options.logger,
      options.timeoutMs ?? 5000,
    );
  }

  /** Throws NotAllowedError unless the basic permission is granted. */
  async authorize(
    credentials: BackstageCredentials,
    permission: BasicPermission,
  ): Promise<void> {
    const decision = await this.decide(() =>
      this.permissions.authorize([{ permission }], { credentials }),
    );
    if (decision?.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(`Not allowed: ${permission.name}`);
    }
  }

  /** Throws NotAllowedError unless the permission is granted for this resource. */
  async authorizeResource(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    resourceRef: string,
  ): Promise<void> {
    const decision = await this.decide(() =>
      this.permissions.authorize([{ permission, resourceRef }], {
        credentials,
      }),
    );
    if (decision?.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `Not allowed: ${permission.name} on ${resourceRef}`,
      );
    }
  }

  /**
   * Throws NotAllowedError unless the permission is granted for this
   * already-loaded resource. A conditional decision is evaluated here with
   * the plugin's own rules, saving the permission backend a call back.
   */
  async authorizeLoaded<TResource>(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    resource: TResource | undefined,
    rules: Record<string, PermissionRule<TResource, unknown, string>>,
    describe: string,
  ): Promise<TResource> {
    const allowed = await this.filterFor(credentials, permission, rules).catch(
      error => {
        throw error instanceof NotAllowedError && resource !== undefined
          ? new NotAllowedError(
              `Not allowed: ${permission.name} on ${describe}`,
            )
          : error;
      },
    );
    if (resource === undefined) {
      // Only after the decision: a denied caller learns nothing about existence.
      throw new NotFoundError(`${describe} not found`);
    }
    if (!allowed(resource)) {
      throw new NotAllowedError(
        `Not allowed: ${permission.name} on ${describe}`,
      );
    }
    return resource;
  }

  /**
   * For lists: returns a predicate that keeps the resources the user may
   * see. A denial throws, so the caller's audit records it.
   */
  async filterFor<TResource>(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    rules: Record<string, PermissionRule<TResource, unknown, string>>,
  ): Promise<(resource: TResource) => boolean> {
    const decision = await this.decide(() =>
      this.permissions.authorizeConditional([{ permission }], { credentials }),
    );
    if (!decision || decision.result === AuthorizeResult.DENY) {
      throw new NotAllowedError(`Not allowed: ${permission.name}`);
    }
    if (decision.result !== AuthorizeResult.CONDITIONAL) {
      return () => true;
    }
    const byName = new Map(Object.values(rules).map(r => [r.name, r]));
    const conditions = decision.conditions;
    return resource => matches(conditions, resource, byName);
  }

  /**
   * For lists too large to filter in memory: the conditions as a query
   * tree (each rule's toQuery), or undefined when everything is allowed.
   * A denial throws; a rule the plugin does not know matches nothing.
   */
  async queryFor<TResource, TQuery>(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    rules: Record<string, PermissionRule<TResource, TQuery, string>>,
    nothing: TQuery,
  ): Promise<QueryTree<TQuery> | undefined> {
    const decision = await this.decide(() =>
      this.permissions.authorizeConditional([{ permission }], { credentials }),
    );
    if (!decision || decision.result === AuthorizeResult.DENY) {
      throw new NotAllowedError(`Not allowed: ${permission.name}`);
    }
    if (decision.result !== AuthorizeResult.CONDITIONAL) {
      return undefined;
    }
    const byName = new Map(Object.values(rules).map(r => [r.name, r]));
    return toQueryTree(decision.conditions, byName, nothing);
  }

  private async decide<T>(call: () => Promise<T[]>): Promise<T | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ServiceUnavailableError(
              `no decision within ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      const [decision] = await Promise.race([call(), timeout]);
      return decision;
    } catch (error) {
      this.logger.warn('Permission check failed, denying', {
        errorName: (error as Error).name,
        error: (error as Error).message,
      });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Permission criteria with each condition replaced by its rule's query. */
export type QueryTree<TQuery> =
  | { allOf: QueryTree<TQuery>[] }
  | { anyOf: QueryTree<TQuery>[] }
  | { not: QueryTree<TQuery> }
  | TQuery;

function toQueryTree<TResource, TQuery>(
  criteria: PermissionCriteria<PermissionCondition>,
  rules: Map<string, PermissionRule<TResource, TQuery, string>>,
  nothing: TQuery,
): QueryTree<TQuery> {
  if (isAndCriteria(criteria)) {
    return { allOf: criteria.allOf.map(c => toQueryTree(c, rules, nothing)) };
  }
  if (isOrCriteria(criteria)) {
    return { anyOf: criteria.anyOf.map(c => toQueryTree(c, rules, nothing)) };
  }
  if (isNotCriteria(criteria)) {
    return { not: toQueryTree(criteria.not, rules, nothing) };
  }
  const rule = rules.get(criteria.rule);
  // An unknown rule cannot be translated: fail closed.
  return rule ? rule.toQuery(criteria.params ?? {}) : nothing;
}

function matches<TResource>(
  criteria: PermissionCriteria<PermissionCondition>,
  resource: TResource,
  rules: Map<string, PermissionRule<TResource, unknown, string>>,
): boolean {
  if (isAndCriteria(criteria)) {
    return criteria.allOf.every(c => matches(c, resource, rules));
  }
  if (isOrCriteria(criteria)) {
    return criteria.anyOf.some(c => matches(c, resource, rules));
  }
  if (isNotCriteria(criteria)) {
    return !matches(criteria.not, resource, rules);
  }
  const rule = rules.get(criteria.rule);
  // An unknown rule cannot be evaluated: fail closed.
  return rule ? rule.apply(resource, criteria.params ?? {}) : false;
}
