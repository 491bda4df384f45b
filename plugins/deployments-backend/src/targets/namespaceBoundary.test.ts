import {
  checkManifestBoundary,
  CORE_CLUSTER_SCOPED_KINDS,
  inspectManifestBoundary,
  isNamespaceAllowed,
  ManifestObject,
  NamespaceBoundary,
  ScopeLookup,
  validateAllowlistPattern,
  validateClusterScopedKind,
} from './namespaceBoundary';

function boundary(
  allowedNamespaces: string[],
  allowedClusterScopedKinds: string[] = [],
): NamespaceBoundary {
  return { allowedNamespaces, allowedClusterScopedKinds };
}

/** A small stand-in for API discovery. */
const scopes: Record<string, 'Namespaced' | 'Cluster'> = {
  'v1/ConfigMap': 'Namespaced',
  'v1/Service': 'Namespaced',
  'v1/Namespace': 'Cluster',
  'apps/v1/Deployment': 'Namespaced',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'Cluster',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'Namespaced',
};
const scopeOf: ScopeLookup = (group, version, kind) =>
  scopes[group ? `${group}/${version}/${kind}` : `${version}/${kind}`];

describe('validateAllowlistPattern', () => {
  it.each(['team-a', 'team-a-*', '*-dev', 'a*b', '*', 'x', '0abc'])(
    'accepts %s',
    pattern => {
      expect(validateAllowlistPattern(pattern)).toBeUndefined();
    },
  );

  it.each([
    ['', /empty/],
    ['**', /'\*\*'/],
    ['team-**', /'\*\*'/],
    ['team-?', /only the '\*' wildcard/],
    ['team-[ab]', /only the '\*' wildcard/],
    ['team-{a,b}', /only the '\*' wildcard/],
    ['Team-A', /lower case/],
    ['team_a', /may only contain/],
    ['team.a', /may only contain/],
    ['-team', /start or end with '-'/],
    ['team-', /start or end with '-'/],
    ['a'.repeat(64), /longer than 63/],
  ])('refuses %j', (pattern, reason) => {
    expect(validateAllowlistPattern(pattern)).toMatch(reason);
  });
});

describe('isNamespaceAllowed', () => {
  it('matches exact names only exactly', () => {
    const b = boundary(['team-a']);
    expect(isNamespaceAllowed(b, 'team-a')).toBe(true);
    expect(isNamespaceAllowed(b, 'team-ab')).toBe(false);
    expect(isNamespaceAllowed(b, 'xteam-a')).toBe(false);
  });

  it('matches globs', () => {
    const b = boundary(['team-a-*', '*-dev']);
    expect(isNamespaceAllowed(b, 'team-a-web')).toBe(true);
    expect(isNamespaceAllowed(b, 'payments-dev')).toBe(true);
    expect(isNamespaceAllowed(b, 'team-b-web')).toBe(false);
    expect(isNamespaceAllowed(b, 'payments-dev-x')).toBe(false);
    expect(isNamespaceAllowed(b, 'team-a')).toBe(false);
  });

  it('allows every valid namespace with a lone *', () => {
    const b = boundary(['*']);
    expect(isNamespaceAllowed(b, 'kube-system')).toBe(true);
    expect(isNamespaceAllowed(b, 'Not-Valid')).toBe(false);
  });

  it('allows nothing with an empty list', () => {
    expect(isNamespaceAllowed(boundary([]), 'default')).toBe(false);
  });

  it('ignores invalid patterns instead of guessing what they meant', () => {
    const b = boundary(['team-?', 'team-**', 'Team-A', '']);
    expect(isNamespaceAllowed(b, 'team-a')).toBe(false);
    expect(isNamespaceAllowed(b, 'team-ab')).toBe(false);
    expect(isNamespaceAllowed(b, '')).toBe(false);
  });

  it.each(['', 'Team-a', 'team_a', '-team', 'team-', 'a.b', 'a'.repeat(64)])(
    'never allows the invalid namespace %j, even with *',
    namespace => {
      expect(isNamespaceAllowed(boundary(['*', 'team-*']), namespace)).toBe(
        false,
      );
    },
  );

  it('allows a 63-character namespace', () => {
    expect(isNamespaceAllowed(boundary(['*']), 'a'.repeat(63))).toBe(true);
  });
});

