import { ConfigReader } from '@backstage/config';
import {
  AuthorizeResult,
  createPermission,
  Permission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  PermissionRule,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  Placement,
  placementPermissionRules,
  planPermissionRules,
  profilePermissionRules,
  StoredPlan,
  StoredProfile,
  StoredTarget,
} from '@kubedeploy/plugin-deployments-backend';
import {
  deploymentsPermissions,
  deploymentsPlanApplyPermission,
  deploymentsProfileUsePermission,
  deploymentsTargetUsePermission,
  NamespaceOwnership,
} from '@kubedeploy/plugin-deployments-common';
import { DeploymentsExamplePolicy } from './DeploymentsExamplePolicy';

const PLATFORM = 'group:default/platform';
const PAYMENTS = 'group:default/payments';
const STOREFRONT = 'group:default/storefront';

function user(ref: string, groups: string[]): PolicyQueryUser {
  return {
    identity: {
      type: 'user',
      userEntityRef: ref,
      ownershipEntityRefs: [ref, ...groups],
    },
    info: { userEntityRef: ref, ownershipEntityRefs: [ref, ...groups] },
    token: 'token',
    credentials: {
      $$type: '@backstage/BackstageCredentials',
      principal: { type: 'user', userEntityRef: ref },
    },
  } as PolicyQueryUser;
}

const alice = user('user:default/alice', [PLATFORM]);
const bob = user('user:default/bob', [PAYMENTS]);
const carol = user('user:default/carol', [STOREFRONT]);
const dave = user('user:default/dave', []);

const policy = DeploymentsExamplePolicy.create({ platformGroup: PLATFORM });
const decide = (permission: Permission, who?: PolicyQueryUser) =>
  policy.handle({ permission }, who);

/** What a developer gets: owner conditions, allowed, or denied. */
type Expected = 'allow' | 'deny' | 'plan owner' | 'profile owner' | 'placement';

const developerDecisions: Record<string, Expected> = {
  'deployments.health.read': 'allow',
  'deployments.keyring.read': 'allow',
  'deployments.keyring.manage': 'deny',
  'deployments.keyring.backup': 'deny',
  'deployments.target.create': 'deny',
  'deployments.target.read': 'allow',
  'deployments.target.update': 'deny',
  'deployments.target.delete': 'deny',
  'deployments.target.test': 'deny',
  'deployments.target.use': 'placement',
  'deployments.release.adopt': 'deny',
  'deployments.audit.read': 'deny',
  'deployments.chart.register': 'deny',
  'deployments.chart.read': 'allow',
  'deployments.chart.delete': 'deny',
  'deployments.registry.manage': 'deny',
  'deployments.profile.create': 'allow',
  'deployments.profile.read': 'profile owner',
  'deployments.profile.update': 'profile owner',
  'deployments.profile.delete': 'profile owner',
  'deployments.profile.use': 'profile owner',
  'deployments.plan.create': 'allow',
  'deployments.plan.read': 'allow',
  'deployments.plan.update': 'plan owner',
  'deployments.plan.delete': 'plan owner',
  'deployments.plan.dry-run': 'allow',
  'deployments.plan.apply': 'plan owner',
  'deployments.plan.rollback': 'plan owner',
  'deployments.plan.uninstall': 'deny',
  'deployments.plan.logs': 'allow',
  'deployments.plan.approve': 'deny',
  'deployments.change-window.override': 'deny',
  'deployments.advisory.dismiss': 'plan owner',
};

function expectedDecision(
  expected: Expected,
  claims: string[],
): PolicyDecision {
  switch (expected) {
    case 'allow':
      return { result: AuthorizeResult.ALLOW };
    case 'deny':
      return { result: AuthorizeResult.DENY };
    case 'plan owner':
      return {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'deployments',
        resourceType: 'deployments-plan',
        conditions: {
          rule: 'IS_PLAN_ENTITY_OWNER',
          resourceType: 'deployments-plan',
          params: { claims },
        },
      };
    case 'profile owner':
      return {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'deployments',
        resourceType: 'deployments-profile',
        conditions: {
          rule: 'IS_PROFILE_OWNER',
          resourceType: 'deployments-profile',
          params: { claims },
        },
      };
    case 'placement':
      return {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'deployments',
        resourceType: 'deployments-placement',
        conditions: {
          allOf: [
            {
              not: {
                rule: 'IS_PRODUCTION_TARGET',
                resourceType: 'deployments-placement',
                params: {},
              },
            },
            {
              rule: 'IS_ENTITY_OWNER',
              resourceType: 'deployments-placement',
              params: { claims },
            },
            {
              rule: 'IS_NAMESPACE_OWNED_BY_ENTITY_OWNER',
              resourceType: 'deployments-placement',
              params: {},
            },
          ],
        },
      };
    default:
      throw new Error(`unknown expectation ${expected}`);
  }
}

