/*
 * Runs against the real local cluster (scripts/stack): no mocks, so what
 * passes here is what the API server really accepts.
 */
import {
  AuthenticationV1Api,
  CoreV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inspect } from 'node:util';
import { parse } from 'yaml';
import { parseKubeconfig } from '../targets/kubeconfig/parseKubeconfig';
import {
  adminAccess as sharedAdminAccess,
  limitedAccess as sharedLimitedAccess,
} from '../__testUtils__/clusterAccess';
import { requireLocalStack } from '../__testUtils__/localStack';
import {
  ANONYMOUS_USER,
  ClusterAccess,
  ClusterConnection,
  ClusterRequestError,
  fromInClusterServiceAccount,
} from './ClusterConnection';

jest.setTimeout(60_000);

const execFileAsync = promisify(execFile);
const stack = requireLocalStack();
const DEPLOYER = 'system:serviceaccount:team-a:deployer';

const adminAccess = () => sharedAdminAccess(stack);
const limitedAccess = () => sharedLimitedAccess(stack);

const createDeployment = (namespace: string) => ({
  namespace,
  group: 'apps',
  resource: 'deployments',
  verb: 'create',
});

async function rejection(
  promise: Promise<unknown>,
): Promise<ClusterRequestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ClusterRequestError);
    return error as ClusterRequestError;
  }
  throw new Error('expected the promise to reject');
}

function inputErrorMessage(access: ClusterAccess): string {
  try {
    ClusterConnection.fromAccess(access);
  } catch (error) {
    expect((error as Error).name).toBe('InputError');
    return (error as Error).message;
  }
  throw new Error('expected fromAccess to throw');
}