describe('checkManifestBoundary', () => {
  const teamA = boundary(['team-a', 'team-b']);

  function check(
    objects: ManifestObject[],
    options: { boundary?: NamespaceBoundary; releaseNamespace?: string } = {},
  ) {
    return checkManifestBoundary({
      boundary: options.boundary ?? teamA,
      releaseNamespace: options.releaseNamespace ?? 'team-a',
      objects,
      scopeOf,
    });
  }

  it('accepts namespaced objects with and without metadata.namespace', () => {
    expect(
      check([
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'd', namespace: 'team-a' },
        },
        { apiVersion: 'v1', kind: 'Service' },
      ]),
    ).toEqual([]);
  });

  it('accepts an empty manifest in an allowed namespace', () => {
    expect(check([])).toEqual([]);
  });

  it('refuses an object hard-coding another namespace, even an allowed one', () => {
    expect(
      check([
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'x', namespace: 'kube-system' },
        },
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'y', namespace: 'team-b' },
        },
      ]),
    ).toEqual([
      {
        object: 'apps/v1 Deployment kube-system/x',
        reason: expect.stringMatching(/namespace "kube-system"/),
      },
      {
        object: 'v1 ConfigMap team-b/y',
        reason: expect.stringMatching(/outside the release namespace "team-a"/),
      },
    ]);
  });

  it('refuses an empty-string namespace rather than guessing', () => {
    const violations = check([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c', namespace: '' },
      },
    ]);
    expect(violations).toHaveLength(1);
  });

  it('treats a null namespace, as rendered by an empty template value, as the release namespace', () => {
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: null },
    } as unknown as ManifestObject;
    expect(check([object])).toEqual([]);
  });

  it('refuses a release namespace outside the allowlist', () => {
    const violations = check(
      [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }],
      { releaseNamespace: 'kube-system' },
    );
    expect(violations).toEqual([
      {
        object: 'release namespace "kube-system"',
        reason: expect.stringMatching(/not allowed/),
      },
    ]);
  });

  it('refuses a ClusterRole unless its kind is listed', () => {
    const clusterRole = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'x' },
    };
    expect(check([clusterRole])).toEqual([
      {
        object: 'rbac.authorization.k8s.io/v1 ClusterRole x',
        reason:
          'cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not allowed by this target',
      },
    ]);
    expect(
      check([clusterRole], {
        boundary: boundary(
          ['team-a'],
          ['rbac.authorization.k8s.io/ClusterRole'],
        ),
      }),
    ).toEqual([]);
  });

  it('matches a group kind only with its group', () => {
    const violations = check(
      [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'x' },
        },
      ],
      { boundary: boundary(['team-a'], ['ClusterRole']) },
    );
    expect(violations).toHaveLength(1);
  });

  it('keeps a cluster-scoped object cluster-scoped when it carries a namespace', () => {
    const clusterRole = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'x', namespace: 'team-a' },
    };
    expect(check([clusterRole])).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(/cluster-scoped kind/),
      }),
    ]);
  });

  it('applies the cluster-scoped rule to Namespace objects', () => {
    const namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a' },
    };
    expect(check([namespace])).toEqual([
      {
        object: 'v1 Namespace team-a',
        reason: 'cluster-scoped kind Namespace is not allowed by this target',
      },
    ]);
    expect(
      check([namespace], { boundary: boundary(['team-a'], ['Namespace']) }),
    ).toEqual([]);
  });

  it('refuses an unknown CRD kind', () => {
    expect(
      check([
        {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: { name: 'w', namespace: 'team-a' },
        },
      ]),
    ).toEqual([
      {
        object: 'example.com/v1 Widget w',
        reason: expect.stringMatching(/^unknown kind Widget .*refused$/),
      },
    ]);
  });

  it('parses core and group apiVersions for the scope lookup', () => {
    const lookup = jest.fn<ReturnType<ScopeLookup>, Parameters<ScopeLookup>>(
      () => 'Namespaced',
    );
    checkManifestBoundary({
      boundary: teamA,
      releaseNamespace: 'team-a',
      objects: [
        { apiVersion: 'v1', kind: 'ConfigMap' },
        { apiVersion: 'apps/v1', kind: 'Deployment' },
      ],
      scopeOf: lookup,
    });
    expect(lookup.mock.calls).toEqual([
      ['', 'v1', 'ConfigMap'],
      ['apps', 'v1', 'Deployment'],
    ]);
  });

  it.each(['apps/', '/v1', 'a/b/c'])(
    'refuses the apiVersion %j',
    apiVersion => {
      expect(check([{ apiVersion, kind: 'Deployment' }])).toEqual([
        expect.objectContaining({
          reason: expect.stringMatching(/apiVersion/),
        }),
      ]);
    },
  );

  it('refuses objects without apiVersion or kind', () => {
    expect(
      check([
        { kind: 'ConfigMap', metadata: { name: 'a' } },
        { apiVersion: 'v1' },
      ]),
    ).toEqual([
      { object: 'objects[0] a', reason: 'object has no apiVersion or kind' },
      {
        object: 'objects[1] <unnamed>',
        reason: 'object has no apiVersion or kind',
      },
    ]);
  });

  it('refuses entries that are not objects, such as an empty YAML document', () => {
    const objects = [null, 'text'] as unknown as ManifestObject[];
    expect(check(objects)).toEqual([
      { object: 'objects[0]', reason: 'object is not a mapping' },
      { object: 'objects[1]', reason: 'object is not a mapping' },
    ]);
  });

  it('returns every violation, each naming its object', () => {
    const violations = check(
      [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fine' } },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 's', namespace: 'team-a' },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'admin' },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'rb', namespace: 'kube-system' },
        },
      ],
      { releaseNamespace: 'team-c' },
    );
    expect(violations.map(v => v.object)).toEqual([
      'release namespace "team-c"',
      'v1 Secret s',
      'rbac.authorization.k8s.io/v1 ClusterRole admin',
      'rbac.authorization.k8s.io/v1 RoleBinding kube-system/rb',
    ]);
  });
});