describe('DeploymentsExamplePolicy decisions', () => {
  it('decides on every deployments permission', () => {
    expect(Object.keys(developerDecisions).sort()).toEqual(
      deploymentsPermissions.map(p => p.name).sort(),
    );
  });

  it.each(deploymentsPermissions.map(p => [p.name, p] as const))(
    'allows %s to the platform group',
    async (_name, permission) => {
      expect(await decide(permission, alice)).toEqual({
        result: AuthorizeResult.ALLOW,
      });
    },
  );

  it.each(
    deploymentsPermissions.flatMap(permission =>
      [
        ['a developer (bob)', bob],
        ['another team (carol)', carol],
        ['a stranger (dave)', dave],
      ].map(
        ([who, u]) =>
          [
            permission.name,
            who as string,
            u as PolicyQueryUser,
            permission,
          ] as const,
      ),
    ),
  )('decides %s for %s', async (name, _who, u, permission) => {
    expect(await decide(permission, u)).toEqual(
      expectedDecision(developerDecisions[name], u.info.ownershipEntityRefs),
    );
  });

  it('gives a caller without a user no ownership claims', async () => {
    expect(await decide(deploymentsPlanApplyPermission)).toEqual(
      expectedDecision('plan owner', []),
    );
  });

  it("allows other plugins' permissions and denies deployments permissions it does not know", async () => {
    const other = createPermission({
      name: 'catalog.entity.read',
      attributes: { action: 'read' },
    });
    expect(await decide(other, dave)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
    const unknown = createPermission({
      name: 'deployments.something.new',
      attributes: {},
    });
    expect(await decide(unknown, bob)).toEqual({
      result: AuthorizeResult.DENY,
    });
    expect(await decide(unknown, alice)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });

  it('reads the platform group from config', async () => {
    const configured = DeploymentsExamplePolicy.fromConfig(
      new ConfigReader({
        permission: { deployments: { platformGroup: 'group:default/ops' } },
      }),
    );
    const ops = user('user:default/olga', ['group:default/ops']);
    const permission = deploymentsTargetUsePermission;
    expect(await configured.handle({ permission }, ops)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
    expect(await configured.handle({ permission }, alice)).toEqual(
      expectedDecision('placement', alice.info.ownershipEntityRefs),
    );
    const defaults = DeploymentsExamplePolicy.fromConfig(new ConfigReader({}));
    expect(await defaults.handle({ permission }, alice)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });
});

/** Evaluates a decision the way the deployments backend does, with its real rules. */
function authorizerFor<TResource>(
  rules: Record<string, PermissionRule<TResource, any, string>>,
) {
  const authorize = createConditionAuthorizer<TResource>({
    getRuleByName: name => {
      const rule = Object.values(rules).find(r => r.name === name);
      if (!rule) throw new Error(`no rule ${name}`);
      return rule;
    },
  });
  return (decision: PolicyDecision, resource: TResource) =>
    authorize(decision, resource);
}

function target(
  name: string,
  settings: { production?: boolean; namespaceOwners?: NamespaceOwnership[] },
): StoredTarget {
  return {
    id: `id-${name}`,
    name,
    displayName: name,
    apiServerUrl: 'https://127.0.0.1:16443',
    authKind: 'token',
    credentialsVersion: 1,
    allowedNamespaces: ['team-*'],
    allowedClusterScopedKinds: [],
    allowObjectsInOtherAllowedNamespaces: false,
    allowInsecureTls: false,
    production: settings.production ?? false,
    namespaceOwners: settings.namespaceOwners ?? [],
    requireApproval: settings.production ?? false,
    revision: 1,
    createdAt: '2026-12-02T00:00:00.000Z',
    createdBy: 'user:default/alice',
    updatedAt: '2026-12-02T00:00:00.000Z',
    updatedBy: 'user:default/alice',
  };
}

const namespaceOwners: NamespaceOwnership[] = [
  { namespace: 'team-a', owners: [PAYMENTS] },
  { namespace: 'team-a-*', owners: [PAYMENTS] },
  { namespace: 'team-b', owners: [STOREFRONT] },
];
const staging = target('staging', { namespaceOwners });
const production = target('production', { production: true, namespaceOwners });

const paymentsApi = {
  entityRef: 'component:default/payments-api',
  entityOwner: PAYMENTS,
};
const storefrontWeb = {
  entityRef: 'component:default/storefront-web',
  entityOwner: STOREFRONT,
};

describe('DeploymentsExamplePolicy placements, evaluated with the backend rules', () => {
  const allowed = authorizerFor<Placement>(placementPermissionRules);
  const mayUse = async (who: PolicyQueryUser, placement: Placement) =>
    allowed(await decide(deploymentsTargetUsePermission, who), placement);

  it("lets bob deploy his group's component into his group's namespaces", async () => {
    expect(
      await mayUse(bob, {
        target: staging,
        namespace: 'team-a',
        ...paymentsApi,
      }),
    ).toBe(true);
    expect(
      await mayUse(bob, {
        target: staging,
        namespace: 'team-a-preview',
        ...paymentsApi,
      }),
    ).toBe(true);
  });

  it("keeps carol (team-b) out of team-a's namespace", async () => {
    expect(
      await mayUse(carol, {
        target: staging,
        namespace: 'team-a',
        ...storefrontWeb,
      }),
    ).toBe(false);
    expect(
      await mayUse(carol, {
        target: staging,
        namespace: 'team-a',
        ...paymentsApi,
      }),
    ).toBe(false);
    expect(
      await mayUse(carol, {
        target: staging,
        namespace: 'team-b',
        ...storefrontWeb,
      }),
    ).toBe(true);
  });

  it("does not let bob put his component into another team's namespace, nor another team's component into his", async () => {
    expect(
      await mayUse(bob, {
        target: staging,
        namespace: 'team-b',
        ...paymentsApi,
      }),
    ).toBe(false);
    expect(
      await mayUse(bob, {
        target: staging,
        namespace: 'team-a',
        ...storefrontWeb,
      }),
    ).toBe(false);
  });

  it('refuses namespaces nobody owns and components without an owner', async () => {
    expect(
      await mayUse(bob, {
        target: staging,
        namespace: 'team-c',
        ...paymentsApi,
      }),
    ).toBe(false);
    expect(
      await mayUse(bob, {
        target: staging,
        namespace: 'team-a',
        entityRef: 'component:default/orphan',
      }),
    ).toBe(false);
  });

  it('lets nobody but the platform group use a production target', async () => {
    for (const who of [bob, carol, dave]) {
      for (const [namespace, entity] of [
        ['team-a', paymentsApi],
        ['team-b', storefrontWeb],
      ] as const) {
        expect(
          await mayUse(who, { target: production, namespace, ...entity }),
        ).toBe(false);
      }
    }
    expect(
      await mayUse(alice, {
        target: production,
        namespace: 'team-a',
        ...paymentsApi,
      }),
    ).toBe(true);
  });

  it('lets a stranger deploy nowhere', async () => {
    for (const entity of [paymentsApi, storefrontWeb]) {
      for (const namespace of ['team-a', 'team-b']) {
        expect(
          await mayUse(dave, { target: staging, namespace, ...entity }),
        ).toBe(false);
      }
    }
  });
});

describe('DeploymentsExamplePolicy plans, evaluated with the backend rules', () => {
  const allowed = authorizerFor<StoredPlan>(planPermissionRules);
  const plan = (entity: { entityRef: string; entityOwner?: string }) =>
    ({
      id: 'plan-1',
      ...entity,
      chartId: 'chart-1',
      targetId: staging.id,
      targetName: staging.name,
      namespace: 'team-a',
      releaseName: 'payments-api',
      options: {
        timeoutSeconds: 300,
        historyMax: 10,
        createNamespace: false,
        runTests: false,
      },
      revision: 1,
      status: 'draft',
      statusChangedAt: '2026-12-02T00:00:00.000Z',
      statusChangedBy: 'user:default/bob',
      createdAt: '2026-12-02T00:00:00.000Z',
      createdBy: 'user:default/bob',
      updatedAt: '2026-12-02T00:00:00.000Z',
      updatedBy: 'user:default/bob',
    } satisfies StoredPlan);

  it('lets the owners of the component apply, and nobody else but the platform group', async () => {
    const decisionFor = (who: PolicyQueryUser) =>
      decide(deploymentsPlanApplyPermission, who);
    expect(allowed(await decisionFor(bob), plan(paymentsApi))).toBe(true);
    expect(allowed(await decisionFor(carol), plan(paymentsApi))).toBe(false);
    expect(allowed(await decisionFor(dave), plan(paymentsApi))).toBe(false);
    expect(allowed(await decisionFor(alice), plan(paymentsApi))).toBe(true);
    expect(
      allowed(
        await decisionFor(bob),
        plan({ entityRef: 'component:default/orphan' }),
      ),
    ).toBe(false);
  });
});

describe('DeploymentsExamplePolicy profiles, evaluated with the backend rules', () => {
  const allowed = authorizerFor<StoredProfile>(profilePermissionRules);
  const profile = (owner?: string): StoredProfile => ({
    id: 'profile-1',
    chartId: 'chart-1',
    chartName: 'hello',
    name: 'payments',
    owner,
    revision: 1,
    createdAt: '2026-12-02T00:00:00.000Z',
    createdBy: 'user:default/bob',
    updatedAt: '2026-12-02T00:00:00.000Z',
    updatedBy: 'user:default/bob',
  });

  it("lets the profile's owners use it, and nobody else but the platform group", async () => {
    const decisionFor = (who: PolicyQueryUser) =>
      decide(deploymentsProfileUsePermission, who);
    expect(allowed(await decisionFor(bob), profile(PAYMENTS))).toBe(true);
    expect(allowed(await decisionFor(carol), profile(PAYMENTS))).toBe(false);
    expect(allowed(await decisionFor(dave), profile(PAYMENTS))).toBe(false);
    expect(allowed(await decisionFor(alice), profile(PAYMENTS))).toBe(true);
    // A profile without an owner is for the platform group only.
    expect(allowed(await decisionFor(bob), profile())).toBe(false);
    expect(allowed(await decisionFor(alice), profile())).toBe(true);
  });
});
