/*
 * Runs against the real local cluster (scripts/stack). The admin and the
 * limited ServiceAccount see the same namespaces with different rights,
 * which is exactly what the test must tell apart.
 */
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import {
  adminAccess as sharedAdminAccess,
  limitedAccess as sharedLimitedAccess,
} from '../__testUtils__/clusterAccess';
import { requireLocalStack } from '../__testUtils__/localStack';
import { ClusterConnection } from './ClusterConnection';
import { ConnectionTestResult, testConnection } from './connectionTest';

jest.setTimeout(60_000);

const stack = requireLocalStack();
const version = process.env.KUBEDEPLOY_KUBERNETES_VERSION;
const DEPLOYER = 'system:serviceaccount:team-a:deployer';

const adminAccess = () => sharedAdminAccess(stack);
const limitedAccess = () => sharedLimitedAccess(stack);

const admin = ClusterConnection.fromAccess(adminAccess());
const limited = ClusterConnection.fromAccess(limitedAccess());

function rightsIn(result: ConnectionTestResult, namespace: string) {
  const entry = result.rbac.find(item => item.namespace === namespace);
  if (!entry) {
    throw new Error(`${namespace} was not checked`);
  }
  return entry.checks;
}

const LATENCY = '\\d+ ms';

describe('testConnection', () => {
  it('shows full rights everywhere for the admin', async () => {
    const result = await testConnection(admin, {
      allowedNamespaces: ['team-a', 'team-b'],
    });
    expect(result).toMatchObject({
      reachable: true,
      serverVersion: version,
      identity: 'kwok-admin',
      warnings: [],
    });
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    for (const namespace of ['team-a', 'team-b']) {
      const checks = rightsIn(result, namespace);
      expect(checks).toHaveLength(11);
      expect(checks.every(check => check.allowed)).toBe(true);
    }
    expect(rightsIn(result, 'team-a')).toContainEqual({
      verb: 'get',
      group: '',
      resource: 'pods/log',
      allowed: true,
    });
    expect(result.summary).toMatch(
      new RegExp(
        `^reachable \\(${version}, ${LATENCY}\\) as kwok-admin; full release rights in team-a, team-b$`,
      ),
    );
  });

  it('shows the limited ServiceAccount confined to team-a', async () => {
    const result = await testConnection(limited, {
      allowedNamespaces: ['team-a', 'team-b'],
    });
    expect(result).toMatchObject({
      reachable: true,
      serverVersion: version,
      identity: DEPLOYER,
    });
    expect(rightsIn(result, 'team-a').every(check => check.allowed)).toBe(true);
    expect(rightsIn(result, 'team-b').some(check => check.allowed)).toBe(false);
    expect(result.summary).toMatch(
      new RegExp(
        `^reachable \\(${version}, ${LATENCY}\\) as ${DEPLOYER}; full release rights in team-a; no rights in team-b$`,
      ),
    );
  });

  it('expands globs when namespaces may be listed, and caps the count', async () => {
    const expanded = await testConnection(admin, {
      allowedNamespaces: ['team-*'],
    });
    expect(expanded.rbac.map(entry => entry.namespace)).toEqual(
      expect.arrayContaining(['team-a', 'team-b']),
    );

    const capped = await testConnection(admin, {
      allowedNamespaces: ['team-b', '*'],
      maxNamespaces: 2,
    });
    // Exact names come first, then glob matches in alphabetical order.
    expect(capped.rbac.map(entry => entry.namespace)).toEqual([
      'team-b',
      'default',
    ]);
    // Other suites may create namespaces meanwhile, so the total is not fixed.
    expect(capped.warnings).toHaveLength(1);
    const total = Number(
      /^only the first 2 of (\d+) namespaces were checked$/.exec(
        capped.warnings[0],
      )?.[1],
    );
    expect(total).toBeGreaterThanOrEqual(6);
    expect(capped.summary).toMatch(
      new RegExp(
        `; full release rights in team-b, default; checked only the first 2 of ${total} namespaces$`,
      ),
    );
  });

  it('reports a glob as not enumerable when listing namespaces is forbidden', async () => {
    const result = await testConnection(limited, {
      allowedNamespaces: ['team-a', 'team-*', 'Not_Valid'],
    });
    expect(result.reachable).toBe(true);
    expect(result.error).toBeUndefined();
    expect(result.rbac.map(entry => entry.namespace)).toEqual(['team-a']);
    expect(result.warnings).toEqual([
      '"Not_Valid" is not a valid namespace pattern: namespaces are lower case',
      '"team-*" could not be expanded: listing namespaces is forbidden',
    ]);
    expect(result.summary).toMatch(
      /; full release rights in team-a; 'team-\*' not enumerable \(listing namespaces is forbidden\)$/,
    );
  });

  describe('with partial rights', () => {
    const namespace = `kd-partial-${randomBytes(3).toString('hex')}`;
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);

    beforeAll(async () => {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name: 'read-only' },
          rules: [
            {
              apiGroups: ['', 'apps'],
              resources: ['deployments', 'secrets', 'pods', 'pods/log'],
              verbs: ['get', 'list'],
            },
          ],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: 'read-only' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Role',
            name: 'read-only',
          },
          subjects: [
            { kind: 'ServiceAccount', name: 'deployer', namespace: 'team-a' },
          ],
        },
      });
      // The authorizer learns about new bindings from a watch, so wait until it has.
      const deadline = Date.now() + 10_000;
      while (
        !(
          await limited.canI({
            namespace,
            group: 'apps',
            resource: 'deployments',
            verb: 'get',
          })
        ).allowed
      ) {
        if (Date.now() > deadline) {
          throw new Error('the read-only binding never took effect');
        }
        await new Promise(resolve => setTimeout(resolve, 100));
      }
    });

    afterAll(async () => {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    });

    it('names what is missing', async () => {
      const result = await testConnection(limited, {
        allowedNamespaces: [namespace],
      });
      expect(
        rightsIn(result, namespace)
          .filter(check => check.allowed)
          .map(check => `${check.verb} ${check.resource}`),
      ).toEqual([
        'get deployments',
        'get secrets',
        'list secrets',
        'list pods',
        'get pods/log',
      ]);
      expect(result.summary).toMatch(
        new RegExp(
          `; partial rights in ${namespace} \\(missing create deployments, update deployments, delete deployments, create secrets, create configmaps, create services\\)$`,
        ),
      );
    });
  });

  it('says the credentials were rejected for a wrong token, without the token', async () => {
    const token = 'wrong-token-0123456789abcdef';
    const result = await testConnection(
      ClusterConnection.fromAccess({
        ...limitedAccess(),
        credentials: { kind: 'token', token },
      }),
      { allowedNamespaces: ['team-a'] },
    );
    expect(result).toEqual({
      reachable: true,
      error: 'the API server rejected the credentials (401)',
      rbac: [],
      warnings: [],
      summary: 'reachable, but the API server rejected the credentials (401)',
    });
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('says the credentials were not recognised when the server treats them as anonymous', async () => {
    const password = 'not-the-password-9f8e7d';
    const result = await testConnection(
      ClusterConnection.fromAccess({
        ...limitedAccess(),
        credentials: { kind: 'basic', username: 'someone', password },
      }),
      { allowedNamespaces: ['team-a'] },
    );
    expect(result).toMatchObject({
      reachable: true,
      identity: 'system:anonymous',
      error:
        'the API server did not recognise the credentials and treated the requests as anonymous',
      rbac: [],
    });
    expect(JSON.stringify(result)).not.toContain(password);
  });

  it('says the server cannot be reached, without the token', async () => {
    const token = 'some-token-0123456789abcdef';
    const result = await testConnection(
      ClusterConnection.fromAccess({
        ...limitedAccess(),
        server: 'https://127.0.0.1:1',
        credentials: { kind: 'token', token },
      }),
      { allowedNamespaces: ['team-a'], timeoutMs: 2_000 },
    );
    expect(result).toEqual({
      reachable: false,
      error: 'cannot reach https://127.0.0.1:1: connection refused',
      rbac: [],
      warnings: [],
      summary:
        'unreachable: cannot reach https://127.0.0.1:1: connection refused',
    });
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('says when there is nothing to check', async () => {
    const result = await testConnection(limited, { allowedNamespaces: [] });
    expect(result.summary).toMatch(/; no allowed namespaces to check$/);
  });
});