describe('validateClusterScopedKind', () => {
  it.each([
    'Namespace',
    'Node',
    'PersistentVolume',
    'ComponentStatus',
    'rbac.authorization.k8s.io/ClusterRole',
    'rbac.authorization.k8s.io/ClusterRoleBinding',
    'apiextensions.k8s.io/CustomResourceDefinition',
    'storage.k8s.io/CSIDriver',
    'cert-manager.io/ClusterIssuer',
    'example.com/Widget2',
    'policy/PodSecurityPolicy',
  ])('accepts %s', entry => {
    expect(validateClusterScopedKind(entry)).toBeUndefined();
  });

  it('refuses a bare kind of another group, giving the expected form', () => {
    expect(validateClusterScopedKind('ClusterRole')).toBe(
      '"ClusterRole" is not a core kind; write it as group/Kind, e.g. rbac.authorization.k8s.io/ClusterRole',
    );
    expect(validateClusterScopedKind('StorageClass')).toBe(
      '"StorageClass" is not a core kind; write it as group/Kind, e.g. storage.k8s.io/StorageClass',
    );
    expect(validateClusterScopedKind('Widget')).toMatch(
      /^"Widget" is not a core kind; write it as group\/Kind with the kind's API group, e\.g\. rbac\.authorization\.k8s\.io\/ClusterRole$/,
    );
  });

  it.each([
    ['', /is empty/],
    ['clusterrole', /not a Kubernetes kind.*UpperCamelCase/],
    ['rbac.authorization.k8s.io/clusterRole', /"clusterRole" is not a/],
    ['rbac.authorization.k8s.io/Cluster-Role', /not a Kubernetes kind/],
    ['rbac.authorization.k8s.io/v1/ClusterRole', /more than one '\/'/],
    ['v1/Namespace', /"v1" is a version, not an API group/],
    ['v1beta1/Widget', /is a version/],
    ['/Namespace', /core kinds are written without a group; write Namespace/],
    ['core/Node', /write Node$/],
    ['core/ConfigMap', /not a cluster-scoped kind of the core group/],
    ['Rbac.Authorization.k8s.io/ClusterRole', /not a valid API group/],
    ['rbac..k8s.io/ClusterRole', /not a valid API group/],
    ['-rbac.k8s.io/ClusterRole', /not a valid API group/],
    ['rbac_k8s.io/ClusterRole', /not a valid API group/],
    [`${'a'.repeat(64)}.io/ClusterRole`, /not a valid API group/],
    ['ConfigMap', /not a core kind/],
    ['Deployment', /not a core kind/],
    [`example.com/${'A'.repeat(400)}`, /longer than/],
  ])('refuses %j', (entry, reason) => {
    expect(validateClusterScopedKind(entry)).toMatch(reason);
  });

  it('names the entry it refuses', () => {
    expect(validateClusterScopedKind('core/ConfigMap')).toMatch(
      /^"core\/ConfigMap"/,
    );
  });

  it('knows the core group as discovery reports it', () => {
    expect([...CORE_CLUSTER_SCOPED_KINDS].sort()).toEqual([
      'ComponentStatus',
      'Namespace',
      'Node',
      'PersistentVolume',
    ]);
  });

  it('accepts every form that checkManifestBoundary can match', () => {
    // The key checkManifestBoundary builds for a cluster-scoped object is Kind or group/Kind.
    for (const key of [
      'Namespace',
      'rbac.authorization.k8s.io/ClusterRole',
      'apiextensions.k8s.io/CustomResourceDefinition',
    ]) {
      expect(validateClusterScopedKind(key)).toBeUndefined();
    }
  });
});

