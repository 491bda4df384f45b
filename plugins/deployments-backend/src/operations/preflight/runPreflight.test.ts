/*
 * Runs against the real local cluster (scripts/stack), with the admin
 * kubeconfig, the ServiceAccount limited to team-a, and impersonation.
 */
import { resolve } from 'node:path';
import { parse } from 'yaml';
import {
  ClusterAccess,
  ClusterConnection,
} from '../../cluster/ClusterConnection';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { adminAccess, limitedAccess } from '../../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../../__testUtils__/localStack';
import { parseRenderedRelease, RenderedObject } from '../manifest';
import { requiredAccess } from './requiredAccess';
import { PreflightResult, runPreflight } from './runPreflight';

jest.setTimeout(60_000);

const stack = requireLocalStack();
const charts = resolve(__dirname, '../../../../../examples/charts');

describe('runPreflight', () => {
  let discovery: ClusterDiscovery;
  let objects: RenderedObject[];

  beforeAll(async () => {
    discovery = await ClusterDiscovery.create({
      connection: ClusterConnection.fromAccess(adminAccess(stack)),
    });
    // The hello chart without its optional Secret: a Deployment, a ConfigMap and a Service.
    const { stdout } = await runHelm([
      'template',
      't-preflight-hello',
      resolve(charts, 'hello'),
    ]);
    objects = parseRenderedRelease({ manifest: stdout, hooks: [] });
  });

  async function preflight(
    access: ClusterAccess,
    releaseNamespace: string,
    createNamespace = false,
  ): Promise<PreflightResult> {
    return runPreflight({
      connection: ClusterConnection.fromAccess(access),
      discovery,
      releaseNamespace,
      createNamespace,
      required: requiredAccess({ objects, discovery, releaseNamespace }),
    });
  }

  const byName = (result: PreflightResult) =>
    Object.fromEntries(result.checks.map(check => [check.name, check]));

  it('passes for the admin kubeconfig in team-a', async () => {
    expect(objects.map(({ object }) => object.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Service',
    ]);
    const result = await preflight(adminAccess(stack), 'team-a');
    expect(result.passed).toBe(true);
    expect(result.serverVersion).toMatch(/^v1\.\d+/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.checks.map(check => check.name)).toEqual([
      'reachability',
      'namespace team-a',
      'secrets in team-a',
      'configmaps in team-a',
      'services in team-a',
      'deployments.apps in team-a',
    ]);
    expect(byName(result)['namespace team-a'].message).toBe(
      'namespace team-a exists',
    );
    expect(byName(result)['deployments.apps in team-a'].message).toBe(
      'may get, list, watch, create, update, patch, delete deployments.apps in team-a',
    );
  });

  it('passes for the ServiceAccount limited to team-a in team-a', async () => {
    const result = await preflight(limitedAccess(stack), 'team-a');
    expect(result.checks.filter(check => !check.passed)).toEqual([]);
    expect(result.passed).toBe(true);
    // Its Role grants every core resource, which includes reading its own Namespace.
    expect(byName(result)['namespace team-a'].message).toBe(
      'namespace team-a exists',
    );
  });

  it('fails for the same ServiceAccount in team-b, naming the missing verbs and the rule to add', async () => {
    const result = await preflight(limitedAccess(stack), 'team-b');
    expect(result.passed).toBe(false);
    const deployments = byName(result)['deployments.apps in team-b'];
    expect(deployments).toEqual({
      name: 'deployments.apps in team-b',
      passed: false,
      message:
        'may not get, list, watch, create, update, patch, delete deployments.apps in team-b; add this rule to a Role in team-b (or a ClusterRole) bound to the credentials',
      missingRule:
        'apiGroups: ["apps"]\nresources: ["deployments"]\nverbs: ["get", "list", "watch", "create", "update", "patch", "delete"]',
    });
    expect(parse(deployments.missingRule!)).toEqual({
      apiGroups: ['apps'],
      resources: ['deployments'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
    });
    expect(byName(result)['secrets in team-b']).toMatchObject({
      passed: false,
      missingRule: expect.stringContaining('apiGroups: [""]'),
    });
    // It may not read that Namespace; that alone does not fail, the access checks tell.
    expect(byName(result)['namespace team-b']).toEqual({
      name: 'namespace team-b',
      passed: true,
      message:
        'these credentials may not read namespaces, so namespace team-b is assumed to exist',
    });
    // One check per resource, not per verb.
    expect(
      result.checks.filter(check => !check.passed).map(check => check.name),
    ).toEqual([
      'secrets in team-b',
      'configmaps in team-b',
      'services in team-b',
      'deployments.apps in team-b',
    ]);
  });

  it('checks through the impersonated identity', async () => {
    const result = await preflight(
      {
        ...adminAccess(stack),
        impersonate: { user: 'system:serviceaccount:team-a:deployer' },
      },
      'team-b',
    );
    expect(result.passed).toBe(false);
    expect(byName(result)['deployments.apps in team-b'].passed).toBe(false);
  });

  it('fails for a missing namespace unless the release may create it', async () => {
    const missing = `t-preflight-missing-${Date.now().toString(36)}`;
    const without = await preflight(adminAccess(stack), missing);
    expect(byName(without)[`namespace ${missing}`]).toEqual({
      name: `namespace ${missing}`,
      passed: false,
      message: `namespace ${missing} does not exist; create it, or let the release create it`,
    });
    const withCreate = await preflight(adminAccess(stack), missing, true);
    expect(byName(withCreate)[`namespace ${missing}`]).toMatchObject({
      passed: true,
      message: `namespace ${missing} does not exist and will be created`,
    });
    expect(withCreate.passed).toBe(true);
  });

  it('with create-namespace, needs the right to create namespaces even for an existing one', async () => {
    const result = await preflight(limitedAccess(stack), 'team-a', true);
    expect(result.passed).toBe(false);
    expect(byName(result)['namespace team-a']).toEqual({
      name: 'namespace team-a',
      passed: false,
      message: expect.stringContaining('turn create-namespace off'),
      missingRule:
        'apiGroups: [""]\nresources: ["namespaces"]\nverbs: ["create", "patch"]',
    });
    const admin = await preflight(adminAccess(stack), 'team-a', true);
    expect(byName(admin)['namespace team-a']).toMatchObject({ passed: true });
  });

  it('gives one clear failed check when the server is unreachable', async () => {
    const result = await preflight(
      { ...adminAccess(stack), server: 'https://127.0.0.1:1' },
      'team-a',
    );
    expect(result).toEqual({
      passed: false,
      checks: [
        {
          name: 'reachability',
          passed: false,
          message: expect.stringContaining('127.0.0.1:1'),
        },
      ],
      durationMs: expect.any(Number),
    });
    expect(result.checks[0].message).not.toMatch(/\n\s+at /);
  });

  it('says so when the server refuses the credentials', async () => {
    const result = await preflight(
      {
        ...limitedAccess(stack),
        credentials: { kind: 'token', token: 'not-a-valid-token' },
      },
      'team-a',
    );
    expect(result.passed).toBe(false);
    expect(result.checks).toEqual([
      {
        name: 'reachability',
        passed: false,
        message: expect.stringContaining('rejected the credentials (401)'),
      },
    ]);
    expect(JSON.stringify(result)).not.toContain('not-a-valid-token');
  });

  it('fails closed when it is given nothing to check', async () => {
    const result = await runPreflight({
      connection: ClusterConnection.fromAccess(adminAccess(stack)),
      releaseNamespace: 'team-a',
      createNamespace: false,
      required: [],
    });
    expect(result.passed).toBe(false);
    expect(result.checks.filter(check => !check.passed)).toEqual([
      {
        name: 'access',
        passed: false,
        message: expect.stringContaining('could not be determined'),
      },
    ]);
  });

  it('refuses an invalid namespace name', async () => {
    await expect(
      runPreflight({
        connection: ClusterConnection.fromAccess(adminAccess(stack)),
        releaseNamespace: 'Not_A_Namespace',
        createNamespace: false,
        required: [],
      }),
    ).rejects.toThrow(/not a valid namespace name/);
  });
});
