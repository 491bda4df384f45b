/*
 * HelmRunner against the real local stack (helm 4, kube-apiserver with KWOK
 * pods), plus a fake helm binary where only a stand-in can show what helm
 * was given: its environment, file modes and arguments.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClusterAccess, ClusterConnection } from '../cluster/ClusterConnection';
import { adminAccess, limitedAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { HelmCommandError } from './HelmCommandError';
import { HelmChart, HelmRunner, HelmTarget } from './HelmRunner';
import { canonicalGuard } from '../__testUtils__/canonicalGuard';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const suffix = randomBytes(3).toString('hex');
const CHARTS = resolve(__dirname, '../../../../examples/charts');
const logger = mockServices.logger.mock();

const scratch = mkdtempSync(join(tmpdir(), 'kd-helm-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh, empty directory for the runner's private run directories. */
function workRoot(): string {
  return mkdtempSync(join(scratch, 'runs-'));
}

function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** Every file and directory under a run directory, with its mode. */
function modesUnder(dir: string): Record<string, string> {
  const modes: Record<string, string> = { '.': modeOf(dir) };
  for (const entry of readdirSync(dir)) {
    modes[entry] = modeOf(join(dir, entry));
  }
  return modes;
}

async function packageChart(source: string): Promise<HelmChart> {
  const out = mkdtempSync(join(scratch, 'pkg-'));
  await runHelm(['package', source, '--destination', out]);
  const [file] = readdirSync(out);
  const archive = readFileSync(join(out, file));
  return {
    archive,
    digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
  };
}

/** hello with a pre-install hook, a test Job, and a template that echoes a value in its error. */
async function hookedHello(): Promise<HelmChart> {
  const dir = join(scratch, 'hello');
  cpSync(join(CHARTS, 'hello'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'templates', 'hooks.yaml'),
    `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-pre
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
data:
  phase: pre
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: test
          image: busybox:1.36
          command: ["wget", "-qO-", "http://{{ .Release.Name }}:8080/"]
{{- if hasPrefix "fail:" (.Values.apiToken | default "") }}
{{- fail (printf "refusing apiToken %s" .Values.apiToken) }}
{{- end }}
`,
  );
  return packageChart(dir);
}