describe('objects in other allowed namespaces', () => {
  const role = (namespace: unknown): ManifestObject =>
    ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'auth-reader', namespace },
    } as ManifestObject);
  const opted = (allowedNamespaces: string[]): NamespaceBoundary => ({
    allowedNamespaces,
    allowedClusterScopedKinds: [],
    allowObjectsInOtherAllowedNamespaces: true,
  });
  const inspect = (b: NamespaceBoundary, objects: ManifestObject[]) =>
    inspectManifestBoundary({
      boundary: b,
      releaseNamespace: 'team-a',
      objects,
      scopeOf,
    });

  it('refuses them by default, saying the target could allow it', () => {
    const result = inspect(boundary(['team-a', 'kube-system']), [
      role('kube-system'),
    ]);
    expect(result).toEqual({
      violations: [
        {
          object:
            'rbac.authorization.k8s.io/v1 RoleBinding kube-system/auth-reader',
          reason: expect.stringMatching(
            /outside the release namespace "team-a"; the namespace is allowed by this target, but the target does not allow objects in its other allowed namespaces/,
          ),
        },
      ],
      otherNamespaceObjects: [],
    });
    expect(
      checkManifestBoundary({
        boundary: {
          ...boundary(['team-a', 'kube-system']),
          allowObjectsInOtherAllowedNamespaces: false,
        },
        releaseNamespace: 'team-a',
        objects: [role('kube-system')],
        scopeOf,
      }),
    ).toHaveLength(1);
  });

  it('lets them through when the target opts in, and lists them', () => {
    const objects = [
      role('kube-system'),
      role('team-a'),
      role(undefined),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c', namespace: 'team-b-web' },
      },
    ];
    const b = opted(['team-a', 'kube-system', 'team-b-*']);
    expect(inspect(b, objects)).toEqual({
      violations: [],
      otherNamespaceObjects: [
        {
          object:
            'rbac.authorization.k8s.io/v1 RoleBinding kube-system/auth-reader',
          namespace: 'kube-system',
        },
        { object: 'v1 ConfigMap team-b-web/c', namespace: 'team-b-web' },
      ],
    });
    expect(
      checkManifestBoundary({
        boundary: b,
        releaseNamespace: 'team-a',
        objects,
        scopeOf,
      }),
    ).toEqual([]);
  });

  it.each([
    ['a namespace outside the allowlist', 'kube-public'],
    ['an empty namespace', ''],
    ['an invalid namespace', 'Kube-System'],
    ['a namespace that is not a string', 42],
    ['a namespace that is a list', ['kube-system']],
  ])('still refuses %s', (_, namespace) => {
    const result = inspect(opted(['team-a', 'kube-system', '*-system']), [
      role(namespace),
    ]);
    expect(result.otherNamespaceObjects).toEqual([]);
    expect(result.violations).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(
          /outside the release namespace "team-a" and outside the namespaces this target allows$/,
        ),
      }),
    ]);
  });

  it('changes nothing for cluster-scoped kinds or the release namespace', () => {
    const b = opted(['team-a', 'kube-system']);
    expect(
      inspect(b, [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'x', namespace: 'kube-system' },
        },
      ]).violations,
    ).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(/cluster-scoped kind/),
      }),
    ]);
    const outside = inspectManifestBoundary({
      boundary: b,
      releaseNamespace: 'team-c',
      objects: [role('kube-system')],
      scopeOf,
    });
    expect(outside.violations.map(v => v.object)).toEqual([
      'release namespace "team-c"',
    ]);
  });
});
