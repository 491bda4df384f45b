import {
  classifyHelmFailure,
  formatProgressLine,
  parseHistory,
  parseReleaseStatus,
  parseRenderedRelease,
  summarizeHelmError,
} from './helmOutput';

// Shapes as helm 4.1 prints them (helm 3 prints the same fields).
const RELEASE_JSON = JSON.stringify({
  name: 'web',
  info: {
    first_deployed: '2026-01-01T00:00:00Z',
    last_deployed: '2026-01-01T00:00:00Z',
    description: 'Dry run complete',
    status: 'pending-install',
    notes: 'Visit http://web',
  },
  chart: {
    metadata: { name: 'hello', version: '0.1.0', appVersion: '1.27.0' },
  },
  config: { apiToken: 'not-for-anyone' },
  manifest: '---\nkind: ConfigMap\n',
  hooks: [
    {
      name: 'web-test',
      kind: 'Job',
      path: 'hello/templates/tests/job.yaml',
      manifest: 'kind: Job',
      events: ['test'],
      last_run: { phase: '' },
    },
  ],
  version: 1,
  namespace: 'team-a',
});

describe('parsing', () => {
  it('reads a rendered release, without the values it carries', () => {
    const rendered = parseRenderedRelease(RELEASE_JSON);
    expect(rendered).toEqual({
      manifest: '---\nkind: ConfigMap\n',
      hooks: [
        {
          name: 'web-test',
          kind: 'Job',
          path: 'hello/templates/tests/job.yaml',
          manifest: 'kind: Job',
          events: ['test'],
        },
      ],
      notes: 'Visit http://web',
      chartName: 'hello',
      chartVersion: '0.1.0',
      appVersion: '1.27.0',
      revision: 1,
    });
    expect(JSON.stringify(rendered)).not.toContain('not-for-anyone');
    expect(parseReleaseStatus(RELEASE_JSON)).toEqual({
      revision: 1,
      status: 'pending-install',
      description: 'Dry run complete',
    });
  });

  it('reads history', () => {
    expect(
      parseHistory(
        '[{"revision":1,"updated":"2026-01-01T00:00:00Z","status":"deployed","chart":"hello-0.1.0","app_version":"1.27.0","description":"Install complete"}]',
      ),
    ).toEqual([
      {
        revision: 1,
        updated: '2026-01-01T00:00:00Z',
        status: 'deployed',
        chart: 'hello-0.1.0',
        appVersion: '1.27.0',
        description: 'Install complete',
      },
    ]);
  });

  it('does not echo output it cannot parse (it may hold values)', () => {
    expect(() => parseRenderedRelease('secret-ish {')).toThrow(
      /^helm printed a release that is not JSON$/,
    );
    expect(() => parseHistory('{}')).toThrow(/not a list/);
  });
});

describe('formatProgressLine', () => {
  it('turns helm 4 structured logs into plain progress', () => {
    expect(
      formatProgressLine(
        'level=DEBUG msg="waiting for resource" namespace=team-a name=web kind=Deployment expectedStatus=Current actualStatus=InProgress',
      ),
    ).toBe(
      'waiting for resource namespace=team-a name=web kind=Deployment expectedStatus=Current actualStatus=InProgress',
    );
    expect(
      formatProgressLine('level=WARN msg="upgrade failed" name=web error="x"'),
    ).toBe('warning: upgrade failed name=web error="x"');
  });

  it('turns helm 3 debug lines into plain progress', () => {
    expect(
      formatProgressLine('upgrade.go:142: [debug] preparing upgrade for web'),
    ).toBe('preparing upgrade for web');
  });

  it('drops noise and cuts very long lines', () => {
    expect(
      formatProgressLine(
        'level=DEBUG msg="unmarshalled JSON schema" schema="{...}"',
      ),
    ).toBeUndefined();
    expect(formatProgressLine('   ')).toBeUndefined();
    expect(formatProgressLine('x'.repeat(5000))).toHaveLength(1001);
  });
});

describe('failures', () => {
  const timedOutAndRolledBack = [
    'level=WARN msg="upgrade failed" name=b error="..."',
    'Error: UPGRADE FAILED: release b failed, and has been rolled back due to rollback-on-failure being set: resource Deployment/team-a/b not ready. status: InProgress, message: Available: 0/1',
    'context deadline exceeded',
  ].join('\n');

  it("summarizes helm's error from its last Error: line on", () => {
    expect(summarizeHelmError(timedOutAndRolledBack)).toBe(
      'UPGRADE FAILED: release b failed, and has been rolled back due to rollback-on-failure being set: resource Deployment/team-a/b not ready. status: InProgress, message: Available: 0/1\ncontext deadline exceeded',
    );
    expect(summarizeHelmError('a\nb\n\nc\n')).toBe('a\nb\nc');
  });

  it('leaves out the debug echo and Go stack trace helm 3 prints after its error', () => {
    const helm3 = [
      'upgrade.go:505: 2026-11-23 18:37:25.480858094 +0000 UTC m=+0.21 [debug] Upgrade failed and atomic is set, rolling back to last successful release',
      'Error: UPGRADE FAILED: release b failed, and has been rolled back due to atomic being set: context deadline exceeded',
      'helm.go:86: 2026-11-23 18:37:25.539750207 +0000 UTC m=+0.27 [debug] context deadline exceeded',
      'helm.sh/helm/v3/pkg/action.(*Upgrade).failRelease',
      '\thelm.sh/helm/v3/pkg/action/upgrade.go:507',
      'runtime.goexit',
      '\truntime/asm_amd64.s:1700',
    ].join('\n');
    expect(summarizeHelmError(helm3)).toBe(
      'UPGRADE FAILED: release b failed, and has been rolled back due to atomic being set: context deadline exceeded',
    );
    expect(classifyHelmFailure(helm3)).toEqual({
      reason: 'timeout',
      rolledBack: true,
      uninstalled: false,
    });
  });

  it.each([
    [timedOutAndRolledBack, 'timeout', true, false],
    [
      'Error: INSTALLATION FAILED: release b failed, and has been uninstalled due to atomic being set: timed out waiting for the condition',
      'timeout',
      false,
      true,
    ],
    [
      'Error: UPGRADE FAILED: release b failed, and has been rolled back due to rollback-on-failure being set: context canceled\nRelease b has been cancelled.',
      'failed',
      true,
      false,
    ],
    [
      'Error: query: failed to query with labels: secrets is forbidden: User "system:serviceaccount:team-a:deployer" cannot list resource "secrets" in API group "" in the namespace "team-b"',
      'forbidden',
      false,
      false,
    ],
    [
      'Error: Kubernetes cluster unreachable: Get "https://x/version": dial tcp: connection refused',
      'unreachable',
      false,
      false,
    ],
    ['Error: release: not found', 'not-found', false, false],
    [
      'Error: uninstall: Release not loaded: web: release: not found',
      'not-found',
      false,
      false,
    ],
    [
      'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress',
      'another-operation',
      false,
      false,
    ],
    [
      'Error: query: failed to query with labels: Unauthorized',
      'unauthorized',
      false,
      false,
    ],
    [
      'Error: UPGRADE FAILED: an error occurred while rolling back the release. original upgrade error: field is immutable',
      'failed',
      false,
      false,
    ],
  ])('classifies %j', (stderr, reason, rolledBack, uninstalled) => {
    expect(classifyHelmFailure(stderr)).toEqual({
      reason,
      rolledBack,
      uninstalled,
    });
  });
});