describe('HelmRunner against the local stack', () => {
  const release = `t-helm-${suffix}`;
  const brokenRelease = `t-helm-b-${suffix}`;
  const root = workRoot();
  const admin: ClusterAccess = adminAccess(stack);
  const target: HelmTarget = {
    access: admin,
    namespace: 'team-a',
    releaseName: release,
  };
  const brokenTarget: HelmTarget = { ...target, releaseName: brokenRelease };
  const apiToken = `tok-${randomBytes(12).toString('hex')}`;
  let runner: HelmRunner;
  let hello: HelmChart;
  let broken: HelmChart;

  beforeAll(async () => {
    [runner, hello, broken] = await Promise.all([
      HelmRunner.create({ logger, workRoot: root }),
      hookedHello(),
      packageChart(join(CHARTS, 'broken')),
    ]);
  });

  afterAll(async () => {
    for (const t of [target, brokenTarget]) {
      await runner?.uninstall(t, { timeoutSeconds: 60 }).catch(() => undefined);
    }
    // Hooks are not part of the release; remove any a failed test left behind.
    const connection = ClusterConnection.fromAccess(admin);
    await connection
      .makeApiClient(BatchV1Api)
      .deleteNamespacedJob({
        name: `${release}-test`,
        namespace: 'team-a',
        propagationPolicy: 'Background',
      })
      .catch(() => undefined);
    await connection
      .makeApiClient(CoreV1Api)
      .deleteNamespacedConfigMap({
        name: `${release}-pre`,
        namespace: 'team-a',
      })
      .catch(() => undefined);
  });

  afterEach(() => {
    // Whatever happened, no run directory may outlive its run.
    const left = readdirSync(root);
    if (left.length > 0) {
      throw new Error(`run directories left behind: ${left.join(', ')}`);
    }
  });

  it('detects helm 4', () => {
    expect(runner.version.major).toBe(4);
    expect(runner.version.full).toMatch(/^v4\./);
  });

  it('dry-runs on the server: full manifest and hooks, nothing installed', async () => {
    const lines: string[] = [];
    const rendered = await runner.dryRun(
      target,
      hello,
      { greeting: 'first', apiToken },
      {
        timeoutSeconds: 60,
        createNamespace: false,
        historyMax: 5,
        guard: canonicalGuard,
        onLine: line => lines.push(line),
        secretValues: [apiToken],
      },
    );
    expect(rendered).toMatchObject({
      chartName: 'hello',
      chartVersion: '0.1.0',
      appVersion: '1.27.0',
      revision: 1,
    });
    // What the guard answered: canonical JSON, which helm 4 keeps in flow style.
    for (const kind of ['ConfigMap', 'Service', 'Deployment', 'Secret']) {
      expect(rendered.manifest).toContain(`"kind": "${kind}"`);
    }
    expect(rendered.manifest).toContain('"greeting": "first"');
    expect(
      rendered.hooks.map(({ name, kind, events }) => ({ name, kind, events })),
    ).toEqual(
      expect.arrayContaining([
        {
          name: `${release}-pre`,
          kind: 'ConfigMap',
          events: ['pre-install', 'pre-upgrade'],
        },
        { name: `${release}-test`, kind: 'Job', events: ['test'] },
      ]),
    );
    expect(rendered.hooks.find(h => h.kind === 'Job')?.manifest).toContain(
      'busybox',
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(apiToken);
    expect(await runner.history(target)).toEqual([]);
    expect(await runner.status(target)).toBeUndefined();
    expect(await runner.getManifest(target)).toBeUndefined();
  });

  it('redacts a secret value helm echoes in an error', async () => {
    const secret = `fail:${randomBytes(10).toString('hex')}`;
    const lines: string[] = [];
    const error = await runner
      .dryRun(
        target,
        hello,
        { apiToken: secret },
        {
          timeoutSeconds: 60,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
          onLine: line => lines.push(line),
          secretValues: [secret],
        },
      )
      .catch(e => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error.reason).toBe('failed');
    expect(error.message).toContain('refusing apiToken [redacted]');
    for (const text of [error.message, error.stderrTail, ...lines]) {
      expect(text).not.toContain(secret.slice(5));
    }
  });

  it('installs, upgrades and lists history', async () => {
    const lines: string[] = [];
    await expect(
      runner.upgrade(
        target,
        hello,
        { greeting: 'first', apiToken },
        {
          timeoutSeconds: 60,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
          rollbackOnFailure: true,
          wait: true,
          onLine: line => lines.push(line),
          secretValues: [apiToken],
        },
      ),
    ).resolves.toEqual({
      revision: 1,
      status: 'deployed',
      description: 'Install complete',
    });
    // helm 4 reports progress only as debug logs: what it applies and waits for.
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^waiting for resources count=\d+/),
        expect.stringMatching(/^all resources achieved desired status/),
      ]),
    );
    expect(lines.join('\n')).not.toContain(apiToken);

    expect(await runner.history(target)).toEqual([
      expect.objectContaining({
        revision: 1,
        status: 'deployed',
        chart: 'hello-0.1.0',
        appVersion: '1.27.0',
      }),
    ]);

    await expect(
      runner.upgrade(
        target,
        hello,
        { greeting: 'second' },
        {
          timeoutSeconds: 60,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
          rollbackOnFailure: true,
          wait: true,
        },
      ),
    ).resolves.toMatchObject({ revision: 2, status: 'deployed' });
    expect((await runner.history(target)).map(r => r.status)).toEqual([
      'superseded',
      'deployed',
    ]);
    expect(await runner.getManifest(target, 1)).toContain(
      '"greeting": "first"',
    );
    expect(await runner.getManifest(target)).toContain('"greeting": "second"');
  });

  it('rolls back to revision 1', async () => {
    const status = await runner.rollback(target, 1, {
      timeoutSeconds: 60,
      wait: true,
    });
    expect(status).toEqual({
      revision: 3,
      status: 'deployed',
      description: 'Rollback to 1',
    });
    expect(await runner.getManifest(target)).toContain('"greeting": "first"');
  });

  it('runs the chart tests', async () => {
    const result = await runner.test(target, { timeoutSeconds: 60 });
    expect(result.passed).toBe(true);
    expect(result.output).toMatch(/TEST SUITE:\s+\S+-test/);
    expect(result.output).toMatch(/Phase:\s+Succeeded/);
    // helm test prints values with --debug; the adapter never passes it.
    expect(result.output).not.toContain('COMPUTED VALUES');
  });

  it('reports a rollout that times out, rolled back and not left pending', async () => {
    // Revision 1 has no pods and is ready at once; revision 2 never becomes ready.
    await runner.upgrade(
      brokenTarget,
      broken,
      { replicaCount: 0 },
      {
        timeoutSeconds: 30,
        createNamespace: false,
        historyMax: 5,
        guard: canonicalGuard,
        rollbackOnFailure: true,
        wait: true,
      },
    );
    const error = await runner
      .upgrade(
        brokenTarget,
        broken,
        { replicaCount: 1 },
        {
          timeoutSeconds: 20,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
          rollbackOnFailure: true,
          wait: true,
        },
      )
      .catch(e => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error).toMatchObject({
      reason: 'timeout',
      timedOut: true,
      cancelled: false,
      rolledBack: true,
      exitCode: 1,
    });
    expect(error.message).toMatch(
      new RegExp(
        `^helm upgrade of release "${brokenRelease}" in namespace "team-a" timed out after 20 s: .*rolled the release back`,
      ),
    );
    expect(await runner.status(brokenTarget)).toEqual({
      revision: 3,
      status: 'deployed',
      description: 'Rollback to 1',
    });
  });

  it('cancels with SIGTERM: helm rolls back and the run directory is removed', async () => {
    const controller = new AbortController();
    let seenWhileRunning: Record<string, string> | undefined;
    const error = await runner
      .upgrade(
        brokenTarget,
        broken,
        { replicaCount: 1 },
        {
          timeoutSeconds: 120,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
          rollbackOnFailure: true,
          wait: true,
          signal: controller.signal,
          onLine: line => {
            if (!seenWhileRunning && line.startsWith('waiting for resource')) {
              const [run] = readdirSync(root);
              seenWhileRunning = modesUnder(join(root, run));
              controller.abort();
            }
          },
        },
      )
      .catch(e => e);
    expect(seenWhileRunning).toEqual({
      '.': '700',
      kubeconfig: '600',
      'chart.tgz': '600',
      'values.json': '600',
      home: '700',
      config: '700',
      cache: '700',
      data: '700',
      tmp: '700',
      'guard.sock': '600',
      plugins: '700',
    });
    expect(error).toBeInstanceOf(HelmCommandError);
    // helm handled SIGTERM itself (exit code, no signal): it was never killed.
    expect(error).toMatchObject({
      reason: 'cancelled',
      cancelled: true,
      exitCode: 1,
      rolledBack: true,
    });
    expect(error.signal).toBeUndefined();
    expect(error.message).toMatch(
      /was cancelled; helm rolled the release back/,
    );
    expect(readdirSync(root)).toEqual([]);
    expect(await runner.status(brokenTarget)).toMatchObject({
      revision: 5,
      status: 'deployed',
    });
  });

  it('refuses a chart whose archive does not match its digest, before helm runs', async () => {
    const tampered = Buffer.from(hello.archive);
    tampered[tampered.length - 1] ^= 0xff;
    await expect(
      runner.upgrade(
        { ...target, releaseName: `t-helm-x-${suffix}` },
        { archive: tampered, digest: hello.digest },
        {},
        {
          timeoutSeconds: 30,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
          rollbackOnFailure: true,
          wait: true,
        },
      ),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringMatching(/does not match its pinned digest/),
    });
    await expect(
      runner.dryRun(
        target,
        { ...hello, digest: 'sha256:abc' },
        {},
        {
          timeoutSeconds: 30,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
        },
      ),
    ).rejects.toMatchObject({ name: 'InputError' });
    expect(
      await runner.history({ ...target, releaseName: `t-helm-x-${suffix}` }),
    ).toEqual([]);
  });

  it('refuses the limited ServiceAccount in team-b, without showing its token', async () => {
    const limited = limitedAccess(stack);
    const lines: string[] = [];
    const error = await runner
      .dryRun(
        { access: limited, namespace: 'team-b', releaseName: release },
        hello,
        {},
        {
          timeoutSeconds: 30,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
          onLine: line => lines.push(line),
        },
      )
      .catch(e => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error.reason).toBe('forbidden');
    expect(error.message).toMatch(
      /^helm upgrade --dry-run of release "t-helm-\w+" in namespace "team-b" was refused by the cluster \(forbidden\): .*system:serviceaccount:team-a:deployer.*team-b/s,
    );
    const token = stack.limitedToken;
    for (const text of [
      error.message,
      error.stderrTail,
      error.stack ?? '',
      JSON.stringify(error),
      ...lines,
    ]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.slice(0, 40));
    }

    // The same credentials may render in their own namespace.
    await expect(
      runner.dryRun(
        { access: limited, namespace: 'team-a', releaseName: release },
        hello,
        {},
        {
          timeoutSeconds: 30,
          createNamespace: false,
          historyMax: 5,
          guard: canonicalGuard,
        },
      ),
    ).resolves.toMatchObject({ revision: 4 });
  });

  it('impersonates through --kube-as-user / --kube-as-group', async () => {
    const error = await runner
      .history({
        ...target,
        namespace: 'team-b',
        access: {
          ...admin,
          impersonate: {
            user: 'system:serviceaccount:team-a:deployer',
            groups: ['system:serviceaccounts'],
          },
        },
      })
      .catch(e => e);
    expect(error).toMatchObject({
      name: 'HelmCommandError',
      reason: 'forbidden',
    });
    expect(error.message).toContain(
      'User "system:serviceaccount:team-a:deployer" cannot list resource "secrets"',
    );
  });

  it('uninstalls', async () => {
    await runner.uninstall(target, { timeoutSeconds: 60, wait: true });
    expect(await runner.history(target)).toEqual([]);
    const error = await runner
      .uninstall(target, { timeoutSeconds: 60 })
      .catch(e => e);
    expect(error).toMatchObject({ reason: 'not-found' });
  });
});