/** Writes a private temporary file, runs the body and always deletes the file. */
async function withTemporaryFile<T>(
  content: string,
  body: (path: string) => Promise<T>,
): Promise<T> {
  const directory = mkdtempSync(join(tmpdir(), 'kd-kubeconfig-'));
  const path = join(directory, 'kubeconfig');
  try {
    writeFileSync(path, content, { mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    return await body(path);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function kubectl(kubeconfig: string, args: string[]) {
  // Only PATH and a private HOME: nothing from the environment may point kubectl elsewhere.
  return execFileAsync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    timeout: 30_000,
    env: { PATH: process.env.PATH, HOME: tmpdir() },
  });
}

describe('ClusterConnection', () => {
  describe('with the admin client certificate', () => {
    const connection = ClusterConnection.fromAccess(adminAccess());

    it('reaches the server and reports its version', async () => {
      const version = await connection.getVersion();
      expect(version.gitVersion).toBe(
        process.env.KUBEDEPLOY_KUBERNETES_VERSION,
      );
      expect(version.latencyMs).toBeGreaterThanOrEqual(0);
    });

    it('may create deployments in both team namespaces', async () => {
      await expect(
        connection.canI(createDeployment('team-a')),
      ).resolves.toMatchObject({ allowed: true });
      await expect(
        connection.canI(createDeployment('team-b')),
      ).resolves.toMatchObject({ allowed: true });
    });

    it('makes API clients, also through its KubeConfig', async () => {
      const direct = await connection
        .makeApiClient(CoreV1Api)
        .readNamespace({ name: 'team-a' });
      expect(direct.metadata?.name).toBe('team-a');
      const viaKubeConfig = await connection.kubeConfig
        .makeApiClient(CoreV1Api)
        .readNamespace({ name: 'team-b' });
      expect(viaKubeConfig.metadata?.name).toBe('team-b');
    });
  });

  describe('with the limited ServiceAccount token', () => {
    const connection = ClusterConnection.fromAccess(limitedAccess());

    it('is allowed in team-a and denied in team-b', async () => {
      await expect(connection.getVersion()).resolves.toMatchObject({
        gitVersion: process.env.KUBEDEPLOY_KUBERNETES_VERSION,
      });
      await expect(
        connection.canI(createDeployment('team-a')),
      ).resolves.toMatchObject({ allowed: true });
      await expect(
        connection.canI(createDeployment('team-b')),
      ).resolves.toMatchObject({ allowed: false });
    });

    it('explains a real 403 without the token', async () => {
      const error = connection.describeError(
        await connection
          .makeApiClient(CoreV1Api)
          .listNamespacedSecret({ namespace: 'team-b' })
          .catch((e: unknown) => e),
      );
      expect(error.kind).toBe('forbidden');
      expect(error.statusCode).toBe(403);
      expect(error.message).toContain(
        'the API server refused the request (403)',
      );
      expect(error.message).toContain('team-b');
      expect(error.message).not.toContain(stack.limitedToken);
    });
  });

  describe('impersonation', () => {
    it('applies to every request: the admin impersonating the deployer is confined to team-a', async () => {
      const connection = ClusterConnection.fromAccess({
        ...adminAccess(),
        impersonate: { user: DEPLOYER },
      });
      await expect(
        connection.canI(createDeployment('team-a')),
      ).resolves.toMatchObject({ allowed: true });
      await expect(
        connection.canI(createDeployment('team-b')),
      ).resolves.toMatchObject({ allowed: false });

      // API clients from the connection and from its KubeConfig carry it too.
      for (const core of [
        connection.makeApiClient(CoreV1Api),
        connection.kubeConfig.makeApiClient(CoreV1Api),
      ]) {
        const error = connection.describeError(
          await core
            .listNamespacedSecret({ namespace: 'team-b' })
            .catch((e: unknown) => e),
        );
        expect(error.kind).toBe('forbidden');
        expect(error.message).toContain(DEPLOYER);
        await expect(
          core.listNamespacedSecret({ namespace: 'team-a' }),
        ).resolves.toBeDefined();
      }
    });

    it('sends each impersonated group as its own header value', async () => {
      const connection = ClusterConnection.fromAccess({
        ...adminAccess(),
        impersonate: { user: 'alice', groups: ['kd-devs', 'kd-auditors'] },
      });
      for (const authentication of [
        connection.makeApiClient(AuthenticationV1Api),
        connection.kubeConfig.makeApiClient(AuthenticationV1Api),
      ]) {
        const review = await authentication.createSelfSubjectReview({
          body: {},
        });
        expect(review.status?.userInfo?.username).toBe('alice');
        expect(review.status?.userInfo?.groups).toEqual(
          expect.arrayContaining(['kd-devs', 'kd-auditors']),
        );
        expect(review.status?.userInfo?.groups).not.toContain(
          'kd-devs,kd-auditors',
        );
      }

      await expect(connection.whoAmI()).resolves.toMatchObject({
        username: 'alice',
      });

      // Streaming helpers (Watch, Log) build their requests this way.
      const options = await connection.kubeConfig.applyToFetchOptions({});
      const headers = Object.fromEntries(
        Object.entries(
          (
            options.headers as unknown as { raw(): Record<string, string[]> }
          ).raw(),
        ).map(([name, values]) => [name.toLowerCase(), values]),
      );
      expect(headers['impersonate-user']).toEqual(['alice']);
      expect(headers['impersonate-group']).toEqual(['kd-devs', 'kd-auditors']);
    });

    it('ignores impersonation headers a caller adds', async () => {
      const connection = ClusterConnection.fromAccess(adminAccess());
      const review = await connection
        .makeApiClient(AuthenticationV1Api)
        .createSelfSubjectReview(
          { body: {} },
          setHeaderOptions('Impersonate-User', 'mallory'),
        );
      expect(review.status?.userInfo?.username).toBe('kwok-admin');
    });

    it('refuses groups without a user, as Kubernetes does', () => {
      expect(
        inputErrorMessage({
          ...adminAccess(),
          impersonate: { groups: ['kd-devs'] },
        }),
      ).toBe('impersonate.groups requires impersonate.user');
    });
  });

  describe('errors', () => {
    const wrongToken = 'wrong-token-0123456789abcdef';

    it('says the credentials were rejected (401) for a wrong token, without the token', async () => {
      const connection = ClusterConnection.fromAccess({
        ...limitedAccess(),
        credentials: { kind: 'token', token: wrongToken },
      });
      const error = await rejection(connection.getVersion());
      expect(error.kind).toBe('unauthorized');
      expect(error.serverAnswered).toBe(true);
      expect(error.message).toBe(
        'the API server rejected the credentials (401)',
      );
      expect(error.message).not.toContain(wrongToken);
      const review = await rejection(
        connection.canI(createDeployment('team-a')),
      );
      expect(review.statusCode).toBe(401);
    });

    it('reports unrecognised basic credentials as anonymous, without the password', async () => {
      // Kubernetes 1.19+ has no basic auth: the header is ignored and the request is anonymous.
      const password = 'not-the-password-9f8e7d';
      const connection = ClusterConnection.fromAccess({
        ...limitedAccess(),
        credentials: { kind: 'basic', username: 'someone', password },
      });
      await expect(connection.whoAmI()).resolves.toEqual({
        username: ANONYMOUS_USER,
        groups: ['system:unauthenticated'],
      });
      const error = await rejection(
        connection.canI(createDeployment('team-a')),
      );
      expect(error.kind).toBe('forbidden');
      expect(error.message).toContain('User "system:anonymous" cannot create');
      expect(inspect(error)).not.toContain(password);
    });

    it('says connection refused for a closed port, without the token', async () => {
      const connection = ClusterConnection.fromAccess({
        ...limitedAccess(),
        server: 'https://127.0.0.1:1',
        credentials: { kind: 'token', token: wrongToken },
      });
      const error = await rejection(connection.getVersion());
      expect(error.kind).toBe('unreachable');
      expect(error.serverAnswered).toBe(false);
      expect(error.message).toBe(
        'cannot reach https://127.0.0.1:1: connection refused',
      );
      expect(inspect(error)).not.toContain(wrongToken);
    });

    it('gives up on a server that never answers', async () => {
      const sockets = new Set<Socket>();
      const silent: Server = createServer(socket => sockets.add(socket));
      await new Promise<void>(resolve =>
        silent.listen(0, '127.0.0.1', resolve),
      );
      const { port } = silent.address() as { port: number };
      try {
        const connection = ClusterConnection.fromAccess({
          ...limitedAccess(),
          server: `https://127.0.0.1:${port}`,
        });
        const started = Date.now();
        const error = await rejection(
          connection.getVersion({ timeoutMs: 300 }),
        );
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(error.kind).toBe('timeout');
        expect(error.message).toBe(
          `cannot reach https://127.0.0.1:${port}: no answer within 300 ms`,
        );
      } finally {
        sockets.forEach(socket => socket.destroy());
        await new Promise(resolve => silent.close(resolve));
      }
    });

    it('explains TLS verification failures', async () => {
      const withoutCa = ClusterConnection.fromAccess({
        ...limitedAccess(),
        caData: undefined,
      });
      const untrusted = await rejection(withoutCa.getVersion());
      expect(untrusted.kind).toBe('tls');
      expect(untrusted.message).toMatch(
        /^cannot reach https:\/\/127\.0\.0\.1:\d+: TLS verification failed: the server certificate is not signed by a trusted CA/,
      );

      const wrongName = ClusterConnection.fromAccess({
        ...limitedAccess(),
        tlsServerName: 'wrong.example.com',
      });
      const mismatch = await rejection(wrongName.getVersion());
      expect(mismatch.kind).toBe('tls');
      expect(mismatch.message).toContain('not valid for this host name');
    });

    it('verifies against tlsServerName when it is set, and can skip verification', async () => {
      const named = ClusterConnection.fromAccess({
        ...limitedAccess(),
        tlsServerName: 'kubernetes.default',
      });
      await expect(named.getVersion()).resolves.toBeDefined();

      const insecure = ClusterConnection.fromAccess({
        ...limitedAccess(),
        caData: undefined,
        insecureSkipTlsVerify: true,
      });
      await expect(insecure.getVersion()).resolves.toBeDefined();
    });
  });

  describe('connection reuse', () => {
    it('sends successive requests over one kept-alive TLS connection per identity', async () => {
      // A TCP relay in front of the API server counts the connections made.
      const upstream = new URL(limitedAccess().server);
      let connections = 0;
      const open = new Set<Socket>();
      const relay: Server = createServer(client => {
        connections += 1;
        const server = connect(Number(upstream.port), upstream.hostname);
        open.add(client).add(server);
        client.pipe(server).pipe(client);
        client.on('error', () => server.destroy());
        server.on('error', () => client.destroy());
      });
      await new Promise<void>(resolve => relay.listen(0, '127.0.0.1', resolve));
      const { port } = relay.address() as { port: number };
      // The local API server listens on 127.0.0.1 too, so its certificate fits.
      const viaRelay = (access: ClusterAccess) =>
        ClusterConnection.fromAccess({
          ...access,
          server: `https://127.0.0.1:${port}`,
        });
      try {
        // A new connection object each time, as each operation builds one.
        for (let i = 0; i < 3; i++) {
          await viaRelay(limitedAccess()).getVersion();
        }
        expect(connections).toBe(1);
        // Another TLS identity (the admin's client certificate) gets its own.
        await viaRelay(adminAccess()).getVersion();
        await viaRelay(adminAccess()).getVersion();
        expect(connections).toBe(2);
      } finally {
        open.forEach(socket => socket.destroy());
        await new Promise(resolve => relay.close(resolve));
      }
    });
  });

  describe('fromAccess validation', () => {
    it('refuses unusable access data without echoing secrets', () => {
      const token = 'secret-token-abcdef123456';
      const base: ClusterAccess = {
        ...limitedAccess(),
        credentials: { kind: 'token', token },
      };
      const messages = [
        inputErrorMessage({ ...base, server: 'http://127.0.0.1:16443' }),
        inputErrorMessage({
          ...base,
          server: `https://user:${token}@127.0.0.1:16443`,
        }),
        inputErrorMessage({ ...base, server: 'not a url' }),
        inputErrorMessage({ ...base, insecureSkipTlsVerify: true }),
        inputErrorMessage({ ...base, caData: 'not a certificate' }),
        inputErrorMessage({
          ...base,
          credentials: { kind: 'token', token: `${token}\r\nX-Evil: 1` },
        }),
        inputErrorMessage({
          ...base,
          credentials: { kind: 'basic', username: 'a:b', password: token },
        }),
        inputErrorMessage({
          ...base,
          credentials: {
            kind: 'clientCertificate',
            certData: stack.caPem,
            keyData: (adminAccess().credentials as { keyData: string }).keyData,
          },
        }),
      ];
      expect(messages).toEqual([
        'server must be an https:// URL; http:// is only accepted with insecureSkipTlsVerify',
        'server must not contain a user name or password',
        'server is not a valid URL',
        'insecureSkipTlsVerify cannot be combined with caData',
        'caData is not a PEM certificate bundle',
        'credentials.token must be a non-empty string of printable characters',
        "credentials.username must be non-empty printable text without ':'",
        'credentials.certData and credentials.keyData are not a matching PEM certificate and private key',
      ]);
    });

    it('keeps credentials out of logs', () => {
      const connection = ClusterConnection.fromAccess(limitedAccess());
      for (const text of [
        inspect(connection),
        JSON.stringify(connection),
        inspect(connection.kubeConfig),
        JSON.stringify(connection.kubeConfig),
      ]) {
        expect(text).not.toContain(stack.limitedToken);
      }
    });
  });

  describe('fromInClusterServiceAccount', () => {
    let directory: string;
    const port = new URL(stack.apiServerUrl).port;
    const env = {
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: port,
    };

    beforeEach(() => {
      directory = mkdtempSync(join(tmpdir(), 'kd-serviceaccount-'));
      writeFileSync(join(directory, 'token'), `${stack.limitedToken}\n`);
      writeFileSync(join(directory, 'ca.crt'), stack.caPem);
    });

    afterEach(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    it('connects as the mounted ServiceAccount', async () => {
      const access = fromInClusterServiceAccount({
        serviceAccountDir: directory,
        env,
      });
      expect(access.server).toBe(`https://127.0.0.1:${port}`);
      const connection = ClusterConnection.fromAccess(access);
      await expect(connection.getVersion()).resolves.toBeDefined();
      await expect(
        connection.canI(createDeployment('team-a')),
      ).resolves.toMatchObject({ allowed: true });
      await expect(
        connection.canI(createDeployment('team-b')),
      ).resolves.toMatchObject({ allowed: false });
    });

    it('reads the token again on every call, because tokens rotate', () => {
      const first = fromInClusterServiceAccount({
        serviceAccountDir: directory,
        env,
      });
      writeFileSync(join(directory, 'token'), 'rotated-token');
      const second = fromInClusterServiceAccount({
        serviceAccountDir: directory,
        env,
      });
      expect(first.credentials).toEqual({
        kind: 'token',
        token: stack.limitedToken,
      });
      expect(second.credentials).toEqual({
        kind: 'token',
        token: 'rotated-token',
      });
    });

    it('says clearly what is missing', () => {
      const missing = join(directory, 'absent');
      expect(() =>
        fromInClusterServiceAccount({ serviceAccountDir: missing, env }),
      ).toThrow(
        expect.objectContaining({
          name: 'NotFoundError',
          message: `no ServiceAccount token at ${join(
            missing,
            'token',
          )}; is a ServiceAccount token mounted into this pod?`,
        }),
      );
      expect(() =>
        fromInClusterServiceAccount({ serviceAccountDir: directory, env: {} }),
      ).toThrow(
        expect.objectContaining({
          name: 'InputError',
          message:
            'not running inside Kubernetes: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set',
        }),
      );
    });
  });

  describe('toKubeconfigYaml', () => {
    function expectDataOnly(yamlText: string) {
      const config = parse(yamlText);
      const strings: string[] = [];
      const keys: string[] = [];
      const walk = (value: unknown) => {
        if (typeof value === 'string') {
          strings.push(value);
        } else if (Array.isArray(value)) {
          value.forEach(walk);
        } else if (typeof value === 'object' && value !== null) {
          for (const [key, child] of Object.entries(value)) {
            keys.push(key);
            walk(child);
          }
        }
      };
      walk(config);
      for (const key of [
        'certificate-authority',
        'client-certificate',
        'client-key',
        'tokenFile',
        'exec',
        'auth-provider',
      ]) {
        expect(keys).not.toContain(key);
      }
      expect(strings.filter(value => value.startsWith('/'))).toEqual([]);
      return config;
    }

    it('writes a data-only kubeconfig that kubectl accepts', async () => {
      const access = adminAccess();
      const yamlText = ClusterConnection.fromAccess(access).toKubeconfigYaml();
      expectDataOnly(yamlText);
      expect(parseKubeconfig(yamlText, { allowInsecureTls: false })).toEqual({
        server: access.server,
        caData: access.caData,
        insecureSkipTlsVerify: false,
        credentials: access.credentials,
      });

      const { stdout } = await withTemporaryFile(yamlText, path =>
        kubectl(path, ['get', 'ns', 'team-a', '-o', 'name']),
      );
      expect(stdout.trim()).toBe('namespace/team-a');
    });

    it('carries token and impersonation as as/as-groups', async () => {
      const access: ClusterAccess = {
        ...adminAccess(),
        impersonate: { user: 'alice', groups: ['kd-devs', 'kd-auditors'] },
      };
      const yamlText = ClusterConnection.fromAccess(access).toKubeconfigYaml();
      const config = expectDataOnly(yamlText);
      expect(config.users[0].user.as).toBe('alice');
      expect(config.users[0].user['as-groups']).toEqual([
        'kd-devs',
        'kd-auditors',
      ]);
      const { stdout } = await withTemporaryFile(yamlText, path =>
        kubectl(path, ['auth', 'whoami', '-o', 'json']),
      );
      const whoami = JSON.parse(stdout);
      expect(whoami.status.userInfo.username).toBe('alice');
      expect(whoami.status.userInfo.groups).toEqual(
        expect.arrayContaining(['kd-devs', 'kd-auditors']),
      );

      const limited = ClusterConnection.fromAccess(
        limitedAccess(),
      ).toKubeconfigYaml();
      expect(parseKubeconfig(limited, { allowInsecureTls: false })).toEqual({
        server: stack.apiServerUrl,
        caData: stack.caPem,
        insecureSkipTlsVerify: false,
        credentials: { kind: 'token', token: stack.limitedToken },
      });
      const secrets = await withTemporaryFile(limited, path =>
        kubectl(path, ['-n', 'team-a', 'get', 'configmaps', '-o', 'name']),
      );
      expect(secrets.stdout).toContain('configmap/kube-root-ca.crt');
    });
  });
});
