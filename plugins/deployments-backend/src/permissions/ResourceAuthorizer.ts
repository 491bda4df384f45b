import {
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
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
 * permission service is a denial, logged without the request's secrets.
 */
export class ResourceAuthorizer {
  private constructor(
    private readonly permissions: PermissionsService,
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    permissions: PermissionsService;
    logger: LoggerService;
  }): ResourceAuthorizer {
    return new ResourceAuthorizer(options.permissions, options.logger);
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

  private async decide<T>(call: () => Promise<T[]>): Promise<T | undefined> {
    try {
      const [decision] = await call();
      return decision;
    } catch (error) {
      this.logger.warn(
        `Permission check failed, denying: ${(error as Error).name}: ${
          (error as Error).message
        }`,
      );
      return undefined;
    }
  }
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