describe('HelmRunner with a stand-in helm', () => {
  const bin = mkdtempSync(join(scratch, 'bin-'));
  const report = join(bin, 'report');
  const fakeToken = `fake-token-${randomBytes(8).toString('hex')}`;
  const access: ClusterAccess = {
    server: 'https://127.0.0.1:1',
    caData: stack.caPem,
    credentials: { kind: 'token', token: fakeToken },
    impersonate: { user: 'jane', groups: ['devs', 'ops'] },
  };
  const target: HelmTarget = {
    access,
    namespace: 'team-a',
    releaseName: 'fake',
  };

  /** A helm 3 stand-in that reports what it was given, then acts as `behaviour` says. */
  function fakeHelm(behaviour: string): string {
    const path = join(bin, `helm-${randomBytes(4).toString('hex')}`);
    writeFileSync(
      path,
      `#!/bin/sh
if [ "$1" = version ]; then echo v3.15.4; exit 0; fi
dir=$(dirname "$KUBECONFIG")
{
  for arg in "$@"; do echo "ARG $arg"; done
  env | sort | sed 's/^/ENV /'
  for f in "$dir" "$dir"/*; do echo "MODE $(stat -c %a "$f") $(basename "$f")"; done
  echo "CWD $(pwd)"
  sed 's/^/KUBECONFIG /' "$KUBECONFIG"
} > ${report}
# Like helm 3: the rendered manifest goes through the post-renderer before anything else.
for arg in "$@"; do
  case "$arg" in
    --post-renderer=*) printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fake}\n' | "\${arg#--post-renderer=}" >/dev/null || exit 1 ;;
  esac
done
${behaviour}
`,
    );
    chmodSync(path, 0o700);
    return path;
  }

  function reported(prefix: string): string[] {
    return readFileSync(report, 'utf8')
      .split('\n')
      .filter(line => line.startsWith(`${prefix} `))
      .map(line => line.slice(prefix.length + 1));
  }

  beforeEach(() => writeFileSync(report, ''));

  it('gives helm a private directory, a minimal environment and helm 3 flags', async () => {
    const root = workRoot();
    const runner = await HelmRunner.create({
      logger,
      workRoot: root,
      helmBinary: fakeHelm(
        `echo '{"version":7,"info":{"status":"deployed","description":"Upgrade complete"}}'`,
      ),
    });
    expect(runner.version).toEqual({ major: 3, full: 'v3.15.4' });
    const leaked = process.env.KUBECONFIG;
    process.env.KUBECONFIG = '/backend/own/kubeconfig';
    try {
      await expect(
        runner.upgrade(
          target,
          hello(),
          { a: 1 },
          {
            timeoutSeconds: 30,
            createNamespace: true,
            historyMax: 3,
            guard: canonicalGuard,
            rollbackOnFailure: true,
            wait: true,
          },
        ),
      ).resolves.toEqual({
        revision: 7,
        status: 'deployed',
        description: 'Upgrade complete',
      });
    } finally {
      if (leaked === undefined) {
        delete process.env.KUBECONFIG;
      } else {
        process.env.KUBECONFIG = leaked;
      }
    }

    const modes = Object.fromEntries(
      reported('MODE').map(line => line.split(' ').reverse()),
    );
    const [cwd] = reported('CWD');
    const runDir = cwd.split('/').pop()!;
    expect(modes).toEqual({
      [runDir]: '700',
      kubeconfig: '600',
      'chart.tgz': '600',
      'values.json': '600',
      home: '700',
      config: '700',
      cache: '700',
      data: '700',
      tmp: '700',
      // The post-render guard: its socket and the post-renderer.
      'guard.sock': '600',
      plugins: '700',
    });

    const env = Object.fromEntries(
      reported('ENV').map(line => [
        line.slice(0, line.indexOf('=')),
        line.slice(line.indexOf('=') + 1),
      ]),
    );
    // The shell itself adds PWD (and may add SHLVL, _); helm got nothing else.
    delete env.PWD;
    delete env.SHLVL;
    delete env._;
    expect(env).toEqual({
      PATH: process.env.PATH,
      HOME: `${cwd}/home`,
      HELM_CONFIG_HOME: `${cwd}/config`,
      HELM_CACHE_HOME: `${cwd}/cache`,
      HELM_DATA_HOME: `${cwd}/data`,
      HELM_DRIVER: 'secret',
      TMPDIR: `${cwd}/tmp`,
      KUBECONFIG: `${cwd}/kubeconfig`,
      // helm 3 runs the post-renderer by path: no HELM_PLUGINS.
      KUBEDEPLOY_GUARD_SOCKET: `${cwd}/guard.sock`,
      KUBEDEPLOY_GUARD_TOKEN: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    expect(reported('ARG')).toEqual([
      'upgrade',
      '--install',
      'fake',
      `${cwd}/chart.tgz`,
      `--values=${cwd}/values.json`,
      '--namespace=team-a',
      '--kube-as-user=jane',
      '--kube-as-group=devs',
      '--kube-as-group=ops',
      '--history-max=3',
      '--timeout=30s',
      '--output=json',
      '--skip-crds',
      `--post-renderer=${cwd}/plugins/kubedeploy-guard/kubedeploy-guard`,
      '--create-namespace',
      '--atomic',
      '--debug',
    ]);
    // Impersonation travels as flags only; the kubeconfig holds the plain credentials.
    const kubeconfig = reported('KUBECONFIG').join('\n');
    expect(kubeconfig).toContain(`token: ${fakeToken}`);
    expect(kubeconfig).not.toMatch(/\bas(-groups)?:/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('redacts the credentials and secret values from progress and errors', async () => {
    const root = workRoot();
    const runner = await HelmRunner.create({
      logger,
      workRoot: root,
      helmBinary:
        fakeHelm(`echo "level=DEBUG msg=\\"using token ${fakeToken}\\"" >&2
echo "Error: UPGRADE FAILED: bad value hunter2-secret and $(printf %s hunter2-secret | base64)" >&2
exit 1`),
    });
    const lines: string[] = [];
    const error = await runner
      .upgrade(
        target,
        hello(),
        {},
        {
          timeoutSeconds: 30,
          createNamespace: false,
          historyMax: 3,
          guard: canonicalGuard,
          rollbackOnFailure: false,
          wait: false,
          onLine: line => lines.push(line),
          secretValues: ['hunter2-secret'],
        },
      )
      .catch(e => e);
    expect(lines).toEqual([
      'using token [redacted]',
      'Error: UPGRADE FAILED: bad value [redacted] and [redacted]',
    ]);
    expect(error).toMatchObject({ name: 'HelmCommandError', reason: 'failed' });
    expect(error.message).toBe(
      'helm upgrade of release "fake" in namespace "team-a" failed. helm said: UPGRADE FAILED: bad value [redacted] and [redacted]',
    );
    expect(error.stderrTail).not.toContain(fakeToken);
    expect(readdirSync(root)).toEqual([]);
  });

  it('returns a failing chart test as a result, and throws when tests cannot run', async () => {
    const failing = await HelmRunner.create({
      logger,
      workRoot: workRoot(),
      helmBinary:
        fakeHelm(`printf 'TEST SUITE:     fake-test\\nPhase:          Failed\\n'
echo "Error: 1 error occurred:" >&2
printf '\\t* job fake-test failed: BackoffLimitExceeded\\n' >&2
exit 1`),
    });
    const result = await failing.test(target, { timeoutSeconds: 30 });
    expect(result.passed).toBe(false);
    expect(result.output).toContain('Phase:          Failed');
    expect(result.output).toContain(
      'job fake-test failed: BackoffLimitExceeded',
    );
    expect(reported('ARG')).toEqual([
      'test',
      'fake',
      '--namespace=team-a',
      '--kube-as-user=jane',
      '--kube-as-group=devs',
      '--kube-as-group=ops',
      '--timeout=30s',
    ]);

    const refused = await HelmRunner.create({
      logger,
      workRoot: workRoot(),
      helmBinary: fakeHelm(`echo 'Error: release: not found' >&2; exit 1`),
    });
    await expect(
      refused.test(target, { timeoutSeconds: 30 }),
    ).rejects.toMatchObject({ name: 'HelmCommandError', reason: 'not-found' });
  });

  it('refuses a wrong digest without starting helm', async () => {
    const root = workRoot();
    const runner = await HelmRunner.create({
      logger,
      workRoot: root,
      helmBinary: fakeHelm('echo "{}"'),
    });
    const chart = hello();
    await expect(
      runner.dryRun(
        target,
        { archive: chart.archive, digest: `sha256:${'0'.repeat(64)}` },
        {},
        {
          timeoutSeconds: 30,
          createNamespace: false,
          historyMax: 3,
          guard: canonicalGuard,
        },
      ),
    ).rejects.toMatchObject({ name: 'ConflictError' });
    expect(readFileSync(report, 'utf8')).toBe('');
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses release names and namespaces that could pass as flags', async () => {
    const runner = await HelmRunner.create({
      logger,
      workRoot: workRoot(),
      helmBinary: fakeHelm('echo "[]"'),
    });
    for (const bad of [
      { ...target, releaseName: '--all' },
      { ...target, namespace: '-A' },
    ]) {
      await expect(runner.history(bad)).rejects.toMatchObject({
        name: 'InputError',
      });
    }
    expect(readFileSync(report, 'utf8')).toBe('');
  });

  it('says clearly when helm is missing', async () => {
    await expect(
      HelmRunner.create({ logger, helmBinary: join(bin, 'no-such-helm') }),
    ).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message: expect.stringMatching(/helm CLI .* was not found/),
    });
  });

  /** Any bytes will do for the stand-in; only the digest must match. */
  function hello(): HelmChart {
    const archive = Buffer.from('not really a chart');
    return {
      archive,
      digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
    };
  }
});
